"""Train a model from a config: build data, module, Lightning trainer, fit."""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import (
    Callback,
    EarlyStopping,
    LearningRateMonitor,
    ModelCheckpoint,
)
from lightning.pytorch.loggers import TensorBoardLogger

from framecast.checkpoint import check_state_dict, read_checkpoint, resolve_checkpoint
from framecast.config import Config
from framecast.files import atomic_write
from framecast.metrics.data_range import dataset_data_range
from framecast.numerics import configure_torch, resolve_precision
from framecast.runfolder import RunFolder
from framecast.training.callbacks import (
    SIGNAL_NAMES,
    ConsoleReport,
    StopRequest,
    stop_on_interrupt,
)
from framecast.training.checkpointing import (
    LAST_NAME,
    AtomicCheckpointIO,
    LastCheckpoint,
    remove_partial_files,
)
from framecast.training.csv_log import METRICS_FILE, ResumableCSVLogger, keep_rows_before
from framecast.training.loaders import make_dataset, make_loader
from framecast.training.module import ForecastModule

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


@dataclass
class TrainResult:
    """Where a training run wrote its outputs."""

    run_dir: Path
    last_checkpoint: Path
    best_checkpoint: Path | None
    module: ForecastModule
    seconds: float
    stopped_by: int | None = None
    """The signal (SIGTERM, SIGINT) that stopped training early, None otherwise."""


RUN_FILES = ("config.yaml", "checkpoints", "logs", "tensorboard")
"""What a training run writes in its folder; a run folder from before manifests adopts them."""
RESUMABLE_OPTIM_KEYS = ("grad_clip",)
"""``optim`` keys a resumed run may change (applied by the trainer, not held by the optimiser)."""


def resolve_config(config: Config, sample_channels: int) -> Config:
    """Fill values derived from the data that the user left empty.

    Raises
    ------
    ValueError
        ``model.in_channels`` given and different from the data's channels.
    """
    given = config.model.in_channels
    if given is not None and given != sample_channels:
        raise ValueError(
            f"model.in_channels={given} but dataset {config.data.name!r} "
            f"has {sample_channels} channels"
        )
    return replace(config, model=replace(config.model, in_channels=sample_channels))


def default_run_name(config: Config) -> str:
    cell = config.model.options.get("cell")
    parts = [config.model.name, *([str(cell)] if cell else []), time.strftime("%Y%m%d-%H%M%S")]
    return "-".join(parts)


def checkpoint_to_resume(resume: str | Path) -> Path:
    """A checkpoint path from ``--resume``: a ``.ckpt`` file or a run folder."""
    path = Path(resume)
    if path.is_dir():
        path = path / "checkpoints" / LAST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume at {str(path)!r}")
    return path


def check_new_run_dir(run_dir: Path) -> list[Path]:
    """Refuse to start a new run in a folder that holds a run's checkpoints.

    A run killed after its first best checkpoint but before its first
    ``last.ckpt`` cannot be resumed (``--resume`` reads ``last.ckpt``): a new
    run starts over in its folder, and the best checkpoints it left, which
    the folder's manifest lists, are returned for the caller to delete
    under the folder's lock.

    Returns
    -------
    list of Path
        The best checkpoints of such an unresumable run (usually none).

    Raises
    ------
    ValueError
        ``run_dir/checkpoints`` holds ``last.ckpt``, or a ``.ckpt`` file
        framecast did not record there.
    """
    checkpoints = run_dir / "checkpoints"
    found = sorted(checkpoints.glob("*.ckpt")) if checkpoints.is_dir() else []
    # a kill between the first best-*.ckpt and the first last.ckpt used to leave a folder that
    # both --resume (no last.ckpt) and a new run (a checkpoint there) refused, and `quake run`
    # could then never finish without --restart (found by the kill loop, issue 23)
    listed = RunFolder(run_dir).listed() if found else set()
    unresumable = all(
        p.name.startswith("best-") and f"checkpoints/{p.name}" in listed for p in found
    )
    if not unresumable:
        raise ValueError(
            f"run folder {str(run_dir)!r} already holds a run; "
            f"use --resume {run_dir} or another train.run_name"
        )
    return found


