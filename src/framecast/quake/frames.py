"""Seismicity frames: a catalog binned into a sequence of maps, as a video is frames.

Frame ``k`` covers ``[start + k*bin_days, start + (k+1)*bin_days)``; its
channels are per-cell summaries of the events with magnitude >= mc in that
bin. The file written by :meth:`SeismicityFrames.save` keeps the grid, the
bins, mc, the source catalog's hash and the binned events themselves, so
forecasts can be scored against exactly the events that made the frames.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from framecast.files import atomic_write
from framecast.h5header import check_header, write_header
from framecast.quake.catalog.events import (
    COLUMNS,
    TIME_UNIT,
    Catalog,
    days_to_timedelta,
    timedelta_to_days,
    to_datetime64,
)
from framecast.quake.grid import Grid
from framecast.quake.physics_channels import HISTORY_CHANNELS

FORMAT = "framecast seismicity frames 1"

logger = logging.getLogger(__name__)


def _count(catalog: Catalog, cells: np.ndarray, size: int, mc: float) -> np.ndarray:
    return np.bincount(cells, minlength=size).astype(np.float64)


def _log_energy(catalog: Catalog, cells: np.ndarray, size: int, mc: float) -> np.ndarray:
    # Gutenberg-Richter energy relation: log10 E [J] = 1.5 M + 4.8; empty cells 0
    energy = np.bincount(cells, weights=10.0 ** (1.5 * catalog.magnitude + 4.8), minlength=size)
    return np.where(energy > 0, np.log10(np.maximum(energy, 1.0)), 0.0)


def _max_magnitude(catalog: Catalog, cells: np.ndarray, size: int, mc: float) -> np.ndarray:
    out = np.zeros(size)
    np.maximum.at(out, cells, catalog.magnitude)  # empty cells 0
    return out


def _magnitude_excess(catalog: Catalog, cells: np.ndarray, size: int, mc: float) -> np.ndarray:
    out = np.zeros(size)
    np.maximum.at(out, cells, catalog.magnitude - mc)  # >= 0; empty cells 0
    return out


def _mean_depth(catalog: Catalog, cells: np.ndarray, size: int, mc: float) -> np.ndarray:
    depth = np.nan_to_num(catalog.depth, nan=0.0)
    known = np.bincount(cells, weights=~np.isnan(catalog.depth), minlength=size)
    total = np.bincount(cells, weights=depth, minlength=size)
    return np.divide(total, known, out=np.zeros(size), where=known > 0)  # empty cells 0


CHANNELS: dict[str, Callable[[Catalog, np.ndarray, int, float], np.ndarray]] = {
    "count": _count,
    "log_energy": _log_energy,
    "max_magnitude": _max_magnitude,
    "magnitude_excess": _magnitude_excess,
    "mean_depth": _mean_depth,
}
"""Per-cell channel functions ``f(events, flat bin-cell index, size, mc) -> [size]``.

