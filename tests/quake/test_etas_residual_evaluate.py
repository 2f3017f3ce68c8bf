"""``framecast evaluate network.ckpt`` on the checkpoint ``quake run`` writes for an ETAS residual.

The ``etas_residual`` model lives in the quake application; the evaluate
path imports nothing of it. The plugin table names it, so a fresh process
finds it (it used to answer "unknown model 'etas_residual'").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from quake_testing import REGION, random_catalog

from framecast.quake.etas.parameters import ETASParameters
from framecast.quake.etas_channel import etas_channel_forecast, frames_with_etas
from framecast.quake.experiment import load_experiment, train_network
from framecast.quake.frames import grid_catalog

SETTINGS = """
out_dir: {out}
catalog: {{simulate: true}}
frames: {{region: "{region}", cell: 0.25, start: "2010-01-01", end: "2011-01-01",
         bin_days: 7, mc: 2.0, channels: [count]}}
periods: {{val_start: "2010-07-01", test_start: "2010-10-01"}}
etas_input: {{channel: true, residual: true, forecast: first_order}}
network:
  model: {{name: predrnn, options: {{cell: convlstm, hidden_channels: 2, num_layers: 1,
                                    patch_size: 1}}}}
  data: {{n_context: 3, batch_size: 4}}
  train: {{max_steps: 2, val_every_n_steps: 2, log_every_n_steps: 1, num_threads: 1}}
etas: {{mode: simulation, forecast: first_order}}
"""


@pytest.fixture(scope="module")
def residual_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``network.ckpt`` of a two-step ETAS-residual run, written as ``quake run`` writes it."""
    out = tmp_path_factory.mktemp("residual")
    path = out / "experiment.yaml"
    path.write_text(SETTINGS.format(out=out, region=REGION))
    experiment = load_experiment(path)
    catalog = random_catalog(120, start="2010-01-01", days=365)
    frames = grid_catalog(
        catalog, experiment.grid(), start="2010-01-01", end="2011-01-01", bin_days=7, mc=2.0
    )
    channel = etas_channel_forecast(ETASParameters(mc=2.0), catalog, frames)
    frames_with_etas(frames, channel).save(out / "frames_etas.h5")
    config = experiment.network.training_config(frames)
    assert config.model.name == "etas_residual"
    return train_network(config, out / "network.ckpt", log=lambda line: None)


def test_framecast_evaluate_rebuilds_the_etas_residual_network(residual_checkpoint: Path):
    out = residual_checkpoint.parent / "eval"
    argv = ["evaluate", str(residual_checkpoint), "--out", str(out), "--max-batches", "1"]
    # a fresh interpreter: nothing of framecast.quake is imported before the command runs
    code = "import sys; from framecast.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unknown model" not in done.stderr
    assert "etas_residual" in done.stdout and (out / "metrics.json").is_file()
