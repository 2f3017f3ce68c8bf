"""Small forecasts and observed events shared by the score tests."""

from __future__ import annotations

import numpy as np

from framecast.quake.grid import Grid
from framecast.quake.rates import RateForecast
from framecast.quake.scores.table import ObservedEvents

GRID = Grid(33.0, 34.0, -117.0, -116.0, 0.1)
"""10 x 10 cells of 0.1 degree."""

START = np.datetime64("2020-01-01", "us")


def make_forecast(
    rates: np.ndarray,
    name: str = "model",
    *,
    b_value: float = 1.0,
    mc: float = 2.5,
    grid: Grid = GRID,
    window_days: float = 7.0,
) -> RateForecast:
    """Consecutive windows of ``window_days`` from 2020-01-01."""
    rates = np.asarray(rates, np.float64)
    step = np.timedelta64(round(window_days * 86_400e6), "us")
    starts = START + np.arange(rates.shape[0]) * step
    return RateForecast(name, rates, starts, window_days, grid, mc, b_value)


def gamma_rates(shape: tuple[int, int, int], seed: int, mean: float = 0.1) -> np.ndarray:
    """Positive, strongly varying rates ``[W, H, X]`` with the given mean."""
    rng = np.random.default_rng(seed)
    return rng.gamma(0.5, mean / 0.5, shape) + 1e-6


def simulate_events(
    rates: np.ndarray, seed: int, *, mc: float = 2.5, b_value: float = 1.0
) -> ObservedEvents:
    """Poisson counts from ``rates`` with Gutenberg-Richter magnitudes at 0.1 resolution.

    Magnitudes are cut down to their 0.1 bin's left edge, so they follow the
    forecast's split into ``[m, m + 0.1)`` bins and sit exactly on bin edges,
    where binning code is most fragile.
    """
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rates)  # [W, H, X]
    window, row, column = (np.repeat(index, counts[counts > 0]) for index in np.nonzero(counts))
    magnitude = mc + rng.exponential(1 / (b_value * np.log(10)), len(window))
    return ObservedEvents(window, row, column, np.round(np.floor(magnitude * 10 + 1e-9) / 10, 1))
