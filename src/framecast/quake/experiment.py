"""One earthquake-forecasting experiment, from catalog to report, resumable stage by stage.

Stages, each writing one file under ``out_dir`` and skipped when its file is
already there (so an interrupted run picks up where it stopped):

1. ``catalog.h5``: the catalog read from a file, or simulated from ETAS;
2. ``frames.h5``: the catalog gridded into frames (:func:`grid_catalog`);
3. ``network.ckpt``: a framecast network trained on the frames with the
   Poisson loss (training itself resumes from its last checkpoint);
4. ``forecasts/*.h5``: rolling one-bin-ahead forecasts of the test period
   from the network, the smoothed-seismicity reference and ETAS (fitted on
   the training period, or the true parameters of a simulated catalog);
5. ``report/``: scores, maps, Molchan diagram, cumulative information gain.

The settings are saved as ``experiment.yaml``; running again with different
settings in the same folder is refused, naming the keys that changed.

This module is the pipeline, the top of the quake run: the settings
(:mod:`.settings`) and the stages (:mod:`.stages`) sit below it, the variants
it runs (:mod:`.seed_sweep`, :mod:`.residual_ablations`,
:mod:`.etas_variants`, :mod:`.radio.experiment`) in between, and none of
them imports it. It re-exports the names that used to live here.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from framecast.files import atomic_write
from framecast.quake.catalog.events import Catalog, to_datetime64
from framecast.quake.catalog_forecast import CatalogForecast
from framecast.quake.frames import SeismicityFrames
from framecast.quake.grid import KM_PER_DEGREE
from framecast.quake.network_settings import inverse_activation
from framecast.quake.rates import RateForecast
from framecast.quake.settings import (
    CATALOGS_KEPT,
    ETAS_BASELINE_KEYS,
    Log,
    QuakeExperiment,
    load_experiment,
    network_channels,
)
from framecast.quake.stage_files import stage_forecast
from framecast.quake.stages import (
    EtasBaseline,
    check_patch_fit,
    claim_run_folder,
    out_dir_folder,
    region_history,
    stage_catalog,
    stage_etas_input,
    stage_etas_parameters,
    stage_frames,
    stage_network_forecast,
    stage_train,
    stopped_by_signal,
    train_network,
    training_b_value,
)
from framecast.runfolder import RunFolder
from framecast.yamlio import read_yaml_file

if TYPE_CHECKING:
    from framecast.quake.recipe import Recipe

__all__ = [
    "EtasBaseline",
    "QuakeExperiment",
    "check_patch_fit",
    "claim_run_folder",
    "inverse_activation",
    "load_experiment",
    "network_channels",
    "region_history",
    "run_experiment",
    "stage_catalog",
    "stage_etas_input",
    "stage_etas_parameters",
    "stage_forecasts",
    "stage_frames",
    "stage_network_forecast",
    "stage_train",
    "stopped_by_signal",
    "train_network",
]


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            keys += _changed_keys(a, b, f"{prefix}{key}.")
        elif a != b:
            keys.append(prefix + key)
    return keys


_LATE_SECTIONS = {
    "etas": (
        "etas_fit.json",
        "forecasts/etas.h5",
        "forecasts/etas_first_order.h5",
        "forecasts/etas_catalogs.h5",
        "forecasts/etas_replicates",
        "forecasts/etas_uniform_first_order.h5",
        "etas_fit_uniform.json",
        "ablations",
        "report",
    ),
    "evaluation": ("report",),
    "seeds": ("report",),
    "ablations": ("report",),
}
"""Sections whose change invalidates only these files of an earlier run (not the catalog,
frames or network), so that e.g. a constrained ETAS fit reuses the trained network."""


_ETAS_INPUT_FILES = (
    "etas_channel.h5",
    "frames_etas.h5",
    "network.ckpt",
    "train",
    "forecasts/network.h5",
    "seeds",
    "ablations",
    "report",
)
"""Files that read the ETAS parameters when the network takes the ETAS channel."""


def _claim_out_dir(
    experiment: QuakeExperiment, restart: bool, log: Log = print, folder: RunFolder | None = None
) -> Path:
    out = Path(experiment.out_dir)
    saved = out / "experiment.yaml"
    current = experiment.to_dict()
    folder = folder if folder is not None else RunFolder(out, "out_dir")
    claim_run_folder(folder, saved, restart)
    if saved.is_file():
        previous = read_yaml_file(saved, "saved experiment") or {}
        previous.setdefault("seeds", [])  # folders written before the seed sweep have no key
        previous.setdefault("aux", {})  # nor before the radio input
        previous.setdefault("ablations", [])  # nor before the ablations
        previous.setdefault("etas", {}).setdefault("replicates", 1)
        changed = _changed_keys(previous, current)
        changed = [k for k in changed if k != "out_dir"]
        early = [k for k in changed if k.split(".")[0] not in _LATE_SECTIONS]
        if early:
            raise ValueError(
                f"{str(out)!r} holds an experiment with other settings (changed: {early}); "
                "use another out_dir, or --restart to discard it"
            )
        stale = sorted({f for k in changed for f in _LATE_SECTIONS[k.split(".")[0]]})
        if experiment.etas_input.channel and any(k.startswith("etas.") for k in changed):
            stale = sorted({*stale, *_ETAS_INPUT_FILES})  # the network reads ETAS
        for name in stale:
            folder.remove(name)  # the files framecast recorded there, nothing else
        if changed:
            log(
                f"settings changed ({changed}): recomputing {stale}; "
                + (
                    "catalog and frames kept"
                    if "network.ckpt" in stale
                    else "catalog, frames and network kept"
                )
            )
    out.mkdir(parents=True, exist_ok=True)
    folder.record(saved)
    with atomic_write(saved) as partial:
        partial.write_text(yaml.safe_dump(current, sort_keys=False))
    return out


def stage_forecasts(
    experiment: QuakeExperiment,
    catalog: Catalog,
    frames: SeismicityFrames,
    checkpoint: Path,
    out: Path,
    log: Log,
    baseline: EtasBaseline | None = None,
    network_frames: SeismicityFrames | None = None,
) -> tuple[dict[str, RateForecast], dict[str, CatalogForecast]]:
    """Write (or reuse) the network, reference and ETAS forecasts of the test period.

    ``network_frames`` are the frames the network reads (with the ``etas``
    channel when it takes ETAS; default ``frames``). Returns the rate forecasts by key
    and the simulated catalogs behind the simulation-based ETAS forecast (empty for
    first-order or no ETAS).
    """
    from framecast.quake.etas_variants import (
        UNIFORM_KEY,
        mean_of_replicates,
        stage_simulated_replicates,
        stage_uniform_variant,
    )
    from framecast.quake.reference import smoothed_seismicity_forecast

    folder = out / "forecasts"
    start, val_start = (
        to_datetime64(experiment.frames.start),
        to_datetime64(experiment.periods.val_start),
    )
    first, stop = frames.bin_index(experiment.periods.test_start), frames.num_bins
    windows = frames.bin_start[first:stop]
    b_value = training_b_value(frames, val_start)
    forecasts: dict[str, RateForecast] = {}
    mask = experiment.cell_mask()

    def make(key: str, build: Callable[[], RateForecast]) -> None:
        # the testing region (mask): nothing is forecast or scored outside it
        forecasts[key] = stage_forecast(folder / f"{key}.h5", f"forecast {key}", log, build, mask)

    def network() -> RateForecast:
        return stage_network_forecast(experiment, frames, network_frames, checkpoint)

    def reference() -> RateForecast:
        return smoothed_seismicity_forecast(
            frames.events,
            frames.grid,
            train_start=start,
            train_end=val_start,
            window_start=windows,
            window_days=frames.bin_days,
            mc=frames.mc,
            b_value=b_value,
            mask=mask,
        )

    make("network", network)
    make("reference", reference)
    if baseline is None:
        return forecasts, {}
    history = region_history(experiment, catalog, frames.mc)

    def first_order() -> RateForecast:
        from framecast.quake.etas.forecast import etas_rate_forecast

        forecast = etas_rate_forecast(
            baseline.params,
            history,
            frames.grid,
            windows,
            frames.bin_days,
            name=f"{baseline.name}, first order",
            background=baseline.background,
        )
        details = f"{baseline.details}; first order: background + direct aftershocks of past events"
        return dataclasses.replace(forecast, b_value=b_value, details=details)

    if experiment.etas.background == "declustered":  # what the background map is worth
        make(
            UNIFORM_KEY,
            lambda: stage_uniform_variant(experiment, catalog, frames, windows, b_value, out, log),
        )
    catalogs: dict[str, CatalogForecast] = {}
    if experiment.etas.forecast == "first_order":
        make("etas", first_order)
        return forecasts, catalogs
    make("etas_first_order", first_order)
    replicates, catalogs["etas"] = stage_simulated_replicates(
        experiment,
        baseline,
        history,
        forecasts["etas_first_order"],
        out,
        log,
        keep_catalogs=CATALOGS_KEPT,
    )
    make("etas", lambda: mean_of_replicates(replicates, baseline, experiment.etas.num_simulations))
    return forecasts, catalogs


def completeness_section(
    catalog: Catalog, frames: SeismicityFrames, train_end: object, log: Log
) -> str:
    """The report's block on the magnitude of completeness: estimated from every catalog event
    inside the grid before ``train_end`` (all magnitudes, not only those above mc), next to
    the chosen mc; a warning in the log and the report when mc is below the estimate."""
    from framecast.quake.catalog.magnitudes import check_completeness, estimate_completeness

    rows, _ = frames.grid.locate(catalog.latitude, catalog.longitude)
    train = catalog.select(rows >= 0).filter(end=to_datetime64(train_end), event_types=None)
    lines = ["## Magnitude of completeness", ""]
    try:
        estimate = estimate_completeness(train.magnitude)
    except ValueError as error:
        log(f"completeness: not estimated ({error})")
        return "\n".join([*lines, f"Chosen mc = {frames.mc:g}; not estimated: {error}."])
    log(f"completeness: {estimate.summary()}")
    warning = check_completeness(frames.mc, estimate)
    lines.append(
        f"Chosen mc = {frames.mc:g}. Estimated from the {len(train)} catalog events in the "
        f"grid before {str(train_end)[:10]}: {estimate.summary()}"
    )
    if float(train.magnitude.min()) >= frames.mc - 1e-9:
        # a catalog cut (or simulated) at mc: the methods see only its upper side, and the
        # +0.2 correction of maximum curvature lands above mc by construction
        lines += [
            "",
            f"The catalog holds no event below mc = {frames.mc:g} (it was cut or simulated at "
            "mc), so its completeness at mc cannot be tested from it; no warning is given.",
        ]
        warning = None
    if warning:
        log(f"WARNING: {warning}")
        lines += ["", f"**Warning:** {warning}"]
    return "\n".join(lines)


def region_section(experiment: QuakeExperiment, catalog: Catalog, log: Log) -> str:
    """The report's block on the testing region: cells scored, cells masked, and a warning
    (also logged) when scored cells lie beyond the box of every catalog event (the catalog
    was cut to a smaller region and can never hold an event there)."""
    grid = experiment.grid()
    mask = experiment.cell_mask()
    total = grid.shape[0] * grid.shape[1]
    scored = np.ones(grid.shape, bool) if mask is None else mask
    lines = ["## Testing region", ""]
    if mask is None:
        lines.append(f"The whole grid {grid.region}: {total} cells forecast and scored.")
    else:
        lines.append(
            f"{experiment.testing_region().description} (frames.polygon): "
            f"{int(mask.sum())} of the grid's {total} cells have their centre inside and are "
            f"forecast and scored; {total - int(mask.sum())} cells are masked."
        )
    if len(catalog):
        centre_lat, centre_lon = grid.cell_centers()
        if grid.unit == "deg":
            half_lat = half_lon = 0.5 * grid.cell
        else:  # a km cell's half side in degrees at the grid's centre
            half_lat = 0.5 * grid.cell / KM_PER_DEGREE
            half_lon = half_lat / math.cos(math.radians(grid.center[0]))
        beyond = (
            (centre_lat + half_lat < catalog.latitude.min())
            | (centre_lat - half_lat > catalog.latitude.max())
            | (centre_lon + half_lon < catalog.longitude.min())
            | (centre_lon - half_lon > catalog.longitude.max())
        ) & scored
        if beyond.any():
            warning = (
                f"{int(beyond.sum())} of the {int(scored.sum())} scored cells lie wholly beyond "
                f"the box of every catalog event (lat {catalog.latitude.min():.3f} to "
                f"{catalog.latitude.max():.3f}, lon {catalog.longitude.min():.3f} to "
                f"{catalog.longitude.max():.3f}): the catalog cannot hold events there; give "
                "its region as frames.polygon"
            )
            log(f"WARNING: {warning}")
            lines += ["", f"**Warning:** {warning}"]
    return "\n".join(lines)


def run_experiment(
    experiment: QuakeExperiment,
    *,
    restart: bool = False,
    log: Log = print,
    recipe: Recipe | None = None,
) -> Path:
    """Run every stage not yet done; returns the report's path.

    ``recipe`` (the config file's hash and overrides) is written to
    ``recipe.json`` and heads the report. The out_dir is locked for the
    run (a second ``quake run`` on it is refused, naming this one's PID)
    and its manifest lists every file written; ``restart`` deletes only
    those (:func:`claim_run_folder`).

    Raises
    ------
    ValueError
        Bad settings, an out_dir framecast did not write, or one in use.
    """
    with out_dir_folder(experiment, restart) as folder:
        return _run_stages(experiment, folder, restart=restart, log=log, recipe=recipe)


def _run_stages(
    experiment: QuakeExperiment,
    folder: RunFolder,
    *,
    restart: bool,
    log: Log,
    recipe: Recipe | None,
) -> Path:
    from framecast.quake.report import write_quake_report

    out = _claim_out_dir(experiment, restart, log, folder)
    if recipe is not None:
        with atomic_write(out / "recipe.json") as partial:
            partial.write_text(json.dumps(recipe.to_dict(), indent=2))
        log(f"recipe: {recipe.path} sha256 {recipe.sha256[:16]}...")
    catalog = stage_catalog(experiment, out, log)
    frames = stage_frames(experiment, catalog, out, log)
    if experiment.aux is not None:
        from framecast.quake.radio.experiment import stage_radio

        stage_radio(experiment, experiment.aux, catalog, out, log)
    sections = [
        *([] if recipe is None else [recipe.section()]),
        region_section(experiment, catalog, log),
        completeness_section(catalog, frames, experiment.periods.val_start, log),
    ]
    baseline = None
    if experiment.etas.mode != "none":
        baseline = stage_etas_parameters(experiment, catalog, frames, out, log)
        sections.append(baseline.section())
    network_frames = None
    if experiment.etas_input.channel and baseline is not None:  # check() needs ETAS for it
        network_frames = stage_etas_input(experiment, catalog, frames, baseline, out, log)
    checkpoint = stage_train(experiment, frames, out, log)
    forecasts, catalogs = stage_forecasts(
        experiment, catalog, frames, checkpoint, out, log, baseline, network_frames
    )
    if experiment.ablations:
        from framecast.quake.residual_ablations import stage_ablations

        forecasts |= stage_ablations(experiment, frames, network_frames, forecasts, out, log)
    baselines = [k for k in ETAS_BASELINE_KEYS if k in forecasts]
    replicates = _etas_replicates(experiment, out)
    if replicates:
        sections.append(_monte_carlo_section(replicates, frames, forecasts))
    seed_scores, networks = None, [forecasts["network"]]
    if experiment.seeds:
        seed_scores, seed_section, networks = _seed_sweep(
            experiment, frames, network_frames, forecasts, out, log
        )
        sections.append(seed_section)
    if baselines:
        sections.append(_pooled_section(experiment, frames, forecasts, networks, replicates))
    sections.append(_dependence_section(experiment, frames, forecasts, baselines))
    report = write_quake_report(
        forecasts,
        frames,
        out / "report",
        reference="reference",
        baselines=baselines,
        catalog_forecasts=catalogs,
        score_settings=experiment.evaluation.score_settings(),
        maps=experiment.evaluation.maps,
        sections=sections,
    )
    if seed_scores is not None:
        from framecast.quake.seed_sweep import write_seed_scores

        write_seed_scores(seed_scores, out / "report" / "seeds.json")
    log(f"report: {report}")
    return report


def _dependence_section(
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    forecasts: dict[str, RateForecast],
    baselines: list[str],
) -> str:
    """Every forecast against every ETAS variant and the reference, allowing for clustering."""
    from framecast.quake.report_dependence import comparison_pairs, dependence_section
    from framecast.quake.scores import observed_from_catalog

    observed = observed_from_catalog(frames.events, forecasts["reference"])
    pairs = comparison_pairs(list(forecasts), [*baselines, "reference"])
    return dependence_section(forecasts, observed, pairs, seed=experiment.evaluation.seed)


def _seed_sweep(
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    network_frames: SeismicityFrames | None,
    forecasts: dict[str, RateForecast],
    out: Path,
    log: Log,
) -> tuple[list[Any], str, list[RateForecast]]:
    """Every seed's network forecast, scored: the scores, the report's block and the forecasts."""
    from framecast.quake.scores import observed_from_catalog
    from framecast.quake.seed_sweep import score_seeds, seed_sweep_markdown, stage_seed_sweep

    networks = stage_seed_sweep(experiment, frames, network_frames, forecasts, out, log)
    reference, etas = forecasts["reference"], forecasts.get("etas")
    observed = observed_from_catalog(frames.events, reference)
    scores = score_seeds(networks, reference, etas, observed, seed=experiment.evaluation.seed)
    for score in scores:
        over_etas = score.over_etas
        log(
            f"seed {score.seed}: log L {score.log_likelihood:.1f}"
            + (
                f", gain over ETAS {over_etas.information_gain:+.3f} "
                f"[{over_etas.lower:+.3f}, {over_etas.upper:+.3f}]"
                if over_etas is not None
                else ""
            )
        )
    section = seed_sweep_markdown(
        scores,
        n_observed=len(observed),
        etas_name=None if etas is None else etas.name,
        reference_name=reference.name,
    )
    return scores, section, list(networks.values())


def _etas_replicates(experiment: QuakeExperiment, out: Path) -> list[RateForecast]:
    """The simulated ETAS replicates of the run (empty without a simulated baseline)."""
    from framecast.quake.etas_variants import replicate_paths

    if experiment.etas.mode == "none" or experiment.etas.forecast != "simulated":
        return []
    return [RateForecast.load(p) for p in replicate_paths(out, experiment.etas.replicates)]


def _monte_carlo_section(
    replicates: list[RateForecast], frames: SeismicityFrames, forecasts: dict[str, RateForecast]
) -> str:
    from framecast.quake.report_pooled import monte_carlo_section
    from framecast.quake.scores import observed_from_catalog

    observed = observed_from_catalog(frames.events, forecasts["reference"])
    return monte_carlo_section(replicates, forecasts["etas"], observed)


def _pooled_section(
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    forecasts: dict[str, RateForecast],
    networks: list[RateForecast],
    replicates: list[RateForecast],
) -> str:
    """The networks of every seed over every ETAS variant (simulated: over every replicate)."""
    from framecast.quake.report_pooled import pooled_section
    from framecast.quake.scores import observed_from_catalog

    observed = observed_from_catalog(frames.events, forecasts["reference"])
    baselines = {
        forecasts[key].name: (replicates if key == "etas" and replicates else [forecasts[key]])
        for key in ETAS_BASELINE_KEYS
        if key in forecasts
    }
    return pooled_section(networks, baselines, observed, seed=experiment.evaluation.seed)
