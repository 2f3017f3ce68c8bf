"""Checkpoints that no kill can damage, and a ``last.ckpt`` that is always the latest.

Lightning's ``ModelCheckpoint(save_last=True)`` rewrites ``last.ckpt`` only
when it saves a new top-k checkpoint, and its default writer goes through a
temporary file in ``$TMPDIR`` (a copy, not a rename, when the run folder is
on another filesystem). Here every checkpoint is written by
:class:`AtomicCheckpointIO` (``<name>.partial`` beside the target, fsync,
rename) and :class:`LastCheckpoint` rewrites ``last.ckpt`` after every
validation, every ``every_n_steps`` steps and whenever training stops.
:class:`BestCheckpoint` keeps the best checkpoints' record when a run folder
is moved or copied (a shipped zoo run resumed in a new checkout).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.fabric.plugins import TorchCheckpointIO
from lightning.pytorch.callbacks import Checkpoint, ModelCheckpoint

from framecast.files import PARTIAL_SUFFIX, atomic_write
from framecast.training.csv_log import write_step_row_now

LAST_NAME = "last.ckpt"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to ``<path>.partial`` beside it, fsyncs it and renames it.

    A kill at any point leaves either the old checkpoint or the new one at
    ``path``, never an empty or truncated file; only a stale ``.partial``
    may remain, which :func:`remove_partial_files` clears on the next start.
    """

    def save_checkpoint(
        self,
        checkpoint: dict[str, Any],
        path: str | os.PathLike[str],
        storage_options: Any | None = None,
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"AtomicCheckpointIO takes no storage_options, got {storage_options!r}")
        with atomic_write(path) as partial:
            try:
                torch.save(checkpoint, partial)
            except RuntimeError as error:
                # torch's zip writer reports a failed write (a full disk) as a RuntimeError
                # ("unexpected pos"); the command line reports an OSError in one line
                free = shutil.disk_usage(Path(partial).parent).free
                raise OSError(
                    f"could not write checkpoint {str(path)!r} ({free:,} bytes free on its disk; "
                    f"is the disk full?): {' '.join(str(error).split())[:200]}"
                ) from error


