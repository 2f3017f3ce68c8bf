"""``framecast tune`` worker processes on one shared study, for the shared-storage tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import yaml
from framecast_testing import tiny_run_config

from framecast.tuning.storage import open_storage

SPACE_YAML = "parameters:\n  optim.lr: {type: float, low: 1.0e-9, high: 1.0e-1, log: true}\n"
STUDY = "framecast"


def write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    """The tiny base config (validation every 2 steps) and a one-parameter space."""
    base = tiny_run_config(
        tmp_path,
        optim={"lr": 1e-2, "scheduler": "none"},
        train={"max_steps": 8, "val_every_n_steps": 2, "limit_val_batches": 1.0},
    )
    config, space = tmp_path / "base.yaml", tmp_path / "space.yaml"
    config.write_text(yaml.safe_dump(base))
    space.write_text(SPACE_YAML)
    return config, space


def start(tmp_path: Path, storage: str, name: str, *options: str) -> subprocess.Popen[str]:
    """One ``framecast tune`` process (one trial at a time) with its own out folder ``name``."""
    config, space = tmp_path / "base.yaml", tmp_path / "space.yaml"
    if not config.is_file():
        write_inputs(tmp_path)
    command = [sys.executable, "-m", "framecast.cli", "tune", "--config", str(config)]
    command += ["--space", str(space), "--storage", storage, "--jobs", "1"]
    command += ["--out", str(tmp_path / name), *options]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "FRAMECAST_THREADS": "1"}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


def finish(process: subprocess.Popen[str], timeout: float = 240) -> str:
    """Wait for a worker; its output, after checking it exited 0."""
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out[-3000:]
    return out


def load(storage: str) -> Any:
    """The study as another process sees it."""
    return optuna.load_study(study_name=STUDY, storage=open_storage(storage, heartbeat=30))


def wait_for(condition: Callable[[], bool], timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def trial_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("trial ")]
