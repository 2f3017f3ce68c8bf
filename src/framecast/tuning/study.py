"""``framecast tune``: an Optuna study over a config, with pruning and early stopping.

Each trial trains the base config with the values the TPE sampler proposes,
on a budget of minutes or steps, with early stopping on the validation
loss; every validation reports the loss to the pruner (median or
Hyperband), which stops unpromising trials. The study lives in an Optuna
storage (SQLite by default; a PostgreSQL or MySQL URL, or a journal file,
for several machines: :mod:`framecast.tuning.storage`), so an interrupted
study resumes where it stopped and several processes, or machines sharing a
storage, can work on one study: ``--trials`` is the total the study should
reach, not a number to add. A trial whose process died is marked failed by
the heartbeat and retried once with the same values.

Trials run ``jobs`` at a time (default: one per free core), each in its own
process with ``cores // jobs`` torch threads, all working on the one study
through its storage; each worker's TPE sampler has its own seed
(``seed + 1000 * worker``), so a parallel study is not reproducible trial
by trial, only each trial's training (``train.seed = seed + n``).

With ``settings.cluster`` (``--cluster tcp://HOST:PORT``) the same worker
processes are tasks of that Dask scheduler (:mod:`framecast.cluster`), one
per worker thread of the cluster (or ``jobs``), each started on its
worker's machine; they share the study through its storage, which every
machine must reach (PostgreSQL or a journal file for several machines).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import os
import socket
import subprocess
import sys
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from framecast.config import config_from_dict
from framecast.tuning.settings import TuneSettings
from framecast.tuning.space import Parameter, apply_values, check_space

FINISHED = ("COMPLETE", "PRUNED")
CAUGHT = (RuntimeError, ValueError, FloatingPointError)
"""Errors that fail one trial (Optuna records it and the study goes on)."""
DEFAULT_PATIENCE = 3


class PruningReporter:
    """Lightning callback: report each validation loss to the trial, stop when pruned.

    Written here rather than taken from optuna-integration because that
    callback reports by epoch, which drops the validations a run makes every
    ``val_every_n_steps`` within an epoch; this one reports at the global step.
    """

    def __init__(self, trial: Any) -> None:
        from lightning.pytorch.callbacks import Callback

        outer = self

        class _Callback(Callback):
            def on_validation_end(self, trainer: Any, module: Any) -> None:
                outer.on_validation_end(trainer)

        self.callback = _Callback()
        self.trial = trial
        self.best = math.inf
        self.pruned_at: int | None = None

    def on_validation_end(self, trainer: Any) -> None:
        if trainer.sanity_checking or "val_loss" not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics["val_loss"])
        step = int(trainer.global_step)
        self.trial.report(value, step)
        if math.isfinite(value):
            self.best = min(self.best, value)
        if self.trial.should_prune():
            self.pruned_at = step
            trainer.should_stop = True


def _make_pruner(name: str, settings: TuneSettings) -> Any:
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=settings.warmup())
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=max(settings.warmup(), 1), reduction_factor=3
        )
    return optuna.pruners.NopPruner()


def open_study(settings: TuneSettings, *, create: bool = True) -> Any:
    """Create or load the study in its storage (with a heartbeat, so dead trials are retried).

    The out folder is made only once a storage given by ``--storage`` has
    opened: a database that cannot be reached leaves nothing behind.
    """
    import optuna

    from framecast.tuning.storage import open_storage

    if settings.storage is None:  # the default SQLite file lives in the out folder
        settings.out_dir.mkdir(parents=True, exist_ok=True)
    storage = open_storage(settings.storage_url(), heartbeat=settings.heartbeat)
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    if not create:
        return optuna.load_study(study_name=settings.study_name, storage=storage)
    return optuna.create_study(
        study_name=settings.study_name,
        storage=storage,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=settings.seed + 1000 * settings.worker),
        pruner=_make_pruner(settings.pruner, settings),
        load_if_exists=True,
    )


def trial_config(
    base: Mapping[str, Any], values: Mapping[str, Any], settings: TuneSettings, number: int
) -> dict[str, Any]:
    """The config one trial trains: base + values + the trial's budget, seed and folder."""
    config = apply_values(base, values)
    train = config.setdefault("train", {})
    train["seed"] = settings.seed + number
    train["out_dir"] = str(settings.out_dir / "trials")
    train["run_name"] = f"trial-{number:04d}"
    train["progress_bar"] = False
    if settings.trial_minutes is not None:
        train["max_minutes"] = settings.trial_minutes
    if settings.trial_steps is not None:
        train["max_steps"] = settings.trial_steps
    if train.get("early_stopping_patience") is None:
        train["early_stopping_patience"] = DEFAULT_PATIENCE
    return config


