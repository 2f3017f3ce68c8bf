"""The smoothed-seismicity Poisson reference forecast.

A time-independent forecast in the spirit of Helmstetter, Kagan & Jackson
(2007, BSSA 97(5)) and the CSEP reference models: the training period's
events smoothed with a kernel, mixed with a uniform "water level" so no cell
has zero rate, scaled to the training period's mean rate. Two kinds of kernel:

- fixed: an isotropic Gaussian of one bandwidth for every event;
- adaptive (Helmstetter et al. 2007, eq. 2-3): each event's kernel width is
  the distance to its ``k``-th nearest neighbouring event (at least
  :data:`MIN_WIDTH_KM`), so kernels are narrow inside clusters and wide in
  sparse areas; the kernel is their power law
  ``K_d(r) = C(d) / (r^2 + d^2)^1.5`` (or a Gaussian of standard deviation d).

The kernel (fixed bandwidth or adaptive ``k``) and the water level are chosen
by the likelihood of the last fifth of the training events given the first
four fifths (no test data is used).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from framecast.quake.catalog.events import Catalog, timedelta_to_days, to_datetime64
from framecast.quake.grid import Grid
from framecast.quake.kernels import cell_edges_km, gaussian_cell_mass, neighbour_distances_km
from framecast.quake.rates import RateForecast

BANDWIDTHS_KM: tuple[float, ...] = (1.0, 2.5, 5.0, 10.0, 20.0, 50.0)
WATER_LEVELS: tuple[float, ...] = (1e-3, 1e-2, 0.05, 0.2)
NEIGHBOURS: tuple[int, ...] = (1, 2, 3, 5, 7, 10)
"""Adaptive ``k`` values tried (Helmstetter et al. 2007 found k of 2-6 best in California)."""
MIN_WIDTH_KM = 0.5
"""Smallest adaptive kernel width, km (Helmstetter et al. 2007 use 0.5 km)."""
ADAPTIVE_KERNELS = ("powerlaw", "gaussian")
_CHUNK_VALUES = 4_000_000  # corner values per chunk of events in the power-law integral


def _normalised(density: np.ndarray) -> np.ndarray:
    total = density.sum()
    if not total > 0:
        raise ValueError("the smoothed events put no mass on the grid")
    return density / total


def _gaussian_mass(events: Catalog, grid: Grid, widths_km: np.ndarray) -> np.ndarray:
    """float64 ``[H, W]``: mass of each event's Gaussian (sd ``widths_km[i]``) in each cell."""
    x_km, y_km = grid.project(events.latitude, events.longitude)  # [N], [N]
    return gaussian_cell_mass(grid, x_km, y_km, widths_km)


