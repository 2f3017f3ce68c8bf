"""Run names stay inside their folder; limits that would train nothing are refused (issue 23).

``train.run_name=../../x`` or an absolute path wrote outside
``train.out_dir`` (in ``classify`` too), ``train.max_minutes=-1`` trained
0 steps with exit 0, and ``train.val_every_n_steps=0`` ended in a
traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from framecast_testing import tiny_run_config

from framecast.cli import main


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(tiny_run_config(tmp_path / "runs", train={"max_steps": 1})))
    return path


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("name", ["../escaped", "../../escaped", "{tmp}/escaped", "a/b", ".."])
def test_train_run_name_must_be_one_folder_name(tmp_path, capsys, name):
    name = name.format(tmp=tmp_path)
    code = main(["train", "--config", str(_config(tmp_path)), f"train.run_name={name}"])
    assert code == 2
    err = _one_line_error(capsys)
    assert "train.run_name" in err and repr(name) in err
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("name", ["../escaped", "{tmp}/escaped"])
def test_classify_run_name_must_be_one_folder_name(tmp_path, capsys, name):
    name = name.format(tmp=tmp_path)
    config = tmp_path / "classify.yaml"
    config.write_text(yaml.safe_dump({"train": {"out_dir": str(tmp_path / "runs")}}))
    code = main(
        ["classify", "train", "--config", str(config), f"train.run_name={name}",
         "train.max_steps=1", "train.progress_bar=false"]
    )  # fmt: skip
    assert code == 2
    assert "train.run_name" in _one_line_error(capsys)
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.max_minutes=-1", "train.max_minutes must be a positive number"),
        ("train.max_minutes=0", "train.max_minutes must be a positive number"),
        ("train.max_minutes=.inf", "train.max_minutes must be a positive number"),
        ("train.val_every_n_steps=0", "train.val_every_n_steps must be a whole number >= 1"),
        ("train.val_every_n_steps=-3", "train.val_every_n_steps must be a whole number >= 1"),
    ],
)
def test_limits_that_would_train_nothing_are_refused(tmp_path, capsys, override, message):
    assert main(["train", "--config", str(_config(tmp_path)), override]) == 2
    err = _one_line_error(capsys)
    assert message in err and override.split("=")[1].lstrip(".") in err
    assert not (tmp_path / "runs").exists()
