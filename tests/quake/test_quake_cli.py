from __future__ import annotations

import json

import numpy as np
import pytest
from quake_testing import random_catalog

from framecast.cli import main
from framecast.quake.catalog.store import CatalogStore, write_catalog
from framecast.quake.frames import SeismicityFrames
from framecast.quake.rates import RateForecast
from framecast.quake.reference import smoothed_seismicity_forecast
from framecast.quake.scores.pycsep_io import export_csep


def _npp_csv(path, n=200):
    cat = random_catalog(n)
    lines = ["index,time,longitude,latitude,magnitude,x,y"]
    for i in range(n):
        t = str(cat.time[i].astype("datetime64[ms]")).replace("T", " ")
        lines.append(f"{i},{t},{cat.longitude[i]},{cat.latitude[i]},{cat.magnitude[i]:.2f},0,0")
    path.write_text("\n".join(lines) + "\n")
    return path


def _grid(catalog, out, *extra, region="33,34,-117,-116", cell="0.5"):
    """``framecast quake grid`` of 2010 (weekly bins, mc 2) with ``extra`` options."""
    return main(
        [
            "quake",
            "grid",
            "--catalog",
            str(catalog),
            "--region",
            region,
            "--cell",
            cell,
            "--start",
            "2010-01-01",
            "--end",
            "2011-01-01",
            "--bin-days",
            "7",
            "--mc",
            "2.0",
            "--out",
            str(out),
            *extra,
        ]
    )


def test_grid_from_csv_and_evaluate(tmp_path, capsys):
    csv = _npp_csv(tmp_path / "cat.csv")
    frames_path = tmp_path / "frames.h5"
    code = main(
        [
            "quake",
            "grid",
            "--catalog",
            str(csv),
            "--region",
            "33,34,-117,-116",
            "--cell",
            "0.25",
            "--start",
            "2010-01-01",
            "--end",
            "2013-01-01",
            "--bin-days",
            "30",
            "--mc",
            "2.0",
            "--channels",
            "count,max_magnitude",
            "--out",
            str(frames_path),
        ]
    )
    assert code == 0
    frames = SeismicityFrames.load(frames_path)
    assert frames.channels == ("count", "max_magnitude")
    assert frames.frames[:, 0].sum() == len(frames.events) > 100

    first = frames.bin_index("2012-01-01")
    ref = smoothed_seismicity_forecast(
        frames.events,
        frames.grid,
        train_start="2010-01-01",
        train_end="2012-01-01",
        window_start=frames.bin_start[first:],
        window_days=30,
        mc=2.0,
    )
    ref.save(tmp_path / "reference.h5")
    flat = RateForecast(
        "flat", np.full_like(ref.rates, ref.rates.mean()), ref.window_start, 30, ref.grid, 2.0
    )
    flat.save(tmp_path / "flat.h5")
    code = main(
        [
            "quake",
            "evaluate",
            "--frames",
            str(frames_path),
            "--forecast",
            str(tmp_path / "flat.h5"),
            "--reference",
            str(tmp_path / "reference.h5"),
            "--num-simulations",
            "20",
            "--out",
            str(tmp_path / "report"),
        ]
    )
    assert code == 0
    assert "Poisson reference" in (tmp_path / "report" / "report.md").read_text()

    # a forecast made elsewhere, in pyCSEP's files, scored beside the others
    assert main(["quake", "export", "--forecast", str(tmp_path / "flat.h5"), "--out",
                 str(tmp_path / "elsewhere")]) == 0  # fmt: skip
    common = ["quake", "evaluate", "--frames", str(frames_path), "--reference",
              str(tmp_path / "reference.h5"), "--num-simulations", "20"]  # fmt: skip
    code = main([*common, "--import", str(tmp_path / "elsewhere"), "--out", str(tmp_path / "r2")])
    assert code == 0
    scores = json.loads((tmp_path / "r2" / "scores.json").read_text())
    imported = scores["forecasts"]["elsewhere"]
    assert imported["n_forecast"] == pytest.approx(flat.rates.sum(), rel=1e-9)
    other = RateForecast("short", ref.rates[:2], ref.window_start[:2], 30, ref.grid, 2.0)
    other_dir = tmp_path / "short"
    export_csep(other, other_dir)
    capsys.readouterr()
    code = main([*common, "--import", str(other_dir), "--out", str(tmp_path / "r3")])
    assert code == 2
    assert "window" in capsys.readouterr().err


