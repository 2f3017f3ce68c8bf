"""framecast.zoo and zoo_entries: the shipped weights, their records, ``framecast pretrained``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from framecast_testing import tiny_run_config

from framecast import zoo, zoo_entries
from framecast.checkpoint import load, resolve_checkpoint
from framecast.cli import main
from framecast.config import config_from_dict
from framecast.training import train


def _entry(name: str = "tiny", **changes: object) -> zoo_entries.Pretrained:
    fields = {
        "name": name,
        "description": "a tiny PredRNN on moving squares",
        "config": "configs/quick/predrnn.yaml",
        "command": "framecast train --config configs/quick/predrnn.yaml",
        "steps": 2,
        "cpu_hours": 0.01,
        "machine": "test",
        "test": {"sequences": 4, "mse_per_frame_sum": 12.5, "ssim": 0.5},
        "target": "none",
    }
    fields.update(changes)
    return zoo_entries.Pretrained(**fields)  # type: ignore[arg-type]


@pytest.fixture
def shelf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder of shipped weights in place of the package's."""
    folder = tmp_path / "pretrained"
    folder.mkdir()
    monkeypatch.setattr(zoo_entries, "PRETRAINED_DIR", folder)
    return folder


def test_an_entry_is_listed_only_with_its_weights_and_resolves_by_name(
    shelf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    result = train(config_from_dict(tiny_run_config(tmp_path / "run")))
    zoo_entries.write_entry(_entry())
    assert zoo_entries.available() == []  # a record without weights is not an entry
    zoo.export_weights(result.last_checkpoint, shelf / "tiny.ckpt")
    assert [e.name for e in zoo_entries.available()] == ["tiny"]
    assert resolve_checkpoint("pretrained:tiny") == shelf / "tiny.ckpt"
    model, _ = load("pretrained:tiny")
    original, _ = load(result.last_checkpoint)
    for (name, a), (_, b) in zip(
        original.state_dict().items(), model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert main(["pretrained"]) == 0
    out = capsys.readouterr().out
    assert "| `tiny` | a tiny PredRNN on moving squares | 2 | 0.0 | 12.5 | 0.500 |" in out
    assert "framecast evaluate pretrained:NAME" in out


def test_an_unknown_name_lists_what_is_shipped(shelf: Path):
    with pytest.raises(ValueError, match=r"no shipped weights called 'nope'; shipped: none"):
        resolve_checkpoint("pretrained:nope")


def test_a_record_with_unknown_fields_or_not_json_is_refused_naming_the_file(shelf: Path):
    bad = shelf / "bad.json"
    bad.write_text(json.dumps({**asdict(_entry()), "exec": "rm -rf /"}))
    with pytest.raises(ValueError, match=r"bad.json: unexpected fields \['exec'\]"):
        zoo_entries.read_entry(bad)
    bad.write_bytes(b"\x80\x04not json")
    with pytest.raises(ValueError, match=r"bad\.json: not a JSON record"):
        zoo_entries.read_entry(bad)
    missing = {k: v for k, v in asdict(_entry()).items() if k != "steps"}
    bad.write_text(json.dumps(missing))
    with pytest.raises(ValueError, match=r"bad\.json: .*steps"):
        zoo_entries.read_entry(bad)


def test_weights_over_the_size_limit_are_refused_and_not_left_behind(
    shelf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    result = train(config_from_dict(tiny_run_config(tmp_path / "run")))
    monkeypatch.setattr(zoo, "MAX_BYTES", 1000)
    with pytest.raises(ValueError, match=r"shipped weights are at most 0 MB"):
        zoo.export_weights(result.last_checkpoint, shelf / "big.ckpt")
    assert not (shelf / "big.ckpt").exists()


@pytest.mark.parametrize("entry", zoo_entries.available(), ids=lambda e: e.name)
def test_each_shipped_entry_is_small_loads_and_matches_its_config(entry: zoo_entries.Pretrained):
    from framecast.config import load_config

    assert entry.weights.stat().st_size <= zoo.MAX_BYTES
    _, config = load(entry.weights)
    source = load_config(Path(__file__).parents[1] / entry.config)
    trained, written = config.to_dict()["model"], source.to_dict()["model"]
    filled = {key for key, value in written.items() if value is None}  # in_channels: from the data
    assert {k: v for k, v in trained.items() if k not in filled} == {
        k: v for k, v in written.items() if k not in filled
    }
    assert config.data.name == source.data.name
    ckpt = torch.load(entry.weights, weights_only=True)
    assert ckpt["global_step"] == entry.steps
    assert "optimizer_states" not in ckpt
    assert entry.test["mse_per_frame_sum"] < entry.test["best_trivial_mse"]
    assert entry.test["ssim"] > entry.test["blank_ssim"]


SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"the MNIST digits are not at {SHARED_MNIST}",
)
@pytest.mark.parametrize("entry", zoo_entries.available(), ids=lambda e: e.name)
def test_evaluate_reproduces_each_shipped_record_on_its_full_test_split(
    entry: zoo_entries.Pretrained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The acceptance check of issue 22: 40 minutes a network on one core, hence slow."""
    from framecast.reporting import evaluate_checkpoint

    monkeypatch.setenv("FRAMECAST_MNIST_DIR", str(SHARED_MNIST))
    _, config = load(entry.weights)
    report = evaluate_checkpoint(f"pretrained:{entry.name}", out_dir=tmp_path / "eval")
    scores = report.evaluation.results[config.model.name]
    assert len(report.evaluation.results) > 1  # the baselines were scored beside it
    assert scores["mse_per_frame_sum"]["mean"] == pytest.approx(
        entry.test["mse_per_frame_sum"], rel=1e-4
    )
    assert scores["ssim"]["mean"] == pytest.approx(entry.test["ssim"], rel=1e-4)


@pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"the MNIST digits are not at {SHARED_MNIST}",
)
def test_the_demo_scores_shipped_moving_mnist_weights_beside_the_baselines(
    shelf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from framecast.demo import score_shipped

    data = {"name": "moving_mnist", "options": {"mnist_dir": str(SHARED_MNIST)}}
    result = train(config_from_dict(tiny_run_config(tmp_path / "run", data=data)))
    zoo.export_weights(result.last_checkpoint, shelf / "tiny.ckpt")
    zoo_entries.write_entry(_entry(description="a tiny PredRNN on Moving MNIST"))
    assert score_shipped(tmp_path / "demo", SHARED_MNIST, sequences=4) == ["tiny"]
    metrics = json.loads((tmp_path / "demo" / "shipped" / "tiny" / "metrics.json").read_text())
    assert metrics["best_trivial_baseline"] in {"blank", "mean_frame", "best_constant", "flow"}
    out = capsys.readouterr().out
    assert "Test set: 4 sequences of moving_mnist" in out
    assert "tiny (shipped, 2 steps, 0.0 CPU hours)" in out


def test_ship_exports_the_best_weights_and_records_scores_evaluate_reproduces(
    shelf: Path, tmp_path: Path
):
    from framecast.reporting import evaluate_checkpoint

    result = train(config_from_dict(tiny_run_config(tmp_path / "runs")))
    entry = zoo.ship(
        result.run_dir,
        "tiny",
        config_file="configs/quick/predrnn.yaml",
        description="a tiny PredRNN on moving squares",
        cpu_hours=0.001,
        machine="test",
        target="none",
        command="framecast train",
    )
    assert zoo_entries.available() == [entry]
    assert entry.test["sequences"] == 4
    assert entry.test["best_trivial"] in {
        "blank",
        "mean_frame",
        "best_constant",
        "flow",
        "persistence",
    }
    again = evaluate_checkpoint("pretrained:tiny", out_dir=tmp_path / "eval").evaluation.results
    assert again["predrnn"]["mse_per_frame_sum"]["mean"] == pytest.approx(
        entry.test["mse_per_frame_sum"], rel=1e-6
    )


def test_evaluating_shipped_weights_writes_under_runs_not_into_the_package(
    shelf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from framecast.reporting import evaluate_checkpoint

    result = train(config_from_dict(tiny_run_config(tmp_path / "runs")))
    zoo.export_weights(result.last_checkpoint, shelf / "tiny.ckpt")
    zoo_entries.write_entry(_entry())
    monkeypatch.chdir(tmp_path)
    evaluate_checkpoint("pretrained:tiny")
    report = tmp_path / "runs" / "pretrained-tiny" / "eval-test" / "metrics.json"
    assert report.is_file()
    assert not (shelf.parent / "eval-test").exists()
    report.unlink()
    # the command line resolves the name before it scores (it wrote into the package)
    assert main(["evaluate", "pretrained:tiny"]) == 0
    assert report.is_file()
    assert not (shelf.parent / "eval-test").exists()
