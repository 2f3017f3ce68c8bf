"""Run configuration: typed dataclasses, YAML files and dotted overrides.

A config file is YAML with the sections of :class:`Config`. Unknown keys are
errors (a typo must not silently fall back to a default). Overrides are
``section.key=value`` strings whose value is parsed as YAML, so
``optim.lr=3e-4``, ``model.options.cell=convlstm`` and
``data.split_options.train.num_sequences=500`` all work.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from framecast.yamlio import load_yaml_text, parse_override_value, read_yaml_file


@dataclass
class ModelConfig:
    """Which architecture, with its constructor options.

    ``options`` go to the model's constructor as keywords (``cell``,
    ``cell_options``, ``hidden_channels``, ...). ``in_channels`` is filled
    from the data unless given here.
    """

    name: str = "predrnn"
    in_channels: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataConfig:
    """Which dataset, how frames are split and batched.

    ``options`` go to the dataset factory for every split; ``split_options``
    (keys ``train``, ``val``, ``test``) are merged over them per split.
    """

    name: str = "moving_squares"
    n_context: int = 10
    n_target: int = 10
    batch_size: int = 8
    num_workers: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    split_options: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class OptimConfig:
    """Adam and its learning-rate schedule.

    ``scheduler``: ``step`` multiplies the rate by ``step_gamma`` at half of
    ``train.max_steps`` (the seed experiments), ``onecycle`` is
    :class:`torch.optim.lr_scheduler.OneCycleLR`, ``none`` keeps it constant.
    """

    lr: float = 1e-3
    weight_decay: float = 0.0
    scheduler: str = "step"
    step_gamma: float = 0.1
    grad_clip: float | None = None

    def __post_init__(self) -> None:
        # refused here, when the config loads, not by the optimiser once the run folder exists
        for name in ("lr", "weight_decay", "step_gamma", "grad_clip"):
            value = getattr(self, name)
            if value is None and name == "grad_clip":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue  # a wrong type is refused by the config loader, with the key named
            least = "> 0" if name in ("step_gamma", "grad_clip") else ">= 0"
            if not math.isfinite(value) or value < 0 or (least == "> 0" and value == 0):
                raise ValueError(f"optim.{name} must be a finite number {least}, got {value!r}")


@dataclass
class SamplingConfig:
    """Scheduled sampling (PredRNN's linear schedule) or its reverse form.

    ``linear``: the probability of feeding the true future frame falls
    linearly from ``start_prob`` at step 0 to 0 at ``stop_step`` (PredRNN:
    1.0 to 0 over 50,000 iterations). ``reverse`` is reverse scheduled
    sampling (PredRNN-V2, Wang et al. 2022, Sec. 4.2) with its two
    milestones and exponential rate. ``none`` always feeds predictions.
    ``teacher`` always feeds the true frame (teacher forcing throughout:
    next-frame training, as the Keras ConvLSTM example fits its network).
    """

    mode: str = "linear"
    start_prob: float = 1.0
    stop_step: int = 50000
    reverse_start_step: int = 25000
    reverse_stop_step: int = 50000
    reverse_alpha: float = 5000.0


PRECISION_ALIASES: dict[str, str] = {
    "32": "32",
    "32-true": "32",
    "16": "16-mixed",
    "16-mixed": "16-mixed",
    "bf16": "bf16-mixed",
    "bf16-mixed": "bf16-mixed",
    "64": "64",
    "64-true": "64",
    "auto": "auto",
}


def normalize_precision(precision: str | int) -> str:
    """The framecast name of a training precision given as Lightning accepts it.

    Parameters
    ----------
    precision : str or int
        ``32``, ``16``, ``64`` (int or str), ``32-true``, ``16-mixed``,
        ``bf16``, ``bf16-mixed``, ``64-true`` or ``auto``.

    Returns
    -------
    str
        One of ``32``, ``16-mixed``, ``bf16-mixed``, ``64`` or ``auto``.

    Raises
    ------
    ValueError
        Any other value.
    """
    key = str(precision).strip().lower() if not isinstance(precision, bool) else ""
    if key not in PRECISION_ALIASES:
        raise ValueError(
            f"train.precision must be one of 32, 16-mixed, bf16-mixed, 64 or auto "
            f"(or 16, 32-true, bf16, 64-true), got {precision!r}"
        )
    return PRECISION_ALIASES[key]


@dataclass
class TrainConfig:
    """Loop, loss, precision and output settings.

    Validation (and the checkpoint written after it) runs at the end of
    every epoch, or every ``val_every_n_steps`` steps when that is set.
    A run resumed from an end-of-epoch checkpoint repeats the uninterrupted
    run exactly; one resumed from a mid-epoch checkpoint restarts that
    epoch's data order.
    """

    max_steps: int = 80000
    max_epochs: int | None = None
    max_minutes: float | None = None
    loss: str = "mse"
    loss_frames: str = "all"
    loss_channels: list[int] | None = None
    """Channels the loss compares (None: all); the others are inputs only."""
    precision: str | int = "32"
    """``32``, ``16-mixed``, ``bf16-mixed``, ``64`` or ``auto``; Lightning's ints 16, 32, 64
    and aliases (``32-true``, ``16``, ``bf16``, ``64-true``) are accepted and normalised."""
    seed: int = 0
    limit_val_batches: float = 1.0
    val_every_n_steps: int | None = None
    checkpoint_every_n_steps: int | None = None
    """Also refresh ``last.ckpt`` every this many steps (None: at validations and stops only)."""
    early_stopping_patience: int | None = None
    accelerator: str = "auto"
    devices: int = 1
    """Processes per node: one per GPU (-1: every GPU of the node), or CPU processes."""
    num_nodes: int = 1
    """Machines the run spans, each running ``devices`` processes started by its launcher
    (``torchrun``, SLURM's ``srun``): docs/cluster.md, "Training on several nodes"."""
    strategy: str = "auto"
    """Lightning's strategy by name (``auto``, ``ddp``, ``ddp_spawn``, ``fsdp``, ...); ``auto``
    is DDP whenever ``devices`` or ``num_nodes`` is above 1."""
    num_threads: int | None = None
    log_every_n_steps: int = 20
    out_dir: str = "runs"
    run_name: str | None = None
    progress_bar: bool = True
    init_from: str | None = None
    """A checkpoint whose model weights start this run (not its optimiser, schedule or step):
    a fine-tune, such as PredNet's extrapolation from a t+1 model. Its model config must match."""
    reverse_input: bool = False
    """Also train on every batch reversed in time, as the PredRNN authors' trainer
    (``--reverse_input 1``): each batch gives two optimiser steps, forward then reversed, with
    one scheduled-sampling mask; ``max_steps`` counts optimiser steps and the sampling schedule
    counts batches (the authors' iterations)."""

    def __post_init__(self) -> None:
        self.precision = normalize_precision(self.precision)
        check_train_limits(self)
        # refused when the config loads: Lightning refused them only once the run folder existed
        if isinstance(self.num_nodes, int) and self.num_nodes < 1:
            raise ValueError(f"train.num_nodes must be a whole number >= 1, got {self.num_nodes!r}")
        if isinstance(self.devices, int) and (self.devices == 0 or self.devices < -1):
            raise ValueError(
                f"train.devices must be a whole number >= 1 (or -1 for every GPU), "
                f"got {self.devices!r}"
            )


def check_train_limits(train: Any, where: str = "train") -> None:
    """Refuse a run name that is not one folder name and limits that would train nothing.

    Shared by the forecasters' and the classifiers' ``train`` sections.

    Raises
    ------
    ValueError
        ``run_name`` with a separator, ``..`` or an absolute path;
        ``max_minutes`` not a positive finite number; ``max_steps`` or
        ``max_epochs`` 0 or below -1 (-1: no limit); ``val_every_n_steps``
        below 1. One line naming the value.
    """
    from framecast.runfolder import check_run_name

    check_run_name(train.run_name, f"{where}.run_name")
    # 0 trained nothing and exited 0 with a step-0 checkpoint, and below -1 Lightning's message
    # blamed the machine (found by the property tests, issue 23)
    for key in ("max_steps", "max_epochs"):
        limit = getattr(train, key, None)
        if limit is not None and (limit == 0 or limit < -1):
            raise ValueError(
                f"{where}.{key} must be a whole number >= 1 (or -1 for no limit), got {limit!r}"
            )
    minutes = train.max_minutes
    if minutes is not None and not (math.isfinite(minutes) and minutes > 0):
        raise ValueError(
            f"{where}.max_minutes must be a positive number of minutes (or null for no time "
            f"limit), got {minutes!r}"
        )
    every = train.val_every_n_steps
    if every is not None and every < 1:
        raise ValueError(
            f"{where}.val_every_n_steps must be a whole number >= 1 (or null to validate at "
            f"the end of every epoch), got {every!r}"
        )


SSIM_NAMES = ("gaussian", "skimage")


@dataclass
class EvaluationConfig:
    """How test metrics are computed.

    ``ssim``: ``gaussian`` (11x11 Gaussian window, sigma 1.5, float frames;
    Wang et al. 2004) or ``skimage`` (scikit-image's ``structural_similarity``
    defaults on frames quantised to uint8, as the PredRNN authors score KTH
    and Moving MNIST). A config that reproduces a paper sets the paper's one.

    ``thresholds`` and ``fss_scales``: the event thresholds (values of the
    scored frames) and neighbourhood sides (pixels) at which ``framecast
    evaluate`` also scores the CSI and the fractions skill score
    (:mod:`framecast.metrics.categorical`) when its command line gives none:
    a radar config carries its own scores. Empty: no threshold scores;
    ``fss_scales`` None: :data:`framecast.metrics.DEFAULT_FSS_SCALES`.
    """

    ssim: str = "gaussian"
    thresholds: list[float] = field(default_factory=list)
    fss_scales: list[int] | None = None

    def __post_init__(self) -> None:
        if self.ssim not in SSIM_NAMES:
            raise ValueError(f"evaluation.ssim must be one of {SSIM_NAMES}, got {self.ssim!r}")
        bad = [
            v
            for v in self.thresholds
            if isinstance(v, bool) or not isinstance(v, int | float) or not (0 <= v < math.inf)
        ]
        if bad:
            raise ValueError(
                f"evaluation.thresholds must be finite numbers >= 0 (values of the scored "
                f"frames), got {bad[0]!r} in {self.thresholds!r}"
            )
        self.thresholds = [float(v) for v in self.thresholds]
        if self.fss_scales is not None:
            if not self.thresholds:
                raise ValueError(
                    f"evaluation.fss_scales {self.fss_scales!r} needs evaluation.thresholds"
                )
            bad = [s for s in self.fss_scales if isinstance(s, bool) or not isinstance(s, int)]
            if bad or any(s < 1 for s in self.fss_scales) or not self.fss_scales:
                raise ValueError(
                    f"evaluation.fss_scales must be whole numbers of pixels >= 1, "
                    f"got {self.fss_scales!r}"
                )


@dataclass
class Config:
    """A whole run: model, data, optimiser, sampling, training loop and evaluation."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML and checkpoint friendly)."""
        return asdict(self)

    def save(self, path: str | Path) -> Path:
        """Write the config as YAML."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
        return path


def _type_ok(value: Any, annotation: Any) -> bool:
    """Whether ``value`` fits a simple annotation (int, float, str, bool, dict, optional)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is Any:
        return True
    if origin is not None:
        annotation = origin
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _parse_float(value: str, key: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise TypeError(f"config key {key!r} expects a number, got {value!r}") from None


def build_dataclass(cls: type, data: Mapping[str, Any], where: str = "") -> Any:
    """Build dataclass ``cls`` from a nested mapping, refusing unknown keys and wrong types."""
    if not isinstance(data, Mapping):
        raise TypeError(f"config section {where!r} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise KeyError(
            f"unknown config key(s) {[f'{where}.{k}' if where else k for k in unknown]}; "
            f"valid keys in {where or 'the top level'}: {sorted(known)}"
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints[name]
        key = f"{where}.{name}" if where else name
        if dataclasses.is_dataclass(hint):
            kwargs[name] = build_dataclass(hint, value or {}, key)
            continue
        if isinstance(value, str) and _type_ok(1.0, hint) and not _type_ok(value, hint):
            value = _parse_float(value, key)  # YAML 1.1 reads "3e-4" as a string
        if not _type_ok(value, hint):
            raise TypeError(f"config key {key!r} expects {hint}, got {value!r}")
        kwargs[name] = float(value) if hint is float else value
    return cls(**kwargs)


def config_from_dict(data: Mapping[str, Any]) -> Config:
    """Build a :class:`Config` from a nested mapping, refusing unknown keys.

    Raises
    ------
    KeyError
        A key that is not a config field (message names it and the valid ones).
    TypeError
        A value of the wrong type.
    """
    return build_dataclass(Config, data, "")


def set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``tree["a"]["b"]["c"] = value`` for ``dotted = "a.b.c"``, creating sections."""
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise KeyError(f"override {dotted!r}: {part!r} is a value, not a section")
        node = child
    node[parts[-1]] = value


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``key.path=value`` overrides (values parsed as YAML) to a nested dict.

    Raises
    ------
    ValueError
        An override without ``=`` or a key, or whose value is invalid YAML, a
        YAML tag or an alias bomb (one line naming the override).
    """
    out = load_yaml_text(yaml.safe_dump(data), "the config")  # deep copy
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like section.key=value")
        key, raw = item.split("=", 1)
        if not key:
            raise ValueError(f"override {item!r} has an empty key")
        set_dotted(out, key.strip(), parse_override_value(raw, item))
    return out


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> Config:
    """Read a YAML config (or start from defaults) and apply overrides.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is not UTF-8 text, not valid YAML (a tag, an alias bomb) or
        not a mapping.
    """
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        loaded = read_yaml_file(path, "config file")
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ValueError(f"config file {str(path)!r} must hold a mapping, got {loaded!r}")
        data = loaded
    return config_from_dict(apply_overrides(data, overrides))
