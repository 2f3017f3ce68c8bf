"""The stages of a quake run that the pipeline and its variants share.

Each stage writes one file under ``out_dir`` and reuses it when it is
already there (:func:`~framecast.quake.stage_files.reuse_or_build`): the
catalog, the frames, the trained network, its test forecast, the ETAS
parameters and the ETAS input channel.
:mod:`.experiment` chains them; the variants (:mod:`.seed_sweep`,
:mod:`.residual_ablations`, :mod:`.etas_variants`, :mod:`.radio.experiment`)
call them with their own settings. Nothing here imports a variant or the
pipeline.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from framecast.config import Config
from framecast.files import atomic_write
from framecast.quake.catalog.events import Catalog, to_datetime64
from framecast.quake.catalog.magnitudes import aki_b_value
from framecast.quake.frames import SeismicityFrames, grid_catalog
from framecast.quake.network_settings import NetworkSettings
from framecast.quake.rates import RateForecast
from framecast.quake.settings import Log, QuakeExperiment, network_channels
from framecast.quake.stage_files import reuse_or_build
from framecast.runfolder import RunFolder

if TYPE_CHECKING:
    from framecast.quake.etas.background import BackgroundMap
    from framecast.quake.etas.region import StudyRegion


QUAKE_RUN_FILES = (
    "experiment.yaml",
    "recipe.json",
    "catalog.h5",
    "frames.h5",
    "frames_etas.h5",
    "etas_channel.h5",
    "etas_fit.json",
    "etas_fit_uniform.json",
    "radio.h5",
    "network.ckpt",
    "train",
    "forecasts",
    "seeds",
    "ablations",
    "networks",
    "report",
    "compare_aux.yaml",
    "aux_gain.json",
)
"""What a quake run (or a radio comparison) writes in its out_dir; a folder from before
manifests adopts these files, and no other."""


def claim_run_folder(folder: RunFolder, saved: Path, restart: bool) -> None:
    """Make ``folder`` (held by this process) ready for a run whose settings file is ``saved``.

    ``restart`` deletes the files framecast recorded there and nothing else,
    and is refused (nothing deleted) in a folder that is not empty and has
    no manifest. Without ``restart`` a folder without a manifest is taken
    when empty, or adopted when it holds a run from before manifests (its
    ``saved`` file and :data:`QUAKE_RUN_FILES`), and refused otherwise: a
    stage would take a file framecast did not write for its own.

    Raises
    ------
    ValueError
        One line naming the folder and a file in it that framecast did not write.
    """
    if restart:
        folder.clear()
    elif not folder.has_manifest():
        if saved.is_file():
            folder.adopt(QUAKE_RUN_FILES)
        elif others := folder.unlisted():
            raise ValueError(
                f"out_dir {str(folder.path)!r} holds {len(others)} file(s) framecast did not "
                f"write (e.g. {others[0]!r}); choose a new or empty out_dir"
            )


def out_dir_folder(
    experiment: QuakeExperiment, restart: bool, also_check: Callable[[], None] | None = None
) -> RunFolder:
    """The out_dir of a run (the pipeline or a variant), to hold with ``with``; nothing touched.

    The settings are checked first (``experiment.check()``, then
    ``also_check()``, then that the grid fits the network's patch), and a
    ``restart`` the folder cannot take is refused before the folder is
    touched.

    Raises
    ------
    ValueError
        Bad settings, or ``restart`` in a folder framecast cannot clear.
    """
    experiment.check()
    if also_check is not None:
        also_check()
    check_patch_fit(experiment, experiment.network)
    folder = RunFolder(experiment.out_dir, "out_dir")
    if restart:
        folder.check_clearable()  # refused before the folder is touched
    return folder


# ---------------------------------------------------------------------- stages
def stage_catalog(experiment: QuakeExperiment, out: Path, log: Log) -> Catalog:
    """Read or simulate the catalog once; later runs read ``catalog.h5``."""
    from framecast.quake.catalog.store import CatalogStore

    return reuse_or_build(
        out / "catalog.h5",
        "catalog",
        log,
        load=lambda path: CatalogStore(path).read(),
        build=lambda path: _build_catalog(experiment, path, log),
    )


def _build_catalog(experiment: QuakeExperiment, path: Path, log: Log) -> Catalog:
    from framecast.quake.catalog.readers import load_catalog
    from framecast.quake.catalog.store import CatalogStore

    section = experiment.catalog
    if section.simulate:
        from framecast.quake.etas.parameters import ETASParameters
        from framecast.quake.etas.simulate import simulate_etas

        params = ETASParameters.from_dict({**section.etas, "mc": experiment.frames.mc})
        start = to_datetime64(experiment.frames.start)
        catalog = simulate_etas(
            params,
            experiment.grid(),
            start,
            experiment.frames.end,
            burn_in_days=section.burn_in_days,
            seed=section.seed,
            include_burn_in=True,
        )
        source = f"ETAS simulation, seed {section.seed}, parameters {params.to_dict()}"
    else:
        catalog = load_catalog(section.path, log=lambda line: log(f"catalog: {line}"))
        source = str(section.path)
    CatalogStore(path).append(catalog, metadata={"source": source})
    log(f"catalog: {len(catalog)} events from {source} -> {path}")
    return CatalogStore(path).read()


def stage_frames(
    experiment: QuakeExperiment, catalog: Catalog, out: Path, log: Log
) -> SeismicityFrames:
    """Grid the catalog into frames once; later runs read ``frames.h5``."""
    return reuse_or_build(
        out / "frames.h5",
        "frames",
        log,
        load=SeismicityFrames.load,
        build=lambda path: _build_frames(experiment, catalog, path, log),
    )


def _build_frames(
    experiment: QuakeExperiment, catalog: Catalog, path: Path, log: Log
) -> SeismicityFrames:
    f = experiment.frames
    if f.polygon is not None:
        region = experiment.testing_region()
        inside = region.contains(catalog.latitude, catalog.longitude)
        outside = int((~inside).sum())
        log(f"frames: {outside} of {len(catalog)} events outside {region.description} dropped")
        catalog = catalog.select(inside)
    frames = grid_catalog(
        catalog,
        experiment.grid(),
        start=f.start,
        end=f.end,
        bin_days=f.bin_days,
        mc=f.mc,
        channels=f.channels,
        log=lambda line: log(f"frames: {line}"),
    )
    frames.save(path)
    log(
        f"frames: {frames.num_bins} bins of {f.bin_days:g} days on a {frames.grid.shape} grid, "
        f"{len(frames.events)} events M>={f.mc:g} -> {path}"
    )
    return frames


def check_patch_fit(experiment: QuakeExperiment, network: NetworkSettings) -> None:
    """Refuse, before training, a grid whose sides are not multiples of the model's patch."""
    patch = network.patch_size
    rows, cols = experiment.grid().shape
    if rows % patch or cols % patch:
        raise ValueError(
            f"the grid is {rows}x{cols} cells, which does not fit the model's patch_size={patch}: "
            f"both sides must be multiples of {patch}; change frames.cell or frames.region"
        )


def seed_dir(out: Path, seed: int) -> Path:
    """The folder of one seed's network and forecast."""
    return out / "seeds" / f"seed_{seed}"


def stage_train(
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    out: Path,
    log: Log,
    seed: int | None = None,
) -> Path:
    """Train (or resume training) the network; returns ``network.ckpt``.

    With ``seed``, the network of that ``train.seed`` of the seed sweep:
    ``seeds/seed_<seed>/network.ckpt``, trained in the run ``<run_name>_seed<seed>``.
    """
    path = out / "network.ckpt" if seed is None else seed_dir(out, seed) / "network.ckpt"

    def config() -> Config:
        config = experiment.network.training_config(frames)
        if seed is not None:
            config.train = dataclasses.replace(
                config.train, seed=seed, run_name=f"{config.train.run_name}_seed{seed}"
            )
        return config

    return stage_network(path, log, config)


def stage_network(
    path: Path, log: Log, config: Callable[[], Config], label: str = "network"
) -> Path:
    """A trained network's checkpoint: ``path`` reused, or the network of ``config()`` trained.

    Training resumes from the last checkpoint of its run folder (under the
    config's ``train.out_dir``) when a killed run left one; its best
    checkpoint is copied to ``path`` (:func:`train_network`).
    """
    return reuse_or_build(
        path,
        label,
        log,
        load=lambda path: path,
        build=lambda path: train_network(config(), path, log, label),
    )


def stopped_by_signal(signum: int | None, log: Log) -> None:
    """End the run when a signal stopped its training, rather than go on with a partial network.

    Raises
    ------
    SystemExit
        With status ``128 + signum`` (143 after SIGTERM); the same command resumes.
    """
    if signum is not None:
        log(f"network: training stopped by signal {signum}; run the same command to resume")
        raise SystemExit(128 + int(signum))


def train_network(config: Config, path: Path, log: Log, label: str = "network") -> Path:
    """Train (or resume) the network of the training ``config``; copy its best to ``path``.

    Raises
    ------
    SystemExit
        A signal stopped the training (:func:`stopped_by_signal`).
    """
    from framecast.training import train

    path.parent.mkdir(parents=True, exist_ok=True)
    run_dir = Path(config.train.out_dir) / str(config.train.run_name)
    last = run_dir / "checkpoints" / "last.ckpt"
    resume = run_dir if last.is_file() else None
    log(f"{label}: training {config.model.name}" + (f", resuming {last}" if resume else ""))
    result = train(config, resume=resume)
    stopped_by_signal(result.stopped_by, log)
    best = result.best_checkpoint or result.last_checkpoint
    with atomic_write(path) as partial:
        shutil.copyfile(best, partial)
    log(f"{label}: trained in {result.seconds / 60:.1f} min -> {path}")
    return path


def training_b_value(frames: SeismicityFrames, train_end: np.datetime64) -> float:
    """The Gutenberg-Richter b-value (Aki) of the events before ``train_end``, above mc."""
    train = frames.events.filter(end=train_end, event_types=None)
    return aki_b_value(train.magnitude, frames.mc)


def variant_forecast(
    checkpoint: Path, frames: SeismicityFrames, name: str, b_value: float
) -> RateForecast:
    """One-bin-ahead rate forecasts of every test bin by a network trained on its dataset.

    The network reads the items of its own config's test split (the radio
    variants: frames with the side image packed beside them).
    """
    from framecast.checkpoint import load
    from framecast.quake.network import forecast_of_bins, one_bin_ahead_rates
    from framecast.training.loaders import make_dataset

    model, config = load(checkpoint)
    dataset = make_dataset(config.data, "test")
    rates = one_bin_ahead_rates(
        model,
        lambda i: dataset[i][0],
        len(dataset),  # type: ignore[arg-type]
        count=list(config.data.options["channels"]).index("count"),
        batch_size=64,
    )
    return forecast_of_bins(
        frames,
        dataset.starts,  # type: ignore[attr-defined]
        rates,
        name=name,
        b_value=b_value,
        details=f"{config.model.name} network, one-bin-ahead from {config.data.n_context} bins",
    )


def stage_network_forecast(
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    network_frames: SeismicityFrames | None,
    checkpoint: Path,
    name_suffix: str = "",
) -> RateForecast:
    """The rolling one-bin-ahead forecast of the test period by the network of ``checkpoint``.

    ``network_frames`` are the frames the network reads (default ``frames``);
    ``name_suffix`` is appended to the forecast's name (a seed of the sweep).
    """
    from framecast.checkpoint import load
    from framecast.quake.network import network_forecast

    model, config = load(checkpoint)
    if experiment.aux is not None:  # the side channels come from the seismicity_radio dataset
        name = f"{config.model.name} network{name_suffix}"
        train_end = to_datetime64(experiment.periods.val_start)
        return variant_forecast(checkpoint, frames, name, training_b_value(frames, train_end))
    return network_forecast(
        model,
        frames if network_frames is None else network_frames,
        channels=network_channels(experiment),
        n_context=config.data.n_context,
        first_bin=frames.bin_index(experiment.periods.test_start),
        stop_bin=frames.num_bins,
        name=f"{config.model.name} network{name_suffix}",
        b_value=training_b_value(frames, to_datetime64(experiment.periods.val_start)),
    )


def region_history(experiment: QuakeExperiment, catalog: Catalog, mc: float) -> Catalog:
    """The events M >= mc inside the testing region: the sources of every ETAS forecast."""
    inside = experiment.testing_region().contains(catalog.latitude, catalog.longitude)
    return catalog.select(inside).filter(min_magnitude=mc, event_types=None)


@dataclass(frozen=True)
class EtasBaseline:
    """The ETAS parameters a baseline forecasts with, and how they were obtained."""

    params: Any
    name: str
    details: str
    warnings: tuple[str, ...] = ()
    background: BackgroundMap | None = None
    """Where the background falls (uniform or declustered), on the frames' grid."""

    def section(self) -> str:
        """The report's Markdown block on these parameters."""
        eta = self.params.branching_ratio()
        lines = [
            "## ETAS parameters",
            "",
            f"{self.name}: {self.details}. Branching ratio η = {eta:.3f} "
            f"({'subcritical' if eta < 1 else 'SUPERCRITICAL: not a stationary process'}).",
        ]
        if self.background is not None:
            lines += ["", f"Background: {self.background.description}."]
        if self.warnings:
            lines += ["", "**Flags:**", *(f"- {warning}" for warning in self.warnings)]
        return "\n".join(lines)


def stage_etas_parameters(
    experiment: QuakeExperiment,
    catalog: Catalog,
    frames: SeismicityFrames,
    out: Path,
    log: Log,
) -> EtasBaseline:
    """The true parameters of a simulated catalog, or a fit on the training period
    (``etas_fit.json``, reused by later runs); warnings go to the log."""
    from framecast.quake.etas.background import BackgroundMap
    from framecast.quake.etas.parameters import ETASParameters

    mc = frames.mc
    region = experiment.testing_region()
    if experiment.etas.mode == "simulation":
        params = ETASParameters.from_dict({**experiment.catalog.etas, "mc": mc})
        uniform = BackgroundMap.uniform(frames.grid, region)
        return EtasBaseline(
            params, "ETAS (true parameters)", "the simulation's own parameters", (), uniform
        )
    path = out / "etas_fit.json"
    fit_start = experiment.etas.fit_start or experiment.frames.start
    fit_end = getattr(experiment.periods, experiment.etas.fit_end)
    period = f"fitted on {fit_start} to {fit_end} in {region.description}"

    def read_fit(path: Path) -> tuple[Any, tuple[str, ...], str, BackgroundMap]:
        saved = json.loads(path.read_text())
        params = ETASParameters.from_dict(saved["params"])
        background = BackgroundMap.from_dict(saved["background"], frames.grid, region)
        return params, tuple(saved.get("warnings", ())), saved.get("summary_line", ""), background

    params, warnings, summary, background = reuse_or_build(
        path,
        "ETAS",
        log,
        load=read_fit,
        build=lambda path: fit_etas_stage(
            experiment, catalog, frames, region, fit_start, fit_end, path, log
        ),
        note=lambda fit: f"branching ratio {fit[0].branching_ratio():.3f}",
    )
    for warning in warnings:
        log(f"WARNING: ETAS fit: {warning}")
    eta = params.branching_ratio()
    if experiment.etas.forecast == "simulated" and not eta < 1:
        raise ValueError(
            f"the ETAS fit is supercritical (branching ratio {eta:.3f} >= 1): simulated "
            "forecasts of it would not end; set etas.max_branching_ratio (e.g. 0.95) or "
            "etas.fixed (e.g. {log10_tau: 3.5}), or etas.forecast: first_order, and run again "
            "(the catalog, frames and network are kept)"
        )
    summary = " ".join(summary.split())
    name = (
        "ETAS (fitted, declustered background)"
        if experiment.etas.background == "declustered"
        else "ETAS (fitted)"
    )
    return EtasBaseline(params, name, f"{period}: {summary}", warnings, background)


def fit_etas_stage(
    experiment: QuakeExperiment,
    catalog: Catalog,
    frames: SeismicityFrames,
    region: StudyRegion,
    fit_start: str,
    fit_end: str,
    path: Path,
    log: Log,
) -> tuple[Any, tuple[str, ...], str, BackgroundMap]:
    """Fit ETAS (uniform or declustered background) and write ``etas_fit.json``."""
    from framecast.quake.etas.background import BackgroundMap
    from framecast.quake.etas.declustered import fit_etas_declustered
    from framecast.quake.etas.fit import fit_etas
    from framecast.quake.etas.likelihood import PairCutoffs

    section = experiment.etas
    options: dict[str, Any] = {
        "mc": frames.mc,
        "start": fit_start,
        "end": fit_end,
        "auxiliary_start": section.auxiliary_start or fit_start,
        "fixed": section.fixed or None,
        "max_branching_ratio": section.max_branching_ratio,
        "cutoffs": PairCutoffs(
            coppersmith_multiplier=section.pair_cutoff, max_days=section.max_pair_days
        ),
        "progress": log,
    }
    if section.background == "declustered":
        result = fit_etas_declustered(catalog, grid=frames.grid, region=region, **options)
        fit, background, summary = result.fit, result.background, result.summary()
        record = result.record()
    else:
        fit = fit_etas(catalog, region=region, **options)
        background, summary = BackgroundMap.uniform(frames.grid, region), fit.summary()
        record = {**dataclasses.asdict(fit), "background": background.to_dict()}
    record["summary_line"] = summary
    with atomic_write(path) as partial:
        partial.write_text(json.dumps(record, indent=2, default=str))
    log(
        f"ETAS: fitted {fit.n_target_events} target events ({fit.n_source_events} sources) "
        f"in {fit.seconds:.0f} s, branching ratio {fit.branching_ratio:.3f} -> {path}"
    )
    return fit.params, tuple(fit.warnings), summary, background


def stage_etas_input(
    experiment: QuakeExperiment,
    catalog: Catalog,
    frames: SeismicityFrames,
    baseline: EtasBaseline,
    out: Path,
    log: Log,
) -> SeismicityFrames:
    """The frames with the ``etas`` channel (``frames_etas.h5``, reused by later runs).

    Raises
    ------
    ValueError
        ETAS parameters that are not finite (a failed fit), or a saved
        channel that does not fit the frames (another grid, missing windows).
    """
    from framecast.quake.etas_channel import check_etas_channel

    def read(path: Path) -> SeismicityFrames:
        informed = SeismicityFrames.load(path)
        check_etas_channel(frames, RateForecast.load(out / "etas_channel.h5"))
        return informed

    def build(path: Path) -> SeismicityFrames:
        return _build_etas_input(experiment, catalog, frames, baseline, out, path, log)

    return reuse_or_build(out / "frames_etas.h5", "ETAS channel", log, load=read, build=build)


def _build_etas_input(
    experiment: QuakeExperiment,
    catalog: Catalog,
    frames: SeismicityFrames,
    baseline: EtasBaseline,
    out: Path,
    path: Path,
    log: Log,
) -> SeismicityFrames:
    from framecast.quake.etas_channel import (
        etas_channel_forecast,
        frames_with_etas,
        simulated_etas_channel,
    )

    params = baseline.params
    values = [float(v) for v in params.to_dict().values() if isinstance(v, int | float)]
    if not all(math.isfinite(v) for v in values) or not math.isfinite(params.branching_ratio()):
        raise ValueError(
            f"the ETAS fit failed (parameters {params.to_dict()}); the ETAS channel needs finite "
            "parameters: constrain the fit (etas.fixed, etas.max_branching_ratio)"
        )
    history = region_history(experiment, catalog, frames.mc)
    log(f"ETAS channel: first-order forecasts of {frames.num_bins} bins ({baseline.name})")
    channel = etas_channel_forecast(params, history, frames, background=baseline.background)
    if experiment.etas_input.forecast == "simulated":
        log(
            f"ETAS channel: simulating {experiment.etas_input.num_simulations:,} continuations "
            "per bin"
        )
        channel = simulated_etas_channel(
            channel,
            params,
            history,
            num_simulations=experiment.etas_input.num_simulations,
            seed=experiment.etas.seed,
            background=baseline.background,
        )
    informed = frames_with_etas(frames, channel)
    channel.save(out / "etas_channel.h5")
    informed.save(path)
    log(f"ETAS channel: {channel.rates.sum(axis=(1, 2)).mean():.2f} events per bin -> {path}")
    return informed