def _powerlaw_mass(events: Catalog, grid: Grid, widths_km: np.ndarray) -> np.ndarray:
    """float64 ``[H, W]``: mass of each event's power-law kernel in each cell.

    Helmstetter et al. (2007) eq. 2: ``K_d(r) = d / (2 pi (r^2 + d^2)^1.5)``,
    which integrates to 1 over the plane. Its integral over the rectangle
    ``[0, x] x [0, y]`` is the solid angle the rectangle subtends from height
    ``d`` over 2 pi, ``atan(x y / (d sqrt(x^2 + y^2 + d^2))) / (2 pi)``, so each
    cell's mass is exact from its four corners (written out here: no SciPy or
    pyCSEP routine integrates this kernel over rectangles).
    """
    y_edges, x_edges = cell_edges_km(grid)
    x_km, y_km = grid.project(events.latitude, events.longitude)  # [N], [N]
    widths = np.asarray(widths_km, np.float64)
    mass = np.zeros((len(y_edges) - 1, len(x_edges) - 1))  # [H, W]
    chunk = max(1, _CHUNK_VALUES // (len(y_edges) * len(x_edges)))
    for first in range(0, len(widths), chunk):
        part = slice(first, first + chunk)
        dy = (y_edges[None, :] - y_km[part, None])[:, :, None]  # [n, H+1, 1]
        dx = (x_edges[None, :] - x_km[part, None])[:, None, :]  # [n, 1, W+1]
        d = widths[part, None, None]  # [n, 1, 1]
        corner = np.arctan(dx * dy / (d * np.sqrt(dx**2 + dy**2 + d**2)))  # [n, H+1, W+1]
        cells = corner[:, 1:, 1:] - corner[:, :-1, 1:] - corner[:, 1:, :-1] + corner[:, :-1, :-1]
        mass += cells.sum(axis=0) / (2 * math.pi)  # [H, W]
    return mass


def smoothed_density(events: Catalog, grid: Grid, bandwidth_km: float) -> np.ndarray:
    """float64 ``[H, W]``: fraction of the events' Gaussian kernels in each cell, summing to 1.

    Each event spreads unit mass as an isotropic 2-D Gaussian of standard
    deviation ``bandwidth_km``; the cell integrals are exact (products of
    normal CDFs, since cells are rectangles in the local projection). Mass
    falling outside the grid is dropped and the map renormalised.
    """
    return _normalised(_gaussian_mass(events, grid, np.full(len(events), float(bandwidth_km))))


def adaptive_widths_km(
    events: Catalog, grid: Grid, neighbours: int, *, min_width_km: float = MIN_WIDTH_KM
) -> np.ndarray:
    """float64 ``[N]``: distance from each event to its ``neighbours``-th nearest other event.

    Helmstetter et al. (2007) eq. 3: ``d_i`` is the horizontal distance (km, in
    the grid's local projection) to the k-th nearest neighbour, at least
    ``min_width_km``. Events at the same place count as neighbours at distance 0.

    Raises
    ------
    ValueError
        ``neighbours`` < 1 or not fewer than the number of events, or a
        non-positive ``min_width_km``.
    """
    if not (isinstance(neighbours, int | np.integer) and 1 <= neighbours < len(events)):
        raise ValueError(
            f"neighbours must be an integer from 1 to the number of events - 1 "
            f"({len(events) - 1}), got {neighbours!r}"
        )
    if not min_width_km > 0:
        raise ValueError(f"min_width_km must be > 0, got {min_width_km!r}")
    x_km, y_km = grid.project(events.latitude, events.longitude)  # [N], [N]
    return neighbour_distances_km(x_km, y_km, neighbours, min_width_km)


def adaptive_density(
    events: Catalog,
    grid: Grid,
    neighbours: int,
    *,
    kernel: str = "powerlaw",
    min_width_km: float = MIN_WIDTH_KM,
    normalise: bool = True,
) -> np.ndarray:
    """float64 ``[H, W]``: adaptive-kernel smoothed seismicity (Helmstetter et al. 2007).

    Each event spreads unit mass with a kernel of width
    :func:`adaptive_widths_km`: ``"powerlaw"``, ``d / (2 pi (r^2 + d^2)^1.5)``
    (their eq. 2), or ``"gaussian"`` of standard deviation ``d``. Cell
    integrals are exact.

    Parameters
    ----------
    events : Catalog
    grid : Grid
    neighbours : int
        ``k`` of the k-th nearest neighbour.
    kernel : {"powerlaw", "gaussian"}
    min_width_km : float
    normalise : bool
        True: the map sums to 1 (mass outside the grid dropped, as
        Helmstetter et al. normalise over the testing region). False: the
        mass each cell receives, summing to the fraction inside the grid times N.

    Raises
    ------
    ValueError
        Unknown kernel, a bad ``neighbours``, or no mass on the grid.
    """
    if kernel not in ADAPTIVE_KERNELS:
        raise ValueError(f"kernel must be one of {list(ADAPTIVE_KERNELS)}, got {kernel!r}")
    widths = adaptive_widths_km(events, grid, neighbours, min_width_km=min_width_km)  # [N]
    mass = (_powerlaw_mass if kernel == "powerlaw" else _gaussian_mass)(events, grid, widths)
    return _normalised(mass) if normalise else mass


def _mix(density: np.ndarray, area_fraction: np.ndarray, water_level: float) -> np.ndarray:
    return (1.0 - water_level) * density + water_level * area_fraction


@dataclass(frozen=True)
class SmoothingChoice:
    """The kernel and water level chosen on held-out training events.

    Parameters
    ----------
    kernel : {"gaussian", "adaptive"}
        Fixed Gaussian or adaptive (k-th nearest neighbour) kernel.
    parameter : float
        Gaussian bandwidth in km, or adaptive ``k``.
    water_level : float
    log_likelihood : float
        Held-out spatial log-likelihood ``sum(log p[cell of event])``; NaN
        when too few events to hold any out.
    held_out : int
        Number of held-out events scored.
    adaptive_kernel : str
        Shape of the adaptive kernels ("powerlaw" or "gaussian").
    scores : dict
        ``(kernel, parameter, water_level) -> log_likelihood`` of every candidate.
    """

    kernel: str
    parameter: float
    water_level: float
    log_likelihood: float
    held_out: int
    adaptive_kernel: str = "powerlaw"
    scores: dict[tuple[str, float, float], float] | None = None

    def density(self, events: Catalog, grid: Grid) -> np.ndarray:
        """float64 ``[H, W]`` smoothed density of ``events`` with this kernel (no water level)."""
        if self.kernel == "gaussian":
            return smoothed_density(events, grid, self.parameter)
        return adaptive_density(events, grid, int(self.parameter), kernel=self.adaptive_kernel)

    def describe(self) -> str:
        """E.g. "adaptive power-law kernels (k=3 nearest neighbour)"."""
        if self.kernel == "gaussian":
            return f"a {self.parameter:g} km Gaussian"
        shape = "power-law" if self.adaptive_kernel == "powerlaw" else "Gaussian"
        return (
            f"adaptive {shape} kernels (width = distance to the k={int(self.parameter)}"
            f" nearest neighbour, >= {MIN_WIDTH_KM:g} km)"
        )


def select_smoothing(
    events: Catalog,
    grid: Grid,
    *,
    bandwidths_km: Sequence[float] = BANDWIDTHS_KM,
    neighbours: Sequence[int] = NEIGHBOURS,
    water_levels: Sequence[float] = WATER_LEVELS,
    adaptive_kernel: str = "powerlaw",
) -> SmoothingChoice:
    """Kernel and water level maximising the spatial log-likelihood of held-out events.

    The events are split in time: the first 80% are smoothed, the last 20%
    scored by ``sum(log p[cell of event])`` (events outside the grid are not
    scored). Candidates: every fixed Gaussian bandwidth and every adaptive
    ``k`` (Helmstetter et al. 2007), each with every water level; ties go to
    the first (Gaussian candidates come first). With fewer than 10 events the
    widest Gaussian and highest water level are returned unscored.

    Raises
    ------
    ValueError
        No candidate kernels or water levels.
    """
    if not (len(bandwidths_km) or len(neighbours)) or not len(water_levels):
        raise ValueError("need at least one bandwidth or neighbour count, and one water level")
    if len(events) < 10:
        if len(bandwidths_km):
            kernel, parameter = "gaussian", float(max(bandwidths_km))
        else:
            kernel, parameter = "adaptive", float(max(neighbours))
        return SmoothingChoice(
            kernel, parameter, float(max(water_levels)), math.nan, 0, adaptive_kernel, {}
        )
    ordered = events.sorted()
    cut = int(0.8 * len(ordered))
    fit, held = ordered.select(np.arange(cut)), ordered.select(np.arange(cut, len(ordered)))
    rows, cols = grid.locate(held.latitude, held.longitude)
    rows, cols = rows[rows >= 0], cols[rows >= 0]
    area_fraction = grid.cell_areas_km2() / grid.area_km2()
    candidates = [("gaussian", float(bandwidth)) for bandwidth in bandwidths_km]
    candidates += [("adaptive", float(k)) for k in neighbours if k < len(fit)]
    if not candidates:
        raise ValueError(
            f"no kernel to try: no bandwidths and every k in {list(neighbours)} needs more "
            f"than the {len(fit)} events smoothed"
        )
    scores: dict[tuple[str, float, float], float] = {}
    best, best_ll = None, -math.inf
    for kernel, parameter in candidates:
        probe = SmoothingChoice(kernel, parameter, 0.0, math.nan, 0, adaptive_kernel)
        density = probe.density(fit, grid)  # [H, W]
        for level in water_levels:
            ll = float(np.log(_mix(density, area_fraction, level)[rows, cols]).sum())
            scores[(kernel, parameter, float(level))] = ll
            if best is None or ll > best_ll:
                best, best_ll = (kernel, parameter, float(level)), ll
    assert best is not None
    return SmoothingChoice(*best, best_ll, len(rows), adaptive_kernel, scores)


def choose_smoothing(
    events: Catalog,
    grid: Grid,
    *,
    bandwidths_km: Sequence[float] = BANDWIDTHS_KM,
    water_levels: Sequence[float] = WATER_LEVELS,
) -> tuple[float, float]:
    """(bandwidth km, water level) of the best fixed Gaussian: :func:`select_smoothing`
    restricted to fixed bandwidths (kept for callers of the fixed-kernel reference)."""
    choice = select_smoothing(
        events, grid, bandwidths_km=bandwidths_km, neighbours=(), water_levels=water_levels
    )
    return (choice.parameter, choice.water_level)


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
    neighbours: int | None = None,
    adaptive: bool = True,
    adaptive_kernel: str = "powerlaw",
    name: str = "Poisson reference",
    mask: np.ndarray | None = None,
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
    bandwidth_km : float, optional
        Use a fixed Gaussian of this bandwidth.
    neighbours : int, optional
        Use adaptive kernels with this ``k`` (Helmstetter et al. 2007).
    water_level : float, optional
        Fixed water level.
    adaptive : bool
        Whether the selection may choose adaptive kernels (``NEIGHBOURS``)
        besides fixed Gaussians (``BANDWIDTHS_KM``).
    adaptive_kernel : {"powerlaw", "gaussian"}
        Shape of the adaptive kernels.
    name : str
    mask : numpy.ndarray, optional
        bool ``[H, X]``: the testing region's cells; the map is zero outside
        and renormalised over them (the total rate is kept).

    Whatever is not fixed is chosen by :func:`select_smoothing` on held-out
    training events; ``details`` names the kernel, its parameter, the water
    level and the held-out log-likelihood.

    Raises
    ------
    ValueError
        If no training events remain after filtering, or both
        ``bandwidth_km`` and ``neighbours`` are given.
    """
    if bandwidth_km is not None and neighbours is not None:
        raise ValueError(
            f"give bandwidth_km ({bandwidth_km!r}, fixed Gaussian) or neighbours "
            f"({neighbours!r}, adaptive kernels), not both"
        )
    t0, t1 = to_datetime64(train_start), to_datetime64(train_end)
    train = events.filter(start=t0, end=t1, min_magnitude=mc, event_types=None)
    rows, _ = grid.locate(train.latitude, train.longitude)
    train = train.select(rows >= 0)
    if not len(train):
        raise ValueError(
            f"no events with M >= {mc} inside the grid between {t0} and {t1} "
            "to build the smoothed-seismicity reference from"
        )
    if bandwidth_km is not None:
        bandwidths, ks = (float(bandwidth_km),), ()
    elif neighbours is not None:
        bandwidths, ks = (), (int(neighbours),)
    else:
        bandwidths, ks = BANDWIDTHS_KM, (NEIGHBOURS if adaptive else ())
    choice = select_smoothing(
        train,
        grid,
        bandwidths_km=bandwidths,
        neighbours=ks,
        water_levels=WATER_LEVELS if water_level is None else (float(water_level),),
        adaptive_kernel=adaptive_kernel,
    )
    inside = np.ones(grid.shape) if mask is None else np.asarray(mask, np.float64)  # [H, W]
    area = grid.cell_areas_km2() * inside
    density = choice.density(train, grid) * inside
    spatial = _mix(density / density.sum(), area / area.sum(), choice.water_level)  # [H, W]
    train_days = float(timedelta_to_days(t1 - t0))
    per_window = len(train) / train_days * window_days  # expected events per window
    window_start = np.asarray(window_start, dtype="datetime64[us]")
    rates = np.broadcast_to(per_window * spatial, (len(window_start), *grid.shape))  # [W, H, X]
    if choice.held_out:
        how = (
            f"chosen on {choice.held_out} held-out training events, "
            f"log-likelihood {choice.log_likelihood:.2f}"
        )
    else:
        how = "too few events to choose on held-out events"
    return RateForecast(
        name=name,
        rates=np.array(rates),
        window_start=window_start,
        window_days=window_days,
        grid=grid,
        mc=mc,
        b_value=b_value,
        details=(
            f"{len(train)} events M>={mc:g} from {t0} to {t1} smoothed with "
            f"{choice.describe()}, water level {choice.water_level:g} ({how})"
        ),
    )
