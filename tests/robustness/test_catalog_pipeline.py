"""One catalog pipeline (issue 23 items 8 and 11): duplicates removed once, a dropped bin said.

``quake grid`` and ``quake etas-fit`` counted 500 duplicated events twice while
``quake run`` removed them (and printed the count with the duplicates); the
events of a final partial time bin were dropped without a word.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quake"))

from quake_testing import random_catalog

from framecast.cli import main
from framecast.quake.catalog.events import Catalog
from framecast.quake.frames import SeismicityFrames

UNIQUE = 300
REPEATS = 500


def _write_csv(path: Path, catalog: Catalog, rows: np.ndarray, with_ids: bool) -> Path:
    header = "index,time,longitude,latitude,magnitude" if with_ids else "time,lon,lat,mag"
    lines = [header]
    for i in rows:
        t = str(catalog.time[i].astype("datetime64[ms]")).replace("T", " ")
        fields = [t, repr(float(catalog.longitude[i])), repr(float(catalog.latitude[i]))]
        fields.append(f"{catalog.magnitude[i]:.2f}")
        lines.append(",".join(([str(i)] if with_ids else []) + fields))
    path.write_text("\n".join(lines) + "\n")
    return path


def _catalogs(tmp_path: Path, with_ids: bool) -> tuple[Path, Path]:
    """(clean CSV, the same CSV with REPEATS rows listed a second time)."""
    catalog = random_catalog(UNIQUE, days=365)
    rng = np.random.default_rng(1)
    rows = np.arange(UNIQUE)
    repeated = np.sort(np.concatenate([rows, rng.choice(rows, REPEATS)]))
    clean = _write_csv(tmp_path / "clean.csv", catalog, rows, with_ids)
    doubled = _write_csv(tmp_path / "doubled.csv", catalog, repeated, with_ids)
    return clean, doubled


def _grid(catalog: Path, out: Path, end: str = "2011-01-01", bin_days: str = "7") -> int:
    return main(
        [
            "quake",
            "grid",
            "--catalog",
            str(catalog),
            "--region",
            "33,34,-117,-116",
            "--cell",
            "0.5",
            "--start",
            "2010-01-01",
            "--end",
            end,
            "--bin-days",
            bin_days,
            "--mc",
            "2.0",
            "--out",
            str(out),
        ]
    )


@pytest.mark.parametrize("with_ids", [True, False], ids=["same-ids", "same-time-and-place"])
def test_grid_counts_each_duplicated_event_once(tmp_path, capsys, with_ids):
    clean, doubled = _catalogs(tmp_path, with_ids)
    assert _grid(clean, tmp_path / "clean.h5", end="2010-12-31") == 0
    capsys.readouterr()
    assert _grid(doubled, tmp_path / "doubled.h5", end="2010-12-31") == 0
    err = capsys.readouterr().err
    notices = [line for line in err.splitlines() if "duplicated" in line]
    assert len(notices) == 1, err
    assert f"{REPEATS} duplicated event(s) removed" in notices[0]
    assert "doubled.csv" in notices[0] and f"{UNIQUE} events kept" in notices[0]
    expected = SeismicityFrames.load(tmp_path / "clean.h5")
    got = SeismicityFrames.load(tmp_path / "doubled.h5")
    np.testing.assert_array_equal(got.frames, expected.frames)
    assert len(got.events) == len(expected.events)


def test_etas_fit_reads_the_same_deduplicated_catalog(tmp_path, capsys, monkeypatch):
    import framecast.quake.etas.fit as fit_module

    _, doubled = _catalogs(tmp_path, with_ids=True)
    seen: list[Catalog] = []

    def fake_fit(catalog: Catalog, **kwargs: object) -> None:
        seen.append(catalog)
        raise ValueError("stop after reading")

    monkeypatch.setattr(fit_module, "fit_etas", fake_fit)
    args = ["quake", "etas-fit", "--catalog", str(doubled), "--region", "33,34,-117,-116"]
    args += ["--mc", "2.0", "--start", "2010-03-01", "--end", "2011-01-01", "--quiet"]
    assert main(args) == 2
    assert len(seen) == 1 and len(seen[0]) == UNIQUE
    err = capsys.readouterr().err
    assert sum("duplicated" in line for line in err.splitlines()) == 1
    assert f"{REPEATS} duplicated event(s) removed" in err


def test_quake_run_reports_the_count_without_duplicates(tmp_path):
    from framecast.quake.experiment import load_experiment, stage_catalog

    _, doubled = _catalogs(tmp_path, with_ids=True)
    config = tmp_path / "exp.yaml"
    config.write_text(
        f"out_dir: {tmp_path / 'out'}\n"
        f"catalog: {{path: {doubled}}}\n"
        'frames: {region: "33,34,-117,-116", cell: 0.5, start: "2010-01-01", '
        'end: "2010-12-31", bin_days: 7, mc: 2.0}\n'
        'periods: {val_start: "2010-07-01", test_start: "2010-10-01"}\n'
        "etas: {mode: none}\n"
    )
    experiment = load_experiment(config)
    lines: list[str] = []
    (tmp_path / "out").mkdir()
    catalog = stage_catalog(experiment, tmp_path / "out", lines.append)
    assert len(catalog) == UNIQUE
    assert sum("duplicated" in line for line in lines) == 1, lines
    counted = [line for line in lines if "events from" in line]
    assert counted and counted[0].startswith(f"catalog: {UNIQUE} events from"), lines


def test_dropped_partial_bin_is_announced_in_one_line(tmp_path, capsys):
    clean, _ = _catalogs(tmp_path, with_ids=True)
    # 2010 has 365 days: 52 weekly bins and one day left over
    assert _grid(clean, tmp_path / "frames.h5") == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "do not fill" in line]
    assert len(lines) == 1, err
    catalog = random_catalog(UNIQUE, days=365)
    last_day = catalog.filter(start="2010-12-31", end="2011-01-01", min_magnitude=2.0)
    assert "the last 1 days" in lines[0] and f"their {len(last_day)} event(s)" in lines[0]
    assert "2010-12-31" in lines[0]


def test_whole_bins_say_nothing(tmp_path, capsys):
    clean, _ = _catalogs(tmp_path, with_ids=True)
    assert _grid(clean, tmp_path / "frames.h5", end="2010-12-31") == 0
    assert "do not fill" not in capsys.readouterr().err
