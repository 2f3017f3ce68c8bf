"""The settings of one earthquake-forecasting experiment, checked once, at load.

:class:`QuakeExperiment` holds every section of a ``configs/quake/*.yaml``
file; :func:`load_experiment` reads one and checks it before anything runs.
The sections of the variants live here too, so that checking them imports
no stage: the seed sweep's ``seeds:`` (:func:`check_seeds`), the residual
ablations' ``ablations:`` (:func:`check_ablations`) and the radio input's
``aux:`` (:class:`AuxSection`). :func:`network_config` turns the settings
into the training config of the network.

Imports go one way: settings < :mod:`.stages` < the variants
(:mod:`.seed_sweep`, :mod:`.residual_ablations`, :mod:`.etas_variants`,
:mod:`.radio.experiment`) < the pipeline (:mod:`.experiment`).
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from framecast.config import apply_overrides, build_dataclass
from framecast.quake.catalog.events import to_datetime64
from framecast.quake.etas_channel import ETAS_CHANNEL
from framecast.quake.frames import SeismicityFrames, check_channels
from framecast.quake.grid import Grid
from framecast.yamlio import read_yaml_file

if TYPE_CHECKING:
    from framecast.quake.etas.region import StudyRegion


Log = Callable[[str], None]

ETAS_MODES = ("fit", "simulation", "none")
ETAS_BACKGROUNDS = ("uniform", "declustered")
ETAS_FIT_ENDS = ("test_start", "val_start")
ETAS_FORECASTS = ("simulated", "first_order")
ETAS_BASELINE_KEYS = ("etas", "etas_first_order", "etas_uniform_first_order")
"""The ETAS variants every forecast is compared with, when the run has them."""
CATALOGS_KEPT = 1000
"""Simulated catalogs per window kept on disk for CSEP's catalog-based tests."""
ABLATIONS = ("static_map", "head_only")
"""The ablations of the ETAS residual (:mod:`framecast.quake.residual_ablations`)."""


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
    (:class:`AuxSection`): the network trains with the
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
        check_ablations(self.ablations, self.etas_input.residual)
        if self.etas.mode == "simulation" and not self.catalog.simulate:
            raise ValueError(
                "etas.mode 'simulation' needs a simulated catalog (catalog.simulate: true)"
            )
        self._check_etas_input()
        check_seeds(self.seeds)
        if self.aux:
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


@dataclass
class AuxSection:
    """The auxiliary (radio) input of an experiment (YAML section ``aux:``).

    ``radio``: a file from ``framecast quake radio prepare``; without it a
    synthetic receiver over the experiment's catalog (``synthetic``: the
    options of :class:`~framecast.quake.radio.synthetic.SyntheticReceiver`).
    ``lag_days``: processing delay (bin j sees slots ending by its end minus
    the lag). ``injection``/``encoder``: names in
    :data:`~framecast.models.side_inputs.SIDE_INPUTS` /
    :data:`~framecast.models.side_inputs.SIDE_ENCODERS`. ``shuffle_seed``:
    the permutation of the shuffled control.
    """

    radio: str | None = None
    synthetic: dict[str, Any] = field(default_factory=dict)
    lag_days: float = 0.0
    injection: str = "broadcast_channels"
    encoder: str = "conv_pool"
    encoder_options: dict[str, Any] = field(default_factory=dict)
    side_dim: int = 4
    shuffle_seed: int = 1
    block_days: float = 30.0

    def check(self) -> None:
        """Raise ValueError (or KeyError for unknown names) before anything runs."""
        from framecast.models.side_inputs import SIDE_ENCODERS, SIDE_INPUTS

        SIDE_INPUTS.get(self.injection)
        SIDE_ENCODERS.get(self.encoder)
        if not self.lag_days >= 0:
            raise ValueError(f"aux.lag_days must be >= 0, got {self.lag_days!r}")
        if not self.block_days > 0:
            raise ValueError(f"aux.block_days must be > 0, got {self.block_days!r}")
        if self.radio is None:
            receiver_from(self.synthetic).check()
        elif self.synthetic:
            raise ValueError("give aux.radio (a file) or aux.synthetic (options), not both")


