"""Gridded Poisson rate forecasts: the one format every forecaster writes and every score reads.

A forecast holds, for each window ``w`` of ``window_days`` days starting at
``window_start[w]``, the expected number of events with magnitude >= ``mc``
in each grid cell. Magnitudes within a cell follow Gutenberg-Richter with
``b_value`` (the usual CSEP convention when a model forecasts no magnitude
distribution of its own), which :meth:`RateForecast.by_magnitude` uses to
split rates into magnitude bins.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from framecast.files import atomic_write
from framecast.h5header import check_header, write_header
from framecast.quake.catalog.events import TIME_UNIT
from framecast.quake.grid import Grid

FORMAT = "framecast rate forecast 1"
"""The header of a rate forecast file (:mod:`framecast.h5header`)."""

MAGNITUDE_BIN = 0.1
"""Width of the magnitude bins of the M-test (CSEP's default)."""


def magnitude_edges(
    mc: float, max_magnitude: float = 8.0, width: float = MAGNITUDE_BIN
) -> np.ndarray:
    """Left edges of the magnitude bins ``mc, mc + width, ...``; the last bin is open-ended."""
    count = round((max_magnitude - mc) / width) + 1
    return mc + width * np.arange(max(count, 1))


def gutenberg_richter_fractions(edges: np.ndarray, b_value: float) -> np.ndarray:
    """Fraction of events with M >= edges[0] falling in each bin (last bin open-ended).

    Gutenberg-Richter: P(M >= m) = 10^(-b (m - edges[0])).
    """
    survival = 10.0 ** (-b_value * (np.asarray(edges, np.float64) - edges[0]))  # [M]
    return survival - np.append(survival[1:], 0.0)


@dataclass(frozen=True)
class RateForecast:
    """Expected event counts per window and cell.

    Parameters
    ----------
    name : str
        Model name shown in reports ("convlstm", "poisson reference", "ETAS").
    rates : numpy.ndarray
        float64 ``[W, H, X]``: expected number of events with M >= mc.
    window_start : numpy.ndarray
        ``datetime64[us]`` ``[W]``.
    window_days : float
        Window length in days.
    grid : Grid
        The cells of the last two axes.
    mc : float
        Magnitude of completeness: the forecast covers M >= mc.
    b_value : float
        Gutenberg-Richter b of the magnitude split.
    details : str
        How the forecast was made (fitted values, settings), for reports.

    Raises
    ------
    ValueError
        Shapes that disagree with the grid or the windows, or negative or
        non-finite rates.
    """

    name: str
    rates: np.ndarray
    window_start: np.ndarray
    window_days: float
    grid: Grid
    mc: float
    b_value: float = 1.0
    details: str = ""

    def __post_init__(self) -> None:
        rates = np.asarray(self.rates, dtype=np.float64)
        starts = np.asarray(self.window_start, dtype=TIME_UNIT)
        object.__setattr__(self, "rates", rates)
        object.__setattr__(self, "window_start", starts)
        if rates.ndim != 3 or rates.shape[1:] != self.grid.shape:
            raise ValueError(
                f"forecast {self.name!r}: rates have shape {rates.shape}; expected "
                f"[windows, {self.grid.shape[0]}, {self.grid.shape[1]}] for its grid"
            )
        if len(starts) != rates.shape[0]:
            raise ValueError(
                f"forecast {self.name!r}: {len(starts)} window starts for {rates.shape[0]} windows"
            )
        if not np.isfinite(rates).all() or (rates < 0).any():
            raise ValueError(f"forecast {self.name!r}: rates must be finite and >= 0")
        if not self.window_days > 0:
            raise ValueError(f"window_days must be > 0, got {self.window_days!r}")

    @property
    def num_windows(self) -> int:
        return int(self.rates.shape[0])

    def by_magnitude(self, max_magnitude: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
        """(rates ``[W, H, X, M]``, bin left edges ``[M]``) split by Gutenberg-Richter."""
        edges = magnitude_edges(self.mc, max_magnitude)
        fractions = gutenberg_richter_fractions(edges, self.b_value)  # [M]
        return self.rates[..., None] * fractions, edges

    def above(self, magnitude: float) -> np.ndarray:
        """float64 ``[W, H, X]``: expected counts of events with M >= ``magnitude``."""
        if magnitude < self.mc:
            raise ValueError(f"magnitude {magnitude} is below the forecast's mc {self.mc}")
        return self.rates * 10.0 ** (-self.b_value * (magnitude - self.mc))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to HDF5 through a temporary file, so a crash leaves no half-written forecast."""
        path = Path(path)
        with atomic_write(path) as partial, h5py.File(partial, "w") as handle:
            handle.create_dataset("rates", data=self.rates, compression="gzip")
            handle.create_dataset(
                "window_start", data=self.window_start.astype(np.int64)
            )  # microseconds since 1970
            handle.attrs["name"] = self.name
            handle.attrs["window_days"] = float(self.window_days)
            handle.attrs["grid"] = json.dumps(self.grid.to_dict())
            handle.attrs["mc"] = float(self.mc)
            handle.attrs["b_value"] = float(self.b_value)
            handle.attrs["details"] = self.details
            write_header(handle, FORMAT)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RateForecast:
        """Read a forecast written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            No file at ``path``.
        ValueError
            Not a framecast rate forecast, or a damaged one (truncated, not
            HDF5, a part missing): one line naming the file.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"forecast file not found: {str(path)!r}")
        try:
            with h5py.File(path, "r") as handle:
                check_header(handle, path, FORMAT, "framecast rate forecast")
                return cls(
                    name=str(handle.attrs["name"]),
                    rates=handle["rates"][()],
                    window_start=handle["window_start"][()].astype(TIME_UNIT),
                    window_days=float(handle.attrs["window_days"]),
                    grid=Grid.from_dict(json.loads(handle.attrs["grid"])),
                    mc=float(handle.attrs["mc"]),
                    b_value=float(handle.attrs["b_value"]),
                    details=str(handle.attrs.get("details", "")),
                )
        except PermissionError:
            raise
        except (OSError, KeyError) as error:
            reason = " ".join(str(error).split())
            raise ValueError(
                f"forecast file {str(path)!r} cannot be read (truncated or damaged? {reason}); "
                "write it again"
            ) from None
