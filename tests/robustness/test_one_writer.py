"""One writer per run: a second writer is refused naming the holder; a dead one's lock is taken.

Two ``framecast train`` under one ``run_name`` started together both ran
and left a folder mixing two runs; two ``quake run`` on one ``out_dir``
both exited 0 with duplicated rows (issue 23). Each run folder (a training
run, ``quake run``'s out_dir) and each ``data prepare`` output is now held
through ``.framecast.lock`` (``<out>.lock`` for a cache) for the run's life.

The other process here is a small script holding the lock with
``fcntl.flock`` and its PID in the file, as framecast does; SIGKILL
leaves its lock file behind, which the next writer must take over.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from framecast_testing import tiny_run_config

from framecast.cli import main

pytest.importorskip("fcntl")

HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, f"{os.getpid()}\\n".encode())
print("held", flush=True)
time.sleep(120)
"""


class Holder:
    """Another process holding the lock file ``path`` until killed."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "held"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.fixture
def holders():
    started: list[Holder] = []
    yield lambda path: started.append(Holder(path)) or started[-1]
    for holder in started:
        if holder.proc.poll() is None:
            holder.kill()


def _train_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(tiny_run_config(tmp_path / "runs", train={"max_steps": 2})))
    return path


def test_a_second_training_run_in_a_held_folder_is_refused(tmp_path, capsys, holders):
    run = tmp_path / "runs" / "run"
    holder = holders(run / ".framecast.lock")
    config = str(_train_config(tmp_path))
    assert main(["train", "--config", config]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"PID {holder.proc.pid}" in err and "in use" in err and str(run) in err
    assert sorted(p.name for p in run.iterdir()) == [".framecast.lock"]  # nothing written
    holder.kill()  # a killed holder leaves its lock file: the next run takes it over
    assert (run / ".framecast.lock").is_file()
    assert main(["train", "--config", config]) == 0
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert not (run / ".framecast.lock").exists()  # released when the run ended


def test_resume_of_a_run_in_progress_is_refused(tmp_path, capsys, holders):
    config = str(_train_config(tmp_path))
    assert main(["train", "--config", config]) == 0
    run = tmp_path / "runs" / "run"
    before = (run / "checkpoints" / "last.ckpt").read_bytes()
    holder = holders(run / ".framecast.lock")
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "train.max_steps=4"]) == 2
    assert f"PID {holder.proc.pid}" in capsys.readouterr().err
    assert (run / "checkpoints" / "last.ckpt").read_bytes() == before


def test_a_second_quake_run_on_one_out_dir_is_refused(tmp_path, capsys, holders):
    from test_run_folders import _experiment

    out = tmp_path / "out"
    holder = holders(out / ".framecast.lock")
    assert main(["quake", "run", "--config", str(_experiment(tmp_path, out))]) == 2
    err = capsys.readouterr().err
    assert f"PID {holder.proc.pid}" in err and "out_dir" in err
    assert sorted(p.name for p in out.iterdir()) == [".framecast.lock"]


def test_a_second_data_prepare_of_one_cache_is_refused(tmp_path, capsys, holders):
    source = tmp_path / "radar.npy"
    np.save(source, np.random.default_rng(0).uniform(0, 1, (12, 8, 8)).astype(np.float32))
    out = tmp_path / "cache.h5"
    holder = holders(tmp_path / "cache.h5.lock")
    argv = ["data", "prepare", "frame_series", "--source", str(source), "--out", str(out)]
    assert main(argv) == 2
    assert f"PID {holder.proc.pid}" in capsys.readouterr().err
    assert not out.exists() and not Path(f"{out}.partial").exists()
    holder.kill()
    assert main(argv) == 0
    assert out.is_file() and not (tmp_path / "cache.h5.lock").exists()
