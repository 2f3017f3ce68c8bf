"""SIGKILL at random points, during checkpoint writes too: every resume continues from the
latest completed step, the end equals an uninterrupted run, and nothing partial is left."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from framecast_testing import tiny_run_config

from framecast.config import config_from_dict
from framecast.training import train

MAX_STEPS = 12

# Trains the config in argv[1] (resuming the run folder argv[2] if given) and prints
# "start N" once training starts at global step N and "begin N" before each step.
# FRAMECAST_TEST_SLOW_SAVE=s makes every checkpoint write pause s seconds half-way,
# after printing "writing".
SCRIPT = """
import json, os, sys, time
import lightning as L
import torch

slow = float(os.environ.get("FRAMECAST_TEST_SLOW_SAVE", "0"))
if slow > 0:
    real_save = torch.save

    def slow_save(obj, f, *args, **kwargs):
        import io
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        data = buffer.getvalue()
        with open(f, "wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            print("writing", flush=True)
            time.sleep(slow)
            handle.write(data[len(data) // 2 :])

    torch.save = slow_save

from framecast.config import config_from_dict
from framecast.training import train


class Report(L.Callback):
    def on_train_start(self, trainer, pl_module):
        print(f"start {trainer.global_step}", flush=True)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        print(f"begin {trainer.global_step}", flush=True)


config = config_from_dict(json.loads(open(sys.argv[1]).read()))
train(config, resume=sys.argv[2] if len(sys.argv) > 2 else None, callbacks=[Report()])
"""


def _config(out_dir: Path) -> dict:
    # 16 sequences, batch 4: 4 steps an epoch; validations at steps 5 and 10 fall mid-epoch
    raw = tiny_run_config(
        out_dir,
        train={
            "max_steps": MAX_STEPS,
            "val_every_n_steps": 5,
            "checkpoint_every_n_steps": 1,
            "num_threads": 1,
        },
    )
    raw["data"]["split_options"]["train"] = {"num_sequences": 16}
    return raw


class Segment:
    """One training process, its printed lines collected by a thread."""

    def __init__(self, tmp_path: Path, resume: Path | None, slow_save: float) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "FRAMECAST_TEST_SLOW_SAVE": str(slow_save)}
        args = [sys.executable, str(tmp_path / "train_script.py"), str(tmp_path / "config.json")]
        self.proc = subprocess.Popen(
            [*args, *([str(resume)] if resume is not None else [])],
            stdout=subprocess.PIPE,
            stderr=open(tmp_path / "stderr.txt", "a"),  # noqa: SIM115 (closed with the process)
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("<eof>")

    def wait_for(self, wanted: str, count: int = 1, timeout: float = 120) -> bool:
        """Wait until ``wanted`` was printed ``count`` times; False if the process ended first."""
        deadline = time.monotonic() + timeout
        while self.seen.count(wanted) < count:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            if line == "<eof>":
                return False
            self.seen.append(line)
        return True

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)
        while True:  # drain what the reader thread has left
            try:
                line = self.lines.get(timeout=5)
            except queue.Empty:
                break
            if line == "<eof>":
                break
            self.seen.append(line)

    def finish(self) -> int:
        code = self.proc.wait(timeout=300)
        self.kill()
        return code

    def steps_begun(self) -> list[int]:
        return [int(line.split()[1]) for line in self.seen if line.startswith("begin ")]

    def start_step(self) -> int | None:
        starts = [int(line.split()[1]) for line in self.seen if line.startswith("start ")]
        return starts[0] if starts else None


def _last_step(last: Path) -> int | None:
    if not last.exists():
        return None
    assert last.stat().st_size > 0, "empty last.ckpt"
    return int(torch.load(last, weights_only=True)["global_step"])


def _check_after_kill(segment: Segment, last: Path) -> int | None:
    """The latest completed step is in last.ckpt: every step begun was saved before it."""
    step = _last_step(last)
    begun = segment.steps_begun()
    if begun and max(begun) > 0:
        assert step is not None and step >= max(begun), (step, begun)
    return step


def _kill_and_resume(tmp_path: Path, plan: list[tuple[str, float]]) -> Path:
    """Run ``plan`` (("write", n): kill in the n-th checkpoint write; ("random", s): kill
    s seconds after training started), then resume until done; returns the run folder."""
    (tmp_path / "train_script.py").write_text(SCRIPT)
    (tmp_path / "config.json").write_text(json.dumps(_config(tmp_path / "runs")))
    run_dir = tmp_path / "runs" / "run"
    last = run_dir / "checkpoints" / "last.ckpt"
    step: int | None = None
    for kind, value in [*plan, ("finish", 0.0)]:
        resume = run_dir if step is not None else None
        segment = Segment(tmp_path, resume, slow_save=0.5 if kind == "write" else 0.0)
        if kind == "write":
            if segment.wait_for("writing", count=int(value)):
                segment.kill()
                partials = list(run_dir.rglob("*.partial"))
                assert partials, "the kill did not land in a checkpoint write"
            else:
                segment.finish()
        elif kind == "random":
            if segment.wait_for(f"start {step or 0}"):
                time.sleep(value)
                segment.kill()
            else:
                segment.finish()
        else:
            assert segment.finish() == 0, (tmp_path / "stderr.txt").read_text()[-3000:]
        if step is not None:
            assert segment.start_step() in (None, step), (segment.start_step(), step)
        step = _check_after_kill(segment, last)
    assert step == MAX_STEPS
    return run_dir


def _assert_matches_uninterrupted(tmp_path: Path, run_dir: Path) -> None:
    reference = train(config_from_dict(_config(tmp_path / "reference")))
    a = torch.load(reference.last_checkpoint, weights_only=True)["state_dict"]
    b = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.endswith(".partial")]
    assert all(p.stat().st_size > 0 for p in files if p.suffix == ".ckpt")


def test_sigkill_during_a_checkpoint_write_then_resume(tmp_path: Path):
    # two training processes (about 20 s); the slow test below kills many times
    run_dir = _kill_and_resume(tmp_path, [("write", 3)])
    _assert_matches_uninterrupted(tmp_path, run_dir)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_many_times(tmp_path: Path, seed: int):
    rng = random.Random(seed)
    plan: list[tuple[str, float]] = [("random", rng.uniform(0.0, 1.0)) for _ in range(3)]
    plan.insert(rng.randrange(len(plan) + 1), ("write", rng.randint(1, 6)))
    run_dir = _kill_and_resume(tmp_path, plan)
    _assert_matches_uninterrupted(tmp_path, run_dir)
