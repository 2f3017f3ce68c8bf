"""The ``network:`` section of a quake experiment, checked once, as the training config it means.

The section is a framecast training config (``model``, ``data``, ``optim``,
``sampling``, ``train``, ``evaluation``: :class:`framecast.config.Config`)
of which the quake run fills the part it owns: the ``seismicity`` dataset of
the run's frames file and channels, one target bin, the Poisson loss on the
``count`` channel, the run's folders, a rate output (``softplus`` unless
named) and, with ``etas_input.residual``, the ``etas_residual`` wrapper.
:func:`network_settings` does this when the experiment loads, builds the
model and checks the dataset's options, so that a typo stops the run before
any stage; the stages take the resulting :class:`NetworkSettings` as it is.

The ``aux:`` section (the radio side input,
:class:`~framecast.quake.radio.aux_section.AuxSection`) feeds the same
network, so it is checked here too and kept with it.

What only the data can tell comes later, in
:meth:`NetworkSettings.training_config`: a rate network starts at the
training period's mean rate, and a radio side input takes its shape from the
radio file (:func:`~framecast.quake.radio.aux_section.with_side_input`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framecast.config import Config, ModelConfig, build_dataclass
from framecast.quake.etas_channel import ETAS_CHANNEL
from framecast.quake.radio.aux_section import AuxSection, aux_section, with_side_input

if TYPE_CHECKING:
    from framecast.quake.frames import SeismicityFrames

N_CONTEXT = 8
"""Bins of context of the network when ``network.data.n_context`` is not given."""
RADIO_FILE = "radio.h5"
"""The radio series of a run with a side input, in its out_dir."""
RUN_NAME = "network"
"""The training run's name when ``network.train.run_name`` is not given."""
TRAIN_FOLDER = "train"
"""The training runs' folder in the out_dir when ``network.train.out_dir`` is not given."""
RATE_ACTIVATION = "softplus"
"""The output activation of a rate network that names none."""
RESIDUAL_ACTIVATION = "none"
"""The inner network's output activation under the ETAS residual: its output feeds the
zero-initialised head, which needs no activation."""
DEFAULT_MODEL = ModelConfig().name
"""The model of a ``network:`` section that names none (the training config's default)."""


@dataclass(frozen=True)
class NetworkSettings:
    """The network of a quake run: its sections as written and the training config they mean.

    Built by :func:`network_settings` when the experiment loads; the default
    is an empty, unchecked section.

    Attributes
    ----------
    written : dict
        The ``network:`` section as written (after overrides): what
        ``experiment.yaml`` keeps, and what a later run's settings are
        compared with. Read only.
    config : Config
        The training config, checked: keys and types, the model built with its
        options and the dataset's options. A rate model's ``output_bias`` is
        0 here (see ``bias_from_rate``) and the side input is not yet added.
        Read only: :meth:`training_config` gives a copy to change.
    train_end : str
        The end of the training period (``periods.val_start``): the mean rate
        of the bins before it starts a rate model's output, and the radio
        series is standardised on it.
    bias_from_rate : bool
        Whether the model's ``output_bias`` is set from that mean rate (a
        model that takes one, none given, not under the ETAS residual).
    patch_size : int
        The model's patch: the grid's sides must be multiples of it.
    aux : AuxSection or None
        The radio side input (``aux:``); None: none.
    aux_written : dict
        The ``aux:`` section as written (empty without one). Read only.
    radio_file : Path
        Where the run keeps the radio series the side input reads.
    """

    written: dict[str, Any] = field(default_factory=dict)
    config: Config = field(default_factory=Config)
    train_end: str = ""
    bias_from_rate: bool = False
    patch_size: int = 1
    aux: AuxSection | None = None
    aux_written: dict[str, Any] = field(default_factory=dict)
    radio_file: Path = Path(RADIO_FILE)

    @property
    def seed(self) -> int:
        """The training seed (``network.train.seed``)."""
        return self.config.train.seed

    def training_config(self, frames: SeismicityFrames | None = None) -> Config:
        """A fresh copy of :attr:`config`, with what ``frames`` tell filled in.

        With ``frames``: a rate model's output bias (the inverse activation of
        the mean rate before :attr:`train_end`) and the radio side input of
        :attr:`aux` (reading :attr:`radio_file`). Without: the config that was
        checked (output bias 0, no side input).
        """
        config = copy.deepcopy(self.config)
        if frames is None:
            return config
        if self.bias_from_rate:
            options = config.model.options
            count = frames.channel("count")[: frames.bin_index(self.train_end)]
            options["output_bias"] = inverse_activation(
                float(count.mean()), options["output_activation"]
            )
        if self.aux is not None:
            config = with_side_input(config, self.aux, frames, self.radio_file, self.train_end)
        return config


@dataclass(frozen=True)
class NetworkContext:
    """What the rest of the experiment tells the ``network:`` section.

    Attributes
    ----------
    channels : tuple of str
        The channels the network reads (the frames', then ``etas`` when it takes ETAS).
    frames_file : Path
        The frames file it trains on (``frames.h5`` or ``frames_etas.h5``).
    val_start, test_start : str
        The periods (ISO dates).
    residual : bool
        Forecast ETAS times a learned correction (``etas_input.residual``).
    out : Path
        The run's out_dir: its training runs go to ``out / "train"`` unless named,
        the radio series to ``out / "radio.h5"``.
    """

    channels: tuple[str, ...]
    frames_file: Path
    val_start: str
    test_start: str
    residual: bool
    out: Path


