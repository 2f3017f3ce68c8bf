"""Hand framecast forecasts and target events to pyCSEP, in memory or as CSEP ASCII files,
and read external forecasts in that format back (:func:`import_csep`).

pyCSEP (``pip install 'framecast[quake]'``) describes a gridded forecast by a
``CartesianGrid2D`` of lon/lat cells plus magnitude bins, with the rates as a
``[cells, magnitude bins]`` array. One framecast window becomes one such
forecast: cells in framecast's row-major order (row 0 south, column 0 west,
so pyCSEP cell ``i`` is ``(row, column) = divmod(i, columns)``), magnitudes
split by Gutenberg-Richter exactly as :meth:`RateForecast.by_magnitude`.
Only degree grids map onto pyCSEP's lon/lat cells.

The CSEP ASCII format that ``csep.load_gridded_forecast`` reads (``.dat``,
read by ``GriddedForecast.load_ascii``) has one row per cell and magnitude bin,
magnitudes fastest, no header::

    lon_min lon_max lat_min lat_max depth_min depth_max mag_min mag_max rate flag

and pyCSEP keeps the file's cell order, so the rows follow the same order.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framecast.files import atomic_write
from framecast.quake.catalog.events import Catalog
from framecast.quake.grid import Grid
from framecast.quake.rates import MAGNITUDE_BIN, RateForecast, gutenberg_richter_fractions
from framecast.quake.scores.likelihood import MAX_MAGNITUDE, magnitude_split
from framecast.quake.scores.observed import ObservedEvents, check_observed, observed_from_catalog

ORIGIN_DECIMALS = 10
"""Cell origins are rounded to this many decimals of a degree, so pyCSEP sees 130.1, not
130.10000000000002 (its ``cleaner_range`` scales by the number of printed decimals)."""

LAST_MAGNITUDE_MAX = 10.0
"""Upper magnitude written for the open-ended last bin (the CSEP convention)."""


def _require_degrees(forecast: RateForecast) -> None:
    if forecast.grid.unit != "deg":
        raise ValueError(
            f"forecast {forecast.name!r} is on a {forecast.grid.cell:g} {forecast.grid.unit} "
            "grid; pyCSEP's CartesianGrid2D needs a lon/lat grid of square degree cells, so "
            "build the forecast on a grid with unit='deg' to score or export it with pyCSEP"
        )


def _check_window(forecast: RateForecast, window: int) -> int:
    if not 0 <= int(window) < forecast.num_windows:
        raise ValueError(
            f"window {window!r} is out of range; forecast {forecast.name!r} has windows "
            f"0 to {forecast.num_windows - 1}"
        )
    return int(window)


def cell_origins(forecast: RateForecast) -> np.ndarray:
    """float64 ``[H*X, 2]``: (lon, lat) of each cell's south-west corner, row-major."""
    _require_degrees(forecast)
    lat_edges, lon_edges = forecast.grid.edges()  # [H + 1], [X + 1]
    lat, lon = np.meshgrid(lat_edges[:-1], lon_edges[:-1], indexing="ij")  # [H, X]
    return np.round(np.column_stack((lon.reshape(-1), lat.reshape(-1))), ORIGIN_DECIMALS)


def testing_mask(forecast: RateForecast) -> np.ndarray:
    """bool ``[H, X]``: the cells of the testing region, those with a positive rate in some window.

    framecast's forecasts are positive in every cell of their testing region
    and exactly zero outside it (``framecast quake run`` masks every forecast
    with the region's polygon), so the region is read off the rates.
    """
    return (forecast.rates > 0).any(axis=0)  # [H, X]


