"""The kill loop: SIGKILL and SIGTERM over short runs of the three resumable commands (issue 23).

``framecast train`` (tiny PredRNN on moving squares), ``framecast quake
run`` (a simulated catalog, a tiny network, no ETAS) and ``framecast data
prepare frame_series`` (a folder of PNG frames) are each killed at random
times and resumed the way the documentation says (``train --resume RUN``,
or the same ``--config`` command when the kill came before the first
checkpoint; ``quake run`` and ``data prepare``: the same command again),
over and over until a run finishes. Its final outputs must then be those
of an uninterrupted run: every tensor of ``last.ckpt`` equal, every row of
``logs/metrics.csv`` present once with the same values, the same scores
and forecasts of ``quake run``, the same cache contents; no lock, no
``.partial`` and no second best checkpoint left behind.

Each command runs in a process started ahead of time that has done its
imports and waits for the command on stdin, so that a kill time drawn over
the run's life (seeded: ``KILL_SEED``) lands in framecast's own work, not
in ``import torch``. The slow test kills :data:`KILLS` times in all; the
fast one (default suite) kills each command once at a chosen moment.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import lightning as L
import numpy as np
import pytest
import torch
import yaml
from framecast_testing import tiny_run_config
from PIL import Image

from framecast.cli import main

pytest.importorskip("fcntl")  # the run-folder locks and kill semantics are POSIX

KILL_SEED = 20230
"""Seed of the kill loop's draws (which signal, when)."""
KILLS = {"train": 18, "quake run": 17, "data prepare": 17}
"""Kills the slow test makes of each command (52 in all)."""
ATTEMPTS_PER_CHAIN = 8
"""A chain of kills and resumes ends with an unkilled run at the latest at this attempt."""
TIMEOUT_S = 300.0

# Imports what the commands need, says "ready", then runs the command given on stdin as
# `framecast ...` would (the same `main`), its output going to the files named there.
LAUNCHER = """
import importlib, json, os, sys
import lightning, torch
import framecast.cli
for name in ("framecast.training", "framecast.data.frame_series", "framecast.quake.experiment"):
    try:  # ahead of time only: `main` imports what its command needs
        importlib.import_module(name)
    except ImportError:
        pass
print("ready", flush=True)
job = json.loads(sys.stdin.readline())
for fd, name in ((1, job["stdout"]), (2, job["stderr"])):
    os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
sys.exit(framecast.cli.main(job["argv"]))
"""

QUAKE_SETTINGS = """
out_dir: {out}
catalog: {{simulate: true, seed: 3, burn_in_days: 365, etas: {{log10_mu: -5.5}}}}
frames: {{region: "33,34,-117,-116", cell: 0.25, start: "2000-01-01", end: "2003-01-01",
         bin_days: 7, mc: 2.0, channels: [count]}}
periods: {{val_start: "2001-07-01", test_start: "2002-01-01"}}
network:
  model: {{name: predrnn, options: {{cell: convlstm, hidden_channels: 4, num_layers: 1,
                                    patch_size: 1, output_activation: exp}}}}
  data: {{n_context: 4, batch_size: 8}}
  train: {{max_steps: 6, val_every_n_steps: 3, log_every_n_steps: 1, num_threads: 1}}
etas: {{mode: none}}
evaluation: {{num_simulations: 50, maps: 1}}
"""
"""``quake run`` in seconds: the network checkpoints at validations only (steps 3 and 6)."""

UNCOMPARED_COLUMNS = ("step", "epoch")
"""The ``metrics.csv`` columns not compared by step: every other column (losses, learning rate,
sampling probability, per-frame errors) must have the same value at the same steps."""


# ------------------------------------------------------------------------------ processes
@dataclass
class Attempt:
    """One run of a command: how it was asked to end and how it ended."""

    argv: list[str]
    signum: int | None
    delay: float | None
    returncode: int
    seconds: float
    stdout: str
    stderr: str
    working: float
    """Seconds to the run's last line of output (its result), for a run not signalled."""

    @property
    def killed(self) -> bool:
        """Whether the signal ended the run (rather than the run ending first)."""
        if self.signum == signal.SIGKILL:
            return self.returncode == -signal.SIGKILL
        if self.signum == signal.SIGTERM:  # stopped cleanly (143) or before its handler (-15)
            return self.returncode in (-signal.SIGTERM, 128 + signal.SIGTERM)
        return False