def inverse_activation(rate: float, activation: str) -> float:
    """The pre-activation value whose softplus (or exp) is ``rate``."""
    rate = max(rate, 1e-8)
    return math.log(rate) if activation == "exp" else math.log(math.expm1(rate))


def network_settings(written: Any, aux_written: Any, context: NetworkContext) -> NetworkSettings:
    """Check the ``network:`` section ``written`` and build the training config it means.

    Parameters
    ----------
    written : mapping
        The ``network:`` section as written.
    aux_written : mapping or None
        The ``aux:`` section as written; None or empty: no side input.
    context : NetworkContext
        The channels, files, periods and out_dir of the experiment.

    Raises
    ------
    KeyError, TypeError, ValueError
        One line naming the bad key or value: starting ``network:`` for the
        network, naming ``aux`` for the side input.
    """
    aux = _aux(aux_written, context.residual)
    if not isinstance(written, Mapping):
        raise TypeError(f"config key 'network' expects a mapping, got {written!r}")
    written = copy.deepcopy(dict(written))
    try:
        config = build_dataclass(Config, _training_dict(written, context), "network")
        _check_buildable(config, len(context.channels))
    except (KeyError, TypeError, ValueError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        raise type(error)(f"network: {message}") from None
    options = _mapping(written.get("model", {}), "model").get("options", {})
    return NetworkSettings(
        written=written,
        config=config,
        train_end=context.val_start,
        bias_from_rate=not context.residual
        and "output_bias" not in options
        and _takes_output_bias(config.model.name),
        patch_size=int(options.get("patch_size", 1)),
        aux=aux,
        aux_written=copy.deepcopy(dict(aux_written or {})),
        radio_file=context.out / RADIO_FILE,
    )


def _aux(written: Any, residual: bool) -> AuxSection | None:
    """The ``aux:`` section, checked; None when absent or empty."""
    if written is None:
        return None
    if not isinstance(written, Mapping):
        raise TypeError(f"config key 'aux' expects a mapping, got {written!r}")
    if not written:
        return None
    aux = aux_section(written)
    if residual:
        raise ValueError(
            "aux: the radio input does not combine with etas_input.residual yet; "
            "use etas_input.channel alone or drop one of them"
        )
    return aux


def _mapping(value: Any, where: str) -> dict[str, Any]:
    """``value`` as a (copied) dict, or TypeError naming the section ``network.<where>``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"config section 'network.{where}' must be a mapping, got {value!r}")
    return dict(value)


def _training_dict(written: dict[str, Any], context: NetworkContext) -> dict[str, Any]:
    """The training config of ``written`` as a mapping, with the quake run's part filled in."""
    channels = context.channels
    net = copy.deepcopy(written)
    model = net["model"] = _mapping(net.get("model", {}), "model")
    options = model["options"] = _mapping(model.get("options", {}), "model.options")
    name = model.get("name", DEFAULT_MODEL)
    if context.residual:
        options.setdefault("output_activation", RESIDUAL_ACTIVATION)
        net["model"] = {
            "name": "etas_residual",
            "options": {
                "model": name,
                "options": options,
                "etas_channel": channels.index(ETAS_CHANNEL),
                "count_channel": channels.index("count"),
            },
        }
    else:
        options.setdefault("output_activation", RATE_ACTIVATION)
        # the rate starts at the training mean where the model has the option (0 until the
        # data is read); others (stvae, keras_convlstm, ...) start where their initialisation
        # puts them
        if _takes_output_bias(name):
            options.setdefault("output_bias", 0.0)
    data = net["data"] = _mapping(net.get("data", {}), "data")
    data["name"] = "seismicity"
    data.setdefault("n_context", N_CONTEXT)
    data["n_target"] = 1
    data["options"] = {
        "path": str(context.frames_file),
        "val_start": context.val_start,
        "test_start": context.test_start,
        "channels": list(channels),
        **_mapping(data.get("options", {}), "data.options"),
    }
    train = net["train"] = _mapping(net.get("train", {}), "train")
    train["loss"] = "poisson"
    # the loss scores the counts; other channels (magnitudes, ETAS) are inputs only
    train["loss_channels"] = [channels.index("count")]
    train.setdefault("out_dir", str(context.out / TRAIN_FOLDER))
    train.setdefault("run_name", RUN_NAME)
    return net


def _check_buildable(config: Config, in_channels: int) -> None:
    """Build the model and check the dataset's options of every split, as training will."""
    from framecast.data import DATASETS
    from framecast.models import build_model
    from framecast.signature import check_options
    from framecast.training.loaders import split_options

    factory = DATASETS.get(config.data.name)
    for split in ("train", "val", "test"):
        check_options(
            factory,
            split_options(config.data, split),
            f"dataset {config.data.name!r}",
            skip=("split", "n_context", "n_target"),
        )
    build_model(config.model.name, in_channels, config.model.options)


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
