"""The target events of a scored forecast: which window, cell and magnitude each fell in.

Every score in :mod:`framecast.quake.scores.table` compares a :class:`RateForecast`
with the events that happened in its windows. :class:`ObservedEvents` holds
those events already binned on the forecast's axes (window, row, column) with
their magnitudes, so scores never re-grid a catalog and can be computed from
sparse event lists instead of dense count arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from framecast.quake.catalog.events import TIME_UNIT, Catalog, days_to_timedelta
from framecast.quake.rates import RateForecast

MAGNITUDE_TOLERANCE = 1e-9
"""Magnitudes within this of a bin edge count as on the edge (catalogs round to 0.1 units)."""


def magnitude_bin_index(magnitude: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """int64 ``[N]``: index of the magnitude bin holding each magnitude (last bin open-ended).

    Bins are ``[edges[k], edges[k + 1])`` as in pyCSEP (``bin1d_vec`` with
    ``right_continuous=True``); a magnitude within :data:`MAGNITUDE_TOLERANCE`
    below an edge counts as on it, so ``3.3`` falls in the bin starting at
    ``2.5 + 8 * 0.1`` even though that sum is ``3.3000000000000003``.

    Raises
    ------
    ValueError
        A magnitude below the first edge.
    """
    magnitude = np.asarray(magnitude, np.float64)  # [N]
    edges = np.asarray(edges, np.float64)  # [M]
    index = np.searchsorted(edges, magnitude + MAGNITUDE_TOLERANCE, side="right") - 1  # [N]
    if (index < 0).any():
        low = float(magnitude[index < 0].min())
        raise ValueError(f"magnitude {low:g} is below the first magnitude bin edge {edges[0]:g}")
    return index.astype(np.int64)


@dataclass(frozen=True, eq=False)
class ObservedEvents:
    """Target events binned on a forecast's windows and cells.

    Parameters
    ----------
    window, row, column : numpy.ndarray
        int64 ``[N]``: the window index and the grid cell (row 0 south,
        column 0 west) of each event. An event inside two overlapping windows
        appears once per window.
    magnitude : numpy.ndarray
        float64 ``[N]``.
    time : numpy.ndarray, optional
        ``datetime64[us]`` ``[N]`` origin times, kept for exports to pyCSEP.

    Raises
    ------
    ValueError
        Arrays of different lengths, negative indices or non-finite magnitudes.
    """

    window: np.ndarray
    row: np.ndarray
    column: np.ndarray
    magnitude: np.ndarray
    time: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("window", "row", "column"):
            values = np.asarray(getattr(self, name))
            if values.size and not np.issubdtype(values.dtype, np.integer):
                raise ValueError(f"observed {name} indices must be integers, got {values.dtype}")
            object.__setattr__(self, name, values.astype(np.int64).reshape(-1))
        object.__setattr__(self, "magnitude", np.asarray(self.magnitude, np.float64).reshape(-1))
        if self.time is not None:
            object.__setattr__(self, "time", np.asarray(self.time, TIME_UNIT).reshape(-1))
        names = ["window", "row", "column", "magnitude"] + ([] if self.time is None else ["time"])
        lengths = {name: len(getattr(self, name)) for name in names}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"observed event arrays differ in length: {lengths}")
        for name in ("window", "row", "column"):
            values = getattr(self, name)
            if (values < 0).any():
                raise ValueError(f"observed {name} indices must be >= 0, got {int(values.min())}")
        if not np.isfinite(self.magnitude).all():
            raise ValueError("observed magnitudes must be finite")

    def __len__(self) -> int:
        return len(self.window)

    def __repr__(self) -> str:
        return f"ObservedEvents({len(self)} events)"

    @classmethod
    def empty(cls) -> ObservedEvents:
        """No events."""
        none = np.zeros(0, np.int64)
        return cls(none, none, none, np.zeros(0))

    def select(self, rows: np.ndarray) -> ObservedEvents:
        """The events at ``rows`` (a boolean mask or integer indices)."""
        return ObservedEvents(
            self.window[rows],
            self.row[rows],
            self.column[rows],
            self.magnitude[rows],
            None if self.time is None else self.time[rows],
        )

    def above(self, magnitude: float) -> ObservedEvents:
        """The events with magnitude >= ``magnitude`` (within :data:`MAGNITUDE_TOLERANCE`)."""
        return self.select(self.magnitude >= magnitude - MAGNITUDE_TOLERANCE)

    def check_fits(self, shape: tuple[int, int, int]) -> None:
        """Raise ValueError unless every event's (window, row, column) lies inside ``shape``."""
        indices = (self.window, self.row, self.column)
        for name, values, size in zip(("window", "row", "column"), indices, shape, strict=True):
            if len(values) and values.max() >= size:
                raise ValueError(
                    f"observed {name} index {int(values.max())} is outside the forecast's "
                    f"{size} {name}s (shape {tuple(shape)}); were the events binned for "
                    "another forecast?"
                )

    def flat_index(self, shape: tuple[int, int, int]) -> np.ndarray:
        """int64 ``[N]``: index of each event's bin in ``rates.reshape(-1)`` for ``shape``."""
        self.check_fits(shape)
        return np.ravel_multi_index((self.window, self.row, self.column), shape).astype(np.int64)

    def counts(self, shape: tuple[int, int, int]) -> np.ndarray:
        """int64 ``[W, H, X]``: number of events per window and cell."""
        flat = self.flat_index(shape)  # [N]
        size = int(np.prod(shape))
        return np.bincount(flat, minlength=size).astype(np.int64).reshape(shape)

    def counts_by_magnitude(self, edges: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
        """int64 ``[W, H, X, M]``: events per window, cell and magnitude bin (left ``edges``).

        The last bin is open-ended. Dense: ``W * H * X * M`` int64, so for long
        test periods prefer the sparse event arrays.
        """
        edges = np.asarray(edges, np.float64)
        magnitude_index = magnitude_bin_index(self.magnitude, edges)  # [N]
        flat = self.flat_index(shape) * len(edges) + magnitude_index  # [N]
        size = int(np.prod(shape)) * len(edges)
        return np.bincount(flat, minlength=size).astype(np.int64).reshape(*shape, len(edges))


def observed_from_catalog(catalog: Catalog, forecast: RateForecast) -> ObservedEvents:
    """Bin a catalog's target events on a forecast's windows and cells.

    Target events have magnitude >= ``forecast.mc``, lie inside the grid
    (:meth:`Grid.locate`) and fall in some window
    ``[window_start[w], window_start[w] + window_days)``. An event inside
    several overlapping windows is counted once in each.

    Parameters
    ----------
    catalog : Catalog
    forecast : RateForecast
        Supplies the windows, grid and magnitude of completeness.

    Returns
    -------
    ObservedEvents
        Sorted by window, then origin time.
    """
    keep = catalog.magnitude >= forecast.mc - MAGNITUDE_TOLERANCE  # NaN magnitudes drop out
    row, column = forecast.grid.locate(catalog.latitude, catalog.longitude)  # [N], -1 outside
    keep &= row >= 0
    selected = catalog.select(keep)
    order = np.lexsort((selected.event_id, selected.time))  # as Catalog.sorted
    events = selected.select(order)
    row, column = row[keep][order], column[keep][order]  # [N'] aligned with `events`

    window_length = days_to_timedelta(forecast.window_days)
    starts = forecast.window_start  # [W]
    first = np.searchsorted(events.time, starts, side="left")  # [W]
    stop = np.searchsorted(events.time, starts + window_length, side="left")  # [W]
    sizes = stop - first  # [W]
    window = np.repeat(np.arange(len(starts), dtype=np.int64), sizes)  # [K]
    offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # [K]
    event = np.repeat(first, sizes) + offsets  # [K] rows of `events`
    return ObservedEvents(
        window=window,
        row=row[event],
        column=column[event],
        magnitude=events.magnitude[event],
        time=events.time[event],
    )


def check_compatible(forecasts: list[RateForecast] | tuple[RateForecast, ...]) -> None:
    """Raise ValueError unless all forecasts share grid, windows and magnitude of completeness.

    Scores compare forecasts bin by bin, so the bins (cells, windows, the
    magnitude range M >= mc) must be the same; ``b_value`` may differ.
    """
    if not forecasts:
        raise ValueError("no forecasts to score")
    first = forecasts[0]
    for other in forecasts[1:]:
        where = f"forecasts {first.name!r} and {other.name!r}"
        if other.grid != first.grid:
            raise ValueError(f"{where} have different grids: {first.grid} vs {other.grid}")
        if other.window_days != first.window_days:
            raise ValueError(
                f"{where} have different window lengths: "
                f"{first.window_days:g} vs {other.window_days:g} days"
            )
        if len(other.window_start) != len(first.window_start) or not np.array_equal(
            other.window_start, first.window_start
        ):
            raise ValueError(
                f"{where} have different windows: {len(first.window_start)} starting "
                f"{first.window_start[:1]} vs {len(other.window_start)} starting "
                f"{other.window_start[:1]}"
            )
        if other.mc != first.mc:
            raise ValueError(
                f"{where} have different magnitudes of completeness: {first.mc:g} vs {other.mc:g}"
            )


def check_observed(observed: ObservedEvents, forecast: RateForecast) -> None:
    """Raise ValueError unless ``observed`` fits the forecast's bins and magnitude range."""
    observed.check_fits(forecast.rates.shape)
    if len(observed) and observed.magnitude.min() < forecast.mc - MAGNITUDE_TOLERANCE:
        raise ValueError(
            f"observed magnitude {observed.magnitude.min():g} is below forecast "
            f"{forecast.name!r}'s mc {forecast.mc:g}; select the target events with "
            "observed_from_catalog or ObservedEvents.above(mc)"
        )
