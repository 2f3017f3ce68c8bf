"""Sizes checked against memory before allocating, with the estimate (issue 23 items 13, 14).

``quake grid --cell 0.00001`` asked numpy for 5.45 TiB (a traceback);
``predict --horizon 100000`` ran silently for minutes with memory growing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from framecast_testing import tiny_run_config

from framecast.cli import main

SIZE = 40  # the tiny PredRNN's moving squares


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny PredRNN trained for 2 steps."""
    tmp = tmp_path_factory.mktemp("sizes")
    config = tmp / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_run_config(tmp / "runs")))
    assert main(["train", "--config", str(config), "train.max_steps=2"]) == 0
    return tmp / "runs" / "run"


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_grid_far_too_fine_is_refused_with_the_estimate(tmp_path, capsys):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("time,lat,lon,mag\n2010-01-02 00:00:00,33.5,-116.5,3.0\n")
    args = ["quake", "grid", "--catalog", str(catalog), "--region", "33,34,-117,-116"]
    args += ["--cell", "0.00001", "--start", "2010-01-01", "--end", "2011-01-01"]
    args += ["--bin-days", "7", "--mc", "2", "--out", str(tmp_path / "frames.h5")]
    assert main(args) == 2
    line = _one_line(capsys.readouterr().err)
    assert "100000x100000 grid" in line and "TiB of memory" in line and "larger cell" in line
    assert not (tmp_path / "frames.h5").exists()


def test_grid_checks_its_size_before_reading_the_catalog(tmp_path, capsys):
    args = ["quake", "grid", "--catalog", str(tmp_path / "missing.csv")]
    args += ["--region", "33,34,-117,-116", "--cell", "0.00001", "--start", "2010-01-01"]
    args += ["--end", "2011-01-01", "--mc", "2", "--out", str(tmp_path / "frames.h5")]
    assert main(args) == 2
    assert "of memory" in capsys.readouterr().err  # not "catalog file not found"


def test_predict_horizon_beyond_memory_is_refused_before_running(
    run_dir, tmp_path, capsys, monkeypatch
):
    np.save(tmp_path / "in.npy", np.zeros((2, 3, SIZE, SIZE), np.float32))
    monkeypatch.setattr("framecast.memory.available_memory", lambda: 2**20)  # 1 MiB
    out = tmp_path / "out"
    args = ["predict", str(run_dir), "--input", str(tmp_path / "in.npy"), "--out", str(out)]
    code = main([*args, "--horizon", "2000"])
    assert code == 2
    line = _one_line(capsys.readouterr().err)
    assert "--horizon 2000" in line and "MiB of memory" in line and "1 MiB available" in line
    assert not out.exists()


def test_predict_shows_progress_on_a_long_horizon(run_dir, tmp_path, capsys, monkeypatch):
    import framecast.reporting

    class EveryStep(framecast.reporting.ProgressLine):
        def __init__(self, what: str, seconds: float = 10.0) -> None:
            super().__init__(what, seconds=0.0)

    monkeypatch.setattr(framecast.reporting, "ProgressLine", EveryStep)
    np.save(tmp_path / "in.npy", np.zeros((1, 3, SIZE, SIZE), np.float32))
    out = tmp_path / "out"
    args = ["predict", str(run_dir), "--input", str(tmp_path / "in.npy"), "--out", str(out)]
    code = main([*args, "--horizon", "30"])
    assert code == 0
    err = capsys.readouterr().err
    steps = [line for line in err.splitlines() if "step " in line]
    assert steps and steps[-1].startswith("predict: 30 frames ahead of 1 sequence(s): step 32/32")
    assert "elapsed" in steps[-1]


def test_progress_line_is_silent_for_a_short_job(capsys):
    from framecast.reporting import ProgressLine

    progress = ProgressLine("job", seconds=60.0)
    for done in range(1, 11):
        progress(done, 10)
    assert capsys.readouterr().err == ""


def test_memory_estimate_is_readable():
    from framecast.memory import format_bytes

    assert format_bytes(5.45 * 2**40) == "5.45 TiB"
    assert format_bytes(512) == "512 B"
