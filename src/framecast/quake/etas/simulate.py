"""Simulation of space-time ETAS catalogs, generation by generation.

The algorithm is the branching-process construction of ETAS (Zhuang, Ogata
& Vere-Jones 2004; the simulation of Mizrahi, Nandan & Wiemer 2021, SRL,
whose parameterisation :mod:`framecast.quake.etas.parameters` implements):

1. background events: Poisson(μ · area · duration) events, uniform in time
   and in the region;
2. every event of a generation has Poisson(expected direct aftershocks)
   children, the expectation taken over the whole plane and all time;
   each child gets a delay from the normalised time kernel (inverse CDF),
   an offset from the normalised spatial kernel (inverse CDF in r², uniform
   angle) and a Gutenberg-Richter magnitude;
3. repeat with the children as parents until a generation is empty.

Boundaries: children after the end of the simulation are dropped (their
descendants would be later still), and so are children that land outside
the region, together with all their would-be descendants. Events outside
the region are thus never simulated, consistently with the fit
(:mod:`framecast.quake.etas.fit`), which ignores events outside its region
and integrates each source's kernel over the whole plane.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from framecast.errors import RunawaySimulationError
from framecast.quake.catalog.events import (
    TIME_UNIT,
    Catalog,
    days_to_timedelta,
    timedelta_to_days,
    to_datetime64,
)
from framecast.quake.defaults import BURN_IN_DAYS
from framecast.quake.etas.background import BackgroundMap, check_same_region
from framecast.quake.etas.parameters import (
    ETASParameters,
    expected_aftershocks,
    spatial_kernel_quantile_r2,
    time_kernel_tail,
)
from framecast.quake.etas.region import StudyRegion, as_region
from framecast.quake.grid import Grid

_TAIL_TAUS = 50.0  # delays beyond 50 τ have probability < e^{-50}: the sampler stops there
_SAMPLER_NODES = 4096
MAX_EVENTS = 5_000_000
"""Simulations that exceed this many events stop with an error (a runaway cascade)."""


@dataclass(frozen=True, eq=False)
class SimulatedEvents:
    """Raw simulation output, in the region's km projection; arrays of length N.

    Parameters
    ----------
    time_days : numpy.ndarray
        float64 ``[N]``, days since the start of the simulation (burn-in included).
    x_km, y_km : numpy.ndarray
        float64 ``[N]``, position in the region's projection.
    magnitude : numpy.ndarray
        float64 ``[N]``.
    parent : numpy.ndarray
        int64 ``[N]``: row of the parent event, -1 for background events.
    generation : numpy.ndarray
        int64 ``[N]``: 0 for background events, parent's generation + 1 otherwise.
    """

    time_days: np.ndarray
    x_km: np.ndarray
    y_km: np.ndarray
    magnitude: np.ndarray
    parent: np.ndarray
    generation: np.ndarray

    def __len__(self) -> int:
        return len(self.time_days)


# ------------------------------------------------------------------- samplers
def sample_magnitudes(
    count: int, mc: float, beta: float, max_magnitude: float | None, rng: np.random.Generator
) -> np.ndarray:
    """float64 ``[count]``: Gutenberg-Richter magnitudes >= mc, truncated at ``max_magnitude``.

    Inverse CDF of ``P(M - mc > x) ∝ e^{-βx}`` on ``[0, max_magnitude - mc]``.
    """
    u = rng.random(count)
    cap = 1.0 if max_magnitude is None else -math.expm1(-beta * (max_magnitude - mc))
    return mc - np.log1p(-u * cap) / beta


class TimeDelaySampler:
    """Draws delays from the normalised ETAS time kernel by inverse CDF.

    The survival function ``S(t) = I(t)/I(0)`` with ``I(t)`` the kernel's
    tail integral (incomplete-gamma formula of :func:`time_kernel_tail`) is
    tabulated once, as ``-log S`` against ``u = log(t + c)`` on a uniform
    grid from ``t = 0`` to ``t = 50 τ``; a draw ``-log(V)``, ``V`` uniform,
    is mapped back by linear interpolation. ``-log S`` is smooth and
    increasing in ``u``, so 4096 nodes give relative errors far below the
    sampling noise of any catalog.
    """

    def __init__(self, params: ETASParameters, nodes: int = _SAMPLER_NODES) -> None:
        c, tau = params.c, params.tau
        self._c = c
        self._u = np.linspace(math.log(c), math.log(c + _TAIL_TAUS * tau), nodes)  # [K]
        t = np.exp(self._u) - c
        t[0] = 0.0
        tail = time_kernel_tail(params, t)  # [K]
        self._neg_log_survival = -np.log(np.maximum(tail / tail[0], 1e-300))  # [K]
        self._neg_log_survival[0] = 0.0
        self._neg_log_survival = np.maximum.accumulate(self._neg_log_survival)

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """float64 ``[count]``: delays in days."""
        target = -np.log1p(-rng.random(count))  # exponential draws = -log V
        u = np.interp(target, self._neg_log_survival, self._u)
        return np.maximum(np.exp(u) - self._c, 0.0)


def sample_offsets(
    params: ETASParameters, magnitudes: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dy) km ``[N]``: offsets from the normalised spatial kernel of parents ``magnitudes``.

    ``r² = D(m) ((1 - u)^{-1/ρ} - 1)`` with ``u`` uniform (inverse CDF of the
    kernel ``(r² + D)^{-1-ρ}``), uniform direction.
    """
    u = rng.random(len(magnitudes))
    r = np.sqrt(spatial_kernel_quantile_r2(params, magnitudes, u))
    angle = rng.uniform(0.0, 2.0 * math.pi, len(magnitudes))
    return r * np.cos(angle), r * np.sin(angle)