def _check_mask(forecast: RateForecast, mask: np.ndarray | None) -> np.ndarray:
    """bool ``[H*X]``: the mask flattened row-major (all True when None)."""
    cells = forecast.grid.shape[0] * forecast.grid.shape[1]
    if mask is None:
        return np.ones(cells, bool)
    mask = np.asarray(mask)
    if mask.shape != forecast.grid.shape or mask.dtype != bool:
        raise ValueError(
            f"mask must be a boolean array of the grid's shape {forecast.grid.shape}, got "
            f"{mask.dtype} {mask.shape}"
        )
    if not mask.any():
        raise ValueError("mask holds no cell: the testing region would be empty")
    return mask.reshape(-1)


def csep_region(
    forecast: RateForecast,
    *,
    max_magnitude: float = MAX_MAGNITUDE,
    mask: np.ndarray | None = None,
) -> Any:
    """pyCSEP ``CartesianGrid2D`` of the forecast's cells, with its magnitude bin edges.

    With ``mask`` (bool ``[H, X]``, e.g. :func:`testing_mask` or
    ``QuakeExperiment.cell_mask()``), only the cells of the testing region:
    pyCSEP then bins no event and scores no rate outside it.

    Raises
    ------
    ValueError
        A km grid, or a mask of another shape or without cells.
    """
    from csep.core.regions import CartesianGrid2D

    inside = _check_mask(forecast, mask)  # [H*X]
    edges, _ = magnitude_split(forecast, max_magnitude)  # [M]
    return CartesianGrid2D.from_origins(
        cell_origins(forecast)[inside], dh=forecast.grid.cell, magnitudes=edges, name=forecast.name
    )


def _window_times(forecast: RateForecast, window: int) -> tuple[dt.datetime, dt.datetime]:
    start = forecast.window_start[window].astype("datetime64[us]").item()  # naive UTC
    return start, start + dt.timedelta(days=float(forecast.window_days))


def to_csep_forecast(
    forecast: RateForecast,
    window: int,
    *,
    max_magnitude: float = MAX_MAGNITUDE,
    region: Any | None = None,
    mask: np.ndarray | None = None,
) -> Any:
    """One window of a forecast as a pyCSEP ``GriddedForecast``.

    Parameters
    ----------
    forecast : RateForecast
        On a degree grid.
    window : int
    max_magnitude : float
        Left edge of the last, open-ended magnitude bin.
    region : csep.core.regions.CartesianGrid2D, optional
        Reuse a region from :func:`csep_region` (building one costs a Python
        loop over the cells); made with the same ``mask``.
    mask : numpy.ndarray, optional
        bool ``[H, X]``: the testing region's cells (see :func:`csep_region`).

    Returns
    -------
    csep.core.forecasts.GriddedForecast
        ``data`` ``[K, M]`` equal to ``forecast.by_magnitude()[0][window]``
        reshaped row-major, keeping the K cells of ``mask`` (all by
        default); ``start_time`` and ``end_time`` the window's (naive UTC).

    Raises
    ------
    ValueError
        A km grid or a window out of range.
    """
    from csep.core.forecasts import GriddedForecast

    window = _check_window(forecast, window)
    _require_degrees(forecast)
    inside = _check_mask(forecast, mask)  # [H*X]
    edges, fractions = magnitude_split(forecast, max_magnitude)  # [M]
    data = forecast.rates[window].reshape(-1)[inside, None] * fractions  # [K, M]
    start, end = _window_times(forecast, window)
    return GriddedForecast(
        start_time=start,
        end_time=end,
        data=data,
        region=(
            csep_region(forecast, max_magnitude=max_magnitude, mask=mask)
            if region is None
            else region
        ),
        magnitudes=edges,
        name=forecast.name,
    )