class Launchers:
    """framecast processes started ahead of time, each waiting for one command.

    One spare is kept importing while a command runs, so that the next
    command starts at once.

    Parameters
    ----------
    folder : Path
        Where the commands' stdout and stderr are kept.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        self.env.pop("FRAMECAST_DEBUG", None)
        self.spare: subprocess.Popen[str] | None = None

    def _spawn(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self.env,
        )

    def run(
        self,
        argv: list[str],
        signum: int | None = None,
        delay: float | None = None,
        when: Callable[[], bool] | None = None,
    ) -> Attempt:
        """Run ``framecast argv``; send ``signum`` ``delay`` s after it starts, or once ``when()``.

        The signal goes to this run's own process (by its PID) only.
        """
        proc = self.spare if self.spare is not None else self._spawn()
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "ready", "the launcher failed to import framecast"
        self.spare = self._spawn()
        self.count += 1
        out, err = self.folder / f"{self.count}.out", self.folder / f"{self.count}.err"
        job = {"argv": argv, "stdout": str(out), "stderr": str(err)}
        start = time.monotonic()
        proc.stdin.write(json.dumps(job) + "\n")
        proc.stdin.flush()
        deadline, size, last_output = start + TIMEOUT_S, 0, 0.0
        while proc.poll() is None and time.monotonic() < deadline:
            now = time.monotonic()
            if signum is not None:
                if when() if when is not None else now - start >= (delay or 0.0):
                    proc.send_signal(signum)
                    break
            elif out.is_file() and out.stat().st_size != size:
                size, last_output = out.stat().st_size, now - start
            time.sleep(0.002)
        try:
            proc.wait(timeout=TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
        seconds = time.monotonic() - start
        return Attempt(
            argv,
            signum,
            delay,
            proc.returncode,
            seconds,
            out.read_text(),
            err.read_text(),
            last_output or seconds,
        )

    def close(self) -> None:
        """End the spare process (it has run nothing)."""
        if self.spare is not None:
            self.spare.kill()
            self.spare.wait(timeout=30)
            self.spare = None


@pytest.fixture
def launchers(tmp_path: Path):
    folder = tmp_path / "logs"
    folder.mkdir()
    pool = Launchers(folder)
    yield pool
    pool.close()


# ------------------------------------------------------------------------------ commands
def _metrics(path: Path) -> dict[str, dict[int, float]]:
    """column -> step -> value of ``metrics.csv``; a step logged twice fails."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        columns = [c for c in reader.fieldnames or [] if c not in UNCOMPARED_COLUMNS]
    table: dict[str, dict[int, float]] = {}
    for name in columns:
        values = table.setdefault(name, {})
        for row in rows:
            if row.get(name):
                step = int(row["step"])
                assert step not in values, f"{path}: {name} logged twice at step {step}"
                values[step] = float(row[name])
    return table


def _state(checkpoint: Path) -> dict[str, Any]:
    return torch.load(checkpoint, weights_only=True, map_location="cpu")


def _same_weights(want: Path, got: Path) -> None:
    a, b = _state(want), _state(got)
    assert a["global_step"] == b["global_step"], (got, a["global_step"], b["global_step"])
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key, tensor in a["state_dict"].items():
        assert torch.equal(tensor, b["state_dict"][key]), f"{got}: {key} differs"


def _same_metrics(want: Path, got: Path) -> None:
    expected, found = _metrics(want), _metrics(got)
    assert sorted(found) == sorted(expected), got
    assert expected["train_loss_step"] and expected["val_loss"]
    for name in expected:
        assert sorted(found[name]) == sorted(expected[name]), f"{got}: steps of {name}"
        for step, value in expected[name].items():
            assert found[name][step] == pytest.approx(value, rel=1e-6, abs=1e-9), (name, step)


def _same_run_folder(want: Path, got: Path) -> None:
    """A training run folder: weights, metrics, checkpoint files; no lock or partial left."""
    _same_weights(want / "checkpoints" / "last.ckpt", got / "checkpoints" / "last.ckpt")
    _same_metrics(want / "logs" / "metrics.csv", got / "logs" / "metrics.csv")
    names = sorted(p.name for p in (got / "checkpoints").iterdir())
    assert names == sorted(p.name for p in (want / "checkpoints").iterdir()), names
    assert not (got / ".framecast.lock").exists()
    assert not list(got.rglob("*.partial")), sorted(got.rglob("*.partial"))


