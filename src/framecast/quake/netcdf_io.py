"""Rate forecasts as CF-convention NetCDF files, for GIS, xarray and pySTEPS users.

:func:`export_netcdf` writes a :class:`~framecast.quake.rates.RateForecast`
through xarray (h5netcdf engine, NetCDF-4) following the CF conventions
1.8, and :func:`read_netcdf` reads such a file back exactly. The layout:

- dimensions ``(time, lat, lon)`` on a degree grid, with 1-D ``lat``/``lon``
  cell centres (``degrees_north``/``degrees_east``) and their cell bounds
  ``lat_bnds``/``lon_bnds``; on a km grid ``(time, y, x)``, with ``y``/``x``
  cell centres in km in the grid's local equirectangular projection about
  the box centre, their bounds, and 2-D ``lat``/``lon`` auxiliary
  coordinates of the cell centres (CF section 5.2);
- ``time``: the window start, int64 microseconds since 1970 (exact), with
  ``time_bnds`` = [window start, window end];
- ``expected_events``: float64 expected number of events with M >= mc in
  each cell and window (units "1", ``cell_methods = "time: sum area: sum"``);
- global attributes: ``Conventions = "CF-1.8"``, title, history, the
  forecast's name, mc, b_value, window_days, details, and the grid (box,
  cell size and unit) it was made on.

xarray decodes ``time`` to ``datetime64[ns]`` by default, which ends at the
years 1678 and 2262; for a historical catalog open the file with
``xarray.open_dataset(path, decode_times=xarray.coders.CFDatetimeCoder(time_unit="us"))``.
Rates are the one quantity stored; a reader that wants magnitude bins
splits them by Gutenberg-Richter with ``b_value`` (as
:meth:`RateForecast.by_magnitude` does).

Needs ``pip install 'framecast[quake]'`` (xarray and h5netcdf).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np

from framecast.files import atomic_write
from framecast.quake.catalog.events import TIME_UNIT
from framecast.quake.grid import Grid
from framecast.quake.rates import RateForecast

FORMAT = "framecast rate forecast netcdf 1"
"""Value of the ``framecast_format`` global attribute that :func:`read_netcdf` requires."""

TIME_UNITS = "microseconds since 1970-01-01 00:00:00"
CALENDAR = "proleptic_gregorian"  # numpy's datetime64 calendar
MICROSECONDS_PER_DAY = 86_400_000_000
GRID_FIELDS = ("lat_min", "lat_max", "lon_min", "lon_max")


def _xarray() -> Any:
    """xarray, with the h5netcdf engine available, or a clear ImportError."""
    try:
        import h5netcdf  # noqa: F401  (the engine xarray writes with)
        import xarray
    except ImportError as error:
        raise ImportError(
            "NetCDF export uses xarray and h5netcdf; install them with "
            "`pip install 'framecast[quake]'` (or `pip install xarray h5netcdf`)"
        ) from error
    return xarray


def _axis(
    name: str, values: np.ndarray, edges: np.ndarray, attrs: dict[str, str]
) -> dict[str, Any]:
    """A 1-D coordinate and its CF bounds variable, as xarray ``(dims, data, attrs)`` specs."""
    bounds = np.column_stack((edges[:-1], edges[1:]))  # [n, 2]
    return {
        name: ((name,), values, {**attrs, "bounds": f"{name}_bnds"}),
        f"{name}_bnds": ((name, "nv"), bounds, {}),
    }


def to_dataset(forecast: RateForecast) -> Any:
    """The forecast as a CF-convention ``xarray.Dataset`` (see the module docstring)."""
    xr = _xarray()
    grid = forecast.grid
    lat_centres, lon_centres = grid.cell_centers()  # [H, X] each
    y_edges, x_edges = grid.edges()  # [H + 1], [X + 1]
    if grid.unit == "deg":
        dims = ("time", "lat", "lon")
        coords = {
            **_axis(
                "lat",
                lat_centres[:, 0],
                y_edges,
                {"standard_name": "latitude", "long_name": "latitude of the cell centre",
                 "units": "degrees_north", "axis": "Y"},
            ),
            **_axis(
                "lon",
                lon_centres[0, :],
                x_edges,
                {"standard_name": "longitude", "long_name": "longitude of the cell centre",
                 "units": "degrees_east", "axis": "X"},
            ),
        }  # fmt: skip
    else:
        dims = ("time", "y", "x")
        projection = (
            f"local equirectangular projection about ({grid.center[0]:g} N, {grid.center[1]:g} E)"
        )
        coords = {
            **_axis(
                "y",
                0.5 * (y_edges[:-1] + y_edges[1:]),
                y_edges,
                {"standard_name": "projection_y_coordinate", "units": "km", "axis": "Y",
                 "long_name": f"northing of the cell centre in the {projection}"},
            ),
            **_axis(
                "x",
                0.5 * (x_edges[:-1] + x_edges[1:]),
                x_edges,
                {"standard_name": "projection_x_coordinate", "units": "km", "axis": "X",
                 "long_name": f"easting of the cell centre in the {projection}"},
            ),
            "lat": (("y", "x"), lat_centres, {"standard_name": "latitude",
                    "long_name": "latitude of the cell centre", "units": "degrees_north"}),
            "lon": (("y", "x"), lon_centres, {"standard_name": "longitude",
                    "long_name": "longitude of the cell centre", "units": "degrees_east"}),
        }  # fmt: skip
    starts = forecast.window_start.astype(TIME_UNIT)  # [W]
    span = np.timedelta64(round(forecast.window_days * MICROSECONDS_PER_DAY), "us")
    coords["time"] = (
        ("time",),
        starts,
        {"standard_name": "time", "long_name": "start of the forecast window", "axis": "T",
         "bounds": "time_bnds"},
    )  # fmt: skip
    coords["time_bnds"] = (("time", "nv"), np.column_stack((starts, starts + span)), {})
    data = (
        dims,
        forecast.rates,
        {
            "long_name": f"expected number of earthquakes with magnitude >= {forecast.mc:g} "
            "in the cell during the window",
            "units": "1",
            "cell_methods": "time: sum area: sum",
        },
    )  # on a km grid, xarray writes coordinates = "lat lon" (the 2-D auxiliary coordinates)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    from framecast import __version__

    attrs: dict[str, Any] = {
        "Conventions": "CF-1.8",
        "title": f"earthquake rate forecast {forecast.name!r}",
        "source": f"framecast {__version__}",
        "history": f"{now}: written by framecast {__version__} (framecast.quake.netcdf_io)",
        "comment": "expected_events is a Poisson rate: the expected count of events with "
        "magnitude >= mc per cell and window; magnitudes follow Gutenberg-Richter with b_value",
        "framecast_format": FORMAT,
        "forecast_name": forecast.name,
        "mc": float(forecast.mc),
        "b_value": float(forecast.b_value),
        "window_days": float(forecast.window_days),
        "details": forecast.details,
        **{f"grid_{field}": float(getattr(grid, field)) for field in GRID_FIELDS},
        "grid_cell_size": float(grid.cell),
        "grid_cell_unit": grid.unit,
    }
    dataset = xr.Dataset({"expected_events": data}, coords=coords, attrs=attrs)
    # time_bnds and the lat/lon/x/y bounds are data variables in CF, not coordinates
    return dataset.reset_coords([name for name in dataset.coords if name.endswith("_bnds")])


def _encoding(dataset: Any) -> dict[str, dict[str, Any]]:
    """No fill values (nothing is missing); exact int64 microsecond times; compressed rates."""
    encoding: dict[str, dict[str, Any]] = {
        name: {"_FillValue": None} for name in [*dataset.coords, *dataset.data_vars]
    }
    for name in ("time", "time_bnds"):
        encoding[name].update(units=TIME_UNITS, calendar=CALENDAR, dtype="int64")
    encoding["expected_events"].update(zlib=True, complevel=4)
    return encoding


def export_netcdf(forecast: RateForecast, path: str | os.PathLike[str]) -> Path:
    """Write ``forecast`` to a CF-1.8 NetCDF-4 file, atomically.

    Parameters
    ----------
    forecast : RateForecast
        The forecast; any grid (degree or km) and any number of windows.
    path : str or os.PathLike
        The file to write (``.nc``); its folder is created if missing.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        ``path`` cannot be written (permission denied, a folder, disk full).
    ImportError
        xarray or h5netcdf is missing.

    Examples
    --------
    >>> export_netcdf(forecast, "forecast.nc")  # doctest: +SKIP
    >>> xarray.open_dataset("forecast.nc").expected_events.isel(time=0).plot()  # doctest: +SKIP
    """
    path = Path(path)
    dataset = to_dataset(forecast)
    if path.is_dir():
        raise ValueError(f"cannot write the NetCDF forecast to {str(path)!r}: it is a folder")
    try:
        with atomic_write(path) as partial:
            dataset.to_netcdf(partial, engine="h5netcdf", encoding=_encoding(dataset))
    except PermissionError:
        raise ValueError(f"cannot write to {str(path)!r}: permission denied") from None
    except OSError as error:
        raise ValueError(f"cannot write to {str(path)!r}: {error.strerror or error}") from None
    return path


def _attribute(dataset: Any, name: str, path: Path) -> Any:
    if name not in dataset.attrs:
        raise ValueError(f"{str(path)!r} has no global attribute {name!r}")
    return dataset.attrs[name]


def read_netcdf(path: str | os.PathLike[str]) -> RateForecast:
    """Read a forecast written by :func:`export_netcdf`; the round trip is exact.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a NetCDF file written by :func:`export_netcdf`, or values that
        disagree with the stored grid.
    """
    xr = _xarray()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"NetCDF forecast not found: {str(path)!r}")
    try:
        # times decoded here, not by xarray: int64 microseconds are exact at any date
        dataset = xr.load_dataset(path, engine="h5netcdf", decode_times=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"{str(path)!r} is not a readable NetCDF-4 file: {error}") from None
    if dataset.attrs.get("framecast_format") != FORMAT:
        raise ValueError(
            f"{str(path)!r} is not a framecast NetCDF forecast (no framecast_format "
            f"attribute {FORMAT!r})"
        )
    if "expected_events" not in dataset or "time" not in dataset:
        raise ValueError(f"{str(path)!r} has no variable 'expected_events' or 'time'")
    units = dataset["time"].attrs.get("units", "")
    if dataset["time"].dtype != np.int64 or units.split()[:3] != TIME_UNITS.split()[:3]:
        raise ValueError(
            f"{str(path)!r}: time must be int64 {TIME_UNITS!r}, got "
            f"{dataset['time'].dtype} {units!r}"
        )
    grid = Grid(
        *(float(_attribute(dataset, f"grid_{field}", path)) for field in GRID_FIELDS),
        cell=float(_attribute(dataset, "grid_cell_size", path)),
        unit=str(_attribute(dataset, "grid_cell_unit", path)),
    )
    return RateForecast(
        name=str(_attribute(dataset, "forecast_name", path)),
        rates=dataset["expected_events"].values,
        window_start=dataset["time"].values.astype(TIME_UNIT),  # microseconds since 1970
        window_days=float(_attribute(dataset, "window_days", path)),
        grid=grid,
        mc=float(_attribute(dataset, "mc", path)),
        b_value=float(_attribute(dataset, "b_value", path)),
        details=str(dataset.attrs.get("details", "")),
    )