def check_val_limit(limit: float, loader: Any, key: str = "train.limit_val_batches") -> None:
    """Refuse a fraction of the validation batches that keeps none of them, before any write.

    Lightning refused it only inside ``fit``, once the run folder held a
    ``config.yaml`` and logs, and blamed the machine (found by the property
    tests, issue 23).

    Raises
    ------
    ValueError
        ``limit`` is a fraction in (0, 1) and ``int(limit * len(loader))`` is 0.
    """
    try:
        batches = len(loader)
    except TypeError:  # an iterable dataset: Lightning takes no fraction of it anyway
        return
    if isinstance(limit, float) and 0.0 < limit < 1.0 and batches and int(limit * batches) < 1:
        raise ValueError(
            f"{key}={limit:g} keeps none of the {batches} validation batch(es); "
            f"use a fraction >= {1 / batches:.3g}, a whole number of batches, or 0 for none"
        )


def open_run_folder(
    run_dir: Path, ckpt_path: Path | None, ckpt_state: tuple[int, int] | None
) -> RunFolder:
    """Take the run folder for this process (its lock) once the run is known to be valid.

    The checks that the folder is free are repeated under the lock: a
    second run started at the same moment under the same name, or a
    checkpoint rewritten by another process since it was read, is refused
    rather than mixed into this run. A folder from before manifests adopts
    the files a run writes (:data:`RUN_FILES`). The other processes of a
    multi-process (DDP) run leave the folder to the first.

    Raises
    ------
    RunInUseError
        Another process writes in the folder (its PID in the message).
    ValueError
        The folder now holds a run (a new run), or the checkpoint changed.
    """
    if secondary_process():
        return RunFolder(run_dir)  # not opened: the rank-0 process holds and records the folder
    folder = RunFolder(run_dir).open()
    try:
        if ckpt_path is None:
            for stale in check_new_run_dir(run_dir):  # an unresumable run's best checkpoints
                folder.remove(stale.relative_to(run_dir).as_posix())
        else:
            if file_state(ckpt_path) != ckpt_state:
                raise ValueError(
                    f"checkpoint {str(ckpt_path)!r} changed while this run started (another "
                    "process wrote it); run the command again"
                )
            if not folder.has_manifest():
                folder.adopt(RUN_FILES)
            remove_unknown_best(run_dir, ckpt_path, folder)
        folder.record("config.yaml", f"logs/{METRICS_FILE}", "logs/hparams.yaml")
    except BaseException:
        folder.close()
        raise
    return folder


def remove_unknown_best(run_dir: Path, ckpt_path: Path, folder: RunFolder) -> list[Path]:
    """Delete the best checkpoints written after the checkpoint a run resumes from.

    A kill between a validation's best checkpoint and the ``last.ckpt``
    that follows it left a ``best-*.ckpt`` that the resumed run does not
    know and so never replaces: two best checkpoints at the end (found by
    the kill loop, issue 23). Only files the folder's manifest lists go.

    Returns
    -------
    list of Path
        The files deleted.
    """
    import torch

    try:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True)
    except (RuntimeError, OSError, ValueError):
        return []  # check_resumable read it already; keep everything if it cannot be read now
    known: set[str] = set()
    for key, value in (state.get("callbacks") or {}).items():
        if str(key).startswith("ModelCheckpoint") and isinstance(value, dict):
            known |= {Path(str(p)).name for p in value.get("best_k_models") or {}}
            known.add(Path(str(value.get("best_model_path") or "")).name)
    listed = folder.listed()
    removed: list[Path] = []
    for path in sorted((run_dir / "checkpoints").glob("best-*.ckpt")):
        name = f"checkpoints/{path.name}"
        if path.name not in known and name in listed:
            removed += folder.remove(name)
    return removed


def secondary_process() -> bool:
    """Whether this is a process of a multi-process run other than its first (global rank 0).

    Lightning's launcher starts the other processes of a DDP run with the
    same command; ``RANK`` (torchrun), ``LOCAL_RANK`` and ``NODE_RANK`` tell
    them apart.
    """
    return any(os.environ.get(name, "0").strip() not in ("", "0") for name in _RANK_VARIABLES)


_RANK_VARIABLES = ("RANK", "LOCAL_RANK", "NODE_RANK")