def test_grid_errors_exit_2_and_write_nothing(tmp_path, capsys):
    csv = _npp_csv(tmp_path / "cat.csv", n=20)
    out = tmp_path / "frames.h5"
    code = _grid(csv, out, region="40,41,10,11")
    assert code == 2
    assert "no events to grid" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
    bad = tmp_path / "bad.csv"  # extra columns are ignored; a missing magnitude is not
    bad.write_text(
        "index,time,longitude,latitude,x,y,extra\n1,2010-01-01 00:00:00,-116.5,33.5,0,0,9\n"
    )
    code = _grid(bad, out)
    assert code == 2
    assert "no magnitude column" in capsys.readouterr().err
    assert not out.exists()


def test_etas_simulate_then_fit(tmp_path, capsys):
    store = tmp_path / "sim.h5"
    code = main(
        [
            "quake",
            "etas-simulate",
            "--region",
            "33,34,-117,-116",
            "--start",
            "2000-01-01",
            "--end",
            "2004-01-01",
            "--seed",
            "3",
            "--burn-in-days",
            "365",
            "--out",
            str(store),
            "log10_mu=-5.5",
            "log10_k0=-3.0",
        ]
    )
    assert code == 0
    catalog = CatalogStore(store).read()
    assert len(catalog) > 50
    assert json.loads(CatalogStore(store).metadata()["parameters"])["log10_mu"] == -5.5
    capsys.readouterr()
    code = main(
        [
            "quake",
            "etas-fit",
            "--catalog",
            str(store),
            "--region",
            "33,34,-117,-116",
            "--mc",
            "2.0",
            "--start",
            "2001-01-01",
            "--end",
            "2004-01-01",
            "--auxiliary-start",
            "1999-01-01",
            "--out",
            str(tmp_path / "fit.json"),
        ]
    )
    assert code == 0
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert fit["n_target_events"] > 20
    assert np.isfinite(fit["log_likelihood"])


def test_etas_simulate_bad_parameter(tmp_path, capsys):
    code = main(
        [
            "quake",
            "etas-simulate",
            "--region",
            "33,34,-117,-116",
            "--start",
            "2000-01-01",
            "--end",
            "2001-01-01",
            "--out",
            str(tmp_path / "s.h5"),
            "log10_muu=-5",
        ]
    )
    assert code == 2
    assert "log10_muu" in capsys.readouterr().err


def test_a_simulation_that_explodes_stops_in_one_line(tmp_path, capsys):
    argv = ["quake", "etas-simulate", "--region", "33,34,-117,-116", "--start", "2000-01-01",
            "--end", "2001-01-01", "--out", str(tmp_path / "s.h5"), "log10_mu=-0.5"]  # fmt: skip
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1 and "over the limit of 5,000,000" in err
    assert not (tmp_path / "s.h5").exists()


def test_store_written_by_write_catalog_is_gridded(tmp_path):
    write_catalog(tmp_path / "c.h5", random_catalog(100))
    code = main(
        [
            "quake",
            "grid",
            "--catalog",
            str(tmp_path / "c.h5"),
            "--region",
            "33,34,-117,-116",
            "--cell",
            "0.5",
            "--start",
            "2010-01-01",
            "--end",
            "2011-01-01",
            "--bin-days",
            "7",
            "--mc",
            "2",
            "--out",
            str(tmp_path / "f.h5"),
        ]
    )
    assert code == 0
