"""``framecast quake compare-aux``: the same network with, without and with shuffled radio input.

Three networks train on the same frames with the same seed and settings:
``without_radio`` (the plain architecture), ``with_radio`` (the same
architecture wrapped by :class:`~framecast.models.side_inputs.SideInputModel`,
fed the radio side image of each frame) and ``shuffled_radio`` (the same
wrapper fed the side images in a random order of bins: the radio data's
distribution kept, its timing broken). Each forecasts every bin of the test
period one bin ahead; the report gives the information gain per earthquake
(Rhoades et al. 2011, eq. 17) of each radio network over the one without,
with its 95 % block-bootstrap interval over 30-day blocks
(:func:`~framecast.quake.scores.bootstrap.bootstrap_information_gain`), and
the full score table of :func:`~framecast.quake.report.write_quake_report`.

Stages write files under ``out_dir`` and are skipped when present
(``catalog.h5``, ``frames.h5``, ``radio.h5``, ``networks/*.ckpt``,
``forecasts/*.h5``), so an interrupted comparison resumes.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from framecast.config import Config
from framecast.files import atomic_write
from framecast.quake.frames import SeismicityFrames
from framecast.quake.radio.aux_section import AuxSection, with_side_input
from framecast.quake.rates import RateForecast
from framecast.quake.settings import Log, QuakeExperiment
from framecast.quake.stage_files import reuse_or_build, stage_forecast
from framecast.quake.stages import (
    claim_run_folder,
    out_dir_folder,
    stage_catalog,
    stage_frames,
    stage_network,
    training_b_value,
    variant_forecast,
)
from framecast.runfolder import RunFolder
from framecast.yamlio import read_yaml_file

VARIANTS = ("without_radio", "with_radio", "shuffled_radio")


def stage_radio(
    experiment: QuakeExperiment, aux: AuxSection, catalog: Any, out: Path, log: Log
) -> Path:
    """``radio.h5``: the given file copied, or the synthetic receiver's series."""
    return reuse_or_build(
        out / "radio.h5",
        "radio",
        log,
        load=lambda path: path,
        build=lambda path: _build_radio(experiment, aux, catalog, path, log),
    )


def _build_radio(
    experiment: QuakeExperiment, aux: AuxSection, catalog: Any, path: Path, log: Log
) -> Path:
    from framecast.quake.radio.store import RadioSeries
    from framecast.quake.radio.synthetic import synthetic_radio

    if aux.radio is not None:
        series = RadioSeries.load(aux.radio)  # checks the format before copying
        with atomic_write(path) as partial:
            shutil.copyfile(aux.radio, partial)
        log(f"radio: {series.num_slots} slots x {len(series.stations)} stations from {aux.radio}")
        return path
    receiver = aux.receiver
    series = synthetic_radio(
        catalog,
        experiment.frames.start,
        experiment.frames.end,
        receiver,
        bin_days=experiment.frames.bin_days,
    )
    series.save(path)
    log(
        f"radio: synthetic receiver, {series.settings['anomalies']} precursory anomalies "
        f"(M>={receiver.min_magnitude:g}, p={receiver.probability:g}, "
        f"{receiver.lead_days:g} days ahead, +{receiver.amplitude_db:g} dB) -> {path}"
    )
    return path


def variant_config(
    experiment: QuakeExperiment,
    aux: AuxSection,
    frames: SeismicityFrames,
    radio: Path,
    out: Path,
    variant: str,
) -> Config:
    """The training config of one variant: same network, seed and data, plus the side input."""
    config = experiment.network.training_config(frames)
    config.train = dataclasses.replace(config.train, run_name=variant)
    if variant == "without_radio":
        return config
    shuffle = aux.shuffle_seed if variant == "shuffled_radio" else None
    train_end = experiment.network.train_end
    return with_side_input(config, aux, frames, radio, train_end, shuffle)


GAIN_PAIRS = (
    ("with_radio", "without_radio"),
    ("shuffled_radio", "without_radio"),
    ("with_radio", "shuffled_radio"),
)
"""The report's headline pairs (forecast, over): radio, control, and radio over the control."""


