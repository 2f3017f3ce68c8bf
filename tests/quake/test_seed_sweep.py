"""The seed sweep (issue 13): the network trained once per seed on the same frames and ETAS
stage, each seed scored, the spread in the report; a finished seed is not retrained."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from scores_testing import gamma_rates, make_forecast, simulate_events

from framecast.quake.experiment import load_experiment, run_experiment
from framecast.quake.rates import RateForecast
from framecast.quake.scores import bootstrap_information_gain, information_gain
from framecast.quake.seed_sweep import GainInterval, score_seeds, seed_sweep_markdown

SHAPE = (120, 10, 10)  # 120 weekly windows of 10 x 10 cells


def _forecasts():
    truth = gamma_rates(SHAPE, seed=1, mean=0.05)
    observed = simulate_events(truth, seed=2)
    flat = np.full(SHAPE, truth.mean())
    networks = {
        0: make_forecast(truth, "net 0"),
        1: make_forecast(truth * 3.0, "net 1"),  # three times too many events
    }
    return networks, make_forecast(flat, "reference"), make_forecast(truth * 0.9, "etas"), observed


def test_each_seed_gets_its_gains_log_likelihood_and_n_test():
    networks, reference, etas, observed = _forecasts()
    scores = score_seeds(networks, reference, etas, observed, seed=5)
    assert [s.seed for s in scores] == [0, 1]
    for score, forecast in zip(scores, networks.values(), strict=True):
        t_test = information_gain(forecast, etas, observed)
        assert score.over_etas.information_gain == pytest.approx(t_test.information_gain)
        interval = bootstrap_information_gain(forecast, reference, observed, block_days=30, seed=5)
        assert (score.over_reference.lower, score.over_reference.upper) == pytest.approx(
            (interval.lower, interval.upper)
        )
        expected = forecast.rates.sum()
        delta1 = stats.poisson.sf(len(observed) - 1, expected)
        delta2 = stats.poisson.cdf(len(observed), expected)
        assert score.n_quantiles == pytest.approx((delta1, delta2))
        assert score.n_forecast == pytest.approx(expected)
    # the true rates pass the N-test and beat the flat reference; three times them fail it
    assert scores[0].n_passed and not scores[1].n_passed
    assert scores[0].over_reference.verdict == "above 0"
    assert scores[0].log_likelihood > scores[1].log_likelihood


def test_the_markdown_lists_every_seed_and_the_spread():
    networks, reference, etas, observed = _forecasts()
    scores = score_seeds(networks, reference, etas, observed)
    text = seed_sweep_markdown(
        scores, n_observed=len(observed), etas_name="etas", reference_name="reference"
    )
    gains = [s.over_etas.information_gain for s in scores]
    assert "## Seed sweep" in text
    assert f"| 1 | {gains[1]:+.3f} [" in text
    assert f"mean {np.mean(gains):+.3f}, min {min(gains):+.3f}, max {max(gains):+.3f}" in text
    verdicts = {s.over_etas.verdict for s in scores}
    if len(verdicts) == 1:
        assert f"every seed's interval: {verdicts.pop()}" in text
    else:
        assert "of 2 seeds" in text
    no_etas = score_seeds(networks, reference, None, observed)
    assert all(s.over_etas is None for s in no_etas)
    assert "gain over ETAS:" not in seed_sweep_markdown(
        no_etas, n_observed=len(observed), etas_name=None, reference_name="reference"
    )


@pytest.mark.parametrize(
    ("lower", "upper", "verdict"),
    [(0.1, 0.3, "above 0"), (-0.3, -0.1, "below 0"), (-0.1, 0.1, "includes 0")],
)
def test_interval_verdicts(lower, upper, verdict):
    assert GainInterval(0.0, lower, upper).verdict == verdict


def test_no_network_forecast_is_refused():
    _, reference, etas, observed = _forecasts()
    with pytest.raises(ValueError, match="no seed's network forecast"):
        score_seeds({}, reference, etas, observed)


SETTINGS = """
out_dir: {out}
catalog: {{simulate: true, seed: 3, burn_in_days: 200, etas: {{log10_mu: -5.5}}}}
frames: {{region: "33,34,-117,-116", cell: 0.25, start: "2000-01-01", end: "2002-01-01",
         bin_days: 14, mc: 2.0, channels: [count]}}
periods: {{val_start: "2001-01-01", test_start: "2001-07-01"}}
etas_input: {{channel: true, residual: true}}
network:
  model:
    name: predrnn
    options: {{cell: convlstm, hidden_channels: 2, num_layers: 1, patch_size: 1}}
  data: {{n_context: 2, batch_size: 8}}
  optim: {{lr: 0.05}}
  train: {{max_steps: 2, val_every_n_steps: 2, log_every_n_steps: 1}}
etas: {{mode: simulation, forecast: first_order}}
evaluation: {{num_simulations: 5, maps: 1}}
seeds: {seeds}
"""


def _run(tmp_path, seeds):
    path = tmp_path / "exp.yaml"
    path.write_text(SETTINGS.format(out=tmp_path / "out", seeds=seeds))
    lines: list[str] = []
    run_experiment(load_experiment(path), log=lines.append)
    return tmp_path / "out", lines


def test_a_sweep_trains_each_seed_once_and_reports_every_seed(tmp_path):
    out, _ = _run(tmp_path, [0, 1])
    assert not (out / "seeds" / "seed_0").exists()  # seed 0 is the run's own network
    seed1 = out / "seeds" / "seed_1" / "network.ckpt"
    own = RateForecast.load(out / "forecasts" / "network.h5")
    other = RateForecast.load(out / "seeds" / "seed_1" / "network.h5")
    assert not np.allclose(own.rates, other.rates)  # other initial weights, other forecast
    saved = json.loads((out / "report" / "seeds.json").read_text())["seeds"]
    assert [s["seed"] for s in saved] == [0, 1]
    assert all(s["over_etas"] is not None for s in saved)
    report = (out / "report" / "report.md").read_text()
    assert "## Seed sweep" in report and "| 1 | " in report

    stamp = seed1.stat().st_mtime_ns
    out, lines = _run(tmp_path, [0, 1, 2])
    assert seed1.stat().st_mtime_ns == stamp  # the finished seed is not retrained
    assert any(line.startswith("seed 1: reusing") for line in lines)
    assert any("catalog, frames and network kept" in line for line in lines)
    assert (out / "seeds" / "seed_2" / "network.ckpt").is_file()
    saved = json.loads((out / "report" / "seeds.json").read_text())["seeds"]
    assert [s["seed"] for s in saved] == [0, 1, 2]


@pytest.mark.parametrize(
    ("seeds", "message"),
    [("[1, 1]", r"seeds must be distinct, got \[1, 1\]"), ("[-1]", "non-negative integers")],
)
def test_bad_seeds_are_refused_before_anything_is_written(tmp_path, seeds, message):
    path = tmp_path / "exp.yaml"
    path.write_text(SETTINGS.format(out=tmp_path / "out", seeds=seeds))
    with pytest.raises(ValueError, match=message) as error:
        load_experiment(path)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out").exists()
