"""``framecast classify train/evaluate/predict`` on text, video frames and earthquake alarms."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
import yaml
from classify_testing import write_burst_frames, write_dot_cache, write_reviews

from framecast.checkpoint import read_checkpoint
from framecast.cli import main

FAST = ["train.max_steps=12", "train.val_every_n_steps=6", "train.log_every_n_steps=2"]


def _config(tmp_path, model, data):
    path = tmp_path / "config.yaml"
    train = {"out_dir": str(tmp_path / "runs"), "run_name": "run", "progress_bar": False}
    path.write_text(yaml.safe_dump({"model": model, "data": data, "train": train}))
    return path


def _train(tmp_path, model, data, *extra):
    config = _config(tmp_path, model, data)
    assert main(["classify", "train", "--config", str(config), *FAST, *extra]) == 0
    return tmp_path / "runs" / "run"


def test_text_train_evaluate_predict_and_resume(tmp_path, capsys):
    model = {"name": "vector_rnn", "options": {"cell": "lstm", "embed_dim": 8, "hidden_size": 8}}
    data = {
        "name": "synthetic_text",
        "batch_size": 16,
        "options": {"num_train": 64, "num_val": 32, "num_test": 32, "length": 10},
    }
    run = _train(tmp_path, model, data, "train.class_weights=balanced")
    out = capsys.readouterr().out
    assert "step 12" in out and f"run folder: {run}" in out
    ckpt = read_checkpoint(run)
    config = ckpt["hyper_parameters"]["config"]
    assert config["model"]["class_names"] == ["class0", "class1"]
    assert config["model"]["input_size"] == len(ckpt["hyper_parameters"]["vocabulary"])
    assert len(config["train"]["class_weights"]) == 2  # "balanced" resolved from the labels
    assert (run / "vocabulary.json").is_file()

    assert main(["classify", "evaluate", str(run)]) == 0
    report = (run / "eval-test" / "report.md").read_text()
    assert "| **macro** |" in report and "accuracy" in report
    metrics = json.loads((run / "eval-test" / "metrics.json").read_text())["metrics"]
    assert metrics["count"] == 32 and len(metrics["confusion"]) == 2
    assert (run / "eval-test" / "curves.png").stat().st_size > 0

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("w1 c0m1 c0m2 w3 c0m3")
    assert (
        main(
            [
                "classify",
                "predict",
                str(run),
                "--input",
                str(tmp_path / "in"),
                "--out",
                str(tmp_path / "pred"),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader((tmp_path / "pred" / "predictions.csv").open()))
    assert len(rows) == 1 and rows[0]["predicted"] in ("class0", "class1")
    assert float(rows[0]["p_class0"]) + float(rows[0]["p_class1"]) == pytest.approx(1, abs=1e-5)

    assert main(["classify", "train", "--resume", str(run), "train.max_steps=18"]) == 0
    assert read_checkpoint(run)["global_step"] == 18
    # a new run in a folder that holds one is refused in one line
    config_path = tmp_path / "config.yaml"
    assert main(["classify", "train", "--config", str(config_path), *FAST]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_imdb_layout_with_a_latin1_review(tmp_path, capsys):
    texts = {
        "pos": [f"great fine film {i}" for i in range(12)],
        "neg": [f"dull poor film {i}" for i in range(12)],
    }
    root = tmp_path / "aclImdb"
    write_reviews(root / "train", texts)
    write_reviews(root / "test", {k: v[:4] for k, v in texts.items()})
    (root / "train" / "neg" / "99_1.txt").write_bytes("très mauvais".encode("latin-1"))
    model = {"name": "vector_rnn", "options": {"cell": "rnn", "embed_dim": 4, "hidden_size": 4}}
    data = {
        "name": "imdb",
        "batch_size": 8,
        "options": {"path": str(root), "max_length": 6, "val_fraction": 0.25},
    }
    run = _train(tmp_path, model, data)
    out = capsys.readouterr().out
    assert "skipped 1 unreadable file(s)" in out and "99_1.txt: not UTF-8" in out
    (root / "test" / "pos" / "98_9.txt").write_bytes("très bon".encode("latin-1"))
    assert main(["classify", "evaluate", str(run)]) == 0
    result = json.loads((run / "eval-test" / "metrics.json").read_text())
    assert result["metrics"]["class_names"] == ["neg", "pos"] and result["metrics"]["count"] == 8
    assert len(result["skipped"]) == 1 and "98_9.txt: not UTF-8" in result["skipped"][0]
    assert "98_9.txt" in (run / "eval-test" / "report.md").read_text()


def test_early_stopping_ends_a_run_that_stops_improving(tmp_path, capsys):
    model = {"name": "vector_rnn", "options": {"cell": "gru", "embed_dim": 4, "hidden_size": 4}}
    data = {
        "name": "synthetic_text",
        "batch_size": 8,
        "options": {"num_train": 32, "num_val": 8, "num_test": 8, "length": 6},
    }
    config = _config(tmp_path, model, data)
    args = ["train.max_steps=60", "train.val_every_n_steps=4", "train.early_stopping_patience=1"]
    args.append("train.log_every_n_steps=2")
    # with a zero learning rate the validation loss never improves after the first validation
    assert main(["classify", "train", "--config", str(config), *args, "optim.lr=0.0"]) == 0
    assert read_checkpoint(tmp_path / "runs" / "run")["global_step"] == 8
    assert "trained to step 8" in capsys.readouterr().out


def test_video_folders_train_evaluate_predict(tmp_path):
    cache = write_dot_cache(tmp_path / "dots.h5", clips_per_split={"train": 16})
    model = {"name": "conv_rnn", "options": {"cell": "convlstm", "hidden_channels": 4}}
    data = {
        "name": "video_folders",
        "batch_size": 4,
        "options": {
            "path": str(cache),
            "num_frames": 4,
            "val_fraction": 0.25,
            "test_fraction": 0.25,
        },
    }
    run = _train(tmp_path, model, data)
    assert main(["classify", "evaluate", str(run), "--split", "val"]) == 0
    assert (run / "eval-val" / "report.md").is_file()
    assert (
        main(
            [
                "classify",
                "predict",
                str(run),
                "--input",
                str(cache),
                "--out",
                str(tmp_path / "pred"),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader((tmp_path / "pred" / "predictions.csv").open()))
    assert len(rows) == 16 and rows[0]["item"].startswith(("left/", "right/"))
    clips = np.random.default_rng(0).integers(0, 255, (3, 4, 1, 8, 8), dtype=np.uint8)
    np.save(tmp_path / "clips.npy", clips)
    assert (
        main(
            [
                "classify",
                "predict",
                str(run),
                "--input",
                str(tmp_path / "clips.npy"),
                "--out",
                str(tmp_path / "pred2"),
            ]
        )
        == 0
    )
    assert len(list(csv.DictReader((tmp_path / "pred2" / "predictions.csv").open()))) == 3


def test_quake_alarms_train_evaluate_predict(tmp_path, capsys):
    frames = write_burst_frames(tmp_path / "frames.h5")
    model = {"name": "conv_rnn", "options": {"cell": "convlstm", "hidden_channels": 4}}
    data = {
        "name": "quake_alarms",
        "batch_size": 8,
        "options": {
            "path": str(frames),
            "val_start": "2011-01-01",
            "test_start": "2011-07-01",
            "magnitude": 3.5,
            "n_context": 6,
            "window_bins": 4,
        },
    }
    run = _train(tmp_path, model, data)
    capsys.readouterr()
    assert main(["classify", "evaluate", str(run)]) == 0
    report = (run / "eval-test" / "report.md").read_text()
    assert "| classifier |" in report and "| recent-rate Poisson |" in report
    assert (run / "eval-test" / "alarms.png").stat().st_size > 0
    alarms = json.loads((run / "eval-test" / "metrics.json").read_text())["alarms"]
    assert [a["name"] for a in alarms] == ["classifier", "recent-rate Poisson"]
    assert (
        main(
            [
                "classify",
                "predict",
                str(run),
                "--input",
                str(frames),
                "--out",
                str(tmp_path / "pred"),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader((tmp_path / "pred" / "predictions.csv").open()))
    assert len(rows) == 1 and rows[0]["predicted"] in ("quiet", "M>=3.5")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["model.options.hidden=3"], r"unknown option\(s\) \['hidden'\]"),
        (["data.name=nope"], "unknown labelled dataset 'nope'"),
        (["bogus.key=1"], r"unknown config key\(s\) \['bogus'\]"),
        (["train.class_weights=heavy"], "train.class_weights must be balanced"),
        (["train.class_weights=[1, 2, 3]"], "train.class_weights must hold 2 numbers"),
        (["model.input_size=7"], "model.input_size=7 but dataset 'synthetic_text' needs"),
    ],
)
def test_bad_configs_fail_in_one_line_and_write_nothing(tmp_path, capsys, args, message):
    model = {"name": "vector_rnn", "options": {"hidden_size": 4, "embed_dim": 4}}
    data = {
        "name": "synthetic_text",
        "batch_size": 8,
        "options": {"num_train": 16, "num_val": 8, "num_test": 8, "length": 6},
    }
    config = _config(tmp_path, model, data)
    assert main(["classify", "train", "--config", str(config), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("framecast classify: error: ") and err.count("\n") == 1
    assert re.search(message, err)
    assert not (tmp_path / "runs").exists()


def test_a_forecaster_checkpoint_is_not_a_classifier(tmp_path, capsys):
    import torch

    assert main(["classify", "evaluate", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    forecaster = {"hyper_parameters": {"config": {"model": {"name": "predrnn"}}}, "state_dict": {}}
    torch.save(forecaster, tmp_path / "forecaster.ckpt")
    assert main(["classify", "predict", str(tmp_path / "forecaster.ckpt"), "--input", "x"]) == 2
    assert "not a classifier's" in capsys.readouterr().err


def test_evaluate_writes_the_tutorial_outputs(tmp_path):
    model = {"name": "vector_rnn", "options": {"cell": "lstm", "embed_dim": 8, "hidden_size": 8}}
    data = {
        "name": "synthetic_text",
        "batch_size": 16,
        "options": {"num_train": 64, "num_val": 32, "num_test": 48, "length": 10},
    }
    config = _config(tmp_path, model, data)
    assert main(["classify", "train", "--config", str(config), "train.max_epochs=3",
                 "train.max_steps=-1", "train.log_every_n_steps=1"]) == 0  # fmt: skip
    run = tmp_path / "runs" / "run"
    assert main(["classify", "evaluate", str(run)]) == 0
    out = run / "eval-test"
    result = json.loads((out / "metrics.json").read_text())
    epochs = result["epochs"]
    assert [e["epoch"] for e in epochs] == [0, 1, 2]  # 4 steps an epoch, 3 epochs
    assert all(0 <= e["val_accuracy"] <= 1 and e["train_loss"] > 0 for e in epochs)
    histograms = result["probability_histograms"]
    assert set(histograms) == {"train", "test"}
    support = result["metrics"]["support"]
    assert {k: sum(v) for k, v in histograms["test"].items()} == support
    assert sum(sum(v) for v in histograms["train"].values()) == 64
    weighted = result["metrics"]["recall"]["weighted"]
    assert weighted == pytest.approx(result["metrics"]["accuracy"], abs=1e-6)
    report = (out / "classification_report.txt").read_text()
    assert "weighted avg" in report and "macro avg" in report
    assert "| epoch | train loss |" in (out / "report.md").read_text()
    for name in ("learning_curves.png", "probability_histograms.png", "curves.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def test_a_run_shorter_than_one_validation_interval_ends_cleanly(tmp_path, capsys):
    model = {"name": "vector_rnn", "options": {"cell": "gru", "embed_dim": 4, "hidden_size": 4}}
    data = {
        "name": "synthetic_text",
        "batch_size": 8,
        "options": {"num_train": 64, "num_val": 8, "num_test": 8, "length": 6},
    }
    config = _config(tmp_path, model, data)
    # 3 steps of an 8-step epoch: no validation before the end, with early stopping on
    args = ["train.max_steps=3", "train.max_epochs=5", "train.early_stopping_patience=2"]
    assert main(["classify", "train", "--config", str(config), *args]) == 0
    assert read_checkpoint(tmp_path / "runs" / "run")["global_step"] == 3
    assert "trained to step 3" in capsys.readouterr().out
