"""The two non-neural ablations of the ETAS residual (issue 21, item 5) and the recipe record."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from framecast.quake.experiment import load_experiment, run_experiment
from framecast.quake.recipe import read_recipe
from framecast.quake.residual_ablations import (
    fit_static_map,
    poisson_log_likelihood,
    static_multipliers,
)
from framecast.quake.settings import check_ablations


def _poisson_frames(shape: tuple[int, int, int], under: float, seed: int = 0):
    """ETAS-like rates and counts drawn from them, cell (0, 0) ``under`` times busier."""
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.02, 0.2, size=shape)  # [T, H, X]
    truth = rates.copy()
    truth[:, 0, 0] *= under
    return rng.poisson(truth), rates


def test_static_multipliers_are_the_gamma_poisson_posterior_mean():
    counts = np.zeros((3, 1, 2))
    counts[:, 0, 0] = [2, 0, 1]
    rates = np.full((3, 1, 2), 0.5)
    m = static_multipliers(counts, rates, strength=1.0)
    assert m[0, 0] == pytest.approx((3 + 1) / (1.5 + 1))
    assert m[0, 1] == pytest.approx(1 / 2.5)  # no events: pulled below 1, never to 0
    assert (static_multipliers(counts, rates, math.inf) == 1).all()
    with pytest.raises(ValueError, match="prior strength must be > 0, got 0"):
        static_multipliers(counts, rates, 0.0)


def test_static_map_is_not_used_when_etas_is_right_and_found_when_it_is_not():
    counts, rates = _poisson_frames((2000, 4, 4), under=1.0)
    right = fit_static_map(counts, rates, val_start=1000, test_start=2000)
    assert right.strength >= 100  # a strong prior: the map stays near 1
    assert np.abs(right.multiplier - 1).max() < 0.3
    counts, rates = _poisson_frames((2000, 4, 4), under=5.0)
    wrong = fit_static_map(counts, rates, val_start=1000, test_start=2000)
    assert wrong.multiplier[0, 0] == pytest.approx(5.0, rel=0.15)
    assert wrong.validation[wrong.strength] > wrong.validation[math.inf]


def test_poisson_log_likelihood_matches_scipy():
    from scipy.stats import poisson

    counts, rates = _poisson_frames((5, 2, 3), under=1.0)
    expected = poisson.logpmf(counts, rates).sum()
    assert poisson_log_likelihood(counts, rates) == pytest.approx(expected)


def test_bad_ablations_are_refused_in_one_line():
    with pytest.raises(ValueError, match="unknown 'static'; expected some of"):
        check_ablations(["static"], residual=True)
    with pytest.raises(ValueError, match=r"need etas_input\.residual: true"):
        check_ablations(["head_only"], residual=False)


SETTINGS = """
out_dir: {out}
catalog: {{simulate: true, seed: 3, burn_in_days: 365,
          etas: {{log10_mu: -5.3, log10_k0: -2.9}}}}
frames: {{region: "33,34,-117,-116", cell: 0.125, start: "2000-01-01", end: "2004-01-01",
         bin_days: 7, mc: 2.0, channels: [count]}}
periods: {{val_start: "2002-07-01", test_start: "2003-01-01"}}
network:
  model: {{name: predrnn, options: {{cell: convlstm, hidden_channels: 4, num_layers: 1,
                                    patch_size: 1}}}}
  data: {{n_context: 4, batch_size: 8}}
  train: {{max_steps: 3, val_every_n_steps: 3, log_every_n_steps: 1}}
etas: {{mode: fit, background: declustered, num_simulations: 40, replicates: 2,
       auxiliary_start: "2000-01-01", fit_start: "2000-07-01"}}
etas_input: {{channel: true, residual: true}}
ablations: [static_map, head_only]
seeds: [0, 1]
evaluation: {{num_simulations: 40, maps: 1}}
"""


def test_run_scores_both_ablations_and_records_its_recipe(tmp_path):
    frozen = tmp_path / "frozen"
    frozen.mkdir()
    path = frozen / "exp.yaml"
    path.write_text(SETTINGS.format(out=tmp_path / "out"))
    recipe = read_recipe(path, ["frames.mc=2.0", "network.train.max_steps=3"])
    assert recipe.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert recipe.frozen and recipe.departures() == ["network.train.max_steps=3"]
    lines: list[str] = []
    experiment = load_experiment(path, ["frames.mc=2.0"])
    report = run_experiment(experiment, log=lines.append, recipe=recipe)
    text = report.read_text()
    assert f"SHA-256 `{recipe.sha256}`" in text and "Departures from the frozen recipe" in text
    out = tmp_path / "out"
    assert (out / "ablations" / "static_map.h5").is_file()
    assert (out / "ablations" / "head_only.ckpt").is_file()
    section = text.split("## Comparisons allowing for clustered events")[1].split("\n## ")[0]
    for name in ("first-order ETAS x static map", "1x1 head alone"):
        rows = [r for r in section.splitlines() if r.startswith(f"| {name}")]
        assert len(rows) == 4, (name, rows)  # over 3 ETAS variants and the reference
    pooled = text.split("## The network over each ETAS variant")[1].split("\n## ")[0]
    assert "| 2 x 2 |" in pooled  # two seeds against two Monte Carlo replicates
    assert pooled.count("| 2 x 1 |") == 2  # first order, declustered and uniform
    lines.clear()
    run_experiment(load_experiment(path, ["frames.mc=2.0"]), log=lines.append, recipe=recipe)
    assert any("ablation static_map: reusing" in line for line in lines)
    assert any("ablation head_only: reusing" in line for line in lines)
