"""Search spaces in YAML: which config keys a study varies, and over what.

A space file maps dotted config keys to distributions::

    parameters:
      optim.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
      model.options.cell: {type: categorical, choices: [convlstm, stlstm]}
      model.options.hidden_channels: {type: int, low: 8, high: 32, step: 8}

Every key is checked against the base config before any trial runs: the
config must accept it (unknown sections and keys are refused) and, for
``model.options.*``, the model must take the option (each choice of a
categorical model or cell is built once on the CPU).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framecast.config import apply_overrides, config_from_dict, set_dotted
from framecast.yamlio import read_yaml_file

TYPES = ("float", "int", "categorical")


@dataclass(frozen=True)
class Parameter:
    """One searched config key.

    Attributes
    ----------
    key : str
        Dotted config key, e.g. ``optim.lr`` or ``model.options.cell``.
    type : {"float", "int", "categorical"}
    low, high : float or int, optional
        Inclusive range of "float" and "int".
    log : bool
        Sample on a log scale (needs low > 0).
    step : float or int, optional
        Grid step of "int" (default 1) or "float" (default continuous).
    choices : tuple, optional
        Values of "categorical" (str, int, float, bool or None).
    """

    key: str
    type: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] | None = None

    def suggest(self, trial: Any) -> Any:
        """The value an Optuna ``trial`` proposes for this key."""
        if self.type == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log, step=self.step)
        if self.type == "int":
            return trial.suggest_int(
                self.key, self.low, self.high, log=self.log, step=self.step or 1
            )
        return trial.suggest_categorical(self.key, list(self.choices or ()))

    def examples(self) -> list[Any]:
        """Values used to check the key against the config: both ends, or every choice."""
        if self.type == "categorical":
            return list(self.choices or ())
        return [self.low, self.high]


def _number(key: str, spec: Mapping[str, Any], name: str, integer: bool) -> float | int:
    value = spec.get(name)
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, str) and not integer:
        try:  # YAML 1.1 reads 1e-4 (no dot) as a string
            value, ok = float(value), True
        except ValueError:
            ok = False
    if not ok or isinstance(value, bool) or not math.isfinite(value):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"space parameter {key!r}: {name} must be {kind}, got {value!r}")
    return value


def parse_parameter(key: str, spec: Mapping[str, Any]) -> Parameter:
    """Check and build one :class:`Parameter` from its YAML mapping.

    Raises
    ------
    ValueError
        Unknown type or field, a missing or non-numeric bound, an empty
        range, a log scale with low <= 0, or no choices.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"space parameter {key!r} must be a mapping with a 'type', got {spec!r}")
    kind = spec.get("type")
    if kind not in TYPES:
        raise ValueError(f"space parameter {key!r}: type must be one of {TYPES}, got {kind!r}")
    allowed = (
        {"type", "choices"} if kind == "categorical" else {"type", "low", "high", "log", "step"}
    )
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValueError(
            f"space parameter {key!r}: unknown field(s) {unknown} for type {kind!r}; "
            f"allowed: {sorted(allowed)}"
        )
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ValueError(f"space parameter {key!r}: choices must be a non-empty list")
        bad = [c for c in choices if not isinstance(c, str | int | float | bool | type(None))]
        if bad:
            raise ValueError(
                f"space parameter {key!r}: choices must be str, int, float, bool or null; got {bad}"
            )
        return Parameter(key, kind, choices=tuple(choices))
    integer = kind == "int"
    low, high = _number(key, spec, "low", integer), _number(key, spec, "high", integer)
    if not low < high:
        raise ValueError(f"space parameter {key!r}: empty range, low={low} must be < high={high}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ValueError(f"space parameter {key!r}: log must be true or false, got {log!r}")
    if log and low <= 0:
        raise ValueError(f"space parameter {key!r}: a log scale needs low > 0, got {low}")
    step = _number(key, spec, "step", integer) if "step" in spec else None
    if step is not None and (step <= 0 or log):
        raise ValueError(f"space parameter {key!r}: step must be > 0 and not used with log")
    return Parameter(key, kind, low=low, high=high, log=log, step=step)


def _read_yaml(path: Path) -> Any:
    """The YAML document in ``path``; any failure is one ValueError naming the file."""
    return read_yaml_file(path, "search space file")


def load_space(path: str | Path) -> list[Parameter]:
    """Read a space file (see the module docstring).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Unreadable file or invalid YAML (the message names the line and
        column), not a mapping with a non-empty ``parameters`` section, or a
        bad parameter.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"search space file not found: {str(path)!r}")
    data = _read_yaml(path)
    if not isinstance(data, Mapping) or set(data) != {"parameters"}:
        raise ValueError(f"{str(path)!r} must hold one mapping 'parameters: {{key: spec, ...}}'")
    params = data["parameters"]
    if not isinstance(params, Mapping) or not params:
        raise ValueError(f"{str(path)!r}: 'parameters' must be a non-empty mapping")
    return [parse_parameter(str(key), spec) for key, spec in params.items()]


def apply_values(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` (a config dict) with each dotted key set to its value."""
    out = apply_overrides(dict(base), [])  # deep copy
    for key, value in values.items():
        set_dotted(out, key, value)
    return out


def check_space(base: Mapping[str, Any], space: list[Parameter]) -> None:
    """Refuse, before any trial, keys the config or the model would not accept.

    Each parameter's example values are applied one at a time to ``base``;
    the config must load, and the model (with its cell) must build.

    Raises
    ------
    ValueError
        Naming the parameter and the underlying error.
    """
    from framecast.models import build_model

    if not space:
        raise ValueError("the search space has no parameters")
    keys = [p.key for p in space]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"space parameters repeat: {repeated}")
    for parameter in space:
        if parameter.key.split(".")[0] not in ("model", "data", "optim", "sampling", "train"):
            raise ValueError(
                f"space parameter {parameter.key!r}: unknown section; expected model, data, "
                "optim, sampling or train"
            )
        for value in parameter.examples():
            try:
                config = config_from_dict(apply_values(base, {parameter.key: value}))
                channels = config.model.in_channels or 1
                build_model(config.model.name, channels, config.model.options)
            except (KeyError, TypeError, ValueError) as error:
                message = error.args[0] if error.args else error
                raise ValueError(
                    f"space parameter {parameter.key!r} = {value!r} is not accepted: {message}"
                ) from None