def to_csep_catalog(
    events: Catalog | ObservedEvents,
    forecast: RateForecast,
    window: int,
    *,
    max_magnitude: float = MAX_MAGNITUDE,
    region: Any | None = None,
) -> Any:
    """The target events of one forecast window as a pyCSEP ``CSEPCatalog``.

    A :class:`Catalog` is first binned with :func:`observed_from_catalog`.
    Each event is placed at the centre of its cell, so pyCSEP bins it into
    exactly the cell framecast did (points on a cell edge could otherwise fall
    on the other side under pyCSEP's rounding); magnitudes are kept. Origin
    times are the events' when known, else the window start; depths are NaN.

    Returns
    -------
    csep.core.catalogs.CSEPCatalog
        With ``region`` the forecast's (:func:`csep_region`), as pyCSEP's tests need.
    """
    from csep.core.catalogs import CSEPCatalog

    window = _check_window(forecast, window)
    _require_degrees(forecast)
    observed = observed_from_catalog(events, forecast) if isinstance(events, Catalog) else events
    check_observed(observed, forecast)
    chosen = observed.select(observed.window == window)
    latitude, longitude = forecast.grid.cell_centers()  # [H, X]
    if chosen.time is None:
        times = np.full(len(chosen), forecast.window_start[window])
    else:
        times = chosen.time
    data = np.zeros(len(chosen), dtype=CSEPCatalog.dtype)  # [n] structured
    data["id"] = np.arange(len(chosen)).astype("S")
    data["origin_time"] = times.astype("datetime64[ms]").astype(np.int64)  # epoch ms
    data["latitude"] = latitude[chosen.row, chosen.column]
    data["longitude"] = longitude[chosen.row, chosen.column]
    data["depth"] = np.nan
    data["magnitude"] = chosen.magnitude
    if region is None:
        region = csep_region(forecast, max_magnitude=max_magnitude)
    return CSEPCatalog(data=data, region=region, name=f"observed, window {window}")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "forecast"


def _row_prefixes(
    forecast: RateForecast, edges: np.ndarray, depth: tuple[float, float]
) -> list[str]:
    """The first eight columns of every row (cells row-major, magnitudes fastest)."""
    origins = cell_origins(forecast)  # [H*X, 2]
    cell = forecast.grid.cell
    upper = np.append(edges[1:], max(LAST_MAGNITUDE_MAX, edges[-1] + MAGNITUDE_BIN))  # [M]
    magnitudes = [
        f"{round(low, ORIGIN_DECIMALS)!r} {round(high, ORIGIN_DECIMALS)!r}"
        for low, high in zip(edges.tolist(), upper.tolist(), strict=True)
    ]
    depths = f"{float(depth[0])!r} {float(depth[1])!r}"
    prefixes = []
    for lon, lat in origins.tolist():
        corners = (
            f"{lon!r} {round(lon + cell, ORIGIN_DECIMALS)!r} "
            f"{lat!r} {round(lat + cell, ORIGIN_DECIMALS)!r} {depths}"
        )
        prefixes.extend(f"{corners} {magnitude} " for magnitude in magnitudes)
    return prefixes