def _h5_tree(path: Path) -> dict[str, Any]:
    """Every dataset's array and every attribute of an HDF5 file, by name."""
    tree: dict[str, Any] = {}
    with h5py.File(path, "r") as handle:

        def visit(name: str, item: Any) -> None:
            if isinstance(item, h5py.Dataset):
                tree[name] = item[()]
            for key, value in item.attrs.items():
                tree[f"{name}@{key}"] = value

        visit("/", handle)
        handle.visititems(visit)
    return tree


def _same_h5(want: Path, got: Path, skip: tuple[str, ...] = ()) -> None:
    a, b = _h5_tree(want), _h5_tree(got)
    assert sorted(a) == sorted(b), (got, sorted(set(a) ^ set(b)))
    for key, value in a.items():
        if key in skip:
            continue
        assert np.array_equal(np.asarray(value), np.asarray(b[key]), equal_nan=False) or (
            np.asarray(value).dtype.kind == "f"
            and np.array_equal(np.asarray(value), np.asarray(b[key]), equal_nan=True)
        ), f"{got}: {key} differs"


@dataclass
class Command:
    """A resumable framecast command, set up in a folder, and how to check its outputs.

    Attributes
    ----------
    name : str
        As in ``framecast NAME``.
    setup : callable
        ``setup(folder)``: write the command's inputs in ``folder``.
    argv : callable
        ``argv(folder)``: the command that starts, or resumes, the run in ``folder``.
    check : callable
        ``check(reference, folder)``: assert ``folder``'s outputs equal the reference run's.
    started : callable
        ``started(folder)``: whether the run has written its first lasting output
        (the fast test kills then).
    finished : callable
        ``finished(folder)``: whether the output is complete, so that a rerun would be
        refused rather than resume (a finished cache); a kill that came after it ends the
        chain without a rerun.
    """

    name: str
    setup: Callable[[Path], None]
    argv: Callable[[Path], list[str]]
    check: Callable[[Path, Path], None]
    started: Callable[[Path], bool]
    finished: Callable[[Path], bool] = lambda folder: False


def _train_setup(folder: Path) -> None:
    # 16 sequences, batch 4: 4 steps an epoch; validation every 3 steps, a checkpoint every 2
    raw = tiny_run_config(
        folder / "runs",
        train={
            "max_steps": 12,
            "val_every_n_steps": 3,
            "checkpoint_every_n_steps": 2,
            "num_threads": 1,
        },
    )
    raw["data"]["split_options"]["train"] = {"num_sequences": 16}
    (folder / "config.yaml").write_text(yaml.safe_dump(raw))


def _train_argv(folder: Path) -> list[str]:
    run = folder / "runs" / "run"
    if (run / "checkpoints" / "last.ckpt").is_file():
        return ["train", "--resume", str(run)]
    return ["train", "--config", str(folder / "config.yaml")]  # killed before its first save


def _quake_setup(folder: Path) -> None:
    (folder / "exp.yaml").write_text(QUAKE_SETTINGS.format(out=folder / "out"))


def _quake_check(want: Path, got: Path) -> None:
    a, b = want / "out", got / "out"
    scores = json.loads((a / "report" / "scores.json").read_text())
    assert json.loads((b / "report" / "scores.json").read_text()) == scores
    names = sorted(p.name for p in (a / "forecasts").iterdir())
    assert sorted(p.name for p in (b / "forecasts").iterdir()) == names
    for name in names:
        _same_h5(a / "forecasts" / name, b / "forecasts" / name)
    for name in ("catalog.h5", "frames.h5"):
        _same_h5(a / name, b / name)
    _same_weights(a / "network.ckpt", b / "network.ckpt")
    _same_run_folder(a / "train" / "network", b / "train" / "network")
    assert not (b / ".framecast.lock").exists()
    assert not list(b.rglob("*.partial")), sorted(b.rglob("*.partial"))


def _data_setup(folder: Path) -> None:
    frames = folder / "frames"
    frames.mkdir()
    rng = np.random.default_rng(0)
    for i in range(300):
        image = rng.integers(0, 256, (32, 32), dtype=np.uint8)
        Image.fromarray(image).save(frames / f"f{i}.png")


