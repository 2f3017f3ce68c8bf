"""Rate forecasts as CF NetCDF: exact round trip, CF layout, `quake export --format netcdf`."""

from __future__ import annotations

import errno
import os

import h5py
import numpy as np
import pytest
import xarray as xr

from framecast.cli import main
from framecast.quake.grid import Grid
from framecast.quake.netcdf_io import export_netcdf, read_netcdf
from framecast.quake.rates import RateForecast

STARTS = np.array(
    ["2019-12-31T23:59:59.999999", "2020-01-31", "2020-03-01T12:34:56.789012"],
    dtype="datetime64[us]",
)
HISTORICAL = np.array(["1600-01-01T00:00:00.000001", "1600-01-31"], dtype="datetime64[us]")


def _forecast(unit: str = "deg", starts: np.ndarray = STARTS) -> RateForecast:
    cell = 0.5 if unit == "deg" else 25.0
    grid = Grid(32.0, 34.0, -117.5, -115.0, cell, unit)
    rates = np.random.default_rng(1).gamma(0.5, 1e-3, (len(starts), *grid.shape))
    rates[0, 0, 0] = 0.0
    return RateForecast(
        "convlstm é", rates, starts, 30.25, grid, mc=2.45, b_value=0.97, details="fit\nline 2"
    )


def _assert_same(a: RateForecast, b: RateForecast) -> None:
    assert np.array_equal(a.rates, b.rates) and a.rates.dtype == b.rates.dtype
    assert np.array_equal(a.window_start, b.window_start)
    assert a.window_start.dtype == b.window_start.dtype
    for name in ("name", "window_days", "grid", "mc", "b_value", "details"):
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.parametrize(("unit", "starts"), [("deg", STARTS), ("km", HISTORICAL)])
def test_round_trip_is_exact(tmp_path, unit, starts):
    forecast = _forecast(unit, starts)  # microseconds, and dates outside datetime64[ns]
    path = export_netcdf(forecast, tmp_path / "sub" / "f.nc")
    assert path == tmp_path / "sub" / "f.nc"
    _assert_same(read_netcdf(path), forecast)
    assert sorted(os.listdir(path.parent)) == ["f.nc"]  # no .partial left


def test_degree_grid_follows_cf(tmp_path):
    forecast = _forecast("deg")
    with xr.open_dataset(export_netcdf(forecast, tmp_path / "f.nc")) as ds:
        events = ds["expected_events"]
        assert events.dims == ("time", "lat", "lon")
        assert events.attrs["units"] == "1" and "magnitude >= 2.45" in events.attrs["long_name"]
        assert events.encoding.get("_FillValue") is None
        np.testing.assert_array_equal(events.values, forecast.rates)
        lat, lon = forecast.grid.cell_centers()
        np.testing.assert_array_equal(ds["lat"].values, lat[:, 0])
        np.testing.assert_array_equal(ds["lon"].values, lon[0])
        assert ds["lat"].attrs["units"] == "degrees_north"
        assert ds["lon"].attrs["standard_name"] == "longitude"
        np.testing.assert_array_equal(ds["lat_bnds"].values[0], [32.0, 32.5])
        assert ds["time"].attrs["bounds"] == "time_bnds"
        assert ds["time"].encoding["units"] == "microseconds since 1970-01-01"
        bounds = ds["time_bnds"].values
        assert bounds[1, 0] == np.datetime64("2020-01-31")
        assert bounds[1, 1] == np.datetime64("2020-03-01T06:00")  # + 30.25 days
        attrs = ds.attrs
        assert attrs["Conventions"] == "CF-1.8" and "framecast" in attrs["history"]
        assert (attrs["mc"], attrs["b_value"], attrs["window_days"]) == (2.45, 0.97, 30.25)
        assert (attrs["grid_cell_size"], attrs["grid_cell_unit"]) == (0.5, "deg")


