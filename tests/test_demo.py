"""framecast demo: the config it trains, the checkpoint it scores, the one it ships."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from framecast_testing import tiny_run_config

from framecast.checkpoint import load
from framecast.cli import main
from framecast.config import config_from_dict
from framecast.demo import best_checkpoint, demo_config
from framecast.training import train
from framecast.zoo import export_weights


def test_demo_config_bounds_time_or_steps(tmp_path: Path):
    timed = demo_config(tmp_path, 4.0)
    assert timed["train"]["max_minutes"] == 4.0
    assert timed["data"]["name"] == "moving_squares"
    assert timed["model"]["options"]["output_activation"] == "clip"
    assert timed["train"]["loss"] == "mse"
    fixed = demo_config(tmp_path, 4.0, steps=500)
    assert fixed["train"]["max_steps"] == 500 and fixed["train"]["max_minutes"] is None
    # the same model, data, optimiser and sampling either way
    for section in ("model", "data", "optim", "sampling"):
        assert timed[section] == fixed[section]


def test_demo_config_trains_moving_mnist_on_request(tmp_path: Path):
    mnist = demo_config(tmp_path, 4.0, data="moving_mnist", mnist_dir=Path("digits"))
    assert mnist["data"]["name"] == "moving_mnist"
    assert mnist["data"]["options"] == {"mnist_dir": "digits"}
    assert mnist["model"] == demo_config(tmp_path, 4.0)["model"]
    with pytest.raises(ValueError, match=r"demo data must be one of .* got 'kth'"):
        demo_config(tmp_path, 4.0, data="kth")


def test_export_keeps_weights_and_config_and_drops_the_optimiser(tmp_path: Path):
    result = train(config_from_dict(tiny_run_config(tmp_path)))
    dest = export_weights(result.last_checkpoint, tmp_path / "shipped.ckpt")
    assert dest.stat().st_size < result.last_checkpoint.stat().st_size
    assert "optimizer_states" not in torch.load(dest, weights_only=True)
    original, config = load(result.last_checkpoint)
    shipped, shipped_config = load(dest)
    assert shipped_config.to_dict() == config.to_dict()
    for (name, a), (_, b) in zip(
        original.state_dict().items(), shipped.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_best_checkpoint_prefers_the_best_and_falls_back(tmp_path: Path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(b"x")
    assert best_checkpoint(run, last) == last
    best = run / "checkpoints" / "best-epoch=000.ckpt"
    best.write_bytes(b"x")
    assert best_checkpoint(run, last) == best


def test_demo_refuses_a_bad_step_count(capsys):
    assert main(["demo", "--steps", "0"]) == 2
    assert "--steps must be a whole number >= 1, got 0" in capsys.readouterr().err
