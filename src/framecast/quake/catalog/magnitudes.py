"""Gutenberg-Richter b-value estimation."""

from __future__ import annotations

import math

import numpy as np


def magnitude_bin_width(magnitudes: np.ndarray) -> float:
    """The rounding step of reported magnitudes (0.1, 0.01, ...), or 0 for continuous values."""
    values = np.asarray(magnitudes, np.float64)
    values = values[np.isfinite(values)]
    for width in (0.1, 0.01):
        if len(values) and np.allclose(values / width, np.round(values / width), atol=1e-6):
            return width
    return 0.0


def aki_b_value(magnitudes: np.ndarray, mc: float, bin_width: float | None = None) -> float:
    """Maximum-likelihood b-value of the magnitudes >= mc (Aki 1965; Utsu 1966 bin correction).

    b = log10(e) / (mean(M) - (mc - bin_width / 2)); ``bin_width`` None
    detects the rounding step of the magnitudes.

    Raises
    ------
    ValueError
        Fewer than two magnitudes >= mc, or all equal to mc.
    """
    values = np.asarray(magnitudes, np.float64)
    values = values[np.isfinite(values) & (values >= mc - 1e-9)]
    if len(values) < 2:
        raise ValueError(f"need at least 2 magnitudes >= mc={mc} to estimate b, got {len(values)}")
    width = magnitude_bin_width(values) if bin_width is None else bin_width
    excess = values.mean() - (mc - width / 2)
    if not excess > 0:
        raise ValueError(f"all magnitudes equal mc={mc}; b is undefined")
    return math.log10(math.e) / excess
