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
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import math
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from framecast.config import apply_overrides, build_dataclass, config_from_dict
from framecast.files import atomic_write
from framecast.quake.catalog.events import Catalog, to_datetime64
from framecast.quake.catalog.magnitudes import aki_b_value
from framecast.quake.catalog_forecast import CatalogForecast
from framecast.quake.etas_channel import ETAS_CHANNEL
from framecast.quake.frames import SeismicityFrames, check_channels, grid_catalog
from framecast.quake.grid import KM_PER_DEGREE, Grid
from framecast.quake.rates import RateForecast
from framecast.runfolder import RunFolder
from framecast.yamlio import read_yaml_file

if TYPE_CHECKING:
    from framecast.quake.etas.background import BackgroundMap
    from framecast.quake.etas.region import StudyRegion
    from framecast.quake.recipe import Recipe

Log = Callable[[str], None]
ETAS_MODES = ("fit", "simulation", "none")
ETAS_BACKGROUNDS = ("uniform", "declustered")
ETAS_FIT_ENDS = ("test_start", "val_start")
ETAS_FORECASTS = ("simulated", "first_order")
ETAS_BASELINE_KEYS = ("etas", "etas_first_order", "etas_uniform_first_order")
"""The ETAS variants every forecast is compared with, when the run has them."""
CATALOGS_KEPT = 1000
"""Simulated catalogs per window kept on disk for CSEP's catalog-based tests."""


@dataclass
class CatalogSection:
    """Where the events come from: a file, or an ETAS simulation."""

    path: str | None = None
    simulate: bool = False
    seed: int = 0
    burn_in_days: float = 3650.0
    etas: dict[str, float] = field(default_factory=dict)
    """ETAS parameters of the simulation (defaults: ETASParameters())."""


@dataclass
class FramesSection:
    """How the catalog becomes frames (see ``framecast quake grid``)."""

    region: str = ""
    cell: float = 0.1
    unit: str = "deg"
    start: str = ""
    end: str = ""
    bin_days: float = 1.0
    mc: float = 2.0
    channels: list[str] = field(default_factory=lambda: ["count"])
    polygon: str | list[list[float]] | None = None
    """The testing region (:mod:`framecast.quake.catalog.polygon`): ``[lat, lon]`` vertices,
    or a ``.npy``, GeoJSON or WKT file. Events outside it are dropped; cells whose centres lie
    outside it are masked in every forecast and score, and the ETAS fit's region is the
    polygon. None: the grid's whole box."""


@dataclass
class PeriodsSection:
    """Training runs from frames.start to val_start; the test period from test_start to end."""

    val_start: str = ""
    test_start: str = ""


@dataclass
class EtasSection:
    """The ETAS baseline.

    ``mode``: "fit" on the training period, "simulation" (the parameters a
    simulated catalog was drawn with), or "none". The fit's target events run
    from ``fit_start`` (default frames.start) to periods.val_start; events
    from ``auxiliary_start`` (default fit_start) act as triggering sources
    only. ``fixed`` holds named parameters at given values (e.g.
    ``{log10_tau: 3.5}``) and ``max_branching_ratio`` keeps the fit
    subcritical; a fit that is supercritical, infinite or on a bound is
    flagged in the log and the report. Triggering pairs are kept within
    ``pair_cutoff`` rupture lengths (Wells & Coppersmith 1994; the cut-off of
    Mizrahi's ``etas`` package, null for none) and ``max_pair_days`` days.

    ``background``: "uniform" in the region, or "declustered": a map estimated by
    stochastic declustering iterated with the fit (Zhuang et al. 2002;
    :mod:`framecast.quake.etas.declustered`), as ETAS is run operationally.
    ``fit_end``: the fit's targets end at ``periods.test_start`` (all the data
    before the test period, as the network sees training and validation) or
    ``periods.val_start`` (the training period only).

    ``forecast``: "simulated" (the CSEP standard: ``num_simulations``
    continuations of the catalog per window, cascades inside the window
    included; the report also shows the first-order forecast beside it) or
    "first_order" (background plus direct aftershocks of past events only:
    cheaper, and too low in windows with large events). ``replicates``
    independent runs of ``num_simulations`` simulations each (seeds derived
    from ``seed``): the forecast is their mean, and the spread of their
    log-likelihoods, the Monte Carlo error, enters the report's intervals
    (:mod:`framecast.quake.etas_variants`).
    """

    mode: str = "fit"
    fit_start: str | None = None
    auxiliary_start: str | None = None
    fixed: dict[str, float] = field(default_factory=dict)
    max_branching_ratio: float | None = None
    pair_cutoff: float | None = 100.0
    max_pair_days: float | None = None
    background: str = "uniform"
    fit_end: str = "test_start"
    forecast: str = "simulated"
    num_simulations: int = 1000
    seed: int = 0
    replicates: int = 1


