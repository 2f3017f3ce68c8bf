"""Hand framecast forecasts and target events to pyCSEP, in memory or as CSEP ASCII files.

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
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from framecast.files import atomic_write
from framecast.quake.catalog.events import Catalog
from framecast.quake.rates import MAGNITUDE_BIN, RateForecast
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


def csep_region(forecast: RateForecast, *, max_magnitude: float = MAX_MAGNITUDE) -> Any:
    """pyCSEP ``CartesianGrid2D`` of the forecast's cells, with its magnitude bin edges.

    Raises
    ------
    ValueError
        A km grid.
    """
    from csep.core.regions import CartesianGrid2D

    edges, _ = magnitude_split(forecast, max_magnitude)  # [M]
    return CartesianGrid2D.from_origins(
        cell_origins(forecast), dh=forecast.grid.cell, magnitudes=edges, name=forecast.name
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
        loop over the cells).

    Returns
    -------
    csep.core.forecasts.GriddedForecast
        ``data`` ``[H*X, M]`` equal to ``forecast.by_magnitude()[0][window]``
        reshaped row-major; ``start_time`` and ``end_time`` the window's (naive UTC).

    Raises
    ------
    ValueError
        A km grid or a window out of range.
    """
    from csep.core.forecasts import GriddedForecast

    window = _check_window(forecast, window)
    _require_degrees(forecast)
    edges, fractions = magnitude_split(forecast, max_magnitude)  # [M]
    data = forecast.rates[window].reshape(-1)[:, None] * fractions  # [H*X, M]
    start, end = _window_times(forecast, window)
    return GriddedForecast(
        start_time=start,
        end_time=end,
        data=data,
        region=csep_region(forecast, max_magnitude=max_magnitude) if region is None else region,
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
) -> list[Path]:
    """Write one CSEP ASCII forecast file per window, readable by ``csep.load_gridded_forecast``.

    Rows: ``lon_min lon_max lat_min lat_max depth_min depth_max mag_min mag_max
    rate flag``, cells in framecast's row-major order (the order pyCSEP keeps),
    magnitude bins of 0.1 fastest (Gutenberg-Richter split as
    :meth:`RateForecast.by_magnitude`; the last bin, from ``max_magnitude``,
    is written up to magnitude 10), rates as shortest round-trip decimals and
    flag 1 (cell in the testing region). Files are named
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
    written = []
    for window in chosen:
        rates = (forecast.rates[window].reshape(-1)[:, None] * fractions).reshape(-1)  # [H*X*M]
        text = "\n".join(
            f"{prefix}{rate!r} 1" for prefix, rate in zip(prefixes, rates.tolist(), strict=True)
        )
        start = np.datetime_as_string(forecast.window_start[window], unit="D")
        path = directory / f"{_slug(forecast.name)}_w{window:04d}_{start}.dat"
        with atomic_write(path) as partial:
            partial.write_text(text + "\n")
        written.append(path)
    return written
