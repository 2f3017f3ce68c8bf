"""``framecast quake radio prepare|demo`` and ``framecast quake compare-aux``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _band(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH in Hz, got {text!r}") from None
    return lo, hi


def _pair(what: str) -> Callable[[str], tuple[float, float]]:
    """An argparse type reading ``LOW,HIGH``."""

    def parse(text: str) -> tuple[float, float]:
        try:
            lo, hi = (float(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected LOW,HIGH {what}, got {text!r}") from None
        return lo, hi

    return parse


def _image_settings(args: argparse.Namespace) -> Any:
    """ImageSettings from the --image-* options, or None when none is given."""
    from framecast.quake.radio.images import ImageSettings

    given = {
        "--image-seconds": args.image_seconds,
        "--image-freq-hz": args.image_freq_hz,
        "--image-db": args.image_db,
    }
    extras = (
        args.image_colormap,
        args.image_time_pattern,
        args.image_times,
        args.image_station,
        args.image_low_frequency,
    )
    if all(v is None for v in (*given.values(), *extras)):
        return None
    missing = [flag for flag, value in given.items() if value is None]
    if missing:
        raise ValueError(f"spectrogram images need {', '.join(missing)} too")
    return ImageSettings(
        seconds=args.image_seconds,
        freq_hz=args.image_freq_hz,
        db_range=args.image_db,
        colormap=args.image_colormap,
        low_frequency=args.image_low_frequency or "bottom",
        time_pattern=args.image_time_pattern,
        times_csv=args.image_times,
        station=args.image_station,
    )


def _cmd_prepare(args: argparse.Namespace) -> int:
    from framecast.quake.radio.prepare import PrepareSettings, prepare_radio
    from framecast.quake.radio.spectrogram import SpectrogramSettings

    settings = PrepareSettings(
        SpectrogramSettings(
            args.band or (0.0, None), args.rows, args.window_seconds, args.step_seconds
        ),
        bin_days=args.bin_days,
        slots_per_bin=args.slots_per_bin,
        statistic=args.stat,
        images=_image_settings(args),
    )
    prepare_radio(args.source, args.out, settings, start=args.start, on_error=args.on_error)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from framecast.quake.radio.demo import DEMO_STEPS, run_radio_demo

    synthetic: dict[str, Any] = {}
    for key in ("lead_days", "probability", "amplitude_db", "min_magnitude"):
        if getattr(args, key) is not None:
            synthetic[key] = getattr(args, key)
    steps = DEMO_STEPS if args.steps is None else args.steps
    run_radio_demo(args.out, steps, synthetic, seed=args.seed, restart=args.restart)
    return 0


def load_comparison(path: Path, overrides: list[str]) -> tuple[Any, Any]:
    """An experiment YAML with an ``aux:`` section -> (QuakeExperiment, AuxSection), checked.

    The aux section drives the comparison's variants, so the experiment is
    loaded without it.
    """
    from framecast.quake.radio.aux_section import aux_section
    from framecast.quake.settings import experiment_from_dict, read_experiment_file

    data = read_experiment_file(path, overrides)
    aux = aux_section(data.pop("aux", {}) or {})
    return experiment_from_dict(data), aux


def _cmd_compare(args: argparse.Namespace) -> int:
    from framecast.quake.radio.experiment import compare_aux

    experiment, aux = load_comparison(Path(args.config), args.overrides)
    compare_aux(experiment, aux, restart=args.restart)
    return 0


def add_radio_commands(qsub: Any) -> None:
    """Add ``radio prepare``, ``radio demo`` and ``compare-aux`` to ``framecast quake``."""
    radio = qsub.add_parser("radio", help="VLF/ELF recordings as an auxiliary input")
    rsub = radio.add_subparsers(dest="radio_command", required=True)

    p = rsub.add_parser("prepare", help="recordings -> binned log-power spectra (HDF5, resumable)")
    p.add_argument("--source", type=Path, required=True, help="a recording or a folder of them")
    p.add_argument("--out", type=Path, required=True, help="radio.h5 to write or continue")
    p.add_argument("--bin-days", type=float, default=1.0, help="the seismicity frames' bin")
    p.add_argument("--slots-per-bin", type=int, default=24, help="time columns per bin image")
    p.add_argument("--stat", default="mean", help="per slot: mean, max or qNN (e.g. q90)")
    p.add_argument(
        "--band",
        type=_band,
        help="LOW,HIGH Hz, at most the Nyquist frequency (default: 0 to each recording's)",
    )
    p.add_argument("--rows", type=int, default=16, help="frequency rows over the band")
    p.add_argument("--window-seconds", type=float, default=1.0, help="STFT segment")
    p.add_argument("--step-seconds", type=float, default=60.0, help="between segments")
    p.add_argument("--start", help="UTC start of a WAV whose name holds no time")
    p.add_argument("--on-error", choices=("skip", "raise"), default="skip")
    g = p.add_argument_group("spectrogram images (PNG, JPEG, TIFF) instead of or beside audio")
    g.add_argument("--image-seconds", type=float, help="time one image spans")
    g.add_argument("--image-freq-hz", type=_pair("in Hz"), help="LOW,HIGH of the image rows")
    g.add_argument(
        "--image-db", type=_pair("in dB"), help="dB of pixel values 0 and 1 (--image-db=-90,-30)"
    )
    g.add_argument("--image-colormap", help="matplotlib colormap of colour images (viridis)")
    g.add_argument("--image-low-frequency", choices=("bottom", "top"), help="default bottom")
    g.add_argument("--image-time-pattern", help="strptime format in the names (%%Y%%m%%d_%%H%%M)")
    g.add_argument("--image-times", help="sidecar CSV file,time[,station] (UTC)")
    g.add_argument("--image-station", help="station name of the images")
    p.set_defaults(func=_cmd_prepare)

    p = rsub.add_parser("demo", help="synthetic receiver over ETAS: with/without/shuffled")
    p.add_argument("--out", type=Path, default=Path("runs/radio-demo"))
    p.add_argument("--steps", type=int, help="training steps of each network, equal (default 1000)")
    p.add_argument(
        "--seed", type=int, default=0, help="catalog, receiver, networks and shuffle (default 0)"
    )
    p.add_argument("--lead-days", type=float)
    p.add_argument("--probability", type=float)
    p.add_argument("--amplitude-db", type=float)
    p.add_argument("--min-magnitude", type=float)
    p.add_argument("--restart", action="store_true")
    p.set_defaults(func=_cmd_demo)

    p = qsub.add_parser(
        "compare-aux", help="same network with, without and with shuffled auxiliary input"
    )
    p.add_argument("--config", required=True, help="experiment YAML with an aux: section")
    p.add_argument("--restart", action="store_true")
    p.add_argument("overrides", nargs="*", help="section.key=value")
    p.set_defaults(func=_cmd_compare)