def _data_check(want: Path, got: Path) -> None:
    # "source" names the frames folder, which is another one in each chain
    _same_h5(want / "cache.h5", got / "cache.h5", skip=("/@source",))
    # no .partial, no .partial.new; a kill after the cache was finished (and before the process
    # ended) may leave its lock file, which the next writer takes over
    left = sorted(p.name for p in got.iterdir() if p.name != "cache.h5.lock")
    assert left == ["cache.h5", "frames"], left


COMMANDS = {
    "train": Command(
        "train",
        _train_setup,
        _train_argv,
        lambda want, got: _same_run_folder(want / "runs" / "run", got / "runs" / "run"),
        lambda folder: (folder / "runs" / "run" / "checkpoints" / "last.ckpt").is_file(),
    ),
    "quake run": Command(
        "quake run",
        _quake_setup,
        lambda folder: ["quake", "run", "--config", str(folder / "exp.yaml")],
        _quake_check,
        lambda folder: (folder / "out" / "frames.h5").is_file(),
    ),
    "data prepare": Command(
        "data prepare",
        _data_setup,
        lambda folder: [
            *("data", "prepare", "frame_series"),
            *("--source", str(folder / "frames"), "--out", str(folder / "cache.h5")),
        ],
        _data_check,
        lambda folder: (folder / "cache.h5.partial").is_file(),
        # `data prepare` refuses to write over a finished cache (--overwrite replaces it)
        lambda folder: (folder / "cache.h5").is_file(),
    ),
}


# ------------------------------------------------------------------------------ the loop
def _no_traceback(attempt: Attempt) -> None:
    assert "Traceback" not in attempt.stderr, (attempt.argv, attempt.stderr[-3000:])


def _finished(attempt: Attempt) -> None:
    assert attempt.returncode == 0, (attempt.argv, attempt.returncode, attempt.stderr[-3000:])
    _no_traceback(attempt)


def _after_kill(attempt: Attempt) -> None:
    """A killed attempt: SIGTERM that stopped cleanly said so; nothing crashed."""
    _no_traceback(attempt)
    if attempt.returncode == 128 + signal.SIGTERM:
        assert "stopped" in attempt.stdout, attempt.stdout[-2000:]


def reference_run(command: Command, folder: Path, launchers: Launchers) -> float:
    """Run ``command`` uninterrupted in ``folder``; returns the seconds to its result.

    That is the time to its last line of output, without the interpreter's
    exit after it, over which the kill times are drawn.
    """
    folder.mkdir()
    command.setup(folder)
    attempt = launchers.run(command.argv(folder))
    _finished(attempt)
    return attempt.working


def kill_chain(
    command: Command,
    folder: Path,
    launchers: Launchers,
    draw: Callable[[], tuple[int, float]],
    reference: Path,
) -> list[Attempt]:
    """Kill and resume ``command`` in a fresh ``folder`` until a run finishes; check its outputs.

    ``draw()`` gives each attempt's signal and delay; the last attempt
    allowed (:data:`ATTEMPTS_PER_CHAIN`) runs unkilled.
    """
    folder.mkdir()
    command.setup(folder)
    attempts: list[Attempt] = []
    try:
        for number in range(ATTEMPTS_PER_CHAIN):
            signum, delay = draw() if number < ATTEMPTS_PER_CHAIN - 1 else (None, None)
            attempt = launchers.run(command.argv(folder), signum, delay)
            attempts.append(attempt)
            if not attempt.killed:
                _finished(attempt)
                break
            _after_kill(attempt)
            if command.finished(folder):
                break  # killed after its output was complete: nothing to resume
        command.check(reference, folder)
    except AssertionError as error:  # say which kills led there
        history = [(a.argv[:2], a.signum, a.delay, a.returncode) for a in attempts]
        raise AssertionError(f"{error}\nafter (argv, signal, delay s, status): {history}") from None
    return attempts


