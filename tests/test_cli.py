"""The command line end to end: train a few steps, evaluate, predict, list, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from framecast_testing import tiny_run_config

from framecast import load
from framecast.cells import CELLS
from framecast.cli import main
from framecast.models import MODELS


def _write_config(tmp_path: Path, **sections) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_run_config(tmp_path / "runs", **sections)))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A checkpoint of a tiny PredRNN trained for 4 steps through the CLI."""
    tmp = tmp_path_factory.mktemp("cli")
    config = _write_config(tmp)
    assert main(["train", "--config", str(config), "train.max_steps=4"]) == 0
    ckpt = tmp / "runs" / "run" / "checkpoints" / "last.ckpt"
    assert ckpt.is_file()
    return ckpt


def test_train_writes_logs_config_and_checkpoint(trained: Path):
    run = trained.parent.parent
    assert (run / "config.yaml").is_file()
    assert (run / "logs" / "metrics.csv").is_file()
    assert any((run / "tensorboard").iterdir())
    assert torch.load(trained, weights_only=True)["global_step"] == 4


def test_evaluate_prints_table_and_writes_json(trained: Path, tmp_path: Path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", str(trained), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "persistence" in printed and "mse_per_frame_sum" in printed
    assert "the best trivial baseline" in printed and "skill vs " in printed
    metrics = json.loads((out / "metrics.json").read_text())
    trivial = {"persistence", "blank", "mean_frame", "best_constant", "flow"}
    assert set(metrics["models"]) == {"predrnn", *trivial}
    assert metrics["best_trivial_baseline"] in trivial
    assert set(metrics["skill_vs_best_trivial"]) == {"predrnn", *trivial}
    result = metrics["models"]["predrnn"]["mse_per_frame_sum"]
    assert len(result["curve"]) == 2 and result["mean"] > 0
    for name in ("prediction_strip.png", "prediction.gif", "mse_vs_lead_time.png"):
        assert (out / name).stat().st_size > 0


def test_evaluate_scores_csi_and_fss_at_thresholds(trained: Path, tmp_path: Path, capsys):
    out = tmp_path / "eval"
    # an override after --thresholds is not taken for a threshold
    args = ["evaluate", str(trained), "--out", str(out), "--fss-scales", "1", "5"]
    assert main([*args, "--thresholds", "0.2", "0.5", "data.batch_size=2"]) == 0
    printed = capsys.readouterr().out
    assert "| model | csi@0.2 | fss@0.2/1px | fss@0.2/5px | csi@0.5 | fss@0.5/1px |" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["thresholds"] == [0.2, 0.5] and metrics["fss_scales"] == [1, 5]
    assert set(metrics["models"]) == {"predrnn", "persistence", "blank", "mean_frame"} | {
        "best_constant",
        "flow",
    }
    for result in metrics["models"].values():
        assert {"csi@0.2", "fss@0.5/5px"} <= set(result)
    assert main(["evaluate", str(trained), "--thresholds", "1.5", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "threshold 1.5 is outside the data range [0, 1]" in err
    assert main(["evaluate", str(trained), "--fss-scales", "3", "--out", str(out)]) == 2
    assert "without thresholds" in capsys.readouterr().err
    assert main(["evaluate", str(trained), "--thresholds", "x", "--out", str(out)]) == 2
    assert "--thresholds takes numbers, 'x' is not a number" in capsys.readouterr().err


def test_evaluate_on_another_dataset_with_overrides(trained: Path, tmp_path: Path):
    frames = (np.random.default_rng(0).random((6, 5, 40, 40)) * 255).astype(np.uint8)
    np.save(tmp_path / "user.npy", frames)
    code = main(
        [
            "evaluate",
            str(trained),
            "--data",
            "array",
            f"data.options.path={tmp_path / 'user.npy'}",
            "data.options.test_fraction=0.5",
            "--out",
            str(tmp_path / "eval"),
        ]
    )
    assert code == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["data"] == "array"
    assert metrics["models"]["predrnn"]["n_sequences"] == 3


def test_predict_needs_no_ground_truth(trained: Path, tmp_path: Path):
    frames = (np.random.default_rng(1).random((3, 40, 40)) * 255).astype(np.uint8)  # (T, H, W)
    np.save(tmp_path / "in.npy", frames)
    out = tmp_path / "pred"
    assert (
        main(
            [
                "predict",
                str(trained),
                "--input",
                str(tmp_path / "in.npy"),
                "--horizon",
                "7",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    pred = np.load(out / "predictions.npy")
    assert pred.shape == (1, 7, 1, 40, 40)
    model, _ = load(trained)
    expected = model(torch.from_numpy(frames[None, :, None].astype(np.float32) / 255), 7).clamp(
        0, 1
    )
    np.testing.assert_allclose(pred, expected.detach().numpy(), atol=1e-6)
    assert (out / "prediction_strip.png").is_file() and (out / "prediction.gif").is_file()


def test_list_prints_registries(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("predrnn", "persistence", "convlstm", "stlstm", "moving_mnist", "moving_squares"):
        assert f"`{name}`" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--config", "{tmp}/nope.yaml"], "does not exist"),
        (["train", "--config", "{config}", "optim.lrr=1"], "optim.lrr"),
        (
            ["train", "--config", "{config}", "model.name=prednot"],
            "valid models: " + ", ".join(MODELS.available()),
        ),
        (
            ["train", "--config", "{config}", "model.options.cell=gru9"],
            "valid cells: " + ", ".join(CELLS.available()),
        ),
        (["train", "--config", "{config}", "model.options.patch_size=3"], "patch_size=3"),
        (["evaluate", "{tmp}/missing.ckpt"], "does not exist"),
        (["evaluate", "{corrupt}"], "corrupt"),
        (["predict", "{corrupt}", "--input", "x.npy"], "corrupt"),
        (["predict", "{ckpt}", "--input", "{tmp}/no.npy"], "does not exist"),
        (["predict", "{ckpt}", "--input", "{rank2}"], "layout"),
        (["predict", "{ckpt}", "--input", "{odd}"], "patch_size=4"),
        (["train", "--config", "{config}", "data.options.noise=maybe"], "noise"),
    ],
)
def test_bad_input_gives_clear_error(args, message, tmp_path: Path, trained: Path, capsys):
    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(b"not a checkpoint at all")
    np.save(tmp_path / "rank2.npy", np.zeros((40, 40), dtype=np.float32))
    np.save(tmp_path / "odd.npy", np.zeros((3, 42, 40), dtype=np.float32))
    subs = {
        "tmp": str(tmp_path),
        "config": str(_write_config(tmp_path)),
        "corrupt": str(corrupt),
        "ckpt": str(trained),
        "rank2": str(tmp_path / "rank2.npy"),
        "odd": str(tmp_path / "odd.npy"),
    }
    assert main([a.format(**subs) for a in args]) == 2
    assert message in capsys.readouterr().err


def test_ddp_two_processes_on_cpu(tmp_path: Path):
    """A 2-process DDP run (gloo) of a few steps through the console script."""
    config = _write_config(tmp_path)
    exe = Path(sys.executable).with_name("framecast")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            str(exe),
            "train",
            "--config",
            str(config),
            "train.strategy=ddp",
            "train.accelerator=cpu",
            "train.devices=2",
            "train.max_steps=2",
            "data.batch_size=2",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = torch.load(tmp_path / "runs" / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 2
    assert "trained to step 2 in" in proc.stdout and "on 2 processes" in proc.stdout


def test_train_in_bf16_mixed_on_cpu(tmp_path: Path):
    config = _write_config(tmp_path)
    assert (
        main(["train", "--config", str(config), "--precision", "bf16-mixed", "train.max_steps=2"])
        == 0
    )
    ckpt = torch.load(tmp_path / "runs" / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["hyper_parameters"]["config"]["train"]["precision"] == "bf16-mixed"
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())