def _objective(base: Mapping[str, Any], space: list[Parameter], settings: TuneSettings) -> Any:
    import optuna

    from framecast.training import train

    def run_trial(trial: Any) -> float:
        values = {p.key: p.suggest(trial) for p in space}
        config = trial_config(base, values, settings, trial.number)
        trial.set_user_attr("seed", config["train"]["seed"])
        reporter = PruningReporter(trial)
        # one line per trial (the study's callback), not one per validation
        result = train(config_from_dict(config), callbacks=[reporter.callback], verbose=False)
        trial.set_user_attr("seconds", round(result.seconds, 1))
        trial.set_user_attr("steps", int(result.module.global_step))
        trial.set_user_attr("run_dir", str(result.run_dir))
        if reporter.pruned_at is not None:
            raise optuna.TrialPruned(f"pruned at step {reporter.pruned_at}")
        if not math.isfinite(reporter.best):
            raise ValueError(
                "the trial made no finite validation loss (set train.val_every_n_steps)"
            )
        return reporter.best

    def objective(trial: Any) -> float:
        # who runs it: a summary shows the trial interrupted once this process is gone
        trial.set_user_attr("pid", os.getpid())
        trial.set_user_attr("host", socket.gethostname())
        try:
            return run_trial(trial)
        except CAUGHT as error:
            # kept for the trial's console line and the summary; Optuna marks the trial failed
            message = str(error).strip().splitlines()
            trial.set_user_attr("error", f"{type(error).__name__}: {message[0] if message else ''}")
            raise

    return objective


def _format_value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _trial_loss(trial: Any) -> float | None:
    """A finished trial's value, or a pruned trial's lowest reported loss."""
    if trial.value is not None:
        return float(trial.value)
    if trial.intermediate_values:
        return float(min(trial.intermediate_values.values()))
    return None


def trial_line(study: Any, trial: Any) -> str:
    """One line about a finished trial: number, state, values, loss, and the best so far.

    Examples
    --------
    ``trial 2 pruned: optim.lr=1e-09 model.options.cell=convlstm; best val loss 0.2412
    (4 steps, 1.3 s); best so far 0.0617 (trial 0)``
    """
    params = " ".join(f"{key}={_format_value(value)}" for key, value in trial.params.items())
    state = trial.state.name.lower()
    loss = _trial_loss(trial)
    parts = [f"trial {trial.number} {state}: {params or '(no parameters)'}"]
    if loss is not None:
        budget = []
        if "steps" in trial.user_attrs:
            budget.append(f"{trial.user_attrs['steps']} steps")
        if "seconds" in trial.user_attrs:
            budget.append(f"{trial.user_attrs['seconds']} s")
        parts.append(f"best val loss {loss:.5g}" + (f" ({', '.join(budget)})" if budget else ""))
    elif state == "fail":
        parts.append(f"no loss ({trial.user_attrs.get('error', 'see the log above')})")
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if complete:
        best = min(complete, key=lambda t: t.value)
        parts.append(f"best so far {best.value:.5g} (trial {best.number})")
    else:
        parts.append("best so far: none complete yet")
    return "; ".join(parts)


def print_trial(study: Any, trial: Any) -> None:
    """Study callback: print :func:`trial_line` for each trial as it finishes."""
    print(trial_line(study, trial), flush=True)


def count_finished(study: Any) -> int:
    return sum(t.state.name in FINISHED for t in study.trials)


def run_study(base: Mapping[str, Any], space: list[Parameter], settings: TuneSettings) -> Any:
    """Run trials until the study holds ``settings.trials`` finished ones; write the outputs.

    Raises
    ------
    ValueError
        Bad settings or a space the config does not accept (before any trial).
    """
    import optuna

    from framecast.cluster import session

    settings.check()
    check_space(base, space)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    with session(settings.cluster) as engine:  # an address that does not answer: nothing written
        study = open_study(settings)
        _check_same_space(study, space)
        study.set_user_attr("space", [p.key for p in space])
        remaining = settings.trials - count_finished(study)
        if remaining > 0 and engine is not None:
            jobs = engine.slots if settings.jobs is None else settings.jobs
            jobs = max(1, min(jobs, remaining))
            print(
                f"[tune] {remaining} trial(s) to run by {jobs} worker task(s) of {engine.address}",
                flush=True,
            )
            job_file = _write_job_file(base, space, settings)
            _check_codes(engine.map(tune_task, range(jobs), shared={"job_file": job_file}))
            study = open_study(settings, create=False)
        elif remaining > 0:
            study = _run_here(study, base, space, settings, remaining)
    write_outputs(study, base, space, settings)
    return study


