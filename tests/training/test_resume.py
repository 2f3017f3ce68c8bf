"""An interrupted training resumed from its checkpoint ends where an uninterrupted one does."""

from __future__ import annotations

import shutil
from pathlib import Path

import lightning as L
import pytest
import torch
from framecast_testing import tiny_run_config

from framecast.config import config_from_dict
from framecast.training import train


class SimulatedCrashError(RuntimeError):
    pass


class InterruptAtEpoch(L.Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.epoch:
            raise SimulatedCrashError(f"simulated crash at the start of epoch {self.epoch}")


def _weights(module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.model.state_dict().items()}


def test_resume_matches_uninterrupted_run(tmp_path: Path):
    # 8 sequences, batch 4: 2 steps an epoch, 6 steps = 3 epochs; the step
    # schedule (lr x0.1 at step 3) and scheduled sampling both cross the break.
    raw = tiny_run_config(tmp_path / "a")
    full = train(config_from_dict(raw))

    raw_b = tiny_run_config(tmp_path / "b")
    with pytest.raises(SimulatedCrashError):
        train(config_from_dict(raw_b), callbacks=[InterruptAtEpoch(2)])
    run_dir = tmp_path / "b" / "run"
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    half = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert half["global_step"] == 4

    resumed = train(config_from_dict(raw_b), resume=run_dir)
    a, b = _weights(full.module), _weights(resumed.module)
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    end = torch.load(resumed.last_checkpoint, weights_only=True)
    assert end["global_step"] == 6


def test_resume_needs_an_existing_checkpoint(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no checkpoint to resume"):
        train(config_from_dict(tiny_run_config(tmp_path)), resume=tmp_path / "missing")


def _best_record(ckpt: Path) -> dict:
    state = torch.load(ckpt, weights_only=True)
    (record,) = [v for k, v in state["callbacks"].items() if k.startswith("ModelCheckpoint")]
    return record


def _val_losses(run_dir: Path) -> list[float]:
    rows = (run_dir / "logs" / "metrics.csv").read_text().splitlines()
    column = rows[0].split(",").index("val_loss")
    return [float(r.split(",")[column]) for r in rows[1:] if r.split(",")[column]]


@pytest.mark.parametrize(
    ("move", "best_travels"),
    [(True, True), (True, False), (False, False)],
    ids=["moved-with-best", "moved-last-only", "in-place-last-only"],
)
def test_a_resumed_run_folder_keeps_one_best_checkpoint(
    tmp_path: Path, move: bool, best_travels: bool
):
    # Lightning forgets its best-k record when the stored folder differs from the
    # current one: the resumed run then kept the old best-*.ckpt beside a new one.
    # In place, it kept naming a best file that a fresh checkout does not have.
    raw = tiny_run_config(tmp_path / "a", train={"max_steps": 4, "val_every_n_steps": 2})
    train(config_from_dict(raw))
    moved = tmp_path / "a" / "run"
    if move:
        moved = Path(shutil.move(moved, tmp_path / "moved"))
    if not best_travels:  # as the zoo ships a run: last.ckpt without its best file
        for path in (moved / "checkpoints").glob("best-*.ckpt"):
            path.unlink()
    first = _val_losses(moved)
    assert len(first) == 2

    train(config_from_dict({**raw, "train": {**raw["train"], "max_steps": 8}}), resume=moved)
    bests = sorted((moved / "checkpoints").glob("best-*.ckpt"))
    assert len(bests) == 1, [p.name for p in bests]
    record = _best_record(moved / "checkpoints" / "last.ckpt")
    assert Path(record["dirpath"]) == (moved / "checkpoints").resolve()
    assert Path(record["best_model_path"]).name == bests[0].name
    losses = _val_losses(moved)
    assert len(losses) == 4
    # the best of the whole run when the best file came along, else of the resumed part
    expected = min(losses) if best_travels else min(losses[2:])
    assert float(record["best_model_score"]) == pytest.approx(expected, rel=1e-6)


def test_a_resumed_run_names_no_best_file_it_does_not_have(tmp_path: Path):
    # a fresh checkout of a zoo run at the same path: last.ckpt without its best file,
    # resumed for a step with no validation in it
    raw = tiny_run_config(tmp_path, train={"max_steps": 4, "val_every_n_steps": 2})
    train(config_from_dict(raw))
    run_dir = tmp_path / "run"
    for path in (run_dir / "checkpoints").glob("best-*.ckpt"):
        path.unlink()
    resumed = train(
        config_from_dict({**raw, "train": {**raw["train"], "max_steps": 5}}), resume=run_dir
    )
    assert resumed.best_checkpoint is None
    record = _best_record(run_dir / "checkpoints" / "last.ckpt")
    assert record["best_k_models"] == {}
    assert record["best_model_path"] == ""