def test_km_grid_has_projected_axes_and_2d_lat_lon(tmp_path):
    forecast = _forecast("km")
    _, nx = forecast.grid.shape
    with xr.open_dataset(export_netcdf(forecast, tmp_path / "f.nc")) as ds:
        events = ds["expected_events"]
        assert events.dims == ("time", "y", "x")
        assert ds["x"].attrs["units"] == "km" and ds["y"].attrs["axis"] == "Y"
        np.testing.assert_allclose(ds["x"].values, 25.0 * (np.arange(nx) - (nx - 1) / 2))
        assert ds["lat"].dims == ("y", "x") and ds["lon"].dims == ("y", "x")
        lat, lon = forecast.grid.cell_centers()
        np.testing.assert_array_equal(ds["lat"].values, lat)
        np.testing.assert_array_equal(ds["lon"].values, lon)
        assert sorted(events.encoding["coordinates"].split()) == ["lat", "lon"]
        assert ds.attrs["grid_cell_unit"] == "km"


def _export(forecast_path, out, fmt="netcdf") -> int:
    return main(["quake", "export", "--forecast", str(forecast_path), "--format", fmt,
                 "--out", str(out)])  # fmt: skip


def test_cli_exports_netcdf_and_csep_stays_the_default(tmp_path, capsys):
    forecast = _forecast("deg")
    forecast.save(tmp_path / "f.h5")
    assert _export(tmp_path / "f.h5", tmp_path / "f.nc") == 0
    assert "f.nc" in capsys.readouterr().out
    _assert_same(read_netcdf(tmp_path / "f.nc"), forecast)
    code = main(["quake", "export", "--forecast", str(tmp_path / "f.h5"), "--out",
                 str(tmp_path / "csep")])  # fmt: skip
    assert code == 0 and len(list((tmp_path / "csep").iterdir())) == len(STARTS)


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_cli_refuses_a_folder_as_the_netcdf_file(tmp_path, capsys):
    _forecast().save(tmp_path / "f.h5")
    (tmp_path / "out").mkdir()
    assert _export(tmp_path / "f.h5", tmp_path / "out") == 2
    assert _one_line_error(capsys) == (
        f"framecast quake: error: cannot write the NetCDF forecast to '{tmp_path / 'out'}': "
        "it is a folder"
    )
    assert list((tmp_path / "out").iterdir()) == []


def test_cli_refuses_an_unknown_format(tmp_path, capsys):
    _forecast().save(tmp_path / "f.h5")
    with pytest.raises(SystemExit) as exit_info:
        _export(tmp_path / "f.h5", tmp_path / "f.zarr", fmt="zarr")
    assert exit_info.value.code == 2
    assert "invalid choice: 'zarr'" in capsys.readouterr().err
    assert not (tmp_path / "f.zarr").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_cli_unwritable_folder_is_one_line(tmp_path, capsys):
    _forecast().save(tmp_path / "f.h5")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert _export(tmp_path / "f.h5", locked / "f.nc") == 2
        assert "permission denied" in _one_line_error(capsys)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial(tmp_path, monkeypatch):
    forecast = _forecast()
    path = export_netcdf(forecast, tmp_path / "f.nc")
    before = path.read_bytes()

    def disk_full(self, target, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", disk_full)
    with pytest.raises(ValueError, match=r"cannot write to '.*f\.nc': No space left on device"):
        export_netcdf(forecast, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["f.nc"]


def test_read_refuses_files_that_are_not_framecast_netcdf(tmp_path):
    junk = tmp_path / "junk.nc"
    junk.write_bytes(os.urandom(512))
    with pytest.raises(ValueError, match="is not a readable NetCDF-4 file"):
        read_netcdf(junk)
    other = tmp_path / "other.nc"
    xr.Dataset({"v": ("x", np.arange(3.0))}).to_netcdf(other, engine="h5netcdf")
    with pytest.raises(ValueError, match="is not a framecast NetCDF forecast"):
        read_netcdf(other)
    with pytest.raises(FileNotFoundError, match=r"missing\.nc"):
        read_netcdf(tmp_path / "missing.nc")
    with h5py.File(tmp_path / "plain.h5", "w") as handle:
        handle["x"] = 1
    with pytest.raises(ValueError, match="is not a framecast NetCDF forecast"):
        read_netcdf(tmp_path / "plain.h5")


def test_cli_permission_denied_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    _forecast().save(tmp_path / "f.h5")

    def refused(self, target, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", refused)
    assert _export(tmp_path / "f.h5", tmp_path / "out" / "f.nc") == 2
    out = tmp_path / "out" / "f.nc"
    assert _one_line_error(capsys) == (
        f"framecast quake: error: cannot write to '{out}': permission denied"
    )
    assert list((tmp_path / "out").iterdir()) == []
