"""The ``framecast`` command line: train, evaluate, predict, list, demo.

Building the parser imports neither torch nor Lightning (``framecast --help``
answers in a fraction of a second); each command imports what it needs.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from framecast import __version__
from framecast.cluster import CLUSTER_HELP
from framecast.errors import FramecastError

EXIT_USAGE = 2
EXIT_FAILED = 1

# `framecast data` is built only when it is the command: its module imports the
# dataset package (and torch). Its one-line help is repeated here for `--help`.
DATA_HELP = "prepare video caches (KTH, KITTI, videos, frame series)"

# commands that run networks: the process-wide torch settings are applied first
_TORCH_COMMANDS = {"train", "evaluate", "predict", "compare", "tune", "demo", "classify"}
_TORCH_QUAKE_COMMANDS = {"run", "evaluate"}


def _cmd_train(args: argparse.Namespace) -> int:
    from framecast.checkpoint import read_checkpoint
    from framecast.config import apply_overrides, config_from_dict, load_config, normalize_precision
    from framecast.training import train
    from framecast.training.machine import LightningConfigErrors, check_accelerator
    from framecast.training.run_checks import checkpoint_to_resume

    if args.resume is not None:
        # continue exactly the stored run; overrides may extend it (e.g. train.max_steps)
        stored = read_checkpoint(checkpoint_to_resume(args.resume))["hyper_parameters"]["config"]
        config = config_from_dict(apply_overrides(stored, args.overrides))
    else:
        if args.config is None:
            raise ValueError("framecast train needs --config FILE (or --resume RUN)")
        config = load_config(args.config, args.overrides)
    if args.precision is not None:
        config.train.precision = normalize_precision(args.precision)
    check_accelerator(config.train.accelerator)
    with LightningConfigErrors():
        result = train(config, resume=args.resume)  # prints its own summary with the paths
    print(f"run folder: {result.run_dir}")
    return stopped_status(result.stopped_by, result.run_dir)


def stopped_status(signum: int | None, run_dir: Path) -> int:
    """The exit status of a training run: 0, or ``128 + signal`` when a signal stopped it.

    SIGTERM (what a scheduler sends) gives 143 and a first Ctrl-C 130, as
    for a process ended by the signal, so that a job script sees that the
    run did not finish; ``last.ckpt`` holds the stop and ``--resume``
    continues it.
    """
    if signum is None:
        return 0
    print(f"stopped early by signal {signum}; continue with: framecast train --resume {run_dir}")
    return 128 + int(signum)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from framecast.reporting import evaluate_checkpoint

    # `--thresholds 0.1 0.5 data.x=1` hands the override to --thresholds: give it back
    thresholds, moved = _numbers_and_overrides("--thresholds", args.thresholds or [], float)
    scales, moved_too = (
        _numbers_and_overrides("--fss-scales", args.fss_scales, int)
        if args.fss_scales is not None
        else (None, [])
    )
    evaluate_checkpoint(
        args.checkpoint,  # resolved there, once
        data=args.data,
        overrides=[*args.overrides, *moved, *moved_too],
        split=args.split,
        out_dir=args.out,
        max_batches=args.max_batches,
        thresholds=thresholds,
        fss_scales=scales,
    )
    return 0


def _numbers_and_overrides(
    option: str, values: Sequence[str], kind: type[int] | type[float]
) -> tuple[list, list[str]]:
    """Split an option's words into numbers and the ``key=value`` overrides it swallowed.

    Raises
    ------
    ValueError
        A word that is neither a number of ``kind`` nor an override.
    """
    numbers, overrides = [], []
    for value in values:
        if "=" in value:
            overrides.append(value)
            continue
        try:
            numbers.append(kind(value))
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise ValueError(f"{option} takes numbers, {value!r} is not {what}") from None
    return numbers, overrides


def _cmd_predict(args: argparse.Namespace) -> int:
    from framecast.checkpoint import resolve_checkpoint
    from framecast.reporting import predict_file

    predict_file(
        resolve_checkpoint(args.checkpoint),
        args.input,
        horizon=args.horizon,
        out_dir=args.out,
        layout=args.layout,
        scale=args.scale,
        frame_pngs=args.frame_pngs,
    )
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from framecast.catalog import registry_tables

    print(registry_tables(), end="")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from framecast.experiments.compare import run_comparison
    from framecast.yamlio import read_yaml_file

    model_options = None
    if args.preset_file is not None:
        model_options = read_yaml_file(args.preset_file, "preset file") or {}
        if not isinstance(model_options, dict):
            raise ValueError(f"preset file {args.preset_file} must map model names to options")
    run_comparison(
        [m.strip() for m in args.models.split(",") if m.strip()],
        [c.strip() for c in args.cells.split(",") if c.strip()],
        args.data,
        args.budget,
        args.out,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        model_options=model_options,
        jobs=args.jobs,
        cluster=args.cluster,
    )
    return 0


def _cmd_tune(args: argparse.Namespace) -> int:
    from framecast.config import apply_overrides, load_config
    from framecast.training.machine import LightningConfigErrors
    from framecast.tuning import TuneSettings, load_space, run_study
    from framecast.tuning.storage import mask_url

    base = apply_overrides(load_config(args.config).to_dict(), args.overrides)
    settings = TuneSettings(
        trials=args.trials,
        out_dir=args.out,
        storage=args.storage,
        study_name=args.study_name,
        pruner=args.pruner,
        trial_minutes=args.trial_minutes,
        trial_steps=args.trial_steps,
        seed=args.seed,
        warmup_steps=args.warmup_steps,
        jobs=args.jobs,
        heartbeat=args.heartbeat,
        cluster=args.cluster,
    )
    with LightningConfigErrors():
        study = run_study(base, load_space(args.space), settings)
    finished = sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials)
    where = mask_url(settings.storage_url())
    print(f"study {study.study_name!r}: {finished} finished trials in {where}")
    if any(t.state.name == "COMPLETE" for t in study.trials):
        print(f"best: trial {study.best_trial.number}, validation loss {study.best_value:.6g}")
        print(f"best config: {args.out / 'best.yaml'}")
    print(f"summary: {args.out / 'summary.md'}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from framecast.demo import run_demo

    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps must be a whole number >= 1, got {args.steps}")
    run_demo(
        out_dir=args.out,
        minutes=args.minutes,
        mnist_dir=args.mnist_dir,
        steps=args.steps,
        data=args.data,
    )
    return 0


def _cmd_pretrained(args: argparse.Namespace) -> int:
    from framecast.zoo_entries import PREFIX, PRETRAINED_DIR, available, table

    entries = available()
    if not entries:
        print(f"no shipped weights in {PRETRAINED_DIR}")
        return 0
    print(table(entries))
    print()
    for e in entries:
        print(f"{PREFIX}{e.name}: {e.weights}")
        print(f"  config {e.config}; {e.command}")
        print(f"  trained on {e.machine}")
    print(f"score one: framecast evaluate {PREFIX}NAME")
    return 0


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option)."""
    for word in argv:
        if not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``framecast`` argument parser.

    Parameters
    ----------
    command : str, optional
        Build the full sub-parser of ``data`` only when this is ``data``
        (otherwise it keeps just its one-line help); None builds every
        command fully. ``main`` passes the command of its arguments ("" for
        none) so that ``--help`` and other commands do not import the
        dataset package.
    """
    parser = argparse.ArgumentParser(
        prog="framecast", description="Forecast sequences of gridded maps with recurrent networks."
    )
    parser.add_argument("--version", action="version", version=f"framecast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "train",
        help="train a model from a YAML config",
        epilog="A first SIGTERM or Ctrl-C stops after the current step, writes last.ckpt and "
        "the summary, and exits with status 143 (SIGTERM) or 130 (Ctrl-C); --resume continues.",
    )
    p.add_argument("--config", type=Path, help="YAML config file")
    p.add_argument("--resume", help="run folder or checkpoint to continue exactly")
    p.add_argument(
        "--precision",
        choices=["32", "bf16-mixed", "16-mixed", "64", "auto"],
        help="shorthand for train.precision=...",
    )
    p.add_argument("overrides", nargs="*", help="section.key=value overrides, e.g. optim.lr=3e-4")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a checkpoint against the trivial baselines")
    p.add_argument("checkpoint", type=Path, help="a .ckpt file or a run folder (its last.ckpt)")
    p.add_argument("--data", help="dataset name (default: the checkpoint's)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--out", type=Path, help="output folder (default: beside the checkpoint)")
    p.add_argument("--max-batches", type=int, help="evaluate only this many batches")
    p.add_argument(
        "--thresholds",
        nargs="+",
        metavar="VALUE",
        help="also score the CSI and the fractions skill score (pySTEPS definitions) at these "
        "event thresholds, in the units of the scored frames (within [0, data range]: [0, 1] "
        "for video and radar frames; a radar series prepared with clip=(0, 70) dBZ reads 20 dBZ "
        "as 20/70); meant for radar-like frames (frame_series)",
    )
    p.add_argument(
        "--fss-scales",
        nargs="+",
        metavar="PIXELS",
        help="FSS neighbourhood sides in pixels, with --thresholds (default: 1 3 9, "
        "framecast.metrics.DEFAULT_FSS_SCALES)",
    )
    p.add_argument("overrides", nargs="*", help="data.* overrides, e.g. data.options.path=x.npy")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser(
        "predict",
        help="forecast the frames after those in an array file",
        description="Forecast the frames after every sequence of an array file. Writes "
        "predictions.npy and predictions.h5 (N, horizon, C, H, W) in [0, 1], a strip and a "
        "GIF of the first sequence (its first 100 forecast frames), and with --frame-pngs one "
        "PNG per forecast frame. A horizon whose arrays would not fit the memory available is "
        "refused with the estimate; a long one prints its progress every 10 s.",
    )
    p.add_argument("checkpoint", type=Path, help="a .ckpt file or a run folder (its last.ckpt)")
    p.add_argument("--input", type=Path, required=True, help=".npy/.npz/.h5 frames")
    p.add_argument("--horizon", type=int, default=10, help="frames to forecast (default 10)")
    p.add_argument("--out", type=Path, default=Path("predictions"))
    p.add_argument(
        "--frame-pngs", action="store_true", help="also write one PNG per forecast frame (frames/)"
    )
    p.add_argument(
        "--layout",
        default="auto",
        choices=["auto", "THW", "TCHW", "NTHW", "NTCHW"],
        help="axis order of the input array (auto: THW, NTCHW, and for 4-D NTHW "
        "with 1-channel models, TCHW otherwise)",
    )
    p.add_argument(
        "--scale",
        type=float,
        help="divide inputs by this so that they lie in [0, 1] (default: 255 for uint8, the "
        "maximum for other integers, 1 for floats)",
    )
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("compare", help="train every model x cell pair on one budget, one table")
    p.add_argument("--models", default="predrnn", help="comma-separated model names")
    p.add_argument("--cells", default="convlstm,stlstm", help="comma-separated cell names")
    p.add_argument("--data", default="mmnist", help="mmnist, squares, or a dataset name")
    p.add_argument("--budget", default="10m", help="per pair: minutes (10m), seconds, or 500steps")
    p.add_argument("--out", type=Path, default=Path("runs/compare"))
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--preset-file", type=Path, help="YAML: model name -> options overriding presets"
    )
    p.add_argument(
        "--jobs",
        type=int,
        help="pairs trained at once, each with cores/jobs threads (default: one per free core)",
    )
    p.add_argument("--cluster", metavar="ADDRESS", help=CLUSTER_HELP.format(jobs="pairs"))
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("list", help="list registered models, cells, datasets and losses")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("tune", help="Optuna search over a config, with pruning and early stopping")
    p.add_argument("--config", required=True, help="base YAML config")
    p.add_argument("--space", required=True, help="search space YAML (configs/tune/)")
    p.add_argument(
        "--trials", type=int, required=True, help="finished trials the study should hold"
    )
    p.add_argument(
        "--storage",
        help="study storage: a database URL (sqlite:///, postgresql://USER:PASSWORD@HOST/DB) or "
        "journal:///PATH for a journal file (default sqlite:///OUT/study.db)",
    )
    p.add_argument("--study-name", default="framecast")
    p.add_argument("--pruner", default="median", help="median, hyperband or none")
    p.add_argument("--trial-minutes", type=float, help="time budget of each trial")
    p.add_argument("--trial-steps", type=int, help="step budget of each trial")
    p.add_argument("--seed", type=int, default=0, help="sampler seed; trial n trains with seed+n")
    p.add_argument(
        "--warmup-steps", type=int, help="no pruning before this step (default: trial steps / 4)"
    )
    p.add_argument("--out", type=Path, default=Path("runs/tune"))
    p.add_argument(
        "--jobs",
        type=int,
        help="trials trained at once, each with cores/jobs threads (default: one per free core)",
    )
    p.add_argument(
        "--heartbeat",
        type=int,
        default=30,
        help="seconds between a running trial's heartbeats; a trial silent for 3x as long "
        "(its worker killed) is marked failed and retried once (default 30)",
    )
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help=CLUSTER_HELP.format(jobs="worker processes (--jobs, default one per worker thread)"),
    )
    p.add_argument("overrides", nargs="*", help="section.key=value applied to the base config")
    p.set_defaults(func=_cmd_tune)

    from framecast.quake.cli import add_quake_commands

    add_quake_commands(sub)

    from framecast.classify.cli import add_classify_commands

    add_classify_commands(sub)

    if command is None or command == "data":
        from framecast.data.cli import add_data_commands

        add_data_commands(sub)
    else:
        sub.add_parser("data", help=DATA_HELP)

    p = sub.add_parser(
        "demo", help="train a small PredRNN and compare it with the trivial baselines"
    )
    p.add_argument("--out", type=Path, default=Path("runs/demo"))
    p.add_argument("--minutes", type=float, default=4.0, help="training time budget")
    p.add_argument("--steps", type=int, help="train exactly this many steps instead")
    p.add_argument(
        "--data",
        choices=("moving_squares", "moving_mnist"),
        default="moving_squares",
        help="what to train on (Moving MNIST-2 needs hours to show skill; default: squares)",
    )
    p.add_argument(
        "--mnist-dir", type=Path, help="folder of the MNIST IDX files (for the shipped weights)"
    )
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("pretrained", help="list the trained weights framecast ships")
    p.set_defaults(func=_cmd_pretrained)
    return parser


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


_HDF5_FILE_NAME = re.compile(r"\bname = '([^']+)'")
"""The file in HDF5's errors, which h5py raises without ``filename``."""


