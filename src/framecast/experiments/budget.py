"""Training budgets given as time or steps: ``10m``, ``90s``, ``1.5h``, ``500steps``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|steps?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Budget:
    """A per-run training budget: minutes of training or a number of steps."""

    minutes: float | None = None
    steps: int | None = None

    def __str__(self) -> str:
        return f"{self.steps} steps" if self.steps is not None else f"{self.minutes:g} min"


def parse_budget(text: str) -> Budget:
    """Parse ``10m``, ``90s``, ``1h`` or ``500steps``.

    Raises
    ------
    ValueError
        For any other text, naming it and the accepted forms.
    """
    match = _PATTERN.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(
            f"budget {text!r} is not a positive time or step count; "
            "expected e.g. '10m', '90s', '1h' or '500steps'"
        )
    value, unit = float(match.group(1)), match.group(2).lower()
    if unit.startswith("step"):
        if not value.is_integer():
            raise ValueError(f"budget {text!r}: a step count must be a whole number")
        return Budget(steps=int(value))
    scale = {"s": 1 / 60, "sec": 1 / 60, "m": 1.0, "min": 1.0, "h": 60.0}[unit]
    return Budget(minutes=value * scale)
