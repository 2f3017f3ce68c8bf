"""The fit routine of every framecast training run: forecasters, classifiers, quake networks.

:func:`start_run` picks the run folder (a new one, or the folder of the
checkpoint to resume) before any data are read; the caller then builds its
data, module and loaders and checks that they fit; :func:`fit_run` does
the rest, the same for every kind of run: checkpoints (``last.ckpt`` after
every validation, every ``train.checkpoint_every_n_steps`` steps and at
every stop, ``best-*.ckpt`` by validation loss, all written atomically),
early stopping, a first SIGTERM or Ctrl-C that stops cleanly, the CSV and
TensorBoard logs, the run folder's lock and manifest, and the console's
line per validation and summary.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import lightning as L
from lightning.pytorch.callbacks import (
    Callback,
    EarlyStopping,
    LearningRateMonitor,
    ModelCheckpoint,
)
from lightning.pytorch.loggers import TensorBoardLogger

from framecast.files import atomic_write
from framecast.numerics import configure_torch
from framecast.runfolder import RunFolder
from framecast.training.callbacks import (
    SIGNAL_NAMES,
    ConsoleReport,
    StopRequest,
    stop_on_interrupt,
)
from framecast.training.checkpointing import (
    AtomicCheckpointIO,
    BestCheckpoint,
    LastCheckpoint,
    remove_partial_files,
)
from framecast.training.csv_log import METRICS_FILE, ResumableCSVLogger, keep_rows_before
from framecast.training.run_checks import (
    check_new_run_dir,
    check_val_limit,
    checkpoint_to_resume,
    file_state,
    open_run_folder,
)

# Lightning notices about settings framecast chose, not the user: advertisements,
# device availability, and deprecations inside Lightning itself.
QUIET_LOGGERS = ("lightning.pytorch", "lightning.fabric")
QUIET_WARNINGS = (
    r".*isinstance\(treespec, LeafSpec\)",
    # num_workers=0 is framecast's default on purpose (in-memory data, exact resume)
    r".*does not have many workers which may be a bottleneck",
    # a resumed run writes into its own folder: that it is not empty is expected
    r".*Experiment logs directory .* exists and is not empty",
    r".*Checkpoint directory .* exists and is not empty",
    # Lightning 2 logs every log_every_n_steps optimiser steps across epochs, so an epoch
    # shorter than that interval loses no log row: the advice does not apply
    r".*The number of training batches \(\d+\) is smaller than the logging interval",
)
"""Lightning warnings framecast has decided are irrelevant to its runs, by message."""


class TrainSettings(Protocol):
    """The ``train`` section the engine reads: a forecaster's or a classifier's."""

    max_steps: int
    max_epochs: int | None
    max_minutes: float | None
    seed: int
    limit_val_batches: float
    val_every_n_steps: int | None
    checkpoint_every_n_steps: int | None
    early_stopping_patience: int | None
    accelerator: str
    devices: int
    num_threads: int | None
    log_every_n_steps: int
    out_dir: str
    run_name: str | None
    progress_bar: bool


class RunConfig(Protocol):
    """A whole run's config as the engine sees it: its model and train sections, and YAML."""

    @property
    def model(self) -> Any:
        """The model section (``name`` and ``options``)."""

    @property
    def train(self) -> TrainSettings:
        """The train section."""

    def save(self, path: str | Path) -> Path:
        """Write the config as YAML to ``path``."""


@contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's notices and its own deprecation warnings while inside."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [log.level for log in loggers]
    with warnings.catch_warnings():
        for pattern in QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern)
        for log in loggers:
            log.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for log, level in zip(loggers, levels, strict=True):
                log.setLevel(level)


def make_trainer(
    run_dir: Path,
    t: TrainSettings,
    callbacks: list[Any],
    *,
    grad_clip: float | None,
    **extra: Any,
) -> L.Trainer:
    """The Lightning Trainer of a framecast run, forecaster or classifier.

    ``t`` is the config's ``train`` section (step, time, validation, logging
    and device settings); ``extra`` adds Trainer arguments (strategy,
    precision, ...). Logs go to ``<run_dir>/logs/metrics.csv`` (kept across
    resumes) and ``<run_dir>/tensorboard``; checkpoints are written atomically.
    """
    if t.max_minutes is not None:
        extra["max_time"] = {"minutes": t.max_minutes}
    with quiet_lightning():
        return L.Trainer(
            default_root_dir=run_dir,
            accelerator=t.accelerator,
            devices=t.devices,
            max_steps=t.max_steps,
            max_epochs=t.max_epochs if t.max_epochs is not None else -1,
            limit_val_batches=t.limit_val_batches,
            val_check_interval=t.val_every_n_steps,
            # count val_every_n_steps in global steps, so it may exceed an epoch's batches
            check_val_every_n_epoch=None if t.val_every_n_steps is not None else 1,
            gradient_clip_val=grad_clip,
            log_every_n_steps=t.log_every_n_steps,
            logger=[
                ResumableCSVLogger(run_dir, name="logs", version=""),
                TensorBoardLogger(run_dir, name="tensorboard", version=""),
            ],
            callbacks=callbacks,
            plugins=[AtomicCheckpointIO()],
            enable_progress_bar=t.progress_bar and sys.stdout.isatty(),
            enable_model_summary=False,
            **extra,
        )


