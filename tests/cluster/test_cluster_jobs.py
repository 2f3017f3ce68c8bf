"""Jobs as tasks of a 2-worker Dask cluster give the local run's results (issue 26).

Each test runs the same job twice, here and on the cluster of
``conftest.py``, with the same seeds, and compares the outputs: a 2-pair
``compare`` (4 pairs in the slow variant), a 3-seed quake sweep with
simulated ETAS forecasts, the chunks of a simulated ETAS forecast, and a
``tune`` study.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from framecast_testing import tiny_comparison, tiny_run_config

from framecast.cluster import session
from framecast.experiments import compare
from framecast.tuning import TuneSettings, parse_parameter, run_study

CELLS = ["convlstm", "stlstm", "causal_lstm", "mflow"]
TIMINGS = ("s_per_100_batches", "peak_memory_mb")  # of the machine, not of the result


def _compare(out: Path, cells: list[str], **kw) -> list[dict[str, str]]:
    tiny_comparison(["predrnn"], cells, out, **kw)
    with (out / "comparison.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    return [{k: v for k, v in row.items() if k not in TIMINGS} for row in rows]


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param(CELLS[:2], id="2-pair"),  # one pair per worker, in the default suite
        pytest.param(CELLS, id="4-pair", marks=pytest.mark.slow),  # two rounds of the workers
    ],
)
def test_a_compare_on_the_cluster_equals_the_local_run(
    cluster_address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cells: list[str]
):
    """4 pairs: 45 s on 2 idle cores (the pairs' processes importing torch); 2 pairs: half."""
    # one torch thread per pair here, as on a worker (Dask sets OMP_NUM_THREADS=1 there)
    monkeypatch.setattr(compare, "allowed_cores", lambda: [0, 1])
    local = _compare(tmp_path / "local", cells, jobs=2)
    remote = _compare(tmp_path / "cluster", cells, cluster=cluster_address)
    assert [row["cell"] for row in remote] == cells
    assert remote == local
    for cell in cells:
        ours, theirs = (
            json.loads((tmp_path / run / "pairs" / f"predrnn-{cell}" / "result.json").read_text())
            for run in ("local", "cluster")
        )
        assert theirs["torch_threads"] == 1
        assert theirs["metrics"] == ours["metrics"]
    # a rerun on the cluster finds every pair done
    assert _compare(tmp_path / "cluster", cells, cluster=cluster_address) == local


QUAKE = """
out_dir: {out}
catalog: {{simulate: true, seed: 3, burn_in_days: 200, etas: {{log10_mu: -5.5}}}}
frames: {{region: "33,34,-117,-116", cell: 0.25, start: "2000-01-01", end: "2002-01-01",
         bin_days: 14, mc: 2.0, channels: [count]}}
periods: {{val_start: "2001-01-01", test_start: "2001-07-01"}}
etas_input: {{channel: true, residual: true, forecast: simulated, num_simulations: 10000}}
network:
  model:
    name: predrnn
    options: {{cell: convlstm, hidden_channels: 2, num_layers: 1, patch_size: 1}}
  data: {{n_context: 2, batch_size: 8}}
  optim: {{lr: 0.05}}
  train: {{max_steps: 2, val_every_n_steps: 2, log_every_n_steps: 1}}
etas: {{mode: simulation, forecast: simulated, num_simulations: 10000}}
evaluation: {{num_simulations: 5, maps: 1}}
seeds: [0, 1, 2]
"""
"""The seed sweep's tiny run (tests/quake/test_seed_sweep.py) with 3 seeds, and simulated ETAS
forecasts of 10,000 simulations (2 chunks of 5,000: 2 tasks) as channel and as baseline."""


def _quake(folder: Path, lines: list[str]) -> Path:
    from framecast.quake.experiment import load_experiment, run_experiment

    folder.mkdir()
    (folder / "exp.yaml").write_text(QUAKE.format(out=folder / "out"))
    run_experiment(load_experiment(folder / "exp.yaml"), log=lines.append)
    return folder / "out"


def test_a_3_seed_quake_sweep_on_the_cluster_equals_the_local_run(
    cluster_address: str, tmp_path: Path
):
    from framecast.quake.frames import SeismicityFrames
    from framecast.quake.rates import RateForecast

    local = _quake(tmp_path / "local", [])
    lines: list[str] = []
    with session(cluster_address):
        remote = _quake(tmp_path / "cluster", lines)
    assert any("2 seed(s) as tasks of the Dask cluster" in line for line in lines)
    assert any("simulated ETAS: 10,000/10,000" in line for line in lines)  # 2 chunk tasks
    for name in ("seeds/seed_1/network.h5", "seeds/seed_2/network.h5", "forecasts/etas.h5"):
        ours, theirs = RateForecast.load(local / name), RateForecast.load(remote / name)
        np.testing.assert_array_equal(theirs.rates, ours.rates, err_msg=name)
    channel = [SeismicityFrames.load(out / "frames_etas.h5") for out in (local, remote)]
    np.testing.assert_array_equal(channel[1].frames, channel[0].frames)
    seeds = [json.loads((out / "report" / "seeds.json").read_text()) for out in (local, remote)]
    assert [s["seed"] for s in seeds[1]["seeds"]] == [0, 1, 2]
    assert seeds[1] == seeds[0]


def test_simulated_etas_chunks_on_the_cluster_equal_the_local_run(cluster_address: str):
    from framecast.quake.etas.converged_forecast import simulated_rate_forecast
    from framecast.quake.etas.forecast import etas_rate_forecast
    from framecast.quake.etas.parameters import ETASParameters
    from framecast.quake.etas.simulate import simulate_etas
    from framecast.quake.grid import Grid

    params = ETASParameters(mc=3.0)
    grid = Grid(33.0, 35.0, -118.0, -116.0, 0.25)
    start, end = np.datetime64("2000-01-01", "us"), np.datetime64("2004-01-01", "us")
    history = simulate_etas(params, grid, start, end, seed=1, include_burn_in=True)
    windows = np.arange(np.datetime64("2003-01-01", "us"), end, np.timedelta64(7, "D"))
    first_order = etas_rate_forecast(params, history, grid, windows, 7.0)
    kw = {"num_simulations": 2_500, "chunk_simulations": 500, "seed": 7, "keep_catalogs": 20}
    local, local_kept = simulated_rate_forecast(params, history, first_order, **kw)
    progress: list[str] = []
    with session(cluster_address):
        remote, remote_kept = simulated_rate_forecast(
            params, history, first_order, progress=progress.append, **kw
        )
    assert len(progress) == 5 and progress[-1].endswith("2,500/2,500 simulations per window")
    np.testing.assert_array_equal(remote.rates, local.rates)
    assert remote_kept is not None and local_kept is not None
    for field in ("window", "simulation", "cell", "magnitude"):
        np.testing.assert_array_equal(getattr(remote_kept, field), getattr(local_kept, field))


def test_a_tune_study_on_the_cluster_equals_the_local_run(cluster_address: str, tmp_path: Path):
    space = [
        parse_parameter("optim.lr", {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}),
        parse_parameter(
            "model.options.cell", {"type": "categorical", "choices": ["convlstm", "stlstm"]}
        ),
    ]
    base = tiny_run_config(
        tmp_path,
        optim={"lr": 1e-2, "scheduler": "none"},
        train={"max_steps": 4, "val_every_n_steps": 2, "limit_val_batches": 1.0},
    )

    def trials(out: str, **kw: object) -> list[tuple[dict, float]]:
        settings = TuneSettings(
            trials=2, out_dir=tmp_path / out, trial_steps=4, pruner="none", jobs=1, **kw
        )
        study = run_study(base, space, settings)
        return [(t.params, t.value) for t in sorted(study.trials, key=lambda t: t.number)]

    local = trials("local")
    remote = trials("cluster", cluster=cluster_address)
    assert len(remote) == 2
    assert remote == local  # one worker task: the local run's sampler seed and trainings
