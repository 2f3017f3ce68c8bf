"""Configuration of a classification run: typed dataclasses read from YAML, dotted overrides.

The sections mirror the forecasters' :class:`~framecast.config.Config`
(``model``, ``data``, ``optim``, ``train``; ``optim`` is the same
:class:`~framecast.config.OptimConfig`), with the same rules: unknown keys
are errors and values derived from the data (vocabulary size, channels,
classes) fill only what the user left empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from framecast.config import OptimConfig, apply_overrides, build_dataclass, check_train_limits
from framecast.yamlio import read_yaml_file

CLASS_WEIGHTS = ("balanced",)


@dataclass
class ClassifierConfig:
    """Which classifier (``vector_rnn`` or ``conv_rnn``) with its options.

    ``input_size`` (vocabulary size, features or channels) and
    ``class_names`` are filled from the data unless given.
    """

    name: str = "vector_rnn"
    input_size: int | None = None
    class_names: list[str] | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class LabelledDataConfig:
    """Which labelled dataset, its options, and batching.

    ``options`` go to the dataset factory for every split; ``split_options``
    (keys ``train``, ``val``, ``test``) are merged over them per split.
    """

    name: str = "synthetic_text"
    batch_size: int = 32
    num_workers: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    split_options: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ClassifyTrainConfig:
    """Loop, class weights and output settings (as the forecasters' ``train`` section).

    ``class_weights``: None (plain cross-entropy), ``"balanced"`` (weight of
    class k = N / (K * N_k) over the training labels, scikit-learn's
    convention) or one weight per class.
    """

    max_steps: int = 2000
    max_epochs: int | None = None
    max_minutes: float | None = None
    class_weights: str | list[float] | None = None
    seed: int = 0
    limit_val_batches: float = 1.0
    val_every_n_steps: int | None = None
    checkpoint_every_n_steps: int | None = None
    early_stopping_patience: int | None = None
    accelerator: str = "auto"
    devices: int = 1
    num_threads: int | None = None
    log_every_n_steps: int = 20
    grad_clip: float | None = None
    out_dir: str = "runs/classify"
    run_name: str | None = None
    progress_bar: bool = True

    def __post_init__(self) -> None:
        check_train_limits(self)


@dataclass
class ClassifyConfig:
    """A whole classification run."""

    model: ClassifierConfig = field(default_factory=ClassifierConfig)
    data: LabelledDataConfig = field(default_factory=LabelledDataConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(scheduler="none"))
    train: ClassifyTrainConfig = field(default_factory=ClassifyTrainConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML and checkpoint friendly)."""
        return asdict(self)

    def save(self, path: str | Path) -> Path:
        """Write the config as YAML."""
        path = Path(path)
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
        return path


def classify_config_from_dict(data: Mapping[str, Any]) -> ClassifyConfig:
    """Build a :class:`ClassifyConfig`, refusing unknown keys and wrong types.

    Raises
    ------
    KeyError
        A key that is not a config field (the message names it and the valid ones).
    TypeError
        A value of the wrong type.
    ValueError
        A ``train.class_weights`` string other than ``balanced``.
    """
    config: ClassifyConfig = build_dataclass(ClassifyConfig, data, "")
    weights = config.train.class_weights
    if isinstance(weights, str) and weights not in CLASS_WEIGHTS:
        raise ValueError(
            f"train.class_weights must be balanced, a list of weights or null, got {weights!r}"
        )
    return config


def load_classify_config(
    path: str | Path | None = None, overrides: Iterable[str] = ()
) -> ClassifyConfig:
    """Read a YAML config (or start from defaults) and apply ``section.key=value`` overrides.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is not valid YAML or not a mapping.
    """
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        loaded = read_yaml_file(path, "config file")
        if not isinstance(loaded, dict | None):
            raise ValueError(f"config file {str(path)!r} must hold a mapping, got {loaded!r}")
        data = loaded or {}
    return classify_config_from_dict(apply_overrides(data, overrides))
