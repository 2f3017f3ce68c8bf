"""Several ``framecast tune`` processes on one study, in PostgreSQL and in a journal file.

Each test runs real worker processes against a real server
(``shared_storage``: a database of the session's PostgreSQL server, or a
journal file) and counts what the storage holds afterwards: every trial
number once, every queued set of values run once, pruning decided with the
other worker's intermediate values, and a SIGKILLed worker's trial failed
by the heartbeat and retried with the same values.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from framecast_testing import tiny_run_config
from postgres_testing import PASSWORD
from tune_workers import finish, load, start, trial_lines, wait_for

from framecast.tuning import TuneSettings, open_study, parse_parameter, run_study
from framecast.tuning.storage import mask_url

LRS = [0.01, 0.005, 0.002, 0.02, 0.001, 0.003, 0.008, 0.0005]
"""The values queued for the two-worker study: distinct, so each run is traceable."""


def _queue(storage: str, tmp_path, values: list[float]) -> None:
    settings = TuneSettings(trials=1, out_dir=tmp_path / "setup", storage=storage)
    study = open_study(settings)
    for lr in values:
        study.enqueue_trial({"optim.lr": lr})


def test_two_workers_at_once_run_every_trial_once(tmp_path, shared_storage):
    _queue(shared_storage, tmp_path, LRS)
    options = ["--trials", str(len(LRS)), "--trial-steps", "8", "--pruner", "none"]
    # a sampler seed each, as the docs say: the same seed would draw the same values
    workers = [start(tmp_path, shared_storage, f"w{i}", *options, "--seed", str(i)) for i in (0, 1)]
    outputs = [finish(worker) for worker in workers]

    trials = load(shared_storage).trials
    assert [t.number for t in trials] == list(range(len(trials)))
    # a worker that finishes while the other's last trial runs may start one more
    assert len(LRS) <= len(trials) <= len(LRS) + 1
    assert all(t.state.name == "COMPLETE" for t in trials)
    queued = [t for t in trials if "fixed_params" in t.system_attrs]
    assert sorted(t.params["optim.lr"] for t in queued) == sorted(LRS)  # none lost, none twice
    pids = {t.user_attrs["pid"] for t in trials}
    assert pids == {w.pid for w in workers}, "both workers should have run trials"
    # each trial printed by the one worker that ran it, and trained in its own folder
    printed = [line.split()[1] for out in outputs for line in trial_lines(out)]
    assert sorted(map(int, printed)) == [t.number for t in trials]
    run_dirs = {t.user_attrs["run_dir"] for t in trials}
    assert len(run_dirs) == len(trials) and all(os.path.isdir(d) for d in run_dirs)
    for i, out in enumerate(outputs):
        assert f"finished trials in {mask_url(shared_storage)}" in out
        assert PASSWORD not in out
        assert (tmp_path / f"w{i}" / "summary.md").is_file()


@pytest.mark.parametrize(
    "shared_storage", ["postgres", pytest.param("journal", marks=pytest.mark.slow)], indirect=True
)
def test_a_pruner_sees_the_other_workers_values(tmp_path, shared_storage):
    # worker 1, this process: two trials that learn
    base = tiny_run_config(
        tmp_path,
        optim={"lr": 1e-2, "scheduler": "none"},
        train={"max_steps": 8, "val_every_n_steps": 2, "limit_val_batches": 1.0},
    )
    space = [parse_parameter("optim.lr", {"type": "float", "low": 1e-9, "high": 0.1, "log": True})]
    settings = TuneSettings(
        trials=2, out_dir=tmp_path / "w0", storage=shared_storage, trial_steps=8, warmup_steps=0
    )
    study = open_study(settings)
    study.enqueue_trial({"optim.lr": 0.01})
    study.enqueue_trial({"optim.lr": 0.005})
    run_study(base, space, settings)
    # worker 2, another process, runs one that cannot learn: only worker 1's values can prune it
    study.enqueue_trial({"optim.lr": 1e-9})
    options = ["--trials", "3", "--trial-steps", "8", "--warmup-steps", "0", "--pruner", "median"]
    worker = start(tmp_path, shared_storage, "w1", *options)
    out = finish(worker)

    trials = load(shared_storage).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert [t.user_attrs["pid"] for t in trials] == [os.getpid(), os.getpid(), worker.pid]
    assert trials[2].user_attrs["steps"] < 8  # stopped before its budget
    assert [line.split()[:3] for line in trial_lines(out)] == [["trial", "2", "pruned:"]]


@pytest.mark.parametrize(
    "shared_storage",
    [pytest.param("postgres", marks=pytest.mark.slow), "journal"],  # the same heartbeat code
    indirect=True,
)
def test_a_killed_workers_trial_is_failed_and_retried(tmp_path, shared_storage):
    _queue(shared_storage, tmp_path, [0.01])
    # worker 1: a trial without end (no step budget that it reaches, no early stop)
    endless = ["--trial-steps", "1000000", "train.early_stopping_patience=1000000"]
    beat = ["--trials", "1", "--pruner", "none", "--heartbeat", "1"]
    doomed = start(tmp_path, shared_storage, "w0", *beat, *endless)
    study = load(shared_storage)

    def mid_trial() -> bool:
        trials = study.trials
        return bool(trials and trials[0].state.name == "RUNNING" and trials[0].intermediate_values)

    try:
        wait_for(mid_trial, what="worker 1's trial to report a validation loss")
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate()
    time.sleep(4)  # its heartbeat silent for longer than the grace period (3 x 1 s)
    assert load(shared_storage).trials[0].state.name == "RUNNING"  # nobody noticed yet

    # worker 2 finds the stale trial on starting its own: failed, retried with its values
    worker = start(tmp_path, shared_storage, "w1", *beat, "--trial-steps", "8")
    out = finish(worker)
    killed, retried = load(shared_storage).trials
    assert killed.state.name == "FAIL" and killed.user_attrs["pid"] == doomed.pid
    assert killed.intermediate_values  # killed mid-trial, after a validation
    assert retried.state.name == "COMPLETE" and retried.user_attrs["pid"] == worker.pid
    assert retried.params == killed.params == {"optim.lr": 0.01}
    assert retried.system_attrs["failed_trial"] == 0
    assert [line.split()[:3] for line in trial_lines(out)] == [["trial", "1", "complete:"]]