def file_state(path: Path) -> tuple[int, int] | None:
    """``(mtime_ns, size)`` of ``path`` (None when missing): whether a file changed since."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def _flatten(tree: Any, prefix: str) -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}.{key}"))
        return out
    return {prefix: tree}


def check_resumable(ckpt_path: Path, config: Config, module: ForecastModule) -> int:
    """Check that ``ckpt_path`` continues ``config``'s model; returns its global step.

    A changed optimiser setting is refused too (``optim.lr``,
    ``weight_decay``, ``scheduler``, ``step_gamma``): the optimiser and its
    schedule continue from the checkpoint's state, so a new value would be
    recorded in ``config.yaml`` and the checkpoints but not used. Only
    ``optim.grad_clip``, which the trainer applies at every step, may change.

    Raises
    ------
    ValueError
        The checkpoint is unreadable, its stored model config differs from
        ``config.model``, an optimiser setting differs from the stored one,
        or its weights do not fit the model.
    """
    ckpt = read_checkpoint(ckpt_path)
    stored_config = ckpt["hyper_parameters"]["config"]
    stored = _flatten(stored_config.get("model", {}), "model")
    wanted = _flatten(config.to_dict()["model"], "model")
    changed = [
        f"{key} {stored.get(key)!r} -> {wanted.get(key)!r}"
        for key in sorted(set(stored) | set(wanted))
        if stored.get(key) != wanted.get(key)
    ]
    if changed:
        raise ValueError(
            f"cannot resume {str(ckpt_path)!r} with a different model ({'; '.join(changed)}); "
            "start a new run (another train.run_name) to change the model"
        )
    stored_optim = stored_config.get("optim", {}) or {}
    wanted_optim = config.to_dict().get("optim", {})
    changed = [
        f"optim.{key} {stored_optim[key]!r} -> {wanted_optim.get(key)!r}"
        for key in sorted(stored_optim)
        if key not in RESUMABLE_OPTIM_KEYS and stored_optim[key] != wanted_optim.get(key)
    ]
    if changed:
        raise ValueError(
            f"cannot resume {str(ckpt_path)!r} with changed optimiser settings "
            f"({'; '.join(changed)}): the optimiser and its schedule continue from the "
            f"checkpoint; to train on with new settings start a new run from its weights "
            f"(train.init_from={ckpt_path} and another train.run_name)"
        )
    try:
        module.load_state_dict(ckpt["state_dict"])
    except (RuntimeError, KeyError) as err:
        first = str(err).strip().splitlines()[0]
        raise ValueError(
            f"checkpoint {str(ckpt_path)!r} does not fit its model config: {first}"
        ) from None
    return int(ckpt.get("global_step", 0))


def load_initial_weights(init_from: str | Path, config: Config, module: ForecastModule) -> Path:
    """Start ``module`` from the model weights of a checkpoint (``train.init_from``).

    Only the weights are taken: the new run starts at step 0 with a fresh
    optimiser and schedule (a fine-tune, such as PredNet's extrapolation
    from a t+1 model, Lotter et al. 2017, ``kitti_extrap_finetune.py``).
    The model options may differ where the weights do not (PredNet's
    ``train_mode``); the model name and every weight's name and shape must
    match.

    Parameters
    ----------
    init_from : path
        A ``.ckpt`` file or a run folder (its ``last.ckpt``).
    config : Config
        The new run's resolved config.
    module : ForecastModule
        The new run's module, whose model receives the weights.

    Returns
    -------
    Path
        The checkpoint read.

    Raises
    ------
    FileNotFoundError
        No checkpoint at ``init_from``.
    ValueError
        Not a framecast checkpoint, another model, or weights that do not fit.
    """
    path = resolve_checkpoint(init_from)
    ckpt = read_checkpoint(path)
    stored = ckpt.get("hyper_parameters", {}).get("config", {}).get("model", {})
    name = stored.get("name")
    if str(name).lower() != config.model.name.lower():
        raise ValueError(
            f"train.init_from {str(path)!r} holds model {name!r}, this run trains "
            f"{config.model.name!r}; start from a checkpoint of the same model"
        )
    prefix = "model."
    weights = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    check_state_dict(module.model.state_dict(), weights, f"train.init_from {str(path)!r}")
    module.model.load_state_dict(weights)
    return path


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


def _best_score(checkpoint: ModelCheckpoint) -> float | None:
    score = checkpoint.best_model_score
    return None if score is None else float(score)


def make_trainer(
    run_dir: Path,
    t: Any,
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


def train(
    config: Config,
    *,
    resume: str | Path | None = None,
    callbacks: list[Callback] | None = None,
    verbose: bool = True,
) -> TrainResult:
    """Train ``config``'s model on its data, checkpointing at every validation and stop.

    ``<run folder>/checkpoints/last.ckpt`` is rewritten after every
    validation, every ``train.checkpoint_every_n_steps`` steps and at every
    stop (``max_steps``, the time limit, early stopping, a first Ctrl-C);
    ``best-*.ckpt`` holds the lowest validation loss. Checkpoints are written
    atomically, so a kill at any moment leaves a resumable run. The console
    gets one line per validation and a summary at the end.

    Parameters
    ----------
    config : Config
        The run. ``train.run_name`` (default: model, cell and time) names the
        folder under ``train.out_dir``.
    resume : path, optional
        A checkpoint or a run folder to continue from exactly: weights,
        optimiser, scheduler, step counter and data order (mid-epoch too).
    callbacks : list of Callback, optional
        Extra Lightning callbacks.
    verbose : bool
        Print one line per validation and a summary (False inside ``tune``,
        which prints one line per trial).

    Raises
    ------
    ValueError
        A new run in a folder that already holds one, or a resumed run whose
        model or optimiser settings differ from the checkpoint's. Nothing is
        written then.
    RunInUseError
        Another process trains in the run folder (a ValueError naming its PID).

    Notes
    -----
    The run folder's lock is held from the first write to the end, and its
    manifest (``.framecast-manifest``) lists every file the run wrote. A
    first SIGTERM or Ctrl-C stops after the step in progress as
    ``max_steps`` would (``last.ckpt``, logs, summary);
    :attr:`TrainResult.stopped_by` then names the signal.
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

    train_ds = make_dataset(config.data, "train")
    val_ds = make_dataset(config.data, "val")
    config = resolve_config(config, train_ds.channels)  # type: ignore[attr-defined]
    config = replace(config, train=replace(t, run_name=run_dir.name))
    module = ForecastModule(config.to_dict())
    context, _ = train_ds[0]
    module.model.check_frames(context[None], f"frames of dataset {config.data.name!r}")
    module.data_range = dataset_data_range(val_ds)  # validation clamps as evaluation does
    resume_step = check_resumable(ckpt_path, config, module) if ckpt_path is not None else 0
    if ckpt_path is None and t.init_from is not None:  # a resumed run has its own weights
        load_initial_weights(t.init_from, config, module)
    train_loader = make_loader(config.data, train_ds, train=True, seed=t.seed)
    val_loader = make_loader(config.data, val_ds, train=False)
    check_val_limit(t.limit_val_batches, val_loader)

    checkpoint_dir = run_dir / "checkpoints"
    best = ModelCheckpoint(
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
        after_save=lambda: folder.record_new() if folder is not None else None,
    )
    stop = StopRequest()
    cbs: list[Callback] = [LearningRateMonitor(logging_interval="step")]
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
    cbs.extend(callbacks or [])
    # checkpoint callbacks last (Lightning keeps them last anyway): their saves
    # hold the other callbacks' latest state; `last` after `best` for its score
    report = [ConsoleReport(best=lambda: _best_score(best))] if verbose else []
    cbs.extend([stop, *report, best, last])

    trainer = make_trainer(
        run_dir,
        t,
        cbs,
        # with train.reverse_input the module steps (and clips) by hand
        grad_clip=None if t.reverse_input else config.optim.grad_clip,
        strategy=t.strategy,
        precision=resolve_precision(t.precision, t.accelerator),
        deterministic=False,
    )

    # the run is valid: only now create and write its folder, held for the run's life
    folder = open_run_folder(run_dir, ckpt_path, ckpt_state)
    try:
        remove_partial_files(run_dir, folder.listed())
        keep_rows_before(run_dir / "logs" / METRICS_FILE, resume_step)
        with atomic_write(run_dir / "config.yaml") as partial:
            config.save(partial)

        start = time.perf_counter()
        with quiet_lightning(), stop_on_interrupt(stop):
            trainer.fit(
                module,
                train_dataloaders=train_loader,
                val_dataloaders=val_loader,
                ckpt_path=ckpt_path,
            )
        seconds = time.perf_counter() - start
    finally:
        folder.close()
    best_path = Path(best.best_model_path) if best.best_model_path else None
    score = _best_score(best)
    if verbose and trainer.is_global_zero:
        print(
            f"trained to step {trainer.global_step} in {seconds / 60:.1f} min"
            + (f" (stopped by {SIGNAL_NAMES.get(stop.signal, stop.signal)})" if stop.signal else "")
            + (f" on {trainer.world_size} processes" if trainer.world_size > 1 else "")
            + f" ({threads} torch thread{'s' if threads > 1 else ''})"
            + (f"; best val_loss {score:.5g}" if score is not None else "")
            + f"; last: {last.path}"
            + (f"; best: {best_path}" if best_path is not None else "")
        )
    return TrainResult(
        run_dir=run_dir,
        last_checkpoint=last.path,
        best_checkpoint=best_path,
        module=module,
        seconds=seconds,
        stopped_by=stop.signal,
    )
