"""Frame channels that carry the memory of past events: activity traces and large-event distance.

The per-bin channels of :mod:`framecast.quake.frames` summarise only the
events inside a bin. The channels here summarise the history up to the END
of each bin ``k`` (``e_k = start + (k + 1) * bin_days``), so frame ``k``
still holds nothing a forecast of bin ``k + 1`` could not know:

``activity_1d``, ``activity_10d``, ``activity_100d``
    ``log1p(Σ_{i in cell, t_i < e_k} exp(-(e_k - t_i) / τ))`` with τ = 1, 10
    and 100 days. Omori's law ``(t + c)^-p`` decays over many time scales; a
    sum of exponentials at scales a decade apart approximates it (the
    multi-exponential form of the Omori kernel, e.g. Ogata 1988 uses the
    power law itself; the exponentials keep a channel's value a recursion
    over bins). ``log1p`` keeps an aftershock sequence's hundreds of events
    on the scale of the counts.
``large_event_distance``
    ``log10(1 + d)`` with ``d`` the distance in km from the cell centre to
    the nearest event with ``M >= mc + LARGE_ABOVE_MC`` in
    ``(e_k - LARGE_EVENT_DAYS, e_k)``; ``d = NO_LARGE_EVENT_KM`` when there
    is none.

Each function takes the history events (M >= mc, inside the grid, before
the frames' end; events before the frames' start count) and returns float64
``[T, H, W]``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from framecast.quake.catalog.events import Catalog
from framecast.quake.grid import Grid

LARGE_ABOVE_MC = 2.0
"""A "large" event has magnitude >= mc + this."""
LARGE_EVENT_DAYS = 365.0
"""A large event counts for ``large_event_distance`` this many days."""
NO_LARGE_EVENT_KM = 1000.0
"""The distance written where no large event is recent."""

HistoryChannel = Callable[[Catalog, Grid, np.datetime64, int, float, float], np.ndarray]


def _bin_ends_days(num_bins: int, bin_days: float) -> np.ndarray:
    return bin_days * (np.arange(num_bins) + 1.0)  # [T] days from start


def activity_trace(
    events: Catalog,
    grid: Grid,
    start: np.datetime64,
    num_bins: int,
    bin_days: float,
    tau_days: float,
) -> np.ndarray:
    """float64 ``[T, H, W]``: ``log1p`` of the exponentially decaying event count at bin ends.

    ``A_k = Σ_{i in cell, t_i < e_k} exp(-(e_k - t_i)/τ)``, computed as the
    recursion ``A_k = A_{k-1} exp(-Δ/τ) + Σ_{i in bin k} exp(-(e_k - t_i)/τ)``
    (events before ``start`` enter ``A_{-1}``).
    """
    if not tau_days > 0:
        raise ValueError(f"tau_days must be > 0, got {tau_days!r}")
    ny, nx = grid.shape
    rows, cols = grid.locate(events.latitude, events.longitude)
    inside = rows >= 0
    days = events.days_since(start)[inside]  # [N], may be negative
    cell = (rows * nx + cols)[inside]  # [N]
    ends = _bin_ends_days(num_bins, bin_days)
    k = np.floor(days / bin_days).astype(np.int64)  # [N] bin of each event (< 0: before start)
    keep = k < num_bins
    k, days, cell = k[keep], days[keep], cell[keep]
    before = k < 0
    # events before start, decayed to the start
    carry = np.bincount(
        cell[before], weights=np.exp(days[before] / tau_days), minlength=ny * nx
    )  # [H·W]
    now = ~before
    fresh = np.zeros((num_bins, ny * nx))
    np.add.at(fresh, (k[now], cell[now]), np.exp(-(ends[k[now]] - days[now]) / tau_days))
    decay = np.exp(-bin_days / tau_days)
    out = np.empty_like(fresh)
    level = carry * decay  # e_0 = start + Δ: an event before start decays by exp(-(Δ - t_i)/τ)
    for b in range(num_bins):
        if b > 0:
            level = level * decay
        level = level + fresh[b]
        out[b] = level
    return np.log1p(out).reshape(num_bins, ny, nx)


def large_event_distance(
    events: Catalog,
    grid: Grid,
    start: np.datetime64,
    num_bins: int,
    bin_days: float,
    mc: float,
) -> np.ndarray:
    """float64 ``[T, H, W]``: ``log10(1 + km)`` to the nearest recent large event (module doc)."""
    ny, nx = grid.shape
    large = events.select(events.magnitude >= mc + LARGE_ABOVE_MC - 1e-9)
    distance = np.full((num_bins, ny * nx), NO_LARGE_EVENT_KM)
    lat_c, lon_c = grid.cell_centers()
    xc, yc = grid.project(lat_c.ravel(), lon_c.ravel())  # [H·W] km
    xs, ys = grid.project(large.latitude, large.longitude)  # [L] km
    ends = _bin_ends_days(num_bins, bin_days)
    days = large.days_since(start)  # [L]
    for i in range(len(large)):
        # bins whose end e_k satisfies t_i < e_k <= t_i + LARGE_EVENT_DAYS
        first = int(np.searchsorted(ends, days[i], side="right"))
        stop = int(np.searchsorted(ends, days[i] + LARGE_EVENT_DAYS, side="right"))
        if first >= stop:
            continue
        d = np.hypot(xc - xs[i], yc - ys[i])  # [H·W]
        np.minimum(distance[first:stop], d, out=distance[first:stop])
    return np.log10(1.0 + distance).reshape(num_bins, ny, nx)


def _activity(tau_days: float) -> HistoryChannel:
    def channel(
        events: Catalog, grid: Grid, start: np.datetime64, num_bins: int, bin_days: float, mc: float
    ) -> np.ndarray:
        return activity_trace(events, grid, start, num_bins, bin_days, tau_days)

    return channel


HISTORY_CHANNELS: dict[str, HistoryChannel] = {
    "activity_1d": _activity(1.0),
    "activity_10d": _activity(10.0),
    "activity_100d": _activity(100.0),
    "large_event_distance": large_event_distance,
}
"""Channels of the history up to each bin's end: ``f(events, grid, start, T, bin_days, mc)``."""
