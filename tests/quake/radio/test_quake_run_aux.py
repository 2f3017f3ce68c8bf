"""``framecast quake run`` with an ``aux:`` section: the network trains on the radio input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from framecast.checkpoint import load
from framecast.cli import main
from framecast.quake.experiment import load_experiment, run_experiment
from framecast.quake.rates import RateForecast

SETTINGS = """
out_dir: {out}
catalog: {{simulate: true, seed: 3, burn_in_days: 365}}
frames: {{region: "33,34,-117,-116", cell: 0.25, start: "2000-01-01", end: "2003-01-01",
         bin_days: 7, mc: 2.0, channels: [count]}}
periods: {{val_start: "2001-07-01", test_start: "2002-01-01"}}
network:
  model: {{name: predrnn, options: {{cell: convlstm, hidden_channels: 4, num_layers: 1,
                                    patch_size: 1, output_activation: exp}}}}
  data: {{n_context: 4, batch_size: 8}}
  train: {{max_steps: 3, val_every_n_steps: 3, log_every_n_steps: 1}}
etas: {{mode: none}}
evaluation: {{num_simulations: 20, maps: 1}}
aux:
  synthetic: {{min_magnitude: 3.0, frequency_rows: 4, slots_per_bin: 4, lead_days: 7.0}}
  injection: film
  side_dim: 2
"""


@pytest.mark.slow  # about 16 s: a whole run (catalog, frames, radio, training, report)
def test_run_trains_and_forecasts_with_the_radio_input(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(SETTINGS.format(out=tmp_path / "out"))
    lines: list[str] = []
    report = run_experiment(load_experiment(path), log=lines.append)
    out = tmp_path / "out"
    assert report.is_file() and (out / "radio.h5").is_file()
    assert any(line.startswith("radio: synthetic receiver") for line in lines)
    model, config = load(out / "network.ckpt")
    assert config.model.name == "side_input" and config.data.name == "seismicity_radio"
    assert config.model.options["injection"] == "film"
    assert model.side_shape == (2, 4, 4) and model.frame_channels == 1
    forecast = RateForecast.load(out / "forecasts" / "network.h5")
    reference = RateForecast.load(out / "forecasts" / "reference.h5")
    assert np.array_equal(forecast.window_start, reference.window_start)
    assert (forecast.rates > 0).all() and np.isfinite(forecast.rates).all()
    # the forecast reads the radio input: other side images change it
    packed = torch.zeros(1, 4, 1 + model.side_channels, 4, 4)
    other = packed.clone()
    other[:, :, 1:] = 3.0
    with torch.no_grad():
        assert not torch.allclose(model(packed, 1), model(other, 1))
    again: list[str] = []
    run_experiment(load_experiment(path), log=again.append)
    assert any(line.startswith("radio: reusing") for line in again)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("aux.injection=concat", "unknown side input 'concat'"),
        ("aux.bogus=1", "aux.bogus"),
        ("aux.lag_days=-1", "aux.lag_days must be >= 0"),
    ],
)
def test_bad_aux_section_fails_in_one_line_before_anything_runs(
    tmp_path, capsys, override, message
):
    path = tmp_path / "exp.yaml"
    path.write_text(SETTINGS.format(out=tmp_path / "out"))
    assert main(["quake", "run", "--config", str(path), override]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "out").exists()