def receiver_from(options: dict[str, Any]) -> Any:
    """A :class:`SyntheticReceiver` from YAML options (unknown keys refused)."""
    from framecast.config import build_dataclass
    from framecast.quake.radio.synthetic import SyntheticReceiver

    options = dict(options)
    if "band_hz" in options:
        options["band_hz"] = tuple(options["band_hz"])
    return build_dataclass(SyntheticReceiver, options)


def aux_section(experiment: QuakeExperiment) -> AuxSection | None:
    """The experiment's ``aux:`` section (``framecast quake run``), checked; None when empty.

    Raises
    ------
    KeyError, TypeError, ValueError
        Unknown keys, wrong types, or settings that cannot work.
    """
    from framecast.config import build_dataclass

    if not experiment.aux:
        return None
    aux = build_dataclass(AuxSection, experiment.aux, "aux")
    aux.check()
    if experiment.etas_input.residual:
        raise ValueError(
            "aux: the radio input does not combine with etas_input.residual yet; "
            "use etas_input.channel alone or drop one of them"
        )
    return aux


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
        # the rate starts at the training mean where the model has the option; others (stvae,
        # keras_convlstm, ...) start where their initialisation puts them
        if _takes_output_bias(model.get("name", "predrnn")):
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
        aux = aux_section(experiment)
        if aux is not None:
            net = with_side_input(net, experiment, aux, frames, out / "radio.h5")
    return net


def _takes_output_bias(model_name: str) -> bool:
    """Whether the registered model ``model_name`` has an ``output_bias`` option.

    Models that have one (predrnn, encoder_forecaster, prednet) start their
    rate output at the training period's mean rate; the others (stvae,
    keras_convlstm, ...) are built without it rather than refused. An
    unknown name answers True, so that building the model refuses the name
    with the list of valid ones.
    """
    from framecast.models import MODELS
    from framecast.signature import accepted_options

    try:
        factory = MODELS.get(model_name)
    except KeyError:
        return True
    return "output_bias" in accepted_options(factory)


def network_channels(experiment: QuakeExperiment) -> tuple[str, ...]:
    """The channels the network reads: the frames' channels, then ``etas`` if it takes ETAS."""
    extra = (ETAS_CHANNEL,) if experiment.etas_input.channel else ()
    return (*experiment.frames.channels, *extra)


def with_side_input(
    net: dict[str, Any],
    experiment: QuakeExperiment,
    aux: AuxSection,
    frames: SeismicityFrames,
    radio: Path,
    shuffle_seed: int | None = None,
) -> dict[str, Any]:
    """``net`` (a :func:`network_config`) wrapped by ``side_input`` on ``seismicity_radio``."""
    from framecast.quake.radio.dataset import radio_side_frames
    from framecast.quake.radio.store import RadioSeries

    packed, side_shape = radio_side_frames(
        frames, RadioSeries.load(radio), train_end=experiment.periods.val_start, lag_days=0.0
    )
    model = net["model"]
    net["model"] = {
        "name": "side_input",
        "options": {
            "model": model["name"],
            "model_options": model.get("options", {}),
            "side_shape": list(side_shape),
            "side_channels": int(packed.shape[1]),
            "encoder": aux.encoder,
            "encoder_options": dict(aux.encoder_options),
            "injection": aux.injection,
            "side_dim": aux.side_dim,
        },
    }
    data = net["data"]
    data["name"] = "seismicity_radio"
    data["options"] = {
        **data["options"],
        "radio": str(radio),
        "lag_days": aux.lag_days,
        "shuffle_seed": shuffle_seed,
    }
    return net