def _os_error_message(err: OSError) -> str:
    """One line for an OSError: what failed, on which file, and why."""
    filename = err.filename
    if not filename and (found := _HDF5_FILE_NAME.search(str(err))):
        filename = found.group(1).removesuffix(".partial")  # name the file being written
    where = f" {str(filename)!r}" if filename else ""
    if isinstance(err, PermissionError):
        return f"cannot write or read{where}: permission denied"
    if err.errno == errno.ENOSPC:
        return f"no space left on the device while writing{where}; free some space and rerun"
    reason = err.strerror or _one_line(err)
    if "requested and" in reason and "written" in reason:  # numpy's short write
        reason += " (is the disk full?)"
    return f"cannot write or read{where}: {reason}"


def _needs_torch(args: argparse.Namespace) -> bool:
    if args.command == "quake":
        return getattr(args, "quake_command", None) in _TORCH_QUAKE_COMMANDS
    return args.command in _TORCH_COMMANDS


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``framecast`` console script.

    Bad input ends with exit status 2 and a one-line message; a job that
    cannot finish (a full disk, say) with status 1. Set
    ``FRAMECAST_DEBUG=1`` for the traceback.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_of(argv) or "")  # no command: top-level help only
    # overrides may come after options too (`evaluate CKPT --data array data.options.path=x`)
    args, extra = parser.parse_known_args(argv)
    stray = [e for e in extra if e.startswith("-") or "=" not in e]
    if stray or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(stray or extra)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    debug = bool(os.environ.get("FRAMECAST_DEBUG"))
    try:
        if _needs_torch(args):
            from framecast.numerics import configure_torch

            configure_torch()
        return args.func(args)
    except (ValueError, TypeError, KeyError, FileNotFoundError) as err:
        if debug:
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"framecast {args.command}: error: {_one_line(message)}", file=sys.stderr)
        return EXIT_USAGE
    except PermissionError as err:
        if debug:
            raise
        print(f"framecast {args.command}: error: {_os_error_message(err)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        if debug:
            raise
        print(f"framecast {args.command}: error: {_os_error_message(err)}", file=sys.stderr)
        return EXIT_FAILED
    except FramecastError as err:
        if debug:
            raise
        print(f"framecast {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
