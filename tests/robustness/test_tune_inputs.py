"""``framecast tune``: a bad --storage in one line; a killed trial shows as interrupted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from framecast_testing import tiny_run_config

from framecast.cli import main
from framecast.tuning.report import summary_markdown
from framecast.tuning.space import Parameter
from framecast.tuning.study import TuneSettings


def _args(tmp_path: Path, *extra: str) -> list[str]:
    config = tmp_path / "base.yaml"
    config.write_text(yaml.safe_dump(tiny_run_config(tmp_path, train={"max_steps": 4})))
    space = tmp_path / "space.yaml"
    space.write_text(
        "parameters:\n  optim.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}\n"
    )
    return [
        "tune",
        "--config",
        str(config),
        "--space",
        str(space),
        "--trials",
        "1",
        "--out",
        str(tmp_path / "tune"),
        *extra,
    ]


@pytest.mark.parametrize("url", ["foo://bar", "not a url at all"])
def test_unusable_storage_is_one_line_and_writes_nothing(tmp_path, capsys, url):
    assert main(_args(tmp_path, "--storage", url)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"--storage {url!r}" in err and "sqlite:///" in err
    assert not (tmp_path / "tune").exists()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _study_with_a_killed_trial(tmp_path: Path) -> tuple[optuna.Study, TuneSettings]:
    settings = TuneSettings(trials=2, out_dir=tmp_path, trial_steps=4, pruner="none")
    study = optuna.create_study(storage=settings.storage_url(), study_name="s")
    done = study.ask()
    done.suggest_float("optim.lr", 1e-4, 1e-2, log=True)
    study.tell(done, 0.5)
    killed = study.ask()
    killed.suggest_float("optim.lr", 1e-4, 1e-2, log=True)
    killed.set_user_attr("pid", _dead_pid())
    killed.set_user_attr("host", socket.gethostname())
    return study, settings


def test_summary_shows_a_killed_trial_as_interrupted(tmp_path):
    study, settings = _study_with_a_killed_trial(tmp_path)
    space = [Parameter("optim.lr", "float", low=1e-4, high=1e-2, log=True)]
    text = summary_markdown(study, space, settings)
    rows = [line for line in text.splitlines() if line.startswith("| 1 |")]
    assert len(rows) == 1 and "| interrupted |" in rows[0], text
    assert "running" not in text
    assert "1 interrupted" in text


def test_each_trial_records_the_process_that_runs_it(tmp_path, monkeypatch):
    import framecast.training
    from framecast.tuning.study import _objective

    def refuse(*args: object, **kwargs: object) -> None:
        raise ValueError("no training in this test")

    monkeypatch.setattr(framecast.training, "train", refuse)
    settings = TuneSettings(trials=1, out_dir=tmp_path, trial_steps=4, pruner="none")
    study = optuna.create_study(storage=settings.storage_url(), study_name="s")
    trial = study.ask()
    space = [Parameter("optim.lr", "float", low=1e-4, high=1e-2, log=True)]
    base = tiny_run_config(tmp_path)
    with pytest.raises(ValueError, match="no training"):
        _objective(base, space, settings)(trial)
    attrs = study.trials[0].user_attrs
    assert attrs["pid"] == os.getpid() and attrs["host"] == socket.gethostname()
