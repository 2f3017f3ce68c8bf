"""Binned radio spectrograms in memory and in HDF5 (``radio.h5``).

A :class:`RadioSeries` holds log-power spectra aggregated into consecutive
time slots of ``slot_seconds`` (``slots_per_bin`` slots make one frame bin
of ``bin_days``), one row per station, with the fraction of each slot the
recordings cover. Missing data stay missing: power is NaN and coverage 0
where nothing was recorded; nothing is zero-filled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from framecast.files import atomic_write
from framecast.h5header import check_header, write_header
from framecast.quake.catalog.events import to_datetime64

FORMAT = "framecast-radio-1"


@dataclass
class RadioSeries:
    """Log-power spectra per time slot and station.

    Attributes
    ----------
    power : numpy.ndarray
        float32 ``[N, S, F]``: log10 power (dB / 10 if ``log``) per slot,
        station and frequency row; NaN where the slot holds no data.
    coverage : numpy.ndarray
        float32 ``[N, S]``: fraction of each slot the recordings cover (0..1).
    start : numpy.datetime64
        Start of slot 0, UTC.
    slot_seconds : float
        Slot length.
    slots_per_bin : int
        Slots per frame bin (``bin_days * 86400 / slot_seconds``).
    frequencies : numpy.ndarray
        float64 ``[F]``: centre of each frequency row, Hz.
    stations : tuple of str
        Names of the S stations (channel order).
    settings : dict
        How the spectra were made (band, resolution, statistic, ...).
    sources : dict of str to dict
        Per source file: its SHA-256, settings hash and slot range.
    """

    power: np.ndarray
    coverage: np.ndarray
    start: np.datetime64
    slot_seconds: float
    slots_per_bin: int
    frequencies: np.ndarray
    stations: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n, s, f = self.power.shape
        if self.coverage.shape != (n, s):
            raise ValueError(
                f"coverage must have shape {(n, s)} (slots, stations), got {self.coverage.shape}"
            )
        if len(self.frequencies) != f or len(self.stations) != s:
            raise ValueError(
                f"power has {s} stations and {f} frequency rows; got {len(self.stations)} "
                f"station names and {len(self.frequencies)} frequencies"
            )
        if not self.slot_seconds > 0 or self.slots_per_bin < 1:
            raise ValueError(
                f"slot_seconds must be > 0 and slots_per_bin >= 1, got {self.slot_seconds!r} "
                f"and {self.slots_per_bin!r}"
            )

    @property
    def num_slots(self) -> int:
        return int(self.power.shape[0])

    @property
    def bin_days(self) -> float:
        return self.slot_seconds * self.slots_per_bin / 86400.0

    @property
    def slot_start(self) -> np.ndarray:
        """``datetime64[us]`` ``[N]``: start of each slot."""
        step = np.timedelta64(round(self.slot_seconds * 1e6), "us")
        return self.start + step * np.arange(self.num_slots)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write HDF5 through a temporary file (:func:`framecast.files.atomic_write`)."""
        path = Path(path)
        with atomic_write(path) as partial, h5py.File(partial, "w") as handle:
            write_series(handle, self)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RadioSeries:
        """Read a file written by :meth:`save` or ``framecast quake radio prepare``."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"radio file not found: {str(path)!r}")
        with h5py.File(path, "r") as handle:
            check_header(
                handle,
                path,
                FORMAT,
                "framecast radio file",
                "write one with `framecast quake radio prepare`",
            )
            return read_series(handle)


def write_series(handle: h5py.File, series: RadioSeries) -> None:
    """Write ``series`` into an open HDF5 file (datasets ``power``, ``coverage``, attributes)."""
    for name in ("power", "coverage", "frequencies"):
        if name in handle:
            del handle[name]
    handle.create_dataset("power", data=series.power.astype(np.float32), compression="gzip")
    handle.create_dataset("coverage", data=series.coverage.astype(np.float32), compression="gzip")
    handle.create_dataset("frequencies", data=np.asarray(series.frequencies, np.float64))
    write_header(handle, FORMAT)
    attrs = handle.attrs
    attrs["start"] = str(series.start)
    attrs["slot_seconds"] = float(series.slot_seconds)
    attrs["slots_per_bin"] = int(series.slots_per_bin)
    attrs["stations"] = json.dumps(list(series.stations))
    attrs["settings"] = json.dumps(series.settings, sort_keys=True)
    attrs["sources"] = json.dumps(series.sources, sort_keys=True)


def read_series(handle: h5py.File) -> RadioSeries:
    """Read a :class:`RadioSeries` from an open HDF5 file."""
    return RadioSeries(
        power=handle["power"][()],
        coverage=handle["coverage"][()],
        start=to_datetime64(handle.attrs["start"]),
        slot_seconds=float(handle.attrs["slot_seconds"]),
        slots_per_bin=int(handle.attrs["slots_per_bin"]),
        frequencies=handle["frequencies"][()],
        stations=tuple(json.loads(handle.attrs["stations"])),
        settings=json.loads(handle.attrs["settings"]),
        sources=json.loads(handle.attrs["sources"]),
    )
