"""Classify: an unreadable class refused, undefined AUCs said so (issue 23 item 10).

A class whose files were all unreadable trained as an empty class with exit 0;
undefined AUCs were printed as 0.000 or -0.000.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from framecast.classify.evaluate import alarm_table
from framecast.classify.metrics import classification_metrics
from framecast.classify.report import format_metrics_table
from framecast.cli import main


def _text_config(tmp_path: Path, root: Path) -> Path:
    model = {"name": "vector_rnn", "options": {"cell": "rnn", "embed_dim": 4, "hidden_size": 4}}
    data = {"name": "text_folder", "batch_size": 4, "options": {"path": str(root), "max_length": 6}}
    train = {"out_dir": str(tmp_path / "runs"), "run_name": "run", "progress_bar": False}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"model": model, "data": data, "train": train}))
    return path


def test_class_of_unreadable_files_is_refused_in_one_line(tmp_path, capsys, caplog):
    root = tmp_path / "texts"
    (root / "neg").mkdir(parents=True)
    (root / "pos").mkdir()
    for i in range(12):
        (root / "neg" / f"{i}.txt").write_text(f"dull poor film {i}", "utf-8")
        (root / "pos" / f"{i}.txt").write_bytes(f"très bon film {i}".encode("latin-1"))
    config = _text_config(tmp_path, root)
    code = main(["classify", "train", "--config", str(config), "train.max_steps=2"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "class 'pos'" in err and "none of the 12 .txt file(s)" in err and "not UTF-8" in err
    assert not [r for r in caplog.records if "skipped text file" in r.getMessage()]
    assert not (tmp_path / "runs" / "run").exists()


def test_one_readable_file_keeps_the_class(tmp_path):
    from framecast.classify.text import read_text_folder

    root = tmp_path / "texts"
    (root / "neg").mkdir(parents=True)
    (root / "pos").mkdir()
    (root / "neg" / "0.txt").write_text("dull", "utf-8")
    (root / "pos" / "0.txt").write_bytes("très".encode("latin-1"))
    (root / "pos" / "1.txt").write_text("great", "utf-8")
    corpus = read_text_folder(root)
    assert corpus.labels == [0, 1] and len(corpus.skipped) == 1


def _one_class_metrics() -> object:
    probabilities = torch.softmax(torch.randn(10, 3, generator=torch.Generator().manual_seed(0)), 1)
    labels = torch.zeros(10, dtype=torch.int64)  # every item of class "a"
    return classification_metrics(probabilities, labels, ("a", "b", "c"))


def test_undefined_aucs_are_nan_not_zero():
    metrics = _one_class_metrics()
    assert all(math.isnan(metrics.roc_auc[name]) for name in ("a", "b", "c", "macro"))
    assert math.isnan(metrics.average_precision["b"]) and math.isnan(metrics.average_precision["c"])
    assert metrics.average_precision["a"] == pytest.approx(1.0)
    assert metrics.average_precision["macro"] == pytest.approx(1.0)  # over the defined one
    payload = json.loads(json.dumps(metrics.to_dict(), allow_nan=False))
    assert payload["roc_auc"]["a"] is None


def test_report_prints_undefined_aucs_as_not_applicable():
    table = format_metrics_table(_one_class_metrics())
    rows = [line for line in table.splitlines() if line.startswith("| b |")]
    assert len(rows) == 1 and "n/a (one class)" in rows[0]
    assert "-0.000" not in table
    cells = [cell.strip() for cell in rows[0].split("|")[1:-1]]
    assert cells[4] == "n/a (one class)" and cells[5] == "n/a (one class)"  # ROC AUC, AP


def test_alarm_table_prints_undefined_auc_as_not_applicable():
    from framecast.classify.alarms import compare_alarms

    skills = compare_alarms({"rate": np.linspace(0, 1, 20)}, np.zeros(20), np.zeros(20))
    table = alarm_table(skills, 20, 0)
    assert "n/a" in table and "nan" not in table


def test_classifier_checkpoint_given_to_evaluate_says_so(tmp_path, capsys):
    model = {"name": "vector_rnn", "options": {"cell": "rnn", "embed_dim": 4, "hidden_size": 4}}
    data = {
        "name": "synthetic_text",
        "batch_size": 8,
        "options": {"num_train": 16, "num_val": 8, "num_test": 8, "length": 6},
    }
    train = {"out_dir": str(tmp_path / "runs"), "run_name": "run", "progress_bar": False}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"model": model, "data": data, "train": train}))
    assert main(["classify", "train", "--config", str(config), "train.max_steps=2"]) == 0
    capsys.readouterr()
    run = tmp_path / "runs" / "run"
    np.save(tmp_path / "x.npy", np.zeros((1, 3, 8, 8), np.float32))
    for argv in (["evaluate", str(run)], ["predict", str(run), "--input", str(tmp_path / "x.npy")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "is a classifier checkpoint" in err and "framecast classify evaluate" in err
        assert "unknown config key" not in err
