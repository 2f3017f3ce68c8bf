"""Whether a training run may start or resume in its folder, checked before it writes anything.

A new run is refused in a folder that holds a run (:func:`check_new_run_dir`),
a resumed one whose model or optimiser settings differ from its checkpoint's
(:func:`check_resumable`), and a validation limit that keeps no batch
(:func:`check_val_limit`). :func:`open_run_folder` then takes the folder's
lock and repeats the checks under it. Forecasters and classifiers alike go
through these (:func:`framecast.training.engine.fit_run`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L

from framecast.checkpoint import read_checkpoint
from framecast.runfolder import RunFolder
from framecast.training.checkpointing import LAST_NAME
from framecast.training.csv_log import METRICS_FILE

RUN_FILES = ("config.yaml", "checkpoints", "logs", "tensorboard")
"""What a training run writes in its folder; a run folder from before manifests adopts them."""
RESUMABLE_OPTIM_KEYS = ("grad_clip",)
"""``optim`` keys a resumed run may change (applied by the trainer, not held by the optimiser)."""


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
    run_dir: Path,
    ckpt_path: Path | None,
    ckpt_state: tuple[int, int] | None,
    *,
    primary: bool = True,
) -> RunFolder:
    """Take the run folder for this process (its lock) once the run is known to be valid.

    The checks that the folder is free are repeated under the lock: a
    second run started at the same moment under the same name, or a
    checkpoint rewritten by another process since it was read, is refused
    rather than mixed into this run. A folder from before manifests adopts
    the files a run writes (:data:`RUN_FILES`). The other processes of a
    multi-process (DDP) run, ``primary`` False, leave the folder to the
    first (global rank 0): they get the folder unopened and write nothing.

    Raises
    ------
    RunInUseError
        Another process writes in the folder (its PID in the message).
    ValueError
        The folder now holds a run (a new run), or the checkpoint changed.
    """
    if not primary:
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


def check_resumable(ckpt_path: Path, config: Any, module: L.LightningModule) -> int:
    """Check that ``ckpt_path`` continues ``config``'s model; returns its global step.

    ``config`` is the run's config (a forecaster's or a classifier's: its
    ``to_dict()`` has ``model`` and ``optim``); ``module`` receives the
    checkpoint's weights.

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