def default_run_name(config: RunConfig) -> str:
    """``<model>-<cell>-<date>-<time>`` (no cell part for a model without one)."""
    cell = config.model.options.get("cell")
    parts = [config.model.name, *([str(cell)] if cell else []), time.strftime("%Y%m%d-%H%M%S")]
    return "-".join(parts)


@dataclass(frozen=True)
class RunStart:
    """Where a run will write, and the checkpoint it continues (None for a new run)."""

    run_dir: Path
    checkpoint: Path | None
    checkpoint_state: tuple[int, int] | None
    """``(mtime_ns, size)`` of :attr:`checkpoint` when read: it must not change before the lock."""
    threads: int
    """The torch threads the run uses."""


def start_run(config: RunConfig, resume: str | Path | None) -> RunStart:
    """Set torch's threads and the seeds, and find the run folder; nothing is written.

    Parameters
    ----------
    config : RunConfig
        The run; ``train.run_name`` (default :func:`default_run_name`) names
        a new run's folder under ``train.out_dir``.
    resume : path, optional
        A checkpoint or a run folder to continue (its folder is the run's).

    Raises
    ------
    FileNotFoundError
        No checkpoint at ``resume``.
    ValueError
        A new run in a folder that already holds one.
    """
    t = config.train
    threads = configure_torch(t.num_threads, choose=True)
    L.seed_everything(t.seed, workers=True, verbose=False)
    ckpt_path = checkpoint_to_resume(resume) if resume is not None else None
    ckpt_state = file_state(ckpt_path) if ckpt_path is not None else None
    if ckpt_path is not None:
        run_dir = ckpt_path.parent.parent
    else:
        run_dir = Path(t.out_dir) / (t.run_name or default_run_name(config))
        check_new_run_dir(run_dir)
    return RunStart(run_dir, ckpt_path, ckpt_state, threads)


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit_run` wrote and how long it took."""

    run_dir: Path
    last_checkpoint: Path
    best_checkpoint: Path | None
    seconds: float
    stopped_by: int | None
    """The signal (SIGTERM, SIGINT) that stopped training early, None otherwise."""


def _best_score(checkpoint: ModelCheckpoint) -> float | None:
    score = checkpoint.best_model_score
    return None if score is None else float(score)


def fit_run(
    start: RunStart,
    config: RunConfig,
    module: L.LightningModule,
    train_loader: Any,
    val_loader: Any,
    *,
    resume_step: int,
    grad_clip: float | None,
    callbacks: Sequence[Callback] = (),
    log_learning_rate: bool = False,
    trainer_options: Mapping[str, Any] | None = None,
    extra_files: Sequence[str] = (),
    before_fit: Callable[[Path], None] | None = None,
    verbose: bool = True,
) -> FitResult:
    """Fit ``module`` in the run folder of ``start``, checkpointing at every validation and stop.

    Nothing is written before the run is known to be valid; then the run
    folder is locked for the run's life, its manifest lists every file
    written, partial files of a killed run are removed, the metrics rows
    after the resumed step are dropped and ``config.yaml`` is written.

    Parameters
    ----------
    start : RunStart
        From :func:`start_run`.
    config : RunConfig
        The resolved config, written to ``config.yaml``; its ``train``
        section sets the loop, the checkpoints and early stopping.
    module : LightningModule
        Ready to train (or holding the weights of the checkpoint resumed).
    train_loader, val_loader
        The data.
    resume_step : int
        The global step of the checkpoint resumed (0 for a new run): the
        metrics rows from it on are dropped, to be written again.
    grad_clip : float, optional
        Gradient norm clipping applied by the trainer (None: none).
    callbacks : sequence of Callback
        Extra Lightning callbacks, after early stopping and before the stop,
        report and checkpoint callbacks.
    log_learning_rate : bool
        Log the learning rate at every step (``LearningRateMonitor``).
    trainer_options : mapping, optional
        More Trainer arguments (strategy, precision, ...).
    extra_files : sequence of str
        Files (relative to the run folder) the run writes besides the
        engine's, recorded in the manifest before the partial files are
        cleared.
    before_fit : callable, optional
        Called with the run folder, under its lock, after ``config.yaml``
        is written and before fitting (to write ``extra_files``); only in
        the first process (global rank 0) of a multi-process run, the one
        that writes the folder.
    verbose : bool
        Print one line per validation and a summary.

    Raises
    ------
    ValueError
        ``train.limit_val_batches`` keeps no batch, the folder now holds a
        run, or the checkpoint changed since :func:`start_run` read it.
    RunInUseError
        Another process trains in the run folder (a ValueError naming its PID).
    """
    t = config.train
    run_dir, ckpt_path = start.run_dir, start.checkpoint
    check_val_limit(t.limit_val_batches, val_loader)

    checkpoint_dir = run_dir / "checkpoints"
    best = BestCheckpoint(
        dirpath=checkpoint_dir,
        filename="best-{epoch:03d}",
        monitor="val_loss",
        mode="min",
        save_top_k=1,
        save_last=False,
        # save at validation end, before `last` (after it in the callbacks) writes its state:
        # saved at train-epoch end, `last.ckpt` would hold the previous best, and a resumed
        # run would never delete the best file it does not know (two best-*.ckpt)
        save_on_train_epoch_end=False,
    )
    folder: RunFolder | None = None
    last = LastCheckpoint(
        checkpoint_dir,
        every_n_steps=t.checkpoint_every_n_steps,
        after_save=lambda: folder.record_new() if folder is not None and primary else None,
    )
    stop = StopRequest()
    cbs: list[Callback] = (
        [LearningRateMonitor(logging_interval="step")] if log_learning_rate else []
    )
    if t.early_stopping_patience is not None:
        cbs.append(
            EarlyStopping(
                monitor="val_loss",
                mode="min",
                patience=t.early_stopping_patience,
                # checked after each validation: a run that ends before its first
                # validation has nothing to check (at an epoch's end Lightning raised)
                check_on_train_epoch_end=False,
            )
        )
    cbs.extend(callbacks)
    # checkpoint callbacks last (Lightning keeps them last anyway): their saves
    # hold the other callbacks' latest state; `last` after `best` for its score
    report = [ConsoleReport(best=lambda: _best_score(best))] if verbose else []
    cbs.extend([stop, *report, best, last])
    trainer = make_trainer(run_dir, t, cbs, grad_clip=grad_clip, **(trainer_options or {}))
    # the other processes of a DDP run write nothing in the folder: on other nodes they may
    # start while the first writes there, and a partial file they removed was its file
    primary = trainer.is_global_zero

    # the run is valid: only now create and write its folder, held for the run's life
    folder = open_run_folder(run_dir, ckpt_path, start.checkpoint_state, primary=primary)
    try:
        if primary:
            if extra_files:
                folder.record(*extra_files)
            remove_partial_files(run_dir, folder.listed())
            keep_rows_before(run_dir / "logs" / METRICS_FILE, resume_step)
            with atomic_write(run_dir / "config.yaml") as partial:
                config.save(partial)
            if before_fit is not None:
                before_fit(run_dir)

        begin = time.perf_counter()
        with quiet_lightning(), stop_on_interrupt(stop):
            trainer.fit(
                module,
                train_dataloaders=train_loader,
                val_dataloaders=val_loader,
                ckpt_path=ckpt_path,
            )
        seconds = time.perf_counter() - begin
    finally:
        folder.close()
    best_path = Path(best.best_model_path) if best.best_model_path else None
    score = _best_score(best)
    if verbose and trainer.is_global_zero:
        threads = start.threads
        print(
            f"trained to step {trainer.global_step} in {seconds / 60:.1f} min"
            + (f" (stopped by {SIGNAL_NAMES.get(stop.signal, stop.signal)})" if stop.signal else "")
            + (f" on {trainer.world_size} processes" if trainer.world_size > 1 else "")
            + f" ({threads} torch thread{'s' if threads > 1 else ''})"
            + (f"; best val_loss {score:.5g}" if score is not None else "")
            + f"; last: {last.path}"
            + (f"; best: {best_path}" if best_path is not None else "")
        )
    return FitResult(run_dir, last.path, best_path, seconds, stop.signal)