count: number of events; log_energy: log10 of the summed radiated energy in
joules (log10 E = 1.5 M + 4.8, Gutenberg & Richter 1956); max_magnitude;
magnitude_excess: max magnitude minus mc (an input scaled near the counts,
which tells a network how productive the cell's largest event is);
mean_depth: km, over the events with a known depth (refused when none has
one). Cells without events hold 0 in every channel. The channels of
:data:`framecast.quake.physics_channels.HISTORY_CHANNELS` (activity traces,
distance to recent large events) summarise the history up to each bin's end.
"""


def check_channels(channels: Sequence[str]) -> tuple[str, ...]:
    """Return ``channels`` as a tuple after checking each is known and none repeats."""
    if isinstance(channels, str):
        channels = [c.strip() for c in channels.split(",") if c.strip()]
    unknown = [c for c in channels if c not in CHANNELS and c not in HISTORY_CHANNELS]
    if unknown or not channels:
        raise ValueError(
            f"unknown channels {unknown or channels!r}; expected some of "
            f"{[*CHANNELS, *HISTORY_CHANNELS]}"
        )
    if len(set(channels)) != len(channels):
        raise ValueError(f"channels repeat: {list(channels)}")
    return tuple(channels)


@dataclass(frozen=True)
class SeismicityFrames:
    """Frames ``[T, C, H, W]`` of a catalog, with the grid, bins and events behind them.

    Attributes
    ----------
    frames : numpy.ndarray
        float32 ``[T, C, H, W]``.
    channels : tuple of str
        Names of the C channels (keys of :data:`CHANNELS`).
    grid : Grid
        The cells (H, W).
    start : numpy.datetime64
        Start of bin 0.
    bin_days : float
        Bin length in days.
    mc : float
        Events with magnitude >= mc were binned.
    events : Catalog
        The binned events (inside the grid and the bins, M >= mc), sorted.
    catalog_hash : str
        :meth:`Catalog.content_hash` of the catalog that was gridded.
    """

    frames: np.ndarray
    channels: tuple[str, ...]
    grid: Grid
    start: np.datetime64
    bin_days: float
    mc: float
    events: Catalog
    catalog_hash: str

    @property
    def num_bins(self) -> int:
        return int(self.frames.shape[0])

    @property
    def bin_start(self) -> np.ndarray:
        """``datetime64[us]`` ``[T]``: start of each bin."""
        step = days_to_timedelta(self.bin_days)
        return self.start + step * np.arange(self.num_bins)

    @property
    def end(self) -> np.datetime64:
        return self.bin_start[-1] + days_to_timedelta(self.bin_days)

    def bin_index(self, time: object) -> int:
        """Index of the first bin starting at or after ``time``."""
        return int(np.searchsorted(self.bin_start, to_datetime64(time)))

    def channel(self, name: str) -> np.ndarray:
        """float32 ``[T, H, W]`` of one channel."""
        if name not in self.channels:
            raise ValueError(
                f"no channel {name!r} in these frames; they hold {list(self.channels)}"
            )
        return self.frames[:, self.channels.index(name)]

    # ------------------------------------------------------------------- files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write HDF5 through a temporary file: an interrupted write leaves no partial file."""
        path = Path(path)
        with atomic_write(path) as partial, h5py.File(partial, "w") as handle:
            handle.create_dataset("frames", data=self.frames, compression="gzip", chunks=True)
            events = handle.create_group("events")
            for name, column in self.events.columns().items():
                if name == "time":
                    column = column.astype(np.int64)  # microseconds since 1970
                elif column.dtype.kind == "U":
                    column = column.astype(object)
                    events.create_dataset(name, data=column, dtype=h5py.string_dtype())
                    continue
                events.create_dataset(name, data=column)
            write_header(handle, FORMAT)
            attrs = handle.attrs
            attrs["channels"] = json.dumps(list(self.channels))
            attrs["grid"] = json.dumps(self.grid.to_dict())
            attrs["start"] = str(self.start)
            attrs["bin_days"] = float(self.bin_days)
            attrs["mc"] = float(self.mc)
            attrs["catalog_hash"] = self.catalog_hash
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SeismicityFrames:
        """Read frames written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            No file at ``path``.
        ValueError
            Not a frames file, or a damaged one (truncated, not HDF5, a part
            missing): one line naming the file.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"frames file not found: {str(path)!r}")
        try:
            return cls._read(path)
        except PermissionError:
            raise
        except (OSError, KeyError) as error:
            reason = " ".join(str(error).split())
            raise ValueError(
                f"frames file {str(path)!r} cannot be read (truncated or damaged? {reason}); "
                "write it again with framecast quake grid"
            ) from None

    @classmethod
    def _read(cls, path: Path) -> SeismicityFrames:
        with h5py.File(path, "r") as handle:
            check_header(
                handle,
                path,
                FORMAT,
                "framecast seismicity-frames file",
                "write one with `framecast quake grid`",
            )
            group = handle["events"]
            columns = {}
            for name in COLUMNS:
                data = group[name][()]
                if name == "time":
                    data = data.astype(TIME_UNIT)
                elif data.dtype == object:
                    data = np.array([v.decode() if isinstance(v, bytes) else v for v in data])
                columns[name] = data
            return cls(
                frames=handle["frames"][()],
                channels=tuple(json.loads(handle.attrs["channels"])),
                grid=Grid.from_dict(json.loads(handle.attrs["grid"])),
                start=to_datetime64(handle.attrs["start"]),
                bin_days=float(handle.attrs["bin_days"]),
                mc=float(handle.attrs["mc"]),
                events=Catalog(**columns),
                catalog_hash=str(handle.attrs["catalog_hash"]),
            )


def _check_depths(events: Catalog) -> None:
    """Refuse the mean_depth channel without any depth; warn when some depths are missing."""
    unknown = int(np.isnan(events.depth).sum())
    if unknown == len(events):
        raise ValueError(
            f"channel 'mean_depth' needs event depths, but none of the {len(events)} events to "
            "grid has one (the catalog has no depth column?); drop mean_depth from the channels"
        )
    if unknown:
        logger.warning(
            "mean_depth: %d of %d events have no depth; they are left out of their cell's mean",
            unknown,
            len(events),
        )


def _whole_bins(start: object, end: object, bin_days: float) -> int:
    """Whole bins of ``bin_days`` in ``[start, end)``.

    Raises
    ------
    ValueError
        Non-positive ``bin_days``, or not one whole bin.
    """
    if isinstance(bin_days, bool) or not (isinstance(bin_days, int | float) and bin_days > 0):
        raise ValueError(f"bin_days must be a positive number of days, got {bin_days!r}")
    t0, t1 = to_datetime64(start), to_datetime64(end)
    span_days = float(timedelta_to_days(t1 - t0))
    num_bins = int(np.floor(span_days / bin_days + 1e-9))
    if num_bins < 1:
        raise ValueError(
            f"the period {t0} to {t1} holds no whole bin of {bin_days:g} days; "
            "check start, end and bin_days"
        )
    return num_bins


def frames_bytes(num_bins: int, num_channels: int, shape: tuple[int, int]) -> int:
    """Estimated peak bytes of :func:`grid_catalog`: float64 channels, stacked, then float32."""
    cells = num_bins * shape[0] * shape[1]
    return cells * (num_channels * (8 + 8 + 4) + 8)


def check_frames_size(
    grid: Grid, start: object, end: object, bin_days: float, channels: Sequence[str]
) -> None:
    """Refuse, before the catalog is read, frames too large for the memory available.

    Raises
    ------
    ValueError
        Bad bins or channels, or frames whose estimated size exceeds the
        memory available now (the message gives the estimate).
    """
    from framecast.memory import check_memory

    channels = check_channels(channels)
    num_bins = _whole_bins(start, end, bin_days)
    ny, nx = grid.shape
    check_memory(
        frames_bytes(num_bins, len(channels), (ny, nx)),
        f"frames of {num_bins} bins x {len(channels)} channel(s) on a {ny}x{nx} grid "
        f"({grid.cell:g} {grid.unit} cells)",
        "use a larger cell, longer bins, or a smaller region or period",
    )


def grid_catalog(
    catalog: Catalog,
    grid: Grid,
    *,
    start: object,
    end: object,
    bin_days: float,
    mc: float,
    channels: Sequence[str] = ("count",),
    log: Callable[[str], None] | None = None,
) -> SeismicityFrames:
    """Bin the events of ``catalog`` into frames on ``grid``.

    Events with magnitude >= ``mc`` inside the grid and in
    ``[start, start + T*bin_days)`` are kept, with ``T = floor((end - start)
    / bin_days)`` whole bins. A last partial bin is dropped, and said so in
    one line to ``log`` (default: a logged warning) with the events it held.
    Deterministic: the same catalog and settings give identical frames.

    Raises
    ------
    ValueError
        Non-positive ``bin_days``, fewer than one whole bin, unknown
        channels, frames larger than the memory available (with the
        estimate), no events left in the region, period and magnitude
        range (the message gives the counts at each filter), or the
        ``mean_depth`` channel when no event has a depth (a warning is
        logged when only some lack one).
    """
    check_frames_size(grid, start, end, bin_days, channels)
    channels = check_channels(channels)
    num_bins = _whole_bins(start, end, bin_days)
    t0, t1 = to_datetime64(start), to_datetime64(end)
    t_end = t0 + days_to_timedelta(num_bins * bin_days)
    if t1 - t_end > np.timedelta64(1, "s"):  # not the microseconds of a rounded bin
        left = catalog.filter(start=t_end, end=t1, min_magnitude=mc, event_types=None)
        dropped = int((grid.locate(left.latitude, left.longitude)[0] >= 0).sum())
        rest = float(timedelta_to_days(t1 - t_end))
        (log or logger.warning)(
            f"the last {rest:g} days ({t_end} to {t1}) do not fill a {bin_days:g}-day bin: "
            f"dropped, with their {dropped} event(s) M >= {mc:g}; "
            f"the frames end at {t_end}"
        )
    in_period = catalog.filter(start=t0, end=t_end, event_types=None)
    above = in_period.filter(min_magnitude=mc, event_types=None)
    rows, cols = grid.locate(above.latitude, above.longitude)
    events = above.select(rows >= 0).sorted()
    if not len(events):
        lat_min, lat_max, lon_min, lon_max = grid.region
        raise ValueError(
            f"no events to grid: {len(catalog)} in the catalog, {len(in_period)} between {t0} "
            f"and {t_end}, {len(above)} with magnitude >= {mc}, 0 inside the region "
            f"lat {lat_min}..{lat_max}, lon {lon_min}..{lon_max}"
        )
    if "mean_depth" in channels:
        _check_depths(events)
    rows, cols = grid.locate(events.latitude, events.longitude)
    k = np.floor(events.days_since(t0) / bin_days).astype(np.int64)  # [N] bin of each event
    ny, nx = grid.shape
    flat = (k * ny + rows) * nx + cols  # [N] index into (T, H, W)
    size = num_bins * ny * nx
    history = catalog.filter(end=t_end, min_magnitude=mc, event_types=None)
    history = history.select(grid.locate(history.latitude, history.longitude)[0] >= 0)

    def channel(name: str) -> np.ndarray:  # (T, H, W)
        if name in HISTORY_CHANNELS:
            return HISTORY_CHANNELS[name](history, grid, t0, num_bins, float(bin_days), mc)
        return CHANNELS[name](events, flat, size, mc).reshape(num_bins, ny, nx)

    frames = np.stack([channel(name) for name in channels], axis=1).astype(
        np.float32
    )  # (T, C, H, W)
    return SeismicityFrames(
        frames=frames,
        channels=channels,
        grid=grid,
        start=t0,
        bin_days=float(bin_days),
        mc=float(mc),
        events=events,
        catalog_hash=catalog.content_hash(),
    )