def export_csep(
    forecast: RateForecast,
    directory: str | os.PathLike[str],
    *,
    windows: Sequence[int] | None = None,
    max_magnitude: float = MAX_MAGNITUDE,
    depth: tuple[float, float] = (0.0, 30.0),
    mask: np.ndarray | None = None,
) -> list[Path]:
    """Write one CSEP ASCII forecast file per window, readable by ``csep.load_gridded_forecast``.

    Rows: ``lon_min lon_max lat_min lat_max depth_min depth_max mag_min mag_max
    rate flag``, cells in framecast's row-major order (the order pyCSEP keeps),
    magnitude bins of 0.1 fastest (Gutenberg-Richter split as
    :meth:`RateForecast.by_magnitude`; the last bin, from ``max_magnitude``,
    is written up to magnitude 10), rates as shortest round-trip decimals and
    flag 1 for a cell of the testing region, 0 (rate 0) for a cell outside
    ``mask``. Files are named
    ``<name>_w<window>_<start date>.dat`` and written through a temporary name.

    A window of 2,500 cells and 56 magnitude bins is about 10 MB, so a long
    test period is large; ``windows`` selects a subset.

    Parameters
    ----------
    forecast : RateForecast
        On a degree grid.
    directory : path
        Created if missing.
    windows : sequence of int, optional
        Window indices to write; all by default.
    max_magnitude : float
    depth : (float, float)
        Depth range written for every cell, km (framecast forecasts have none).
    mask : numpy.ndarray, optional
        bool ``[H, X]``: the testing region's cells (e.g. :func:`testing_mask`);
        default every cell.

    Returns
    -------
    list of Path
        The files written, in window order given.

    Raises
    ------
    ValueError
        A km grid or a window out of range.
    """
    _require_degrees(forecast)
    chosen = range(forecast.num_windows) if windows is None else windows
    chosen = [_check_window(forecast, window) for window in chosen]
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    edges, fractions = magnitude_split(forecast, max_magnitude)  # [M]
    prefixes = _row_prefixes(forecast, edges, depth)  # [H*X*M]
    inside = np.repeat(_check_mask(forecast, mask), len(edges))  # [H*X*M]
    flags = np.where(inside, "1", "0").tolist()
    written = []
    for window in chosen:
        rates = (forecast.rates[window].reshape(-1)[:, None] * fractions).reshape(-1)  # [H*X*M]
        rates = np.where(inside, rates, 0.0)
        text = "\n".join(
            f"{prefix}{rate!r} {flag}"
            for prefix, rate, flag in zip(prefixes, rates.tolist(), flags, strict=True)
        )
        start = np.datetime_as_string(forecast.window_start[window], unit="D")
        path = directory / f"{_slug(forecast.name)}_w{window:04d}_{start}.dat"
        with atomic_write(path) as partial:
            partial.write_text(text + "\n")
        written.append(path)
    return written


CSEP_COLUMNS = 10
"""Columns of a CSEP ASCII gridded forecast: lon_min lon_max lat_min lat_max depth_min
depth_max mag_min mag_max rate flag."""

_EXPORT_NAME = re.compile(r"^(?P<name>.*)_w(?P<window>\d+)_(?P<date>\d{4}-\d{2}-\d{2})\.dat$")
_TOLERANCE = 1e-6  # degrees or magnitude units: the precision of printed CSEP files


@dataclass(frozen=True)
class _CsepFile:
    """One window's file mapped onto a grid: rates ``[H*X, M]`` and magnitude bin edges."""

    rates: np.ndarray
    edges: np.ndarray


def _read_csep_table(path: Path) -> np.ndarray:
    """float64 ``[rows, 10]`` of a CSEP ASCII file, refusing anything else in one line.

    Read with numpy, as ``GriddedForecast.load_ascii`` does internally;
    pyCSEP's reader itself is not used because it does not check the column
    count, duplicate or missing rows, and its region is built by a Python loop
    over the cells, while the strict cell-by-cell mapping onto a framecast grid
    below needs the raw columns anyway.
    """
    try:
        table = np.loadtxt(path, ndmin=2, dtype=np.float64)
    except ValueError as error:
        raise ValueError(f"{str(path)!r} is not a CSEP ASCII forecast table: {error}") from None
    if table.shape[0] == 0:
        raise ValueError(f"{str(path)!r} holds no forecast rows")
    if table.shape[1] != CSEP_COLUMNS:
        raise ValueError(
            f"{str(path)!r} has {table.shape[1]} columns; a CSEP ASCII gridded forecast has "
            f"{CSEP_COLUMNS} (lon_min lon_max lat_min lat_max depth_min depth_max mag_min "
            "mag_max rate flag)"
        )
    bad = ~np.isfinite(table[:, 8]) | (table[:, 8] < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{str(path)!r}: {int(bad.sum())} rates are negative or not finite "
            f"(first on line {row + 1}: {float(table[row, 8])!r}); rates must be finite and >= 0"
        )
    return table


