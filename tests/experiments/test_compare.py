"""framecast compare: the table, the plot, and resuming without retraining finished pairs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from framecast_testing import tiny_comparison

from framecast.experiments.budget import Budget, parse_budget
from framecast.experiments.compare import plan_pairs
from framecast.numerics import allowed_cores, check_jobs, default_jobs


def _compare(out: Path, **kw):
    return tiny_comparison(["predrnn", "persistence", "fc_lstm"], ["convlstm", "stlstm"], out, **kw)


def test_compare_writes_table_and_resumes(tmp_path: Path):
    out = tmp_path / "cmp"
    table = _compare(out)
    text = table.read_text()
    assert "| predrnn | convlstm |" in text and "| predrnn | stlstm |" in text
    assert "| persistence |" in text
    for name in ("blank", "mean_frame", "best_constant", "flow"):  # every trivial baseline
        assert f"| {name} | - | 0 |" in text
    assert "Best trivial baseline: " in text
    assert "fc_lstm with convlstm: fc_lstm runs only" in text  # incompatible pair explained
    with (out / "comparison.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["model"], r["cell"]) for r in rows] == [
        ("predrnn", "convlstm"),
        ("predrnn", "stlstm"),
    ]
    for r in rows:
        assert int(r["params"]) > 0 and float(r["peak_memory_mb"]) > 0
        assert float(r["mse_ratio_to_persistence"]) > 0
        assert float(r["skill_vs_best_trivial"]) < 1
    assert (out / "mse_vs_lead_time.png").stat().st_size > 0
    assert (out / "pairs" / "predrnn-stlstm" / "prediction_strip.png").is_file()

    # an interruption after the first pair: its result stays, the second is redone
    kept = out / "pairs" / "predrnn-convlstm" / "result.json"
    redo = out / "pairs" / "predrnn-stlstm" / "result.json"
    kept_mtime = kept.stat().st_mtime_ns
    redo.unlink()
    _compare(out)
    assert kept.stat().st_mtime_ns == kept_mtime
    again = json.loads(redo.read_text())
    assert again["resumed"] is True  # continued from the pair's checkpoint, not from scratch


def test_compare_refuses_other_settings_in_the_same_folder(tmp_path: Path):
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "comparison_spec.json").write_text(json.dumps({"budget": "1m"}))
    with pytest.raises(ValueError, match="other settings"):
        _compare(out)


def test_budgets():
    assert parse_budget("10m") == Budget(minutes=10.0)
    assert parse_budget("90s") == Budget(minutes=1.5)
    assert parse_budget("1h") == Budget(minutes=60.0)
    assert parse_budget("500steps") == Budget(steps=500)
    for bad in ("ten minutes", "0m", "-5m", "1.5steps"):
        with pytest.raises(ValueError, match="budget"):
            parse_budget(bad)


def test_plan_pairs_names_unknown_models():
    with pytest.raises(KeyError, match="valid models"):
        plan_pairs(["predrnn", "nosuchnet"], ["convlstm"])
    with pytest.raises(ValueError, match="no \\(model, cell\\) pair"):
        plan_pairs(["predrnn"], ["lstm"])


def test_compare_runs_pairs_in_parallel_with_one_thread_each(tmp_path: Path):
    out = tmp_path / "cmp"
    _compare(out, jobs=2)
    for pair in ("predrnn-convlstm", "predrnn-stlstm"):
        result = json.loads((out / "pairs" / pair / "result.json").read_text())
        # two jobs share the cores: each gets cores // 2 threads (1 on a 2-core machine)
        assert result["torch_threads"] == max(1, len(allowed_cores()) // 2)
        assert (out / "pairs" / pair / "log.txt").stat().st_size > 0  # output kept per pair
    assert "| predrnn | stlstm |" in (out / "comparison.md").read_text()


def test_jobs_are_checked_and_capped(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ValueError, match="--jobs must be a whole number >= 1, got 0"):
        check_jobs(0)
    monkeypatch.setenv("FRAMECAST_THREADS", "2")
    assert default_jobs(pending=5) == 2
    assert default_jobs(pending=1) == 1
    monkeypatch.setenv("FRAMECAST_THREADS", "1")
    assert default_jobs(pending=5) == 1
    monkeypatch.delenv("FRAMECAST_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # how the test suite runs: one job, no workers
    assert default_jobs(pending=5) == 1
