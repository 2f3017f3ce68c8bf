"""Training never loses work: last.ckpt is the latest state, writes are atomic, runs are kept."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import lightning as L
import pytest
import torch
from framecast_testing import tiny_run_config

from framecast.config import config_from_dict
from framecast.training import train
from framecast.training.checkpointing import AtomicCheckpointIO, remove_partial_files


class SimulatedCrashError(RuntimeError):
    pass


class CrashAtStep(L.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            raise SimulatedCrashError(f"simulated crash before step {self.step + 1}")


def _step(path: Path) -> int:
    return int(torch.load(path, weights_only=True)["global_step"])


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["state_dict"]


def _assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def _config(tmp_path: Path, **train_values):
    # 16 sequences, batch 4: 4 steps an epoch, so validations and kills fall mid-epoch
    raw = tiny_run_config(tmp_path, train={"num_threads": 1, **train_values})
    raw["data"]["split_options"]["train"] = {"num_sequences": 16}
    return raw


def test_last_checkpoint_is_the_final_step_even_without_improvement(tmp_path: Path, capsys):
    raw = _config(tmp_path, max_steps=10, val_every_n_steps=4)
    raw["optim"]["lr"] = 0.0  # val_loss never improves after the first validation
    result = train(config_from_dict(raw))
    assert _step(result.last_checkpoint) == 10
    assert sorted(p.name for p in (result.run_dir / "checkpoints").iterdir()) == [
        "best-epoch=000.ckpt",
        "last.ckpt",
    ]
    out = capsys.readouterr()
    lines = out.out.splitlines()
    validations = [line for line in lines if re.fullmatch(r"step \d+  train_loss .*min", line)]
    assert [int(line.split()[1]) for line in validations] == [4, 8]
    assert lines[-1].startswith("trained to step 10 in ")
    assert "best val_loss" in lines[-1] and "last.ckpt" in lines[-1]
    for noise in ("Tip:", "litlogger", "GPU available", "TPU available", "deprecated"):
        assert noise not in out.out + out.err


def test_checkpoint_every_n_steps_keeps_last_at_the_crash(tmp_path: Path):
    raw = _config(tmp_path, max_steps=12, checkpoint_every_n_steps=1)
    with pytest.raises(SimulatedCrashError):
        train(config_from_dict(raw), callbacks=[CrashAtStep(6)])
    # no validation before the crash (one per 4-step epoch ran at step 4 only)
    assert _step(tmp_path / "run" / "checkpoints" / "last.ckpt") == 6


def test_mid_epoch_resume_equals_uninterrupted_run(tmp_path: Path):
    full = train(config_from_dict(_config(tmp_path / "a", max_steps=8)))
    raw = _config(tmp_path / "b", max_steps=8, checkpoint_every_n_steps=1)
    with pytest.raises(SimulatedCrashError):
        train(config_from_dict(raw), callbacks=[CrashAtStep(5)])
    run_dir = tmp_path / "b" / "run"
    assert _step(run_dir / "checkpoints" / "last.ckpt") == 5  # mid-epoch (4 steps an epoch)
    resumed = train(config_from_dict(raw), resume=run_dir)
    assert _step(resumed.last_checkpoint) == 8
    _assert_same_weights(_weights(full.last_checkpoint), _weights(resumed.last_checkpoint))


def test_failed_checkpoint_write_keeps_the_old_one(tmp_path: Path, monkeypatch):
    target = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"global_step": 1}, target)

    def broken_save(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="No space left"):
        io.save_checkpoint({"global_step": 2}, target)
    monkeypatch.undo()
    assert torch.load(target, weights_only=True) == {"global_step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_torch_write_failure_becomes_an_os_error_naming_the_file(tmp_path: Path, monkeypatch):
    """On a full disk torch's zip writer raises RuntimeError("... unexpected pos ..."); the
    checkpoint writer reports an OSError the command line prints in one line."""
    target = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"global_step": 1}, target)

    def full_disk(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"half")
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError, match=r"could not write checkpoint .*last\.ckpt.*disk full"):
        io.save_checkpoint({"global_step": 2}, target)
    monkeypatch.undo()
    assert torch.load(target, weights_only=True) == {"global_step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_stale_partial_files_are_removed(tmp_path: Path):
    (tmp_path / "checkpoints").mkdir()
    stale = tmp_path / "checkpoints" / "last.ckpt.partial"
    stale.write_bytes(b"")
    assert remove_partial_files(tmp_path) == [stale]
    assert not stale.exists()


def test_second_run_under_the_same_name_is_refused(tmp_path: Path):
    raw = _config(tmp_path, max_steps=2)
    first = train(config_from_dict(raw))
    before = {p: p.stat().st_mtime_ns for p in first.run_dir.rglob("*")}
    message = f"run folder '{first.run_dir}' already holds a run; use --resume {first.run_dir}"
    with pytest.raises(ValueError, match=re.escape(message)):
        train(config_from_dict(raw))
    assert {p: p.stat().st_mtime_ns for p in first.run_dir.rglob("*")} == before


def test_failed_config_leaves_no_run_folder(tmp_path: Path):
    raw = _config(tmp_path, max_steps=2, checkpoint_every_n_steps=0)
    with pytest.raises(ValueError, match=r"train\.checkpoint_every_n_steps must be a positive"):
        train(config_from_dict(raw))
    assert not (tmp_path / "run").exists()


def test_resume_with_another_model_fails_before_writing(tmp_path: Path):
    raw = _config(tmp_path, max_steps=2)
    first = train(config_from_dict(raw))
    config_yaml = (first.run_dir / "config.yaml").read_text()
    raw["model"]["options"]["cell"] = "convlstm"
    with pytest.raises(ValueError, match=r"model\.options\.cell 'stlstm' -> 'convlstm'"):
        train(config_from_dict(raw), resume=first.run_dir)
    assert (first.run_dir / "config.yaml").read_text() == config_yaml
    assert _step(first.last_checkpoint) == 2


def test_resume_keeps_the_metrics_of_earlier_segments(tmp_path: Path):
    raw = _config(tmp_path, max_steps=4, val_every_n_steps=2)
    first = train(config_from_dict(raw))
    metrics = first.run_dir / "logs" / "metrics.csv"
    with open(metrics, newline="") as handle:
        rows_first = list(csv.DictReader(handle))
    raw["train"]["max_steps"] = 6
    train(config_from_dict(raw), resume=first.run_dir)
    with open(metrics, newline="") as handle:
        rows = list(csv.DictReader(handle))
    steps = [int(r["step"]) for r in rows if r.get("train_loss_step")]
    assert steps == list(range(6))  # steps 0-3 of the first segment, 4-5 of the second
    val_steps = [int(r["step"]) for r in rows if r.get("val_loss")]
    assert val_steps == [1, 3, 5]
    assert len(rows) > len(rows_first)


def test_no_partial_or_empty_file_after_a_run(tmp_path: Path):
    result = train(config_from_dict(_config(tmp_path, max_steps=3, checkpoint_every_n_steps=1)))
    files = [p for p in result.run_dir.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.endswith(".partial")]
    assert all(os.path.getsize(p) > 0 for p in files if p.suffix == ".ckpt")
