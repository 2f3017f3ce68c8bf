"""Errors name the file (issue 23 item 15): permission denied, a truncated forecast."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quake"))

from quake_testing import random_catalog

from framecast.cli import main
from framecast.quake.frames import grid_catalog
from framecast.quake.grid import Grid
from framecast.quake.rates import RateForecast

# /sys refuses new files even to root: a real "permission denied" on Linux
UNWRITABLE = Path("/sys/framecast-test")
needs_sys = pytest.mark.skipif(
    not Path("/sys").is_dir(), reason="needs a folder that refuses new files (Linux /sys)"
)


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@needs_sys
def test_quake_grid_permission_denied_names_the_output(tmp_path, capsys):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("time,lat,lon,mag\n2010-01-02 00:00:00,33.5,-116.5,3.0\n")
    out = UNWRITABLE.with_suffix(".h5")
    args = ["quake", "grid", "--catalog", str(catalog), "--region", "33,34,-117,-116"]
    args += ["--cell", "0.5", "--start", "2010-01-01", "--end", "2010-12-31", "--bin-days", "7"]
    assert main([*args, "--mc", "2", "--out", str(out)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "permission denied" in line and str(out) in line


@needs_sys
def test_data_prepare_permission_denied_names_the_output(tmp_path, capsys):
    np.save(tmp_path / "series.npy", np.random.default_rng(0).random((40, 8, 8)))
    out = UNWRITABLE.with_suffix(".h5")
    args = ["data", "prepare", "frame_series", "--source", str(tmp_path / "series.npy")]
    assert main([*args, "--out", str(out)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "permission denied" in line and str(out) in line


def test_hdf5_errors_without_a_filename_are_named():
    from framecast.cli import _os_error_message

    error = PermissionError(
        13,
        "Unable to synchronously create file (unable to open file: name = '/data/x.h5.partial', "
        "errno = 13, error message = 'Permission denied', flags = 13, o_flags = 242)",
    )
    assert _os_error_message(error) == "cannot write or read '/data/x.h5': permission denied"


def _frames_and_forecast(tmp_path: Path) -> tuple[Path, Path]:
    frames = grid_catalog(
        random_catalog(300),
        Grid.from_region("33,34,-117,-116", 0.5),
        start="2010-01-01",
        end="2012-12-30",
        bin_days=30,
        mc=2.0,
    )
    frames.save(tmp_path / "frames.h5")
    first = frames.bin_index("2012-01-01")
    rates = np.full((frames.num_bins - first, *frames.grid.shape), 0.1)
    forecast = RateForecast("flat", rates, frames.bin_start[first:], 30, frames.grid, 2.0)
    forecast.save(tmp_path / "flat.h5")
    return tmp_path / "frames.h5", tmp_path / "flat.h5"


@pytest.mark.parametrize("keep", [0.5, 0.0], ids=["truncated", "empty"])
def test_truncated_forecast_in_quake_evaluate_is_one_line_naming_it(tmp_path, capsys, keep):
    frames, forecast = _frames_and_forecast(tmp_path)
    data = forecast.read_bytes()
    broken = tmp_path / "broken.h5"
    broken.write_bytes(data[: int(len(data) * keep)])
    args = ["quake", "evaluate", "--frames", str(frames), "--forecast", str(broken)]
    args += ["--reference", str(forecast), "--num-simulations", "5"]
    code = main([*args, "--out", str(tmp_path / "report")])
    assert code == 2
    line = _one_line(capsys.readouterr().err)
    assert str(broken) in line and "cannot be read" in line
    assert not (tmp_path / "report").exists()


def test_truncated_frames_file_is_one_line_naming_it(tmp_path, capsys):
    frames, forecast = _frames_and_forecast(tmp_path)
    data = frames.read_bytes()
    frames.write_bytes(data[: len(data) // 3])
    args = ["quake", "evaluate", "--frames", str(frames), "--reference", str(forecast)]
    code = main([*args, "--out", str(tmp_path / "report")])
    assert code == 2
    line = _one_line(capsys.readouterr().err)
    assert str(frames) in line and "cannot be read" in line
