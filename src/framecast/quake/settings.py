"""The settings of one earthquake-forecasting experiment, checked once, at load.

:class:`QuakeExperiment` holds every section of a ``configs/quake/*.yaml``
file; :func:`load_experiment` reads one and checks it before anything runs.
The sections of the variants live here too, so that checking them imports
no stage: the seed sweep's ``seeds:`` (:func:`check_seeds`) and the residual
ablations' ``ablations:`` (:func:`check_ablations`). The ``network:`` and
``aux:`` sections become one :class:`~.network_settings.NetworkSettings`
(the training config of the network, checked) when the experiment loads
(:func:`experiment_from_dict`); the stages take it as it is.

Imports go one way: settings < :mod:`.stages` < the variants
(:mod:`.seed_sweep`, :mod:`.residual_ablations`, :mod:`.etas_variants`,
:mod:`.radio.experiment`) < the pipeline (:mod:`.experiment`).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from framecast.config import apply_overrides, build_dataclass
from framecast.quake.catalog.events import to_datetime64
from framecast.quake.defaults import (
    BURN_IN_DAYS,
    CATALOGS_KEPT,
    ETAS_INPUT_SIMULATIONS,
    NUM_SIMULATIONS,
    PAIR_CUTOFF,
    REPORT_MAPS,
    SCORE_SEED,
)
from framecast.quake.etas_channel import ETAS_CHANNEL
from framecast.quake.frames import check_channels
from framecast.quake.grid import Grid
from framecast.quake.network_settings import NetworkContext, NetworkSettings, network_settings
from framecast.quake.radio.aux_section import AuxSection
from framecast.yamlio import read_yaml_file

if TYPE_CHECKING:
    from framecast.quake.etas.region import StudyRegion
    from framecast.quake.scores.registry import ScoreSettings

__all__ = [
    "ABLATIONS",
    "CATALOGS_KEPT",
    "ETAS_BASELINE_KEYS",
    "AuxSection",
    "NetworkSettings",
    "QuakeExperiment",
    "check_ablations",
    "check_seeds",
    "experiment_from_dict",
    "load_experiment",
    "network_channels",
    "read_experiment_file",
]


Log = Callable[[str], None]

ETAS_MODES = ("fit", "simulation", "none")
ETAS_BACKGROUNDS = ("uniform", "declustered")
ETAS_FIT_ENDS = ("test_start", "val_start")
ETAS_FORECASTS = ("simulated", "first_order")
ETAS_BASELINE_KEYS = ("etas", "etas_first_order", "etas_uniform_first_order")
"""The ETAS variants every forecast is compared with, when the run has them."""
ABLATIONS = ("static_map", "head_only")
"""The ablations of the ETAS residual (:mod:`framecast.quake.residual_ablations`)."""


@dataclass
class CatalogSection:
    """Where the events come from: a file, or an ETAS simulation."""

    path: str | None = None
    simulate: bool = False
    seed: int = 0
    burn_in_days: float = BURN_IN_DAYS
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
    pair_cutoff: float | None = PAIR_CUTOFF
    max_pair_days: float | None = None
    background: str = "uniform"
    fit_end: str = "test_start"
    forecast: str = "simulated"
    num_simulations: int = NUM_SIMULATIONS
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
    num_simulations: int = ETAS_INPUT_SIMULATIONS


@dataclass
class EvaluationSection:
    """Scoring settings: those of :class:`~framecast.quake.scores.registry.ScoreSettings`
    that an experiment sets (the others keep their defaults), and the report's maps."""

    binary_magnitude: float | None = None
    num_simulations: int = NUM_SIMULATIONS
    seed: int = SCORE_SEED
    maps: int = REPORT_MAPS

    def score_settings(self) -> ScoreSettings:
        """The settings every score of the report runs with.

        Raises
        ------
        ValueError
            A value the scores refuse (``num_simulations`` below 1).
        """
        from framecast.quake.scores.registry import ScoreSettings

        return ScoreSettings(
            num_simulations=self.num_simulations,
            seed=self.seed,
            binary_magnitude=self.binary_magnitude,
        )