@dataclass
class EtasInputSection:
    """The ETAS forecast as the network's input and starting point (issue 13).

    ``channel``: append the channel ``etas`` to the network's frames: at frame
    k the first-order ETAS forecast of bin k + 1 from the events before it,
    with the parameters of the ETAS stage (fitted on the training period
    only, or the true ones); see :mod:`framecast.quake.etas_channel`.
    ``residual``: forecast ``log rate = log ETAS + network output`` with the
    output layer starting at zero, so that the untrained network is ETAS
    (:mod:`framecast.quake.etas_residual`; needs ``channel``).
    ``forecast``: which ETAS forecast feeds every window; "first_order" (the
    exact expectation of background + direct aftershocks: cheap for each of
    thousands of training windows, and the same kind at test time as in
    training) or "simulated" (``num_simulations`` simulated continuations
    per window added to it: the residual then starts from the simulated
    baseline it is scored against).
    """

    channel: bool = False
    residual: bool = False
    forecast: str = "first_order"
    num_simulations: int = 10_000


@dataclass
class EvaluationSection:
    """Scoring settings."""

    binary_magnitude: float | None = None
    num_simulations: int = 1000
    seed: int = 0
    maps: int = 3


@dataclass
class QuakeExperiment:
    """All settings of one experiment (YAML: ``configs/quake/*.yaml``)."""

    out_dir: str = "runs/quake"
    catalog: CatalogSection = field(default_factory=CatalogSection)
    frames: FramesSection = field(default_factory=FramesSection)
    periods: PeriodsSection = field(default_factory=PeriodsSection)
    network: dict[str, Any] = field(default_factory=dict)
    etas: EtasSection = field(default_factory=EtasSection)
    etas_input: EtasInputSection = field(default_factory=EtasInputSection)
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)
    seeds: list[int] = field(default_factory=list)
    """Seed sweep (issue 13): train the network once per seed (``train.seed``) on the same
    frames and ETAS stage and report each seed's scores and their spread
    (:mod:`framecast.quake.seed_sweep`); empty: the one network of ``network.train.seed``."""
    aux: dict[str, Any] = field(default_factory=dict)
    """Auxiliary radio input (issue 14), the keys of ``compare-aux``'s ``aux:`` section
    (:class:`framecast.quake.radio.experiment.AuxSection`): the network trains with the
    radio side image of each bin (``radio.h5``); empty: no side input."""
    ablations: list[str] = field(default_factory=list)
    """Non-neural ablations of the ETAS residual scored beside it (issue 21):
    ``static_map`` and ``head_only`` (:mod:`framecast.quake.residual_ablations`)."""

    def check(self) -> None:
        """Raise ValueError for settings that cannot work, before anything is written."""
        if bool(self.catalog.path) == bool(self.catalog.simulate):
            raise ValueError("give exactly one of catalog.path or catalog.simulate: true")
        if self.etas.mode not in ETAS_MODES:
            raise ValueError(f"etas.mode must be one of {ETAS_MODES}, got {self.etas.mode!r}")
        if self.etas.forecast not in ETAS_FORECASTS:
            raise ValueError(
                f"etas.forecast must be one of {ETAS_FORECASTS}, got {self.etas.forecast!r}"
            )
        if self.etas.background not in ETAS_BACKGROUNDS:
            raise ValueError(
                f"etas.background must be one of {ETAS_BACKGROUNDS}, got {self.etas.background!r}"
            )
        if self.etas.fit_end not in ETAS_FIT_ENDS:
            raise ValueError(
                f"etas.fit_end must be one of {ETAS_FIT_ENDS}, got {self.etas.fit_end!r}"
            )
        for key in ("num_simulations", "replicates"):
            value = getattr(self.etas, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"etas.{key} must be an integer >= 1, got {value!r}")
        from framecast.quake.residual_ablations import check_ablations

        check_ablations(self.ablations, self.etas_input.residual)
        if self.etas.mode == "simulation" and not self.catalog.simulate:
            raise ValueError(
                "etas.mode 'simulation' needs a simulated catalog (catalog.simulate: true)"
            )
        self._check_etas_input()
        from framecast.quake.seed_sweep import check_seeds

        check_seeds(self.seeds)
        if self.aux:
            from framecast.quake.radio.experiment import aux_section

            aux_section(self)
        check_channels(self.frames.channels)
        if "count" not in self.frames.channels:
            raise ValueError(f"frames.channels must include 'count', got {self.frames.channels}")
        dates = [
            self.frames.start,
            self.periods.val_start,
            self.periods.test_start,
            self.frames.end,
        ]
        parsed = [to_datetime64(d) for d in dates]
        if not all(a < b for a, b in itertools.pairwise(parsed)):
            raise ValueError(
                "need frames.start < periods.val_start < periods.test_start < frames.end; "
                f"got {dates}"
            )
        self.cell_mask()
        from framecast.quake.frames import check_frames_size

        f = self.frames
        check_frames_size(self.grid(), f.start, f.end, f.bin_days, f.channels)
        self.check_network()

    def check_network(self) -> None:
        """Refuse a ``network:`` section the training run would refuse, before any stage runs.

        The training config is built as :func:`network_config` builds it (its
        keys and types checked), the model is built with its options, and the
        seismicity dataset's options are checked, so that a typo stops the
        run before the catalog and frames stages, not after them.

        Raises
        ------
        KeyError, TypeError, ValueError
            The message starts with ``network:`` and names the bad key or value.
        """
        from framecast.config import Config
        from framecast.data import DATASETS
        from framecast.models import build_model
        from framecast.signature import check_options
        from framecast.training.loaders import split_options

        try:
            config = build_dataclass(
                Config, network_config(self, None, Path(self.out_dir)), "network"
            )
            factory = DATASETS.get(config.data.name)
            for split in ("train", "val", "test"):
                check_options(
                    factory,
                    split_options(config.data, split),
                    f"dataset {config.data.name!r}",
                    skip=("split", "n_context", "n_target"),
                )
            build_model(config.model.name, len(network_channels(self)), config.model.options)
        except (KeyError, TypeError, ValueError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            raise type(error)(f"network: {message}") from None

    def _check_etas_input(self) -> None:
        from framecast.quake.etas_channel import ETAS_INPUT_FORECASTS

        section = self.etas_input
        if section.forecast not in ETAS_INPUT_FORECASTS:
            raise ValueError(
                f"etas_input.forecast must be one of {ETAS_INPUT_FORECASTS}, "
                f"got {section.forecast!r}"
            )
        if isinstance(section.num_simulations, bool) or not (
            isinstance(section.num_simulations, int) and section.num_simulations >= 1
        ):
            raise ValueError(
                f"etas_input.num_simulations must be an integer >= 1, got "
                f"{section.num_simulations!r}"
            )
        if section.residual and not section.channel:
            raise ValueError("etas_input.residual needs etas_input.channel: true")
        if section.channel and self.etas.mode == "none":
            raise ValueError(
                "etas_input.channel needs ETAS (etas.mode fit or simulation), not none"
            )

    def grid(self) -> Grid:
        return Grid.from_region(self.frames.region, self.frames.cell, self.frames.unit)

    def polygon(self) -> np.ndarray | None:
        """float64 ``[V, 2]`` (lat, lon) vertices of ``frames.polygon``, or None."""
        if self.frames.polygon is None:
            return None
        from framecast.quake.catalog.polygon import read_polygon

        return read_polygon(self.frames.polygon)

    def testing_region(self) -> StudyRegion:
        """The polygon, or the grid's box: the region of the ETAS model and the events kept."""
        from framecast.quake.etas.region import as_region

        vertices = self.polygon()
        return as_region(self.grid() if vertices is None else vertices)

    def cell_mask(self) -> np.ndarray | None:
        """bool ``[H, X]``: the cells forecast and scored (centres in the polygon), or None.

        Raises
        ------
        ValueError
            A polygon file that is not one, or a polygon beyond the grid or holding no cell.
        """
        vertices = self.polygon()
        if vertices is None:
            self.grid()
            return None
        from framecast.quake.catalog.polygon import polygon_cell_mask

        return polygon_cell_mask(self.grid(), vertices)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_experiment(
    path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()
) -> QuakeExperiment:
    """Read an experiment YAML and apply ``section.key=value`` overrides.

    Raises
    ------
    FileNotFoundError, KeyError, TypeError, ValueError
        Missing file, unknown keys, wrong types or unusable settings.
    """
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        data = read_yaml_file(path, "experiment file") or {}
        if not isinstance(data, dict):
            raise ValueError(f"{str(path)!r} must hold a YAML mapping")
    experiment = build_dataclass(QuakeExperiment, _dates_as_text(apply_overrides(data, overrides)))
    experiment.check()
    return experiment


def _dates_as_text(value: Any) -> Any:
    """YAML reads ``2008-01-01`` as a date; the settings hold dates as ISO text."""
    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


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


# ---------------------------------------------------------------------- stages
def stage_catalog(experiment: QuakeExperiment, out: Path, log: Log) -> Catalog:
    """Read or simulate the catalog once; later runs read ``catalog.h5``."""
    from framecast.quake.catalog.readers import load_catalog
    from framecast.quake.catalog.store import CatalogStore

    path = out / "catalog.h5"
    if path.is_file():
        log(f"catalog: reusing {path}")
        return CatalogStore(path).read()
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
    path = out / "frames.h5"
    if path.is_file():
        log(f"frames: reusing {path}")
        return SeismicityFrames.load(path)
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


def inverse_activation(rate: float, activation: str) -> float:
    """The pre-activation value whose softplus (or exp) is ``rate``."""
    rate = max(rate, 1e-8)
    return math.log(rate) if activation == "exp" else math.log(math.expm1(rate))


def network_config(
    experiment: QuakeExperiment, frames: SeismicityFrames | None, out: Path
) -> dict[str, Any]:
    """The framecast training config of the network, with the data and rate settings filled in.

    Without ``frames`` (checking the settings before any stage runs) the
    output bias is 0 instead of the training period's mean rate, and no
    radio side input is added.
    """
    net = apply_overrides(experiment.network, [])
    model = net.setdefault("model", {})
    options = model.setdefault("options", {})
    channels = network_channels(experiment)
    if experiment.etas_input.residual:
        # the inner network's output feeds the zero-initialised head: no activation needed
        options.setdefault("output_activation", "none")
        net["model"] = {
            "name": "etas_residual",
            "options": {
                "model": model.get("name", "predrnn"),
                "options": options,
                "etas_channel": channels.index(ETAS_CHANNEL),
                "count_channel": channels.index("count"),
            },
        }
    else:
        options.setdefault("output_activation", "softplus")
        if frames is None:
            options.setdefault("output_bias", 0.0)
        else:
            train_bins = frames.bin_index(experiment.periods.val_start)
            count = frames.channel("count")[:train_bins]
            mean_rate = float(count.mean())
            options.setdefault(
                "output_bias", inverse_activation(mean_rate, options["output_activation"])
            )
    data = net.setdefault("data", {})
    data["name"] = "seismicity"
    data.setdefault("n_context", 8)
    data["n_target"] = 1
    data["options"] = {
        "path": str(out / ("frames_etas.h5" if experiment.etas_input.channel else "frames.h5")),
        "val_start": experiment.periods.val_start,
        "test_start": experiment.periods.test_start,
        "channels": list(channels),
        **data.get("options", {}),
    }
    train = net.setdefault("train", {})
    train["loss"] = "poisson"
    # the loss scores the counts; other channels (magnitudes, ETAS) are inputs only
    train["loss_channels"] = [channels.index("count")]
    train.setdefault("out_dir", str(out / "train"))
    train.setdefault("run_name", "network")
    if experiment.aux and frames is not None:  # the radio side input (out / "radio.h5")
        from framecast.quake.radio.experiment import aux_section, with_side_input

        aux = aux_section(experiment)
        if aux is not None:
            net = with_side_input(net, experiment, aux, frames, out / "radio.h5")
    return net


def network_channels(experiment: QuakeExperiment) -> tuple[str, ...]:
    """The channels the network reads: the frames' channels, then ``etas`` if it takes ETAS."""
    extra = (ETAS_CHANNEL,) if experiment.etas_input.channel else ()
    return (*experiment.frames.channels, *extra)


def check_patch_fit(experiment: QuakeExperiment, net: Mapping[str, Any]) -> None:
    """Refuse, before training, a grid whose sides are not multiples of the model's patch."""
    patch = int(net.get("model", {}).get("options", {}).get("patch_size", 1))
    rows, cols = experiment.grid().shape
    if rows % patch or cols % patch:
        raise ValueError(
            f"the grid is {rows}x{cols} cells, which does not fit the model's patch_size={patch}: "
            f"both sides must be multiples of {patch}; change frames.cell or frames.region"
        )


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
    from framecast.quake.seed_sweep import seed_dir

    path = out / "network.ckpt" if seed is None else seed_dir(out, seed) / "network.ckpt"
    if path.is_file():
        log(f"network: reusing {path}")
        return path
    net = network_config(experiment, frames, out)
    if seed is not None:
        net["train"]["seed"] = seed
        net["train"]["run_name"] = f"{net['train']['run_name']}_seed{seed}"
    return train_network(net, path, log)


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


def train_network(net: dict[str, Any], path: Path, log: Log) -> Path:
    """Train (or resume) the network of the training config ``net``; copy its best to ``path``."""
    from framecast.training import train

    path.parent.mkdir(parents=True, exist_ok=True)
    config = config_from_dict(net)
    run_dir = Path(config.train.out_dir) / str(config.train.run_name)
    last = run_dir / "checkpoints" / "last.ckpt"
    resume = run_dir if last.is_file() else None
    log(f"network: training {config.model.name}" + (f", resuming {last}" if resume else ""))
    result = train(config, resume=resume)
    stopped_by_signal(result.stopped_by, log)
    best = result.best_checkpoint or result.last_checkpoint
    with atomic_write(path) as partial:
        shutil.copyfile(best, partial)
    log(f"network: trained in {result.seconds / 60:.1f} min -> {path}")
    return path


def _b_value(frames: SeismicityFrames, train_end: np.datetime64) -> float:
    train = frames.events.filter(end=train_end, event_types=None)
    return aki_b_value(train.magnitude, frames.mc)


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
    if experiment.aux:  # the side channels come from the seismicity_radio dataset
        from framecast.quake.radio.experiment import variant_forecast

        name = f"{config.model.name} network{name_suffix}"
        train_end = to_datetime64(experiment.periods.val_start)
        return variant_forecast(checkpoint, frames, name, _b_value(frames, train_end))
    return network_forecast(
        model,
        frames if network_frames is None else network_frames,
        channels=network_channels(experiment),
        n_context=config.data.n_context,
        first_bin=frames.bin_index(experiment.periods.test_start),
        stop_bin=frames.num_bins,
        name=f"{config.model.name} network{name_suffix}",
        b_value=_b_value(frames, to_datetime64(experiment.periods.val_start)),
    )


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
    b_value = _b_value(frames, val_start)
    forecasts: dict[str, RateForecast] = {}
    mask = experiment.cell_mask()

    def make(key: str, build: Callable[[], RateForecast]) -> None:
        path = folder / f"{key}.h5"
        if path.is_file():
            forecasts[key] = RateForecast.load(path)
            log(f"forecast {key}: reusing {path}")
            return
        forecast = build()
        if mask is not None:  # the testing region: nothing is forecast or scored outside it
            forecast = dataclasses.replace(forecast, rates=forecast.rates * mask)
        forecast.save(path)
        forecasts[key] = forecast
        log(f"forecast {key}: {forecast.rates.sum():.1f} events expected -> {path}")

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
    if path.is_file():
        saved = json.loads(path.read_text())
        params = ETASParameters.from_dict(saved["params"])
        warnings = tuple(saved.get("warnings", ()))
        background = BackgroundMap.from_dict(saved["background"], frames.grid, region)
        log(f"ETAS: reusing {path} (branching ratio {params.branching_ratio():.3f})")
        summary = saved.get("summary_line", "")
    else:
        params, warnings, summary, background = _fit_etas_stage(
            experiment, catalog, frames, region, fit_start, fit_end, path, log
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


def _fit_etas_stage(
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
    from framecast.quake.etas_channel import (
        check_etas_channel,
        etas_channel_forecast,
        frames_with_etas,
    )

    path = out / "frames_etas.h5"
    if path.is_file():
        informed = SeismicityFrames.load(path)
        check_etas_channel(frames, RateForecast.load(out / "etas_channel.h5"))
        log(f"ETAS channel: reusing {path}")
        return informed
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
        from framecast.quake.etas_channel import simulated_etas_channel

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
    experiment.check()
    check_patch_fit(experiment, experiment.network)
    folder = RunFolder(experiment.out_dir, "out_dir")
    if restart:
        folder.check_clearable()  # refused before the folder is touched
    with folder:
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
    if experiment.aux:
        from framecast.quake.radio.experiment import aux_section, stage_radio

        aux = aux_section(experiment)
        if aux is not None:
            stage_radio(experiment, aux, catalog, out, log)
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
        binary_magnitude=experiment.evaluation.binary_magnitude,
        num_simulations=experiment.evaluation.num_simulations,
        seed=experiment.evaluation.seed,
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
