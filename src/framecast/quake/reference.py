"""The smoothed-seismicity Poisson reference forecast.

A time-independent forecast in the spirit of Helmstetter, Kagan & Jackson
(2007) and the CSEP reference models: the training period's events smoothed
with an isotropic Gaussian kernel, mixed with a uniform "water level" so no
cell has zero rate, scaled to the training period's mean rate. The kernel
width and the water level are chosen by the likelihood of the last fifth
of the training events given the first four fifths (no test data is used).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr

from framecast.quake.catalog.events import Catalog, timedelta_to_days, to_datetime64
from framecast.quake.grid import Grid
from framecast.quake.rates import RateForecast

BANDWIDTHS_KM: tuple[float, ...] = (1.0, 2.5, 5.0, 10.0, 20.0, 50.0)
WATER_LEVELS: tuple[float, ...] = (1e-3, 1e-2, 0.05, 0.2)


def _cell_edges_km(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(y edges [H+1], x edges [W+1]) in the grid's local km projection."""
    y_edges, x_edges = grid.edges()
    if grid.unit == "km":
        return y_edges, x_edges
    lat0, lon0 = grid.center
    x, _ = grid.project(np.full_like(x_edges, lat0), x_edges)
    _, y = grid.project(y_edges, np.full_like(y_edges, lon0))
    return y, x


def smoothed_density(events: Catalog, grid: Grid, bandwidth_km: float) -> np.ndarray:
    """float64 ``[H, W]``: fraction of the events' Gaussian kernels in each cell, summing to 1.

    Each event spreads unit mass as an isotropic 2-D Gaussian of standard
    deviation ``bandwidth_km``; the cell integrals are exact (products of
    normal CDFs, since cells are rectangles in the local projection). Mass
    falling outside the grid is dropped and the map renormalised.
    """
    y_edges, x_edges = _cell_edges_km(grid)
    y_km, x_km = grid.project(events.latitude, events.longitude)[::-1]
    ay = np.diff(ndtr((y_edges[None, :] - y_km[:, None]) / bandwidth_km), axis=1)  # (N, H)
    ax = np.diff(ndtr((x_edges[None, :] - x_km[:, None]) / bandwidth_km), axis=1)  # (N, W)
    density = ay.T @ ax  # (H, W)
    total = density.sum()
    if not total > 0:
        raise ValueError("the smoothed events put no mass on the grid")
    return density / total


def _mix(density: np.ndarray, area_fraction: np.ndarray, water_level: float) -> np.ndarray:
    return (1.0 - water_level) * density + water_level * area_fraction


def choose_smoothing(
    events: Catalog,
    grid: Grid,
    *,
    bandwidths_km: Sequence[float] = BANDWIDTHS_KM,
    water_levels: Sequence[float] = WATER_LEVELS,
) -> tuple[float, float]:
    """(bandwidth km, water level) maximising the spatial log-likelihood of held-out events.

    The events are split in time: the first 80% are smoothed, the last 20%
    scored by ``sum(log p[cell of event])``.
    """
    if len(events) < 10:
        return (max(bandwidths_km), max(water_levels))
    ordered = events.sorted()
    cut = int(0.8 * len(ordered))
    fit, held = ordered.select(np.arange(cut)), ordered.select(np.arange(cut, len(ordered)))
    rows, cols = grid.locate(held.latitude, held.longitude)
    area_fraction = grid.cell_areas_km2() / grid.area_km2()
    best, best_ll = (bandwidths_km[0], water_levels[0]), -math.inf
    for bandwidth in bandwidths_km:
        density = smoothed_density(fit, grid, bandwidth)
        for level in water_levels:
            ll = float(np.log(_mix(density, area_fraction, level)[rows, cols]).sum())
            if ll > best_ll:
                best, best_ll = (bandwidth, level), ll
    return best


def smoothed_seismicity_forecast(
    events: Catalog,
    grid: Grid,
    *,
    train_start: object,
    train_end: object,
    window_start: np.ndarray,
    window_days: float,
    mc: float,
    b_value: float = 1.0,
    bandwidth_km: float | None = None,
    water_level: float | None = None,
    name: str = "Poisson reference",
) -> RateForecast:
    """The smoothed-seismicity reference: the same rate map in every window.

    Parameters
    ----------
    events : Catalog
        Any catalog; the events with M >= ``mc`` inside the grid and in
        ``[train_start, train_end)`` are used.
    grid : Grid
    train_start, train_end : date-like
        The training period; its mean rate sets the forecast's total.
    window_start : numpy.ndarray
        ``datetime64`` ``[W]`` starts of the forecast windows.
    window_days : float
    mc, b_value : float
        Completeness magnitude and Gutenberg-Richter b of the forecast.
    bandwidth_km, water_level : float, optional
        Fixed smoothing; None chooses each by :func:`choose_smoothing`.

    Raises
    ------
    ValueError
        If no training events remain after filtering.
    """
    t0, t1 = to_datetime64(train_start), to_datetime64(train_end)
    train = events.filter(start=t0, end=t1, min_magnitude=mc, event_types=None)
    rows, _ = grid.locate(train.latitude, train.longitude)
    train = train.select(rows >= 0)
    if not len(train):
        raise ValueError(
            f"no events with M >= {mc} inside the grid between {t0} and {t1} "
            "to build the smoothed-seismicity reference from"
        )
    chosen_bw, chosen_wl = choose_smoothing(train, grid)
    bandwidth_km = chosen_bw if bandwidth_km is None else bandwidth_km
    water_level = chosen_wl if water_level is None else water_level
    area_fraction = grid.cell_areas_km2() / grid.area_km2()
    spatial = _mix(smoothed_density(train, grid, bandwidth_km), area_fraction, water_level)
    train_days = float(timedelta_to_days(t1 - t0))
    per_window = len(train) / train_days * window_days  # expected events per window
    window_start = np.asarray(window_start, dtype="datetime64[us]")
    rates = np.broadcast_to(per_window * spatial, (len(window_start), *grid.shape))
    return RateForecast(
        name=name,
        rates=np.array(rates),
        window_start=window_start,
        window_days=window_days,
        grid=grid,
        mc=mc,
        b_value=b_value,
        details=(
            f"{len(train)} events M>={mc:g} from {t0} to {t1} smoothed with a "
            f"{bandwidth_km:g} km Gaussian, water level {water_level:g}"
        ),
    )
