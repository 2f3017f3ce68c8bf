"""Training that fits counts (issue 13): transferable ETAS-residual configs, sample weighting of
active bins, and an ETAS-residual run from catalog to report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from quake_testing import REGION, random_catalog

from framecast.quake import Grid
from framecast.quake.dataset import SeismicityDataset
from framecast.quake.experiment import load_experiment, run_experiment
from framecast.quake.frames import grid_catalog

CONFIGS = Path(__file__).parents[2] / "configs" / "quake"
# what may differ between regions: the catalog (a file or a simulation, and so where ETAS comes
# from), the output folder, the region (box and cell size), the periods and mc
REGIONAL = {
    "out_dir",
    "catalog",
    "frames.region",
    "frames.cell",
    "frames.start",
    "frames.end",
    "frames.mc",
    "periods",
    "etas.mode",
    "etas.fit_start",
    "etas.auxiliary_start",
    "etas.max_branching_ratio",
    "frames.polygon",
    "etas.background",  # a fit's background; a simulated catalog's true parameters have none
    "etas.fit_end",
    "etas.num_simulations",  # the baseline's compute budget: converged on a real catalog,
    "etas.replicates",  # 1,000 x 1 in the 4-minute demo
}


def _flat(value, prefix=""):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: value}


def _regional(key: str) -> bool:
    return any(key == r or key.startswith(r + ".") for r in REGIONAL)


def test_demo_and_sanjacinto_configs_differ_only_in_region_periods_and_mc():
    demo = _flat(yaml.safe_load((CONFIGS / "demo_etas_residual.yaml").read_text()))
    sj = _flat(yaml.safe_load((CONFIGS / "sanjacinto_etas_residual.yaml").read_text()))
    differ = sorted(k for k in set(demo) | set(sj) if demo.get(k) != sj.get(k))
    assert differ and all(_regional(k) for k in differ), differ
    assert sj["etas_input.residual"] is True and sj["network.model.name"] == "predrnn"


def test_the_quake_demo_runs_the_demo_etas_residual_config(tmp_path):
    from framecast.quake.demo import demo_experiment

    config = _flat(load_experiment(CONFIGS / "demo_etas_residual.yaml").to_dict())
    demo = _flat(demo_experiment(tmp_path, minutes=2.5).to_dict())
    differ = sorted(k for k in set(demo) | set(config) if demo.get(k) != config.get(k))
    # the demo: its own folder, the --minutes budget, one seed (a sweep would triple the time)
    assert differ == ["network.train.max_minutes", "out_dir", "seeds"], differ
    assert demo["network.train.max_minutes"] == 2.5 and demo["seeds"] == []


@pytest.mark.parametrize(
    "name",
    [
        "sanjacinto_etas_residual",
        "sanjacinto_etas_residual_stlstm",
        "sanjacinto_etas_residual_prednet",
        "demo_etas_residual",
    ],
)
def test_etas_residual_configs_load_and_wrap_the_network(name, tmp_path):
    experiment = load_experiment(CONFIGS / f"{name}.yaml")
    frames = grid_catalog(
        random_catalog(50),
        experiment.grid(),
        start="2010-01-01",
        end="2011-01-01",
        bin_days=1,
        mc=2.0,
    )
    config = experiment.network.training_config(frames)
    assert config.model.name == "etas_residual"
    channels = config.data.options["channels"]
    assert channels[-1] == "etas" and config.model.options["etas_channel"] == len(channels) - 1
    assert "output_bias" not in config.model.options["options"]


def _frames_file(tmp_path):
    frames = grid_catalog(
        random_catalog(400, days=365),
        Grid.from_region(REGION, 0.25),
        start="2010-01-01",
        end="2011-01-01",
        bin_days=1,
        mc=2.0,
        channels=["count", "log_energy"],
    )
    return frames, frames.save(tmp_path / "frames.h5")


def test_active_windows_are_repeated_in_training_only(tmp_path):
    frames, path = _frames_file(tmp_path)
    kw = {"n_context": 4, "val_start": "2010-09-01", "test_start": "2010-11-01"}
    plain = SeismicityDataset("train", path, **kw)
    weighted = SeismicityDataset("train", path, active_repeat=3, active_events=2, **kw)
    counts = frames.channel("count").sum(axis=(1, 2))
    active = counts[plain.starts] >= 2
    assert 0 < active.sum() < len(active)
    assert len(weighted) == len(plain) + 2 * active.sum()
    np.testing.assert_array_equal(np.unique(weighted.starts), plain.starts)
    val = SeismicityDataset("val", path, active_repeat=3, active_events=2, **kw)
    assert len(val) == len(SeismicityDataset("val", path, **kw))


def test_active_repeat_needs_counts_and_a_positive_value(tmp_path):
    _, path = _frames_file(tmp_path)
    kw = {"n_context": 4, "val_start": "2010-09-01", "test_start": "2010-11-01"}
    with pytest.raises(ValueError, match="hold no 'count'"):
        SeismicityDataset("train", path, channels=["log_energy"], active_repeat=2, **kw)
    with pytest.raises(ValueError, match="active_repeat"):
        SeismicityDataset("train", path, active_repeat=0, **kw)


def test_etas_input_settings_are_checked(tmp_path):
    base = CONFIGS / "demo_etas_residual.yaml"
    with pytest.raises(ValueError, match=r"etas_input\.residual needs etas_input\.channel"):
        load_experiment(base, ["etas_input.channel=false"])
    with pytest.raises(ValueError, match=r"etas_input\.channel needs ETAS"):
        load_experiment(base, ["etas.mode=none"])
    with pytest.raises(ValueError, match=r"etas_input\.forecast must be one of"):
        load_experiment(base, ["etas_input.forecast=exact"])


SETTINGS = """
out_dir: {out}
catalog: {{simulate: true, seed: 3, burn_in_days: 365}}
frames: {{region: "33,34,-117,-116", cell: 0.25, start: "2000-01-01", end: "2003-01-01",
         bin_days: 7, mc: 2.0, channels: [count, activity_10d]}}
periods: {{val_start: "2001-07-01", test_start: "2002-01-01"}}
etas_input: {{channel: true, residual: true}}
network:
  model: {{name: predrnn, options: {{cell: convlstm, hidden_channels: 4, num_layers: 1}}}}
  data: {{n_context: 4, batch_size: 8, options: {{active_repeat: 2, active_events: 3}}}}
  optim: {{lr: 1.0e-12}}
  train: {{max_steps: 2, val_every_n_steps: 2, log_every_n_steps: 1}}
etas: {{mode: simulation, forecast: first_order}}
evaluation: {{num_simulations: 20, maps: 1}}
"""


@pytest.mark.slow  # about 25 s: a whole run with a simulated catalog
def test_untrained_etas_residual_run_forecasts_exactly_etas(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(SETTINGS.format(out=tmp_path / "out"))
    lines: list[str] = []
    run_experiment(load_experiment(path), log=lines.append)
    from framecast.quake.rates import RateForecast

    out = tmp_path / "out" / "forecasts"
    network, etas = RateForecast.load(out / "network.h5"), RateForecast.load(out / "etas.h5")
    np.testing.assert_allclose(network.rates, etas.rates, rtol=1e-5)
    assert (tmp_path / "out" / "frames_etas.h5").is_file()