def _grid_of_table(table: np.ndarray, path: Path) -> Grid:
    """The degree grid spanned by a CSEP table's cells (cell size from its first row)."""
    cell = float(table[0, 1] - table[0, 0])
    if not cell > 0:
        raise ValueError(f"{str(path)!r}: first cell has lon_max <= lon_min; not a CSEP table")
    return Grid(
        lat_min=float(table[:, 2].min()),
        lat_max=float(table[:, 3].max()),
        lon_min=float(table[:, 0].min()),
        lon_max=float(table[:, 1].max()),
        cell=round(cell, ORIGIN_DECIMALS),
        unit="deg",
    )


def _place_cells(table: np.ndarray, grid: Grid, path: Path) -> np.ndarray:
    """int64 ``[rows]``: the framecast cell ``row * X + column`` of every table row.

    Raises ValueError naming the mismatch: cell size, origin off the grid's
    lattice, or cells outside the grid's extent.
    """
    where = f"{str(path)!r}"
    cell = grid.cell
    width, height = table[:, 1] - table[:, 0], table[:, 3] - table[:, 2]  # [rows]
    wrong = (np.abs(width - cell) > _TOLERANCE) | (np.abs(height - cell) > _TOLERANCE)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise ValueError(
            f"{where}: cells are {width[i]:g} x {height[i]:g} deg (lon x lat); the grid's "
            f"cells are {cell:g} deg"
        )
    fx = (table[:, 0] - grid.lon_min) / cell  # [rows] column, fractional
    fy = (table[:, 2] - grid.lat_min) / cell  # [rows] row, fractional
    off = (np.abs(fx - np.round(fx)) * cell > _TOLERANCE) | (
        np.abs(fy - np.round(fy)) * cell > _TOLERANCE
    )
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise ValueError(
            f"{where}: cell origin lon {table[i, 0]:g}, lat {table[i, 2]:g} is not on the "
            f"grid's {cell:g} deg lattice from lon {grid.lon_min:g}, lat {grid.lat_min:g} "
            "(different origin)"
        )
    rows, cols = np.round(fy).astype(np.int64), np.round(fx).astype(np.int64)  # [rows]
    ny, nx = grid.shape
    outside = (rows < 0) | (rows >= ny) | (cols < 0) | (cols >= nx)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise ValueError(
            f"{where}: {len(np.unique(table[outside, :4], axis=0))} cells "
            f"({int(outside.sum())} rows) lie outside the grid's extent lat "
            f"{grid.lat_min:g}..{grid.lat_max:g}, lon {grid.lon_min:g}..{grid.lon_max:g} "
            f"(first: cell at lon {table[i, 0]:g}, lat {table[i, 2]:g})"
        )
    return rows * nx + cols