@dataclass
class QuakeExperiment:
    """All settings of one experiment (YAML: ``configs/quake/*.yaml``)."""

    out_dir: str = "runs/quake"
    catalog: CatalogSection = field(default_factory=CatalogSection)
    frames: FramesSection = field(default_factory=FramesSection)
    periods: PeriodsSection = field(default_factory=PeriodsSection)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    """The ``network:`` section with the ``aux:`` section (the radio side input), checked
    when the experiment loads (:func:`experiment_from_dict`); the default is unchecked."""
    etas: EtasSection = field(default_factory=EtasSection)
    etas_input: EtasInputSection = field(default_factory=EtasInputSection)
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)
    seeds: list[int] = field(default_factory=list)
    """Seed sweep (issue 13): train the network once per seed (``train.seed``) on the same
    frames and ETAS stage and report each seed's scores and their spread
    (:mod:`framecast.quake.seed_sweep`); empty: the one network of ``network.train.seed``."""
    ablations: list[str] = field(default_factory=list)
    """Non-neural ablations of the ETAS residual scored beside it (issue 21):
    ``static_map`` and ``head_only`` (:mod:`framecast.quake.residual_ablations`)."""

    @property
    def aux(self) -> AuxSection | None:
        """Auxiliary radio input (issue 14), YAML section ``aux:`` (:class:`AuxSection`): the
        network trains with the radio side image of each bin (``radio.h5``); None: none.
        Held by :attr:`network`, whose input it is."""
        return self.network.aux

    def check(self) -> None:
        """Raise ValueError for settings that cannot work, before anything is written.

        The ``network:`` and ``aux:`` sections are checked once, when they are
        built (:func:`experiment_from_dict`).
        """
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
        check_ablations(self.ablations, self.etas_input.residual)
        if self.etas.mode == "simulation" and not self.catalog.simulate:
            raise ValueError(
                "etas.mode 'simulation' needs a simulated catalog (catalog.simulate: true)"
            )
        self._check_etas_input()
        check_seeds(self.seeds)
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
        """The settings as written (``experiment.yaml``): every section, in the file's order."""
        sections: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.name == "network":
                sections["network"] = copy.deepcopy(value.written)
            elif dataclasses.is_dataclass(value):
                sections[item.name] = dataclasses.asdict(value)
            else:
                sections[item.name] = copy.deepcopy(value)
            if item.name == "seeds":
                sections["aux"] = copy.deepcopy(self.network.aux_written)
        return sections


def read_experiment_file(
    path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """The mapping of an experiment YAML, with ``section.key=value`` overrides applied.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file, not YAML, not a mapping, or a bad override.
    """
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        data = read_yaml_file(path, "experiment file") or {}
        if not isinstance(data, dict):
            raise ValueError(f"{str(path)!r} must hold a YAML mapping")
    return apply_overrides(data, overrides)


def load_experiment(
    path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()
) -> QuakeExperiment:
    """Read an experiment YAML, apply ``section.key=value`` overrides and check it.

    Raises
    ------
    FileNotFoundError, KeyError, TypeError, ValueError
        Missing file, unknown keys, wrong types or unusable settings.
    """
    return experiment_from_dict(read_experiment_file(path, overrides))


def experiment_from_dict(data: Mapping[str, Any]) -> QuakeExperiment:
    """The experiment of the settings ``data`` (the sections of a YAML file), checked.

    Every section is checked here, once: the plain ones
    (:meth:`QuakeExperiment.check`), then ``aux:`` and ``network:``, built
    into the experiment's :class:`~.network_settings.NetworkSettings`.

    Raises
    ------
    KeyError, TypeError, ValueError
        Unknown keys, wrong types or unusable settings (one line naming them).
    """
    sections = _dates_as_text(dict(data))
    network = sections.pop("network", {})
    aux = sections.pop("aux", {})
    known = [item.name for item in dataclasses.fields(QuakeExperiment)] + ["aux"]
    unknown = sorted(set(sections) - set(known))
    if unknown:  # as build_dataclass words it, with the sections it does not see
        raise KeyError(
            f"unknown config key(s) {unknown}; valid keys in the top level: {sorted(known)}"
        )
    experiment: QuakeExperiment = build_dataclass(QuakeExperiment, sections)
    experiment.check()
    out = Path(experiment.out_dir)
    context = NetworkContext(
        channels=network_channels(experiment),
        frames_file=out / ("frames_etas.h5" if experiment.etas_input.channel else "frames.h5"),
        val_start=experiment.periods.val_start,
        test_start=experiment.periods.test_start,
        residual=experiment.etas_input.residual,
        out=out,
    )
    experiment.network = network_settings(network, aux, context)
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


def check_ablations(names: list[str], residual: bool) -> None:
    """Refuse unknown ablations, and ablations of a run without the ETAS residual."""
    for name in names:
        if name not in ABLATIONS:
            raise ValueError(f"ablations: unknown {name!r}; expected some of {list(ABLATIONS)}")
    if names and not residual:
        raise ValueError(
            f"ablations {names} are of the ETAS residual network; they need "
            "etas_input.residual: true"
        )


def check_seeds(seeds: Sequence[Any]) -> None:
    """Raise ValueError unless ``seeds`` are distinct non-negative integers."""
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
    if bad:
        raise ValueError(f"seeds must be non-negative integers, got {list(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {list(seeds)}")


def network_channels(experiment: QuakeExperiment) -> tuple[str, ...]:
    """The channels the network reads: the frames' channels, then ``etas`` if it takes ETAS."""
    extra = (ETAS_CHANNEL,) if experiment.etas_input.channel else ()
    return (*experiment.frames.channels, *extra)