def gain_section(
    forecasts: dict[str, RateForecast], frames: SeismicityFrames, block_days: float, seed: int
) -> tuple[str, dict[str, Any]]:
    """The report's headline: the gains of :data:`GAIN_PAIRS`, with block-bootstrap intervals.

    Returns the Markdown section and a summary keyed ``"A_over_B"``, plus
    ``"with_radio"``/``"shuffled_radio"`` (their gains over ``without_radio``)
    and ``"verdict"``: ``radio_helps`` (the with-radio interval above 0),
    ``control_clean`` (the shuffled control's interval holds 0) and
    ``radio_beats_control`` (with over shuffled above 0).
    """
    from framecast.quake.scores.bootstrap import bootstrap_information_gain
    from framecast.quake.scores.observed import observed_from_catalog

    observed = observed_from_catalog(frames.events, forecasts["without_radio"])
    lines = [
        "## Radio input: information gain over the same network without it",
        "",
        f"Gain per earthquake (nats) of each network over another, with the 95 % percentile "
        f"interval of a block bootstrap over {block_days:g}-day blocks of test windows "
        f"({len(observed.window)} target events).",
        "",
        "| network | over | gain | 95 % interval | significant |",
        "|---|---|---|---|---|",
    ]
    summary: dict[str, Any] = {}
    for key, over in GAIN_PAIRS:
        interval = bootstrap_information_gain(
            forecasts[key], forecasts[over], observed, block_days=block_days, seed=seed
        )
        significant = bool(interval.lower > 0 or interval.upper < 0)
        summary[f"{key}_over_{over}"] = {**interval.to_dict(), "significant": significant}
        lines.append(
            f"| {key} | {over} | {interval.information_gain:+.4f} | "
            f"[{interval.lower:+.4f}, {interval.upper:+.4f}] | {'yes' if significant else 'no'} |"
        )
    summary["with_radio"] = summary["with_radio_over_without_radio"]
    summary["shuffled_radio"] = summary["shuffled_radio_over_without_radio"]
    verdict = {
        "radio_helps": summary["with_radio"]["lower"] > 0,
        "control_clean": not summary["shuffled_radio"]["significant"],
        "radio_beats_control": summary["with_radio_over_shuffled_radio"]["lower"] > 0,
    }
    summary["verdict"] = verdict
    if verdict["control_clean"]:
        control = "it does not"
    elif summary["shuffled_radio"]["lower"] > 0:
        control = "IT GAINS: suspect leakage or a scale effect"
    else:
        control = "it loses: the network fits noise in the shuffled series"
    lines += [
        "",
        "Reading: the radio input helps if `with_radio` gains significantly over `without_radio` "
        f"({'it does' if verdict['radio_helps'] else 'it does not'}), the shuffled control does "
        f"not ({control}), and `with_radio` gains over the control too "
        f"({'it does' if verdict['radio_beats_control'] else 'it does not'}).",
    ]
    for variant, forecast in forecasts.items():
        lines.append(
            f"- `{variant}` expects {forecast.rates.sum():,.0f} events "
            f"({len(observed.window):,} observed)."
        )
    return "\n".join(lines), summary


def compare_aux(
    experiment: QuakeExperiment,
    aux: AuxSection,
    *,
    restart: bool = False,
    log: Log = print,
) -> Path:
    """Run the with / without / shuffled comparison; returns the report's path.

    The out_dir is locked and its manifest kept as for ``quake run``
    (:func:`~framecast.quake.stages.claim_run_folder`): ``restart``
    deletes only what framecast recorded there.
    """
    with out_dir_folder(experiment, restart) as folder:  # aux was checked when built
        return _compare_aux(experiment, aux, folder, restart=restart, log=log)


def _compare_aux(
    experiment: QuakeExperiment, aux: AuxSection, folder: RunFolder, *, restart: bool, log: Log
) -> Path:
    import json

    from framecast.quake.report import write_quake_report

    out = Path(experiment.out_dir)
    settings = {"experiment": experiment.to_dict(), "aux": dataclasses.asdict(aux)}
    saved = out / "compare_aux.yaml"
    claim_run_folder(folder, saved, restart)
    if saved.is_file() and (read_yaml_file(saved, "saved comparison") or {}) != settings:
        raise ValueError(
            f"{str(out)!r} holds a comparison with other settings; use another out_dir, "
            "or --restart to discard it"
        )
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(saved) as partial:
        partial.write_text(yaml.safe_dump(settings, sort_keys=False))

    catalog = stage_catalog(experiment, out, log)
    frames = stage_frames(experiment, catalog, out, log)
    radio = stage_radio(experiment, aux, catalog, out, log)
    b_value = training_b_value(frames, np.datetime64(experiment.periods.val_start, "us"))
    forecasts: dict[str, RateForecast] = {}
    for variant in VARIANTS:

        def network(variant: str = variant) -> RateForecast:
            checkpoint = stage_network(
                out / "networks" / f"{variant}.ckpt",
                log,
                lambda: variant_config(experiment, aux, frames, radio, out, variant),
                label=variant,
            )
            return variant_forecast(checkpoint, frames, variant, b_value)

        path = out / "forecasts" / f"{variant}.h5"
        forecasts[variant] = stage_forecast(path, f"forecast {variant}", log, network)

    section, summary = gain_section(forecasts, frames, aux.block_days, experiment.evaluation.seed)
    log(section)
    with atomic_write(out / "aux_gain.json") as partial:
        partial.write_text(json.dumps(summary, indent=2, default=str))
    report = write_quake_report(
        forecasts,
        frames,
        out / "report",
        reference="without_radio",
        baselines=["shuffled_radio"],
        score_settings=experiment.evaluation.score_settings(),
        maps=experiment.evaluation.maps,
        sections=[section],
    )
    log(f"report: {report}")
    return report
