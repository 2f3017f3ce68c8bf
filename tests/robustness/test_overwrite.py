"""No command writes over an existing file unless asked, and never over its own input (issue 23).

``quake grid --out X`` and ``quake etas-simulate --out X`` replaced any
existing file, the input catalog included (``--out`` equal to
``--catalog`` turned the CSV into HDF5), and ``data prepare frame_series
--overwrite`` with ``--out`` equal to ``--source`` destroyed the source.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from framecast.cli import main

CATALOG = """time,latitude,longitude,depth,magnitude
2010-01-05T00:00:00,33.2,-116.5,5,2.5
2010-02-05T00:00:00,33.7,-116.2,5,3.1
2010-03-01T12:00:00,33.4,-116.8,5,2.2
"""


def _catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_text(CATALOG)
    return path


def _grid(catalog: Path, out: Path, *extra: str) -> int:
    return main(
        ["quake", "grid", "--catalog", str(catalog), "--region", "33,34,-117,-116",
         "--cell", "0.5", "--start", "2010-01-01", "--end", "2011-01-01", "--bin-days", "7",
         "--mc", "2.0", "--out", str(out), *extra]
    )  # fmt: skip


def _simulate(out: Path, *extra: str) -> int:
    return main(
        ["quake", "etas-simulate", "--region", "33,34,-117,-116", "--start", "2000-01-01",
         "--end", "2000-06-01", "--burn-in-days", "30", "--out", str(out), *extra]
    )  # fmt: skip


def test_quake_grid_refuses_an_existing_out_unless_overwrite(tmp_path, capsys):
    catalog = _catalog(tmp_path)
    out = tmp_path / "frames.h5"
    out.write_bytes(b"somebody's file")
    assert _grid(catalog, out) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "already exists" in err and "--overwrite" in err
    assert out.read_bytes() == b"somebody's file"
    assert _grid(catalog, out, "--overwrite") == 0
    assert out.read_bytes() != b"somebody's file"


@pytest.mark.parametrize("how", ["same", "symlink", "dotted"])
def test_quake_grid_never_writes_over_its_catalog(tmp_path, capsys, how):
    catalog = _catalog(tmp_path)
    out = {
        "same": catalog,
        "symlink": tmp_path / "link.csv",
        "dotted": tmp_path / "sub" / ".." / "catalog.csv",
    }[how]
    (tmp_path / "sub").mkdir()
    if how == "symlink":
        os.symlink(catalog, out)
    assert _grid(catalog, out, "--overwrite") == 2
    assert "never writes over its own input" in capsys.readouterr().err
    assert catalog.read_text() == CATALOG


def test_etas_simulate_refuses_an_existing_out_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "sim.h5"
    out.write_text("not yours")
    assert _simulate(out) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_text() == "not yours"
    assert _simulate(out, "--overwrite") == 0
    assert out.read_bytes()[:4] == b"\x89HDF"


def test_etas_fit_never_writes_over_its_catalog(tmp_path, capsys):
    catalog = _catalog(tmp_path)
    code = main(
        ["quake", "etas-fit", "--catalog", str(catalog), "--region", "33,34,-117,-116",
         "--mc", "2.0", "--start", "2010-01-01", "--end", "2011-01-01", "--out", str(catalog),
         "--overwrite"]
    )  # fmt: skip
    assert code == 2
    assert "never writes over its own input" in capsys.readouterr().err
    assert catalog.read_text() == CATALOG


def test_data_prepare_never_writes_over_its_source(tmp_path, capsys):
    source = tmp_path / "radar.npy"
    np.save(source, np.random.default_rng(0).uniform(0, 1, (12, 8, 8)).astype(np.float32))
    before = source.read_bytes()
    code = main(
        ["data", "prepare", "frame_series", "--source", str(source), "--out", str(source),
         "--overwrite"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "never writes over its own input" in err
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["radar.npy"]  # no partial, no lock