def _magnitude_bins(table: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(left edges ``[M]``, bin index ``[rows]``) of the table's regular magnitude bins."""
    edges = np.unique(np.round(table[:, 6], ORIGIN_DECIMALS))  # [M]
    if len(edges) > 1:
        steps = np.diff(edges)
        if np.abs(steps - steps[0]).max() > _TOLERANCE:
            raise ValueError(
                f"{str(path)!r}: magnitude bins are not evenly spaced ({edges.tolist()}); "
                "CSEP forecasts use regular bins"
            )
        index = np.round((table[:, 6] - edges[0]) / steps[0]).astype(np.int64)
    else:
        index = np.zeros(len(table), np.int64)
    return edges, index


def _read_csep_window(path: Path, grid: Grid, masked: str) -> _CsepFile:
    """One CSEP ASCII file as rates ``[H*X, M]`` on ``grid``, every cell and bin exactly once."""
    table = _read_csep_table(path)
    cells = _place_cells(table, grid, path)  # [rows]
    edges, bins = _magnitude_bins(table, path)  # [M], [rows]
    size, count = grid.shape[0] * grid.shape[1], len(edges)
    slots = np.bincount(cells * count + bins, minlength=size * count).reshape(size, count)
    lat_edges, lon_edges = grid.edges()

    def at(flat: int) -> str:
        row, col = divmod(flat, grid.shape[1])
        return f"lon {lon_edges[col]:g}, lat {lat_edges[row]:g}"

    absent = slots.sum(axis=1) == 0  # [H*X]
    if absent.any():
        raise ValueError(
            f"{str(path)!r}: missing cells: {int(absent.sum())} of the grid's {size} cells have "
            f"no rows (first at {at(int(np.flatnonzero(absent)[0]))})"
        )
    if (slots != 1).any():
        flat, k = (int(v[0]) for v in np.nonzero(slots != 1))
        raise ValueError(
            f"{str(path)!r}: the cell at {at(flat)} has {slots[flat, k]} rows for magnitude "
            f"bin {edges[k]:g}; expected exactly one per cell and bin (one depth layer)"
        )
    rates = np.zeros((size, count))  # [H*X, M]
    rates[cells, bins] = table[:, 8]
    flags = np.zeros((size, count))  # [H*X, M]
    flags[cells, bins] = table[:, 9]
    is_masked = flags == 0  # [H*X, M]
    if is_masked.any():
        if (is_masked != is_masked[:, :1]).any():
            flat = int(np.flatnonzero((is_masked != is_masked[:, :1]).any(axis=1))[0])
            raise ValueError(f"{str(path)!r}: the cell at {at(flat)} is masked in some bins only")
        if masked == "error":
            flat = int(np.flatnonzero(is_masked[:, 0])[0])
            raise ValueError(
                f"{str(path)!r}: {int(is_masked[:, 0].sum())} cells are masked (flag 0, first "
                f"at {at(flat)}); framecast scores every cell, so pass masked='zero' to give "
                "them zero rate"
            )
        rates[is_masked] = 0.0
    return _CsepFile(rates=rates, edges=edges)


def binned_gutenberg_richter_b(totals: np.ndarray, width: float) -> float:
    """Maximum-likelihood b of counts in magnitude bins of ``width``, the last open-ended.

    Gutenberg-Richter magnitudes binned from the first edge are geometric in
    the bin index ``k`` with ``p = 10^(-b width)``; with the last bin ``K-1``
    holding the whole tail, the likelihood
    ``sum_{k<K-1} n_k (k log p + log(1 - p)) + n_{K-1} (K-1) log p`` is
    maximal at ``p = S / (S + N - n_{K-1})``, ``S = sum_k k n_k``
    (the binned estimator of Tinti & Mulargia 1987, BSSA 77(6), with the
    tail bin censored). Expected counts of an exact GR forecast give its b.

    Raises
    ------
    ValueError
        Fewer than two bins, or no counts above the first bin.
    """
    counts = np.asarray(totals, np.float64)  # [K]
    if len(counts) < 2:
        raise ValueError(f"need at least 2 magnitude bins to estimate b, got {len(counts)}")
    s = float((np.arange(len(counts)) * counts).sum())
    uncensored = float(counts.sum() - counts[-1])
    if not (s > 0 and uncensored > 0):
        raise ValueError("the magnitude bins hold no counts to estimate b from")
    return -math.log10(s / (s + uncensored)) / width


def _parse_names(paths: list[Path]) -> list[re.Match[str] | None]:
    return [_EXPORT_NAME.match(path.name) for path in paths]


def _csep_paths(
    paths_or_folder: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[Path]:
    if isinstance(paths_or_folder, str | os.PathLike):
        source = Path(paths_or_folder)
        if source.is_dir():
            paths = sorted(source.glob("*.dat"))
            if not paths:
                raise ValueError(f"no .dat forecast files in folder {str(source)!r}")
            return paths
        paths = [source]
    else:
        paths = [Path(path) for path in paths_or_folder]
    if not paths:
        raise ValueError("no forecast files given")
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"forecast file(s) not found: {missing}")
    return paths


def import_csep(
    paths_or_folder: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    like: RateForecast | None = None,
    grid: Grid | None = None,
    window_start: np.ndarray | None = None,
    window_days: float | None = None,
    mc: float | None = None,
    name: str | None = None,
    b_value: float | None = None,
    masked: str = "error",
) -> RateForecast:
    """Read an external gridded forecast in pyCSEP's ASCII format, one ``.dat`` file per window.

    The inverse of :func:`export_csep`. Each file's rows are mapped cell by
    cell onto the framecast grid, which they must fill exactly (same cell
    size and lattice origin, nothing outside, no cell or magnitude bin
    missing or repeated); depth columns are ignored. The rates of the
    magnitude bins from ``mc`` up are summed per cell; the magnitude
    distribution kept is one Gutenberg-Richter b for the whole forecast:
    the binned maximum-likelihood b (:func:`binned_gutenberg_richter_b`) of
    the bin totals over all cells and windows, which is exact when the file
    was split by Gutenberg-Richter (as :func:`export_csep` writes); when the
    bins deviate from Gutenberg-Richter (or differ between cells) ``details``
    says by how much.

    Parameters
    ----------
    paths_or_folder : path or sequence of paths
        A folder (every ``*.dat`` in it), one file, or files in window order.
    like : RateForecast, optional
        The forecast to compare with: its grid, windows, window length and
        mc are required of the files (names from :func:`export_csep` must
        carry its window indices and start dates).
    grid : Grid, optional
        Without ``like``: the degree grid; None infers it from the files' cells.
    window_start : numpy.ndarray, optional
        Without ``like``: ``datetime64`` ``[W]`` window starts; None reads
        them from file names ``<name>_w<window>_<YYYY-MM-DD>.dat``.
    window_days : float, optional
        Without ``like``: None takes the (constant, whole-day) spacing of the starts.
    mc : float, optional
        Without ``like``: the lowest magnitude bin edge kept; None keeps all bins.
    name : str, optional
        Model name; None takes it from the file names (or the folder).
    b_value : float, optional
        Overrides the estimated b (needed when the file has a single magnitude bin).
    masked : {"error", "zero"}
        Cells with flag 0 (outside the forecast's testing region): refused,
        or given zero rate.

    Returns
    -------
    RateForecast

    Raises
    ------
    ValueError
        In one line: a wrong column count, negative or NaN rates, cells that
        do not fill the grid exactly, windows other than ``like``'s (or than
        ``window_start``), files with different magnitude bins, an ``mc`` that
        is not a bin edge of the file, masked cells with ``masked="error"``.
    FileNotFoundError
        A file or folder that does not exist.
    """
    if masked not in ("error", "zero"):
        raise ValueError(f"masked must be 'error' or 'zero', got {masked!r}")
    paths = _csep_paths(paths_or_folder)
    matches = _parse_names(paths)
    if all(matches):
        order = np.argsort([int(match["window"]) for match in matches], kind="stable")
        paths, matches = [paths[i] for i in order], [matches[i] for i in order]
    dates = (
        np.array([match["date"] for match in matches], dtype="datetime64[D]")
        if all(matches)
        else None
    )
    if like is not None:
        _require_degrees(like)
        if grid is not None and grid != like.grid:
            raise ValueError(f"grid {grid} differs from the grid of {like.name!r}, {like.grid}")
        grid, mc, window_days = like.grid, like.mc, like.window_days
        if len(paths) != like.num_windows:
            raise ValueError(
                f"{len(paths)} forecast files for the {like.num_windows} windows of {like.name!r}"
            )
        if dates is not None:
            indices = [int(match["window"]) for match in matches]
            expected = like.window_start.astype("datetime64[D]")
            if indices != list(range(like.num_windows)) or (dates != expected).any():
                bad = next(
                    i for i in range(len(paths)) if indices[i] != i or dates[i] != expected[i]
                )
                raise ValueError(
                    f"{str(paths[bad])!r} is window {indices[bad]} starting {dates[bad]}; "
                    f"{like.name!r} has window {bad} starting {expected[bad]}"
                )
        window_start = like.window_start
    elif window_start is not None:
        window_start = np.asarray(window_start, dtype="datetime64[us]")
        if len(window_start) != len(paths):
            raise ValueError(f"{len(window_start)} window starts for {len(paths)} forecast files")
        if dates is not None and (window_start.astype("datetime64[D]") != dates).any():
            raise ValueError(
                f"window starts {window_start.astype('datetime64[D]').tolist()} disagree with "
                f"the file names' dates {dates.tolist()}"
            )
    elif dates is not None:
        window_start = dates.astype("datetime64[us]")
    else:
        raise ValueError(
            f"cannot tell the windows from file names like {paths[0].name!r} (not "
            "<name>_w<window>_<YYYY-MM-DD>.dat); give window_start or like"
        )
    if grid is None:
        grid = _grid_of_table(_read_csep_table(paths[0]), paths[0])
    if grid.unit != "deg":
        raise ValueError(f"CSEP files hold lon/lat cells; the grid has {grid.unit} cells")
    if window_days is None:
        steps = np.unique(np.diff(window_start.astype("datetime64[D]")).astype(np.int64))
        if len(steps) != 1 or steps[0] <= 0:
            raise ValueError(
                "cannot tell the window length from the window starts "
                f"{window_start.astype('datetime64[D]').tolist()}; give window_days"
            )
        window_days = float(steps[0])
    windows = [_read_csep_window(path, grid, masked) for path in paths]
    edges = windows[0].edges  # [M]
    for path, window in zip(paths, windows, strict=True):
        if len(window.edges) != len(edges) or np.abs(window.edges - edges).max() > _TOLERANCE:
            raise ValueError(
                f"{str(path)!r} has magnitude bins {window.edges.tolist()}; "
                f"{str(paths[0])!r} has {edges.tolist()}"
            )
    if mc is None:
        mc = float(edges[0])
    keep = edges >= mc - _TOLERANCE  # [M]
    if not keep.any() or abs(edges[keep][0] - mc) > _TOLERANCE:
        raise ValueError(
            f"mc {mc:g} is not a magnitude bin edge of the files (bins from {edges[0]:g} "
            f"to {edges[-1]:g} by {np.diff(edges[:2]).tolist() or 'one bin'})"
        )
    by_bin = np.stack([window.rates[:, keep] for window in windows])  # [W, H*X, M']
    rates = by_bin.sum(axis=2).reshape(len(windows), *grid.shape)  # [W, H, X]
    totals = by_bin.sum(axis=(0, 1))  # [M']
    note = ""
    if b_value is None:
        fallback = 1.0 if like is None else like.b_value
        try:
            width = float(edges[1] - edges[0]) if len(edges) > 1 else 0.0
            b_value = binned_gutenberg_richter_b(totals, width)
        except ValueError as error:
            b_value, note = fallback, f"; b {fallback:g} assumed ({error})"
        else:
            fitted = gutenberg_richter_fractions(edges[keep], b_value)  # [M']
            deviation = float(np.abs(totals / totals.sum() - fitted).max())
            note = (
                f"; b {b_value:.4g} fitted to the magnitude bins"
                if deviation < 1e-9
                else f"; b {b_value:.4g} fitted to magnitude bins that deviate from "
                f"Gutenberg-Richter by up to {deviation:.2g} of the total"
            )
    if name is None:
        stems = {match["name"] for match in matches if match is not None}
        name = stems.pop() if len(stems) == 1 else paths[0].parent.name or paths[0].stem
    return RateForecast(
        name=name,
        rates=rates,
        window_start=window_start,
        window_days=float(window_days),
        grid=grid,
        mc=float(mc),
        b_value=float(b_value),
        details=(
            f"imported from {len(paths)} CSEP ASCII file(s) in {str(paths[0].parent)!r}: "
            f"{len(edges[keep])} magnitude bins from {mc:g} summed per cell{note}"
        ),
    )