def test_each_command_killed_once_at_its_first_output_resumes_to_identical_outputs(
    tmp_path, launchers, capsys
):
    """The default suite's few kills: SIGKILL (train, data prepare) and SIGTERM (quake run)
    right after each command's first lasting output, then the resume."""
    plan = {"train": signal.SIGKILL, "quake run": signal.SIGTERM, "data prepare": signal.SIGKILL}
    for number, (name, signum) in enumerate(plan.items()):
        command = COMMANDS[name]
        reference = tmp_path / f"reference_{number}"
        reference.mkdir()
        command.setup(reference)
        assert main(command.argv(reference)) == 0, capsys.readouterr().err  # in this process
        folder = tmp_path / f"killed_{number}"
        folder.mkdir()
        command.setup(folder)
        killed = launchers.run(command.argv(folder), signum, when=lambda c=command, f=folder: (
            c.started(f)
        ))  # fmt: skip
        assert killed.killed, (name, killed.returncode, killed.stderr[-2000:])
        _after_kill(killed)
        _finished(launchers.run(command.argv(folder)))
        command.check(reference, folder)


# `framecast data prepare ...` that kills itself with SIGKILL while HDF5 creates the empty cache
KILLED_CREATE = """
import os, signal, sys
import h5py
import framecast.cli

real = h5py.Group.create_dataset

def create_dataset(self, name, *args, **kwargs):
    if name == "clip_meta":
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, name, *args, **kwargs)

h5py.Group.create_dataset = create_dataset
sys.exit(framecast.cli.main(sys.argv[1:]))
"""


def test_a_kill_while_the_cache_is_created_does_not_block_the_rerun(tmp_path, capsys):
    # a kill there left a `.partial` without its format attribute, and every rerun of the
    # command was refused ("not a framecast video cache"): the empty cache is now built
    # beside it and renamed into place whole
    _data_setup(tmp_path)
    argv = COMMANDS["data prepare"].argv(tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_CREATE, *argv], env=env, capture_output=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert main(argv) == 0, capsys.readouterr().err
    assert "3 written now" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.h5", "frames"]


# `framecast train ...` that kills itself with SIGKILL once its first best checkpoint is in place
# and before its first last.ckpt (a run checkpointing at validations only)
KILLED_AFTER_BEST = """
import os, signal, sys
from pathlib import Path
import framecast.cli, framecast.files

real = framecast.files.fsync_directory

def fsync_directory(directory):
    real(directory)
    folder = Path(directory)
    if folder.name == "checkpoints" and any(folder.glob("best-*.ckpt")):
        if not (folder / "last.ckpt").exists():
            os.kill(os.getpid(), signal.SIGKILL)

framecast.files.fsync_directory = fsync_directory
sys.exit(framecast.cli.main(sys.argv[1:]))
"""


def test_a_run_killed_between_its_first_best_and_last_checkpoint_starts_over(tmp_path, capsys):
    # both `--resume RUN` (no last.ckpt) and the same `--config` (a checkpoint there) were
    # refused, and `quake run` could not finish its network without --restart
    sections = {"train": {"max_steps": 6, "val_every_n_steps": 3, "num_threads": 1}}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(tiny_run_config(tmp_path / "runs", **sections)))
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_BEST, "train", "--config", str(config)],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    run = tmp_path / "runs" / "run"
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["best-epoch=001.ckpt"]
    assert main(["train", "--resume", str(run)]) == 2  # nothing to resume from
    assert "no checkpoint to resume" in capsys.readouterr().err
    assert main(["train", "--config", str(config)]) == 0  # so the run starts over
    reference = tmp_path / "reference.yaml"
    reference.write_text(yaml.safe_dump(tiny_run_config(tmp_path / "reference", **sections)))
    assert main(["train", "--config", str(reference)]) == 0
    _same_run_folder(tmp_path / "reference" / "run", run)


class _SigtermAt(L.Callback):
    """Sends this process SIGTERM in hook ``where`` ("batch_start", "batch_end") of ``step``."""

    def __init__(self, step: int, where: str) -> None:
        self.step, self.where = step, where

    def _maybe(self, trainer: L.Trainer, where: str) -> None:
        if where == self.where and trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)

    def on_train_batch_start(self, trainer: L.Trainer, *args: Any) -> None:
        self._maybe(trainer, "batch_start")

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        self._maybe(trainer, "batch_end")