# ------------------------------------------------------------------ simulation
def _check_criticality(params: ETASParameters, max_magnitude: float | None, allow: bool) -> None:
    eta = params.branching_ratio(max_magnitude)
    if eta >= 1.0 and not allow:
        raise ValueError(
            f"branching ratio {eta:.3f} >= 1 (untruncated GR: "
            f"{params.branching_ratio():.3f}): the cascade is supercritical and may not end; "
            "pass allow_supercritical=True to simulate anyway"
        )


def simulate_etas_events(
    params: ETASParameters,
    region: Grid | StudyRegion | np.ndarray,
    duration_days: float,
    *,
    max_magnitude: float | None = 8.0,
    rng: np.random.Generator,
    allow_supercritical: bool = False,
    background: BackgroundMap | None = None,
) -> SimulatedEvents:
    """Simulate ETAS events in ``[0, duration_days)`` in the region (no history before 0).

    Parameters
    ----------
    params : ETASParameters
    region : Grid, StudyRegion or array ``[V, 2]`` of (lat, lon) vertices
    duration_days : float
    max_magnitude : float or None
        Upper truncation of the Gutenberg-Richter magnitudes.
    rng : numpy.random.Generator
    allow_supercritical : bool
        Simulate even when the branching ratio is >= 1.
    background : BackgroundMap, optional
        Where background events fall (default uniform in the region); its
        region must be ``region``.

    Returns
    -------
    SimulatedEvents
        Background events first, then each generation in turn (not time-sorted).

    Raises
    ------
    ValueError
        A supercritical model (unless allowed), a non-positive duration or
        ``max_magnitude <= mc``.
    RunawaySimulationError
        More than :data:`MAX_EVENTS` events.
    """
    area = as_region(region)
    check_same_region(background, area)
    if not duration_days > 0:
        raise ValueError(f"duration_days must be > 0, got {duration_days!r}")
    if max_magnitude is not None and not max_magnitude > params.mc:
        raise ValueError(f"max_magnitude {max_magnitude} must exceed mc {params.mc}")
    _check_criticality(params, max_magnitude, allow_supercritical)
    times = TimeDelaySampler(params)

    n_background = rng.poisson(params.mu * area.area_km2 * duration_days)
    if n_background > MAX_EVENTS:  # refuse before allocating anything of that size
        raise RunawaySimulationError(
            f"the simulation would start with {n_background:,} background events, over the "
            f"limit of {MAX_EVENTS:,}; check mu ({params.mu:.3g} per km² per day), the "
            "region and the duration"
        )
    if background is None:
        x, y = area.sample_uniform(n_background, rng)
    else:
        x, y = background.sample_xy(n_background, rng)
    t = rng.uniform(0.0, duration_days, n_background)
    m = sample_magnitudes(n_background, params.mc, params.beta, max_magnitude, rng)
    chunks = [(t, x, y, m, np.full(n_background, -1), np.zeros(n_background, np.int64))]
    first_row, generation, total = 0, 0, n_background
    while len(t):
        counts = rng.poisson(expected_aftershocks(params, m))  # [P]
        parent = np.repeat(np.arange(len(t)), counts)  # [C] index into this generation
        child_t = t[parent] + times.sample(len(parent), rng)
        dx, dy = sample_offsets(params, m[parent], rng)
        child_x, child_y = x[parent] + dx, y[parent] + dy
        keep = (child_t < duration_days) & area.contains_xy(child_x, child_y)
        parent = parent[keep]
        t, x, y = child_t[keep], child_x[keep], child_y[keep]
        m = sample_magnitudes(len(t), params.mc, params.beta, max_magnitude, rng)
        generation += 1
        chunks.append((t, x, y, m, first_row + parent, np.full(len(t), generation)))
        first_row = total
        total += len(t)
        if total > MAX_EVENTS:
            raise RunawaySimulationError(
                f"the simulation exceeded {MAX_EVENTS} events at generation {generation}; "
                "check the parameters (branching ratio, background rate, region, duration)"
            )
    columns = [np.concatenate(parts) for parts in zip(*chunks, strict=True)]
    return SimulatedEvents(
        time_days=columns[0],
        x_km=columns[1],
        y_km=columns[2],
        magnitude=columns[3],
        parent=columns[4].astype(np.int64),
        generation=columns[5].astype(np.int64),
    )


