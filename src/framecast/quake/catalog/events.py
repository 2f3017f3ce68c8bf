"""The canonical event table every quake module reads and writes.

One row per event: id, origin time (UTC), latitude, longitude, depth (km),
magnitude, magnitude type and event type. Columns are numpy arrays so that
catalogs of a million events stay cheap to filter, hash and store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

TIME_UNIT = "datetime64[us]"
"""Origin times are stored at microsecond resolution, as naive UTC."""

MICROSECONDS_PER_DAY = 86_400_000_000
"""One day in the unit of :data:`TIME_UNIT`: every days <-> datetime conversion uses it."""


def timedelta_to_days(delta: np.ndarray | np.timedelta64) -> np.ndarray:
    """float64 days of a ``timedelta64`` array or scalar (any unit)."""
    micro = np.asarray(delta).astype("timedelta64[us]").astype(np.int64)
    return micro / MICROSECONDS_PER_DAY


def days_to_timedelta(days: np.ndarray | float) -> np.ndarray:
    """``timedelta64[us]`` of ``days`` (float), rounded to the microsecond."""
    micro = np.round(np.asarray(days, dtype=np.float64) * MICROSECONDS_PER_DAY)
    return micro.astype(np.int64).astype("timedelta64[us]")


EARTHQUAKE = "earthquake"

COLUMNS: tuple[str, ...] = (
    "event_id",
    "time",
    "latitude",
    "longitude",
    "depth",
    "magnitude",
    "magnitude_type",
    "event_type",
)


def to_datetime64(value: object) -> np.datetime64:
    """Parse a date or date-time (string, datetime or datetime64) as UTC microseconds.

    Raises
    ------
    ValueError
        If ``value`` is not a date.
    """
    try:
        parsed = np.datetime64(value, "us")  # type: ignore[call-overload]
    except (ValueError, TypeError) as error:
        raise ValueError(f"not a date or date-time: {value!r} ({error})") from None
    if np.isnat(parsed):
        raise ValueError(f"not a date or date-time: {value!r}")
    return parsed


@dataclass(frozen=True, eq=False)
class Catalog:
    """An earthquake catalog: one numpy array per column, all of one length.

    Parameters
    ----------
    event_id : numpy.ndarray
        str ``[N]``, unique within a store (the de-duplication key).
    time : numpy.ndarray
        ``datetime64[us]`` ``[N]``, origin time in UTC.
    latitude, longitude : numpy.ndarray
        float64 ``[N]``, degrees (WGS84).
    depth : numpy.ndarray
        float64 ``[N]``, km below sea level; NaN where unknown.
    magnitude : numpy.ndarray
        float64 ``[N]``; NaN where unknown.
    magnitude_type, event_type : numpy.ndarray
        str ``[N]``; "" where unknown.

    Raises
    ------
    ValueError
        Columns of different lengths, coordinates out of range or missing
        origin times.
    """

    event_id: np.ndarray
    time: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    depth: np.ndarray
    magnitude: np.ndarray
    magnitude_type: np.ndarray
    event_type: np.ndarray

    def __post_init__(self) -> None:
        cast = {
            "event_id": lambda a: np.asarray(a, dtype=str),
            "time": lambda a: np.asarray(a, dtype=TIME_UNIT),
            "magnitude_type": lambda a: np.asarray(a, dtype=str),
            "event_type": lambda a: np.asarray(a, dtype=str),
        }
        lengths = set()
        for field in fields(self):
            raw = getattr(self, field.name)
            array = cast.get(field.name, lambda a: np.asarray(a, dtype=np.float64))(raw)
            if array.ndim != 1:
                raise ValueError(f"catalog column {field.name!r} must be 1-D, got {array.shape}")
            object.__setattr__(self, field.name, array)
            lengths.add(len(array))
        if len(lengths) > 1:
            sizes = {f.name: len(getattr(self, f.name)) for f in fields(self)}
            raise ValueError(f"catalog columns differ in length: {sizes}")
        if np.isnat(self.time).any():
            row = int(np.flatnonzero(np.isnat(self.time))[0])
            raise ValueError(f"event {self.event_id[row]!r} has no origin time")
        for name, bound in (("latitude", 90.0), ("longitude", 180.0)):
            values = getattr(self, name)
            bad = ~(np.abs(values) <= bound)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"event {self.event_id[row]!r} has {name} {values[row]!r}; "
                    f"expected a number in [-{bound:g}, {bound:g}]"
                )

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self.event_id)

    def __repr__(self) -> str:
        if not len(self):
            return "Catalog(0 events)"
        return (
            f"Catalog({len(self)} events, {self.time.min()} to {self.time.max()}, "
            f"M {np.nanmin(self.magnitude):.1f} to {np.nanmax(self.magnitude):.1f})"
        )

    @classmethod
    def empty(cls) -> Catalog:
        """A catalog with no events."""
        return cls(**{name: [] for name in COLUMNS})

    @classmethod
    def from_columns(
        cls,
        *,
        time: Sequence[object] | np.ndarray,
        latitude: Sequence[float] | np.ndarray,
        longitude: Sequence[float] | np.ndarray,
        magnitude: Sequence[float] | np.ndarray,
        depth: Sequence[float] | np.ndarray | None = None,
        event_id: Sequence[str] | np.ndarray | None = None,
        magnitude_type: Sequence[str] | np.ndarray | str = "",
        event_type: Sequence[str] | np.ndarray | str = EARTHQUAKE,
    ) -> Catalog:
        """Build a catalog, filling optional columns (ids are the row numbers)."""
        n = len(latitude)
        return cls(
            event_id=np.arange(n).astype(str) if event_id is None else event_id,
            time=np.asarray(time, dtype=TIME_UNIT),
            latitude=latitude,
            longitude=longitude,
            depth=np.full(n, np.nan) if depth is None else depth,
            magnitude=magnitude,
            magnitude_type=np.full(n, magnitude_type)
            if isinstance(magnitude_type, str)
            else magnitude_type,
            event_type=np.full(n, event_type) if isinstance(event_type, str) else event_type,
        )

    def columns(self) -> dict[str, np.ndarray]:
        """The columns by name, in :data:`COLUMNS` order."""
        return {name: getattr(self, name) for name in COLUMNS}

    def select(self, rows: np.ndarray) -> Catalog:
        """The events at ``rows`` (a boolean mask or integer indices)."""
        return Catalog(**{name: column[rows] for name, column in self.columns().items()})

    def sorted(self) -> Catalog:
        """Events in order of origin time (ties by id), as every consumer expects."""
        order = np.lexsort((self.event_id, self.time))
        return self.select(order)

    @staticmethod
    def concat(catalogs: Sequence[Catalog]) -> Catalog:
        """All events of ``catalogs`` in one catalog (no de-duplication)."""
        if not catalogs:
            return Catalog.empty()
        return Catalog(
            **{name: np.concatenate([getattr(c, name) for c in catalogs]) for name in COLUMNS}
        )

    def deduplicated(self) -> Catalog:
        """One event per id, keeping the last occurrence (a re-fetch updates an event)."""
        reversed_ids = self.event_id[::-1]
        _, first_in_reversed = np.unique(reversed_ids, return_index=True)
        keep = np.sort(len(self) - 1 - first_in_reversed)
        return self.select(keep)

    def without_duplicates(self) -> tuple[Catalog, int, int]:
        """The catalog with each event once, and how many rows were dropped, by which rule.

        Two rows are one event when they share an ``event_id`` (the last
        occurrence is kept, as :meth:`deduplicated`), or else when they share
        origin time, latitude and longitude exactly (a catalog without ids,
        whose readers number the rows, listing an event twice; the last is
        kept). Order is kept.

        Returns
        -------
        catalog : Catalog
        same_id : int
            Rows dropped for a repeated event id.
        same_time_and_place : int
            Further rows dropped for a repeated (time, latitude, longitude).
        """
        by_id = self.deduplicated()
        same_id = len(self) - len(by_id)
        keys = np.stack(
            [
                by_id.time.astype(np.int64),
                (by_id.latitude + 0.0).view(np.int64),  # + 0.0: -0.0 and 0.0 are one place
                (by_id.longitude + 0.0).view(np.int64),
            ],
            axis=1,
        )  # (N, 3)
        if not len(by_id):
            return by_id, same_id, 0
        _, first_in_reversed = np.unique(keys[::-1], axis=0, return_index=True)
        keep = np.sort(len(by_id) - 1 - first_in_reversed)
        return by_id.select(keep), same_id, len(by_id) - len(keep)

    def filter(
        self,
        *,
        start: object | None = None,
        end: object | None = None,
        min_magnitude: float | None = None,
        region: tuple[float, float, float, float] | None = None,
        event_types: Sequence[str] | None = (EARTHQUAKE,),
    ) -> Catalog:
        """Events in ``[start, end)``, with magnitude >= ``min_magnitude``, inside ``region``.

        Parameters
        ----------
        start, end : date-like, optional
            Half-open time window.
        min_magnitude : float, optional
            Events with an unknown magnitude are dropped when this is given.
        region : (lat_min, lat_max, lon_min, lon_max), optional
            Closed box in degrees.
        event_types : sequence of str, optional
            Types to keep, compared case-insensitively; "" (unknown type) is
            kept as an earthquake. None keeps every type.
        """
        keep = np.ones(len(self), dtype=bool)
        if start is not None:
            keep &= self.time >= to_datetime64(start)
        if end is not None:
            keep &= self.time < to_datetime64(end)
        if min_magnitude is not None:
            keep &= self.magnitude >= float(min_magnitude)
        if region is not None:
            lat_min, lat_max, lon_min, lon_max = region
            keep &= (self.latitude >= lat_min) & (self.latitude <= lat_max)
            keep &= (self.longitude >= lon_min) & (self.longitude <= lon_max)
        if event_types is not None:
            wanted = {t.lower() for t in event_types}
            if EARTHQUAKE in wanted:
                wanted.add("")
            lowered = np.char.lower(self.event_type.astype(str))
            keep &= np.isin(lowered, list(wanted))
        return self.select(keep)

    def days_since(self, origin: object) -> np.ndarray:
        """float64 ``[N]``: origin times in days after ``origin``."""
        return timedelta_to_days(self.time - to_datetime64(origin))

    def content_hash(self) -> str:
        """SHA-256 of the sorted events' columns: equal catalogs hash equal."""
        ordered = self.sorted()
        digest = hashlib.sha256()
        for name in COLUMNS:
            column = getattr(ordered, name)
            if column.dtype.kind == "U":
                digest.update("\x1f".join(column.tolist()).encode())
            else:
                digest.update(np.ascontiguousarray(column).tobytes())
        return digest.hexdigest()
