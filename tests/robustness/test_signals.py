"""Signals, logs and resumes of ``framecast train`` (issue 23, part A).

SIGTERM (what a cluster scheduler sends) ended a run with status 0, no
summary and no stop checkpoint; ``metrics.csv`` lost the rows that
Lightning kept in memory when a SIGKILL came, a validation row among them;
after a mid-epoch resume ``train_loss_epoch`` was the mean of the resumed
part only; and ``--resume RUN optim.lr=0.5`` recorded 0.5 but kept training
with the old rate.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from framecast_testing import tiny_run_config

from framecast.cli import main
from framecast.config import config_from_dict
from framecast.training import train

# Trains the config in argv[1] and kills itself with SIGKILL at argv[3] of step argv[2]: "begin"
# (as the step begins) or "checkpoint" (right after last.ckpt of that step is renamed into
# place, before Lightning logs the step's row: the window where rows used to be lost).
KILLED_RUN = """
import json, os, signal, sys
import lightning as L
import framecast.files
from framecast.config import config_from_dict
from framecast.training import train

step, where = int(sys.argv[2]), sys.argv[3]
now = {"step": -1}
real_fsync_directory = framecast.files.fsync_directory

def fsync_directory(directory):
    real_fsync_directory(directory)
    if where == "checkpoint" and now["step"] == step and str(directory).endswith("checkpoints"):
        os.kill(os.getpid(), signal.SIGKILL)

framecast.files.fsync_directory = fsync_directory

class Kill(L.Callback):
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if where == "begin" and trainer.global_step == step:
            os.kill(os.getpid(), signal.SIGKILL)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        now["step"] = trainer.global_step

config = config_from_dict(json.loads(open(sys.argv[1]).read()))
train(config, callbacks=[Kill()], verbose=False)
"""


def _rows(run: Path) -> list[dict[str, str]]:
    with open(run / "logs" / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _column(rows: list[dict[str, str]], name: str) -> dict[int, float]:
    """step -> value of the rows that have ``name``; a step logged twice fails."""
    values: dict[int, float] = {}
    for row in rows:
        if row.get(name):
            step = int(row["step"])
            assert step not in values, f"{name} logged twice at step {step}"
            values[step] = float(row[name])
    return values


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_stop_after_the_step_with_checkpoint_and_summary(
    tmp_path, signum, status
):
    raw = tiny_run_config(tmp_path / "runs", train={"max_steps": 100000, "num_threads": 1})
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw))
    run = tmp_path / "runs" / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "framecast.cli", "train", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        metrics = run / "logs" / "metrics.csv"
        if metrics.is_file() and len(metrics.read_text().splitlines()) > 3:
            break  # training is under way
        time.sleep(0.1)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err[-2000:]
    summary = [line for line in out.splitlines() if line.startswith("trained to step")]
    assert len(summary) == 1, out
    step = int(summary[0].split()[3])
    assert "stopped by" in summary[0] and "--resume" in out
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == step > 0  # the stop checkpoint is the last step trained
    assert sorted(_column(_rows(run), "train_loss_step")) == list(range(step))  # logs flushed
    assert not (run / ".framecast.lock").exists()


def _kill_config(out_dir: Path) -> dict:
    # 16 sequences, batch 4: 4 steps an epoch; validation every 3 steps
    raw = tiny_run_config(
        out_dir,
        train={
            "max_steps": 12,
            "val_every_n_steps": 3,
            "checkpoint_every_n_steps": 2,
            "num_threads": 1,
        },
    )
    raw["data"]["split_options"]["train"] = {"num_sequences": 16}
    return raw


@pytest.mark.parametrize(
    ("step", "where", "saved"),
    [
        (7, "begin", 6),  # last.ckpt: step 6, mid-epoch 1, after the validation at step 6
        (4, "checkpoint", 4),  # last.ckpt of step 4 written, the row of its step not yet logged
    ],
)
def test_sigkill_and_resume_lose_no_metrics_row_and_keep_whole_epoch_means(
    tmp_path, step, where, saved
):
    whole = train(config_from_dict(_kill_config(tmp_path / "whole")), verbose=False)
    raw = _kill_config(tmp_path / "killed")
    (tmp_path / "config.json").write_text(json.dumps(raw))
    (tmp_path / "killed_run.py").write_text(KILLED_RUN)
    script = [sys.executable, str(tmp_path / "killed_run.py"), str(tmp_path / "config.json")]
    proc = subprocess.run(
        [*script, str(step), where], env=_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    run = tmp_path / "killed" / "run"
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == saved
    resumed = train(config_from_dict(raw), resume=run, verbose=False)
    expected, got = _rows(whole.run_dir), _rows(resumed.run_dir)
    for name in ("train_loss_step", "val_loss", "train_loss_epoch"):
        want, have = _column(expected, name), _column(got, name)
        assert sorted(have) == sorted(want), name  # no row lost, none repeated
        for step, value in want.items():
            assert have[step] == pytest.approx(value, rel=1e-5, abs=1e-7), (name, step)
    assert sorted(_column(got, "val_loss")) == [2, 5, 8, 11]


def test_metrics_csv_is_flushed_before_every_checkpoint(tmp_path, monkeypatch):
    from framecast.training import checkpointing

    seen: list[tuple[int, set[tuple[int, str]]]] = []
    real_save = checkpointing.AtomicCheckpointIO.save_checkpoint

    def spying_save(self, checkpoint, path, storage_options=None):
        metrics = Path(path).parent.parent / "logs" / "metrics.csv"
        rows = _rows(metrics.parent.parent) if metrics.is_file() else []
        on_disk = {(int(r["step"]), k) for r in rows for k, v in r.items() if v and k != "step"}
        seen.append((int(checkpoint["global_step"]), on_disk))
        real_save(self, checkpoint, path, storage_options)

    monkeypatch.setattr(checkpointing.AtomicCheckpointIO, "save_checkpoint", spying_save)
    raw = _kill_config(tmp_path)
    raw["train"]["checkpoint_every_n_steps"] = 1
    result = train(config_from_dict(raw), verbose=False)
    final = {(int(r["step"]), k) for r in _rows(result.run_dir) for k, v in r.items() if v}
    assert len(seen) >= 12
    for step, on_disk in seen:
        # every row of the steps before the checkpoint's last one is on disk when it is written
        missing = {(s, k) for s, k in final if s < step - 1 and k != "step"} - on_disk
        assert not missing, (step, sorted(missing))


def test_resume_with_a_changed_learning_rate_is_refused(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(tiny_run_config(tmp_path / "runs", train={"max_steps": 2})))
    assert main(["train", "--config", str(config)]) == 0
    run = tmp_path / "runs" / "run"
    before = {p: p.read_bytes() for p in (run / "config.yaml", run / "checkpoints" / "last.ckpt")}
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "optim.lr=0.5", "train.max_steps=4"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "optim.lr 0.01 -> 0.5" in err and "init_from" in err
    assert {p: p.read_bytes() for p in before} == before  # nothing recorded
    # a setting the trainer applies at every step may change, and is recorded
    assert main(["train", "--resume", str(run), "optim.grad_clip=1.0", "train.max_steps=4"]) == 0
    stored = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert stored["global_step"] == 4
    assert stored["hyper_parameters"]["config"]["optim"]["grad_clip"] == 1.0
    assert yaml.safe_load((run / "config.yaml").read_text())["optim"]["grad_clip"] == 1.0