def simulate_etas(
    params: ETASParameters,
    region: Grid | StudyRegion | np.ndarray,
    start: object,
    end: object,
    *,
    burn_in_days: float = BURN_IN_DAYS,
    max_magnitude: float | None = 8.0,
    seed: int | np.random.Generator | None = None,
    depth_km: tuple[float, float] = (0.0, 20.0),
    include_burn_in: bool = False,
    allow_supercritical: bool = False,
    background: BackgroundMap | None = None,
) -> Catalog:
    """Simulate an ETAS catalog in ``[start, end)`` over a region.

    The simulation starts ``burn_in_days`` before ``start`` so that the
    catalog begins with the aftershock sequences a real one would have; the
    burn-in events are dropped unless ``include_burn_in`` (they are the
    auxiliary sources fitting and forecasting want).

    Parameters
    ----------
    params : ETASParameters
    region : Grid, StudyRegion or array ``[V, 2]`` of (lat, lon) polygon vertices
        A grid stands for its lat/lon box.
    start, end : date-like
    burn_in_days : float
        Days simulated before ``start``.
    max_magnitude : float or None
        Upper truncation of the Gutenberg-Richter magnitudes.
    seed : int, numpy.random.Generator or None
    depth_km : (float, float)
        Depths are uniform in this range (ETAS here is 2-D).
    include_burn_in : bool
        Return the events of ``[start - burn_in_days, end)`` instead of ``[start, end)``.
    allow_supercritical : bool
        Simulate even when the branching ratio (for the truncated GR) is >= 1.
    background : BackgroundMap, optional
        Where background events fall (default uniform in the region).

    Returns
    -------
    Catalog
        Sorted by time, ids ``etas-000001``, ... numbered over the whole
        simulation (burn-in included), so they do not depend on ``include_burn_in``.

    Raises
    ------
    ValueError
        ``end <= start``, a negative burn-in, a bad depth range or a supercritical model.
    """
    start64, end64 = to_datetime64(start), to_datetime64(end)
    if not end64 > start64:
        raise ValueError(f"end {end64} must be after start {start64}")
    if not burn_in_days >= 0:
        raise ValueError(f"burn_in_days must be >= 0, got {burn_in_days!r}")
    if not 0 <= depth_km[0] <= depth_km[1]:
        raise ValueError(f"depth_km must be (min, max) with 0 <= min <= max, got {depth_km!r}")
    rng = np.random.default_rng(seed)
    area = as_region(region)
    span_days = float(timedelta_to_days(end64 - start64))
    events = simulate_etas_events(
        params,
        area,
        burn_in_days + span_days,
        max_magnitude=max_magnitude,
        rng=rng,
        allow_supercritical=allow_supercritical,
        background=background,
    )
    order = np.argsort(events.time_days, kind="stable")  # [N]
    origin = start64 - days_to_timedelta(burn_in_days)
    times = origin + days_to_timedelta(events.time_days[order])
    latitude, longitude = area.unproject(events.x_km[order], events.y_km[order])
    width = max(6, len(str(len(order))))
    catalog = Catalog.from_columns(
        event_id=[f"etas-{i:0{width}d}" for i in range(1, len(order) + 1)],
        time=times.astype(TIME_UNIT),
        latitude=latitude,
        longitude=longitude,
        depth=rng.uniform(depth_km[0], depth_km[1], len(order)),
        magnitude=events.magnitude[order],
    )
    keep = catalog.time < end64  # rounding to microseconds could reach end
    if not include_burn_in:
        keep &= catalog.time >= start64
    return catalog.select(keep)
