"""Catalog-based forecasts: many simulated catalogs per window (the CSEP standard).

A catalog forecast holds, for each window ``w`` of ``window_days`` days
starting at ``window_start[w]``, ``num_simulations`` synthetic catalogs of
events with magnitude >= ``mc`` (Savran et al. 2020, "Pseudoprospective
evaluation of UCERF3-ETAS forecasts during the 2019 Ridgecrest sequence",
BSSA 110(4)). CSEP's catalog-based tests (N, M, S and pseudo-likelihood) and
the event rates of a gridded forecast are computed from these catalogs.

The events of all windows and simulations are stored flat, one array per
column, each event tagged with its window and simulation index and its grid
cell (events off the grid are not stored). A simulation with no event in a
window is a valid (empty) catalog: ``num_simulations`` is kept explicitly so
that empty simulations count.
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
from framecast.quake.rates import RateForecast

_FORMAT = "framecast catalog forecast 1"
_MAGNITUDE_TOLERANCE = 1e-9  # magnitudes may sit at mc up to rounding


def _first_bad(bad: np.ndarray) -> int:
    return int(np.flatnonzero(bad)[0])


@dataclass(frozen=True, eq=False)
class CatalogForecast:
    """Simulated catalogs per forecast window, events located on a grid.

    Parameters
    ----------
    name : str
        Model name shown in reports ("ETAS (simulated)").
    grid : Grid
        The cells of ``cell``.
    window_start : numpy.ndarray
        ``datetime64[us]`` ``[W]``.
    window_days : float
        Window length in days.
    mc : float
        Magnitude of completeness: the catalogs hold events with M >= mc.
    b_value : float
        Gutenberg-Richter b of the model (kept for the gridded rates of
        :meth:`expected_rates`, the same meaning as in :class:`RateForecast`).
    num_simulations : int
        S, the number of simulated catalogs of every window.
    window : numpy.ndarray
        int64 ``[E]``: window index of each event, in ``[0, W)``.
    simulation : numpy.ndarray
        int64 ``[E]``: simulation index of each event, in ``[0, S)``.
    cell : numpy.ndarray
        int64 ``[E]``: flat cell index ``row * nx + col`` (row 0 south, col 0 west).
    magnitude : numpy.ndarray
        float64 ``[E]``, >= ``mc``.
    details : str
        How the forecast was made, for reports.
    generation : numpy.ndarray, optional
        int64 ``[E]``: 0 for the events whose expectation is known in closed
        form (background events and direct aftershocks of the observed
        history: the first-order forecast), k >= 1 for the k-th generation of
        aftershocks born inside the window. Needed by
        :meth:`expected_rates` with ``first_order``.

    Raises
    ------
    ValueError
        Columns of different lengths or not 1-D, indices out of range,
        magnitudes below ``mc`` or not finite, bad windows or settings.
    """

    name: str
    grid: Grid
    window_start: np.ndarray
    window_days: float
    mc: float
    b_value: float
    num_simulations: int
    window: np.ndarray
    simulation: np.ndarray
    cell: np.ndarray
    magnitude: np.ndarray
    details: str = ""
    generation: np.ndarray | None = None

    def __post_init__(self) -> None:
        starts = np.asarray(self.window_start, dtype=TIME_UNIT)
        object.__setattr__(self, "window_start", starts)
        if starts.ndim != 1 or not len(starts):
            raise ValueError(
                f"catalog forecast {self.name!r}: window_start must be a non-empty 1-D array, "
                f"got shape {starts.shape}"
            )
        if np.isnat(starts).any():
            raise ValueError(f"catalog forecast {self.name!r}: window_start contains NaT")
        days = self.window_days
        if isinstance(days, bool) or not isinstance(days, int | float | np.number):
            raise ValueError(f"window_days must be a number > 0, got {days!r}")
        if not (np.isfinite(days) and days > 0):
            raise ValueError(f"window_days must be a finite number > 0, got {days!r}")
        object.__setattr__(self, "window_days", float(days))
        if not np.isfinite(self.mc):
            raise ValueError(f"mc must be a finite number, got {self.mc!r}")
        if not (np.isfinite(self.b_value) and self.b_value > 0):
            raise ValueError(f"b_value must be a finite number > 0, got {self.b_value!r}")
        simulations = self.num_simulations
        if isinstance(simulations, bool) or not isinstance(simulations, int | np.integer):
            raise ValueError(f"num_simulations must be an integer, got {simulations!r}")
        if simulations < 1:
            raise ValueError(f"num_simulations must be >= 1, got {simulations}")
        object.__setattr__(self, "num_simulations", int(simulations))
        lengths = {}
        for column in ("window", "simulation", "cell", "magnitude"):
            raw = np.asarray(getattr(self, column))
            if column != "magnitude" and raw.size and raw.dtype.kind not in "iu":
                raise ValueError(
                    f"catalog forecast {self.name!r}: {column} must hold integers, got {raw.dtype}"
                )
            array = raw.astype(np.float64 if column == "magnitude" else np.int64)
            if array.ndim != 1:
                raise ValueError(
                    f"catalog forecast {self.name!r}: {column} must be 1-D, got shape {array.shape}"
                )
            object.__setattr__(self, column, array)
            lengths[column] = len(array)
        if len(set(lengths.values())) > 1:
            raise ValueError(f"catalog forecast {self.name!r}: columns differ in length: {lengths}")
        ny, nx = self.grid.shape
        for column, upper in (
            ("window", len(starts)),
            ("simulation", self.num_simulations),
            ("cell", ny * nx),
        ):
            values = getattr(self, column)
            bad = (values < 0) | (values >= upper)
            if bad.any():
                raise ValueError(
                    f"catalog forecast {self.name!r}: {column} index {values[_first_bad(bad)]} "
                    f"of event {_first_bad(bad)} is outside [0, {upper})"
                )
        bad = ~(self.magnitude >= self.mc - _MAGNITUDE_TOLERANCE)  # NaN is bad too
        if bad.any():
            row = _first_bad(bad)
            raise ValueError(
                f"catalog forecast {self.name!r}: magnitude {float(self.magnitude[row])!r} "
                f"of event {row} is not a number >= mc {self.mc}"
            )
        if np.isinf(self.magnitude).any():
            raise ValueError(f"catalog forecast {self.name!r}: magnitudes must be finite")
        if self.generation is not None:
            generation = np.asarray(self.generation)
            if generation.size and generation.dtype.kind not in "iu":
                raise ValueError(
                    f"catalog forecast {self.name!r}: generation must hold integers, "
                    f"got {generation.dtype}"
                )
            generation = generation.astype(np.int64)
            if generation.shape != self.magnitude.shape or (generation < 0).any():
                raise ValueError(
                    f"catalog forecast {self.name!r}: generation must be {len(self.magnitude)} "
                    f"integers >= 0, got shape {generation.shape}"
                )
            object.__setattr__(self, "generation", generation)

    # ------------------------------------------------------------------ counts
    @property
    def num_windows(self) -> int:
        return len(self.window_start)

    @property
    def num_events(self) -> int:
        """E, events stored over all windows and simulations."""
        return len(self.magnitude)

    def counts(self) -> np.ndarray:
        """int64 ``[W, S]``: number of events of each window's simulated catalogs."""
        flat = self.window * self.num_simulations + self.simulation  # [E]
        size = self.num_windows * self.num_simulations
        return np.bincount(flat, minlength=size).reshape(self.num_windows, self.num_simulations)

    def cell_counts(self, window: int) -> np.ndarray:
        """int64 ``[S, H·X]``: events per simulation and cell in one window."""
        if not 0 <= window < self.num_windows:
            raise ValueError(f"window {window} is outside [0, {self.num_windows})")
        cells = self.grid.shape[0] * self.grid.shape[1]
        rows = self.window == window  # [E]
        flat = self.simulation[rows] * cells + self.cell[rows]
        return np.bincount(flat, minlength=self.num_simulations * cells).reshape(
            self.num_simulations, cells
        )

    def expected_rates(self, first_order: RateForecast | None = None) -> RateForecast:
        """The gridded rate forecast: mean events per window and cell over the simulations.

        Without ``first_order``: ``rates[w, h, x] = (1/S) Σ_s N_{w,s}(h, x)``,
        the plain estimator of a catalog-based forecast's expected rates
        (Savran et al. 2020). It is zero in every cell no simulation reached,
        so one observed event there makes the Poisson log-likelihood -∞.

        With ``first_order`` (the closed-form expectation of the generation-0
        events: background plus direct aftershocks of the history, e.g.
        :func:`~framecast.quake.etas.forecast.etas_rate_forecast` of the same
        parameters, grid and windows): ``rates = first_order.rates + (1/S)
        Σ_s N^{(k>=1)}_{w,s}(h, x)``, the exact expectation of the first
        generation plus the simulated mean of the cascades inside the window.
        It is unbiased like the plain estimator (the expectation of a sum is
        the sum of expectations), has less Monte Carlo noise, and is positive
        wherever the background is (a conditional-expectation, or
        Rao-Blackwell, estimator).

        Raises
        ------
        ValueError
            ``first_order`` on other windows or another grid, or a forecast
            without ``generation``.
        """
        ny, nx = self.grid.shape
        rows = np.ones(self.num_events, bool)
        if first_order is not None:
            if self.generation is None:
                raise ValueError(
                    f"catalog forecast {self.name!r} has no event generations; "
                    "expected_rates(first_order=...) needs them"
                )
            if first_order.grid != self.grid or not np.array_equal(
                first_order.window_start, self.window_start
            ):
                raise ValueError(
                    f"first-order forecast {first_order.name!r} is on another grid or other "
                    f"windows than the catalog forecast {self.name!r}"
                )
            rows = self.generation >= 1  # [E] the cascades born inside the window
        flat = self.window[rows] * (ny * nx) + self.cell[rows]  # [E']
        totals = np.bincount(flat, minlength=self.num_windows * ny * nx)
        rates = totals.reshape(self.num_windows, ny, nx) / self.num_simulations  # [W, H, X]
        details = self.details
        if first_order is not None:
            rates = rates + first_order.rates
            details += "; rates: exact first-order expectation + simulated mean of the cascades"
        return RateForecast(
            name=self.name,
            rates=rates,
            window_start=self.window_start,
            window_days=float(self.window_days),
            grid=self.grid,
            mc=self.mc,
            b_value=self.b_value,
            details=details,
        )

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to HDF5 through a temporary file, so a crash leaves no half-written forecast."""
        path = Path(path)
        with atomic_write(path) as partial, h5py.File(partial, "w") as handle:
            for column in ("window", "simulation", "cell", "magnitude"):
                handle.create_dataset(column, data=getattr(self, column), compression="gzip")
            if self.generation is not None:
                handle.create_dataset("generation", data=self.generation, compression="gzip")
            handle.create_dataset(
                "window_start", data=self.window_start.astype(np.int64)
            )  # microseconds since 1970
            handle.attrs["name"] = self.name
            handle.attrs["window_days"] = float(self.window_days)
            handle.attrs["grid"] = json.dumps(self.grid.to_dict())
            handle.attrs["mc"] = float(self.mc)
            handle.attrs["b_value"] = float(self.b_value)
            handle.attrs["num_simulations"] = int(self.num_simulations)
            handle.attrs["details"] = self.details
            write_header(handle, _FORMAT)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CatalogForecast:
        """Read a forecast written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"catalog forecast file not found: {str(path)!r}")
        with h5py.File(path, "r") as handle:
            check_header(handle, path, _FORMAT, "framecast catalog forecast")
            return cls(
                name=str(handle.attrs["name"]),
                grid=Grid.from_dict(json.loads(handle.attrs["grid"])),
                window_start=handle["window_start"][()].astype(TIME_UNIT),
                window_days=float(handle.attrs["window_days"]),
                mc=float(handle.attrs["mc"]),
                b_value=float(handle.attrs["b_value"]),
                num_simulations=int(handle.attrs["num_simulations"]),
                window=handle["window"][()],
                simulation=handle["simulation"][()],
                cell=handle["cell"][()],
                magnitude=handle["magnitude"][()],
                details=str(handle.attrs.get("details", "")),
                generation=handle["generation"][()] if "generation" in handle else None,
            )