def remove_partial_files(
    run_dir: str | os.PathLike[str], listed: Iterable[str] | None = None
) -> list[Path]:
    """Delete the ``*.partial`` files a killed run left in ``run_dir``; returns them.

    With ``listed`` (the run folder's manifest, paths relative to
    ``run_dir``), only the partial files of listed files are deleted: a
    ``.partial`` framecast did not write stays.
    """
    root = Path(run_dir)
    stale = sorted(root.rglob(f"*{PARTIAL_SUFFIX}"))
    if listed is not None:
        owned = set(listed)
        stale = [
            p
            for p in stale
            if p.relative_to(root).with_name(p.name[: -len(PARTIAL_SUFFIX)]).as_posix() in owned
        ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def validates_now(trainer: L.Trainer) -> bool:
    """Whether Lightning validates right after the training step that just ended.

    A checkpoint written in ``on_train_batch_end`` of such a step made a run
    resumed from it skip that validation (Lightning counts it as done): its
    ``val_loss`` row was lost and it had no say in the best checkpoint
    (found by the kill loop, issue 23). Asks Lightning's own rule (2.x
    internals); False when they are not there.
    """
    fit_loop = getattr(trainer, "fit_loop", None)
    check = getattr(getattr(fit_loop, "epoch_loop", None), "_should_check_val_fx", None)
    fetcher = getattr(fit_loop, "_data_fetcher", None)
    if check is None or fetcher is None:
        return False
    try:
        return bool(check(fetcher))
    except (AttributeError, TypeError, AssertionError):
        return False


class BestCheckpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint``, whose record survives a moved run folder.

    ``ModelCheckpoint`` stores its folder as an absolute path and, when a
    resumed run's folder differs from the stored one, reloads only
    ``best_model_path``: it forgets the best score and the files it wrote,
    so the resumed run never deletes the earlier ``best-*.ckpt`` (two best
    checkpoints) and calls its own first validation the best of the whole
    run. Here the stored paths are moved into the current folder by file
    name before Lightning reads them. A best file that is not in the folder
    (the zoo commits only ``last.ckpt``; a fresh checkout at the same path
    has no best file either) is dropped from the record, so the next
    validation writes a best checkpoint again rather than the run naming a
    best file that does not exist.

    The state is stored under ``ModelCheckpoint``'s own key, so checkpoints
    written before this class existed load into it.
    """

    @property
    def state_key(self) -> str:
        return super().state_key.replace(type(self).__qualname__, "ModelCheckpoint", 1)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if self.dirpath:
            state_dict = relocate_best_record(state_dict, Path(self.dirpath), self.mode)
        super().load_state_dict(state_dict)


def relocate_best_record(state: dict[str, Any], folder: Path, mode: str) -> dict[str, Any]:
    """``ModelCheckpoint``'s ``state`` with its paths moved into ``folder``.

    Files missing from ``folder`` leave the record; with none left the
    record starts afresh (no best score), as a new run's does.
    """

    def moved(path: object) -> str:
        return str(folder / Path(str(path)).name) if path else ""

    kept = {
        moved(path): score
        for path, score in (state.get("best_k_models") or {}).items()
        if (folder / Path(str(path)).name).is_file()
    }
    out = {**state, "dirpath": str(folder), "last_model_path": moved(state.get("last_model_path"))}
    if not kept:
        out.update(
            best_k_models={}, best_model_score=None, best_model_path="", kth_best_model_path=""
        )
        out["kth_value"] = torch.tensor(torch.inf if mode == "min" else -torch.inf)
        return out
    pick_best, pick_kth = (min, max) if mode == "min" else (max, min)
    best = pick_best(kept, key=lambda p: float(kept[p]))
    kth = pick_kth(kept, key=lambda p: float(kept[p]))
    out.update(
        best_k_models=kept,
        best_model_path=best,
        best_model_score=kept[best],
        kth_best_model_path=kth,
        kth_value=kept[kth],
    )
    return out


class LastCheckpoint(Checkpoint):
    """Keeps ``<dirpath>/last.ckpt`` the latest state of the run.

    Saved after every validation, every ``every_n_steps`` optimiser steps
    (when set; at the end of the validation when the step validates), after
    a step in which a stop was asked for (a signal), and at the end of
    training, whatever stopped it
    (``max_steps``, ``max_epochs``, the time limit, early stopping or a
    requested stop), whether or not the validation loss improved.

    It subclasses :class:`~lightning.pytorch.callbacks.Checkpoint`, so
    Lightning runs it after the other callbacks and the saved state holds
    their latest values (the best score of ``ModelCheckpoint`` included).

    Parameters
    ----------
    dirpath : path
        Folder of ``last.ckpt``.
    every_n_steps : int, optional
        Also save every this many optimiser steps.
    after_save : callable, optional
        Called after each save (the run folder records the files written so far).

    Notes
    -----
    The loggers are flushed before each save, so that ``logs/metrics.csv``
    holds every row logged before the checkpoint: a run resumed from it
    after a SIGKILL loses no row (the row of the step that ends at an
    ``every_n_steps`` save, which Lightning logs only after the hook that
    saves, is written ahead: :func:`~framecast.training.csv_log.write_step_row_now`).
    """

    def __init__(
        self,
        dirpath: str | os.PathLike[str],
        every_n_steps: int | None = None,
        after_save: Callable[[], object] | None = None,
    ) -> None:
        if every_n_steps is not None and (
            isinstance(every_n_steps, bool)
            or not isinstance(every_n_steps, int)
            or every_n_steps < 1
        ):
            raise ValueError(
                f"train.checkpoint_every_n_steps must be a positive integer or None, "
                f"got {every_n_steps!r}"
            )
        self.path = Path(dirpath) / LAST_NAME
        self.every_n_steps = every_n_steps
        self.after_save = after_save
        self.saved_step: int | None = None

    def save(self, trainer: L.Trainer) -> None:
        """Flush the loggers, then write ``last.ckpt`` with the trainer's current state."""
        for logger in trainer.loggers:
            logger.save()
        trainer.save_checkpoint(self.path)
        self.saved_step = trainer.global_step
        if self.after_save is not None:
            self.after_save()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        n = self.every_n_steps
        due = n is not None and trainer.global_step % n == 0
        # a stop asked for in this step (a signal) is saved here too: saved at the end of
        # training instead, it resumed one batch off when the step was not a validation step
        # (found by the kill loop, issue 23); so is the last step of max_steps, which saved at
        # the end of training resumed a mid-epoch stop as a finished epoch (a run extended
        # with --resume and a larger train.max_steps skipped the rest of that epoch)
        last_step = 0 < trainer.max_steps <= trainer.global_step
        if (due or trainer.should_stop or last_step) and not trainer.sanity_checking:
            if validates_now(trainer):
                return  # saved at the validation's end, where a resume counts it
            write_step_row_now(trainer)  # Lightning logs it only after this hook
            self.save(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        if not trainer.sanity_checking:
            self.save(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        if self.saved_step != trainer.global_step:
            self.save(trainer)