@pytest.mark.parametrize(
    ("step", "where", "every"),
    [
        (1, "batch_end", 2),  # stop at step 1: metrics rows were logged twice after the resume
        (6, "batch_start", 2),  # stop at step 7, mid-epoch: the resumed weights differed
        (3, "batch_start", None),  # stop at step 4, an epoch's end, no checkpoint every n steps
    ],
)
def test_a_sigterm_stop_resumes_to_identical_outputs(tmp_path, step, where, every):
    # Lightning validated at the stop (as after early stopping) and the stop checkpoint was
    # written at that validation's end, which its resume misread: a step logged twice, or one
    # batch off. A signal stop now validates on schedule only and saves the step's checkpoint.
    from framecast.config import config_from_dict
    from framecast.training import train

    def config(folder: Path) -> Any:
        folder.mkdir()
        _train_setup(folder)
        raw = yaml.safe_load((folder / "config.yaml").read_text())
        raw["train"]["checkpoint_every_n_steps"] = every
        return config_from_dict(raw)

    train(config(tmp_path / "whole"), verbose=False)
    stopped = config(tmp_path / "stopped")
    result = train(stopped, callbacks=[_SigtermAt(step, where)], verbose=False)
    assert result.stopped_by == signal.SIGTERM
    train(stopped, resume=result.run_dir, verbose=False)
    _same_run_folder(tmp_path / "whole" / "runs" / "run", result.run_dir)


@pytest.mark.parametrize("step", [3, 6])
def test_a_kill_at_a_validation_step_loses_no_validation_and_leaves_one_best(tmp_path, step):
    # killed right after the first checkpoint file of a validation step (3: validation; 6: also
    # a checkpoint_every_n_steps step). A last.ckpt written before that step's validation made
    # the resumed run skip the validation (its val_loss row lost), and a best-*.ckpt written
    # just before the kill stayed beside the resumed run's own: two best checkpoints.
    from test_signals import KILLED_RUN, _env, _kill_config

    from framecast.config import config_from_dict
    from framecast.training import train

    whole = train(config_from_dict(_kill_config(tmp_path / "whole")), verbose=False)
    raw = _kill_config(tmp_path / "killed")
    (tmp_path / "config.json").write_text(json.dumps(raw))
    (tmp_path / "killed_run.py").write_text(KILLED_RUN)
    script = [sys.executable, str(tmp_path / "killed_run.py"), str(tmp_path / "config.json")]
    proc = subprocess.run(
        [*script, str(step), "checkpoint"], env=_env(), capture_output=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    resumed = train(config_from_dict(raw), resume=tmp_path / "killed" / "run", verbose=False)
    _same_run_folder(whole.run_dir, resumed.run_dir)


@pytest.mark.slow
def test_kill_loop_resumes_every_command_to_identical_outputs(tmp_path, launchers, capsys):
    """At least 50 random SIGKILLs and SIGTERMs over the three commands, each resumed."""
    rng = np.random.default_rng(KILL_SEED)
    summary: dict[str, dict[str, int]] = {}
    started = time.monotonic()
    for number, (name, quota) in enumerate(KILLS.items()):
        command = COMMANDS[name]
        reference = tmp_path / f"reference_{number}"
        life = reference_run(command, reference, launchers)

        def draw(life: float = life) -> tuple[int, float]:
            signum = signal.SIGTERM if rng.random() < 1 / 3 else signal.SIGKILL
            return int(signum), float(rng.uniform(0.0, life))

        counts = {"chains": 0, "runs": 0, "SIGKILL": 0, "SIGTERM": 0, "SIGTERM clean stops": 0}
        while counts["SIGKILL"] + counts["SIGTERM"] < quota:
            folder = tmp_path / f"chain_{number}_{counts['chains']}"
            attempts = kill_chain(command, folder, launchers, draw, reference)
            counts["chains"] += 1
            counts["runs"] += len(attempts)
            for attempt in attempts:
                if attempt.killed:
                    counts[signal.Signals(attempt.signum or 0).name] += 1
                    counts["SIGTERM clean stops"] += attempt.returncode == 128 + signal.SIGTERM
        summary[name] = counts
    kills = sum(c["SIGKILL"] + c["SIGTERM"] for c in summary.values())
    with capsys.disabled():
        print(
            f"\nkill loop: {kills} kills survived in {time.monotonic() - started:.0f} s, "
            f"every output identical to an uninterrupted run: {json.dumps(summary)}"
        )
    assert kills >= 50
