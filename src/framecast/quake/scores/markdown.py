"""Markdown cells of the score table: numbers, test verdicts and intervals."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from framecast.quake.scores.consistency import ConsistencyTest


def number(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals (``g`` format when tiny or huge); n/a, ∞, -∞."""
    if value is None or not math.isfinite(value):
        return "n/a" if value is None or math.isnan(value) else ("∞" if value > 0 else "-∞")
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 10 ** (-digits)):
        return f"{value:.{digits}g}"
    return f"{value:,.{digits}f}"


def verdict(test: ConsistencyTest) -> str:
    """A consistency test's quantiles and ✓ (passed) or ✗."""
    quantiles = " / ".join(number(q) for q in test.quantile)
    return f"{quantiles} {'✓' if test.passed else '✗'}"


def interval(result: Any) -> tuple[str]:
    """One cell: an interval's ``[lower, upper] (width)``."""
    width = number(result.upper - result.lower)
    return (f"[{number(result.lower)}, {number(result.upper)}] ({width})",)
