"""configs/quake/italy_ingv_prednet.yaml end to end: INGV fetch -> frames -> PredNet -> report.

On the replayed INGV service of :mod:`fdsn_replay` (its catalog lies in Italy's box, 2005-2006),
and, where the machine reaches webservices.ingv.it, on a real fetch of three months of 2016.
The config's own dates, magnitude cut and training budget are shortened; its region, grid,
network and ETAS settings are used as they are.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from fdsn_replay import FDSNReplayServer

from framecast.cli import main
from framecast.quake.catalog.store import CatalogStore
from framecast.quake.experiment import load_experiment, run_experiment

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "quake" / "italy_ingv_prednet.yaml"
FETCH_REGION = "35.5,47.9,6.0,19.0"  # the config header's fetch command (issue 4)
SHORT_RUN = [
    "network.train.max_steps=3",
    "network.train.val_every_n_steps=3",
    "network.train.max_minutes=2.0",
    "network.data.batch_size=4",
    "etas.num_simulations=20",
    "evaluation.num_simulations=20",
    "evaluation.maps=1",
]


def _fetch(provider: str, start: str, end: str, out: Path, min_magnitude: str) -> None:
    argv = ["quake", "fetch", "--provider", provider, "--start", start, "--end", end]
    argv += ["--region", FETCH_REGION, "--min-magnitude", min_magnitude, "--out", str(out)]
    assert main([*argv, "--timeout", "30", "--quiet"]) == 0


def _run(store: Path, out: Path, dates: dict[str, str], mc: float) -> dict:
    overrides = [f"out_dir={out}", f"catalog.path={store}", f"frames.mc={mc}", *SHORT_RUN]
    overrides += [f"{key}={value}" for key, value in dates.items()]
    report = run_experiment(load_experiment(CONFIG, overrides), log=lambda line: None)
    text = report.read_text()
    assert "PredNet" in text or "prednet" in text
    scores = json.loads((report.parent / "scores.json").read_text())
    assert (out / "forecasts" / "network.h5").is_file()
    return scores


@pytest.mark.slow
def test_italy_runs_end_to_end_on_the_replayed_ingv_service(tmp_path: Path) -> None:
    store = tmp_path / "italy_ingv.h5"
    with FDSNReplayServer() as replay:
        _fetch(replay.url, "2005-01-01", "2007-01-01", store, "1.5")
    assert len(CatalogStore(store).read()) > 100
    dates = {
        "frames.start": "2005-01-01",
        "frames.end": "2007-01-01",
        "periods.val_start": "2006-01-01",
        "periods.test_start": "2006-07-01",
    }
    scores = _run(store, tmp_path / "run", dates, mc=1.5)  # the replay's catalog is small
    assert scores


def _reaches_ingv() -> bool:
    try:
        socket.create_connection(("webservices.ingv.it", 443), timeout=5).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_italy_runs_end_to_end_on_a_real_ingv_fetch(tmp_path: Path) -> None:
    if not _reaches_ingv():
        pytest.skip("webservices.ingv.it is not reachable from this machine")
    store = tmp_path / "italy_ingv.h5"
    _fetch("ingv", "2016-07-01", "2016-12-01", store, "2.5")  # Amatrice-Norcia
    assert len(CatalogStore(store).read()) > 100
    dates = {
        "frames.start": "2016-07-01",
        "frames.end": "2016-12-01",
        "periods.val_start": "2016-09-15",
        "periods.test_start": "2016-10-15",
    }
    assert _run(store, tmp_path / "run", dates, mc=2.5)
