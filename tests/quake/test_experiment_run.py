"""``framecast quake run`` end to end on a tiny simulated catalog: every stage, the report's
new sections, reuse of finished stages and the invalidation of late stages only."""

from __future__ import annotations

import json

import pytest

from framecast.quake.experiment import load_experiment, run_experiment

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
etas: {{mode: simulation, num_simulations: 50, seed: 1, replicates: 2}}
evaluation: {{num_simulations: 50, maps: 1}}
"""


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quake_run")
    path = folder / "exp.yaml"
    path.write_text(SETTINGS.format(out=folder / "out"))
    lines: list[str] = []
    report = run_experiment(load_experiment(path), log=lines.append)
    return folder, path, report, lines


def test_run_reports_simulated_etas_with_its_catalog_tests(finished_run):
    folder, _, report, lines = finished_run
    text = report.read_text()
    out = folder / "out"
    for name in ("etas.h5", "etas_first_order.h5", "etas_catalogs.h5", "network.h5"):
        assert (out / "forecasts" / name).is_file(), name
    assert "## Magnitude of completeness" in text
    assert "## ETAS parameters" in text and "Branching ratio" in text
    assert "Catalog-based tests of ETAS (true parameters), simulated" in text
    scores = json.loads((report.parent / "scores.json").read_text())
    assert "ETAS (true parameters), simulated" in scores["catalog_tests"]
    assert any("replicate 2/2, 50 simulations per window" in line for line in lines)
    for r in (0, 1):
        assert (out / "forecasts" / "etas_replicates" / f"replicate_{r}.h5").is_file()
    assert "## Monte Carlo error of the simulated ETAS baseline" in text
    assert "Standard deviation across replicates" in text
    # the network over each ETAS variant, one seed against both replicates of the simulation
    assert "| ETAS (true parameters), simulated | 1 x 2 |" in text
    assert "| ETAS (true parameters), first order | 1 x 1 |" in text


def test_rerun_reuses_every_stage(finished_run):
    _, path, _, _ = finished_run
    lines: list[str] = []
    run_experiment(load_experiment(path), log=lines.append)
    reused = [line for line in lines if "reusing" in line]
    assert len(reused) >= 6, lines  # catalog, frames, network, 4 forecasts


def test_changed_etas_settings_recompute_etas_only(finished_run):
    _, path, _, _ = finished_run
    lines: list[str] = []
    run_experiment(load_experiment(path, ["etas.num_simulations=20"]), log=lines.append)
    text = "\n".join(lines)
    assert "network: reusing" in text and "frames: reusing" in text
    assert "20 simulations per window" in text
    assert "forecast etas: reusing" not in text