def _run_here(
    study: Any, base: Mapping[str, Any], space: list[Parameter], settings: TuneSettings, n: int
) -> Any:
    """Run ``n`` trials in this process or in ``jobs`` child processes; the study after them."""
    from framecast.numerics import allowed_cores, default_jobs

    jobs = default_jobs(n) if settings.jobs is None else settings.jobs
    jobs = max(1, min(jobs, n))
    if jobs == 1:
        _optimize(study, base, space, settings, n)
        return study
    threads = max(1, len(allowed_cores()) // jobs)
    print(
        f"[tune] {n} trial(s) to run, {jobs} at a time with {threads} torch thread(s) each",
        flush=True,
    )
    _run_workers(base, space, settings, jobs, threads)
    return open_study(settings, create=False)


def _optimize(
    study: Any, base: Mapping[str, Any], space: list[Parameter], settings: TuneSettings, n: int
) -> None:
    """Run up to ``n`` trials in this process, stopping once the study holds enough."""
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(
            _objective(base, space, settings),
            n_trials=n,
            callbacks=[
                print_trial,
                MaxTrialsCallback(settings.trials, states=(TrialState.COMPLETE, TrialState.PRUNED)),
            ],
            catch=CAUGHT,
        )


def _run_workers(
    base: Mapping[str, Any],
    space: list[Parameter],
    settings: TuneSettings,
    jobs: int,
    threads: int,
) -> None:
    """Run ``jobs`` worker processes on the study; raise if any of them failed."""
    job_file = _write_job_file(base, space, settings)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        codes = list(pool.map(lambda w: _worker_process(job_file, w, threads), range(jobs)))
    _check_codes(codes)


def _write_job_file(
    base: Mapping[str, Any], space: list[Parameter], settings: TuneSettings
) -> Path:
    """``tune_job.json`` in the out folder: what every worker process reads (absolute paths)."""
    job_file = (settings.out_dir / "tune_job.json").resolve()
    payload = {
        "base": base,
        "space": [dataclasses.asdict(p) for p in space],
        "settings": {**dataclasses.asdict(settings), "out_dir": str(settings.out_dir.resolve())},
    }
    # owner-only: the storage URL may hold a database password
    descriptor = os.open(job_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a file left by an earlier run keeps its mode otherwise
    with os.fdopen(descriptor, "w") as stream:
        stream.write(json.dumps(payload))
    return job_file


def _worker_process(job_file: Path, worker: int, threads: int) -> int:
    """Run worker ``worker`` of ``job_file`` as a child process; its exit status."""
    env = {**os.environ, "FRAMECAST_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "framecast.tuning.study", str(job_file), str(worker)]
    return subprocess.run(command, check=False, env=env).returncode


def tune_task(worker: int, *, job_file: Path) -> int:
    """One worker process as a cluster task, on the worker's machine; its exit status.

    The process gets the worker's thread share (:func:`~framecast.numerics.choose_threads`:
    one under Dask's default ``OMP_NUM_THREADS=1``).
    """
    from framecast.numerics import choose_threads

    return _worker_process(job_file, worker, choose_threads())


def _check_codes(codes: list[int]) -> None:
    """Raise RuntimeError naming the worker processes that failed."""
    failed = [f"worker {w} (exit {code})" for w, code in enumerate(codes) if code != 0]
    if failed:
        raise RuntimeError(
            f"{', '.join(failed)} failed; rerun the same command to resume the study"
        )


def _worker(argv: list[str]) -> int:
    """One parallel worker: ``python -m framecast.tuning.study JOB.json WORKER``."""
    payload = json.loads(Path(argv[0]).read_text())
    raw = payload["settings"]
    settings = TuneSettings(**{**raw, "out_dir": Path(raw["out_dir"]), "worker": int(argv[1])})
    space = [
        Parameter(**{**p, "choices": None if p["choices"] is None else tuple(p["choices"])})
        for p in payload["space"]
    ]
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    study = open_study(settings)
    remaining = settings.trials - count_finished(study)
    if remaining > 0:
        _optimize(study, payload["base"], space, settings, remaining)
    return 0


def _check_same_space(study: Any, space: list[Parameter]) -> None:
    stored = study.user_attrs.get("space")
    keys = [p.key for p in space]
    if stored is not None and stored != keys:
        raise ValueError(
            f"study {study.study_name!r} searched {stored}, not {keys}; "
            "use another --study-name or the same space"
        )


def best_config(study: Any, base: Mapping[str, Any]) -> dict[str, Any]:
    """The base config with the best trial's values: ready for ``framecast train``."""
    config = apply_values(base, study.best_trial.params)
    config.setdefault("train", {})["seed"] = study.best_trial.user_attrs.get("seed", 0)
    config["train"].pop("run_name", None)
    return config


def write_outputs(
    study: Any, base: Mapping[str, Any], space: list[Parameter], settings: TuneSettings
) -> dict[str, Path]:
    """Write best.yaml, summary.md and the plots; returns their paths by name.

    The summary scores the trivial baselines on the base config's validation
    batches beside the trials (:func:`framecast.tuning.baselines.validation_baselines`).
    """
    from framecast.tuning.baselines import validation_baselines
    from framecast.tuning.report import plot_study, summary_markdown

    out = settings.out_dir
    paths: dict[str, Path] = {}
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if complete:
        best = copy.deepcopy(best_config(study, base))
        paths["best"] = out / "best.yaml"
        header = (
            f"# best of study {study.study_name!r}: trial {study.best_trial.number}, "
            f"validation loss {study.best_value:.6g}\n"
        )
        paths["best"].write_text(header + yaml.safe_dump(best, sort_keys=False))
    paths["summary"] = out / "summary.md"
    baselines = validation_baselines(base)
    paths["summary"].write_text(summary_markdown(study, space, settings, baselines))
    paths.update(plot_study(study, out))
    return paths


if __name__ == "__main__":
    raise SystemExit(_worker(sys.argv[1:]))
