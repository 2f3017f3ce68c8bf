"""Train a sequence classifier from a config, with the forecasters' run conventions.

The parts are those of :func:`framecast.training.train`: atomic
checkpoints (``last.ckpt`` after every validation and at every stop,
``best-*.ckpt`` by validation loss), exact resume (data order included),
early stopping on the validation loss, a first Ctrl-C that stops cleanly,
one console line per validation, CSV and TensorBoard logs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint

from framecast.classify.config import ClassifyConfig
from framecast.classify.data import build_labelled_dataset, make_labelled_loader
from framecast.classify.models import CLASSIFIERS, InputSpec
from framecast.classify.module import ClassifierModule, balanced_class_weights
from framecast.files import atomic_write
from framecast.numerics import configure_torch
from framecast.runfolder import RunFolder
from framecast.training.callbacks import ConsoleReport, StopRequest, stop_on_interrupt
from framecast.training.checkpointing import (
    LastCheckpoint,
    remove_partial_files,
)
from framecast.training.csv_log import METRICS_FILE, keep_rows_before
from framecast.training.run import (
    check_new_run_dir,
    check_resumable,
    check_val_limit,
    checkpoint_to_resume,
    file_state,
    make_trainer,
    open_run_folder,
    quiet_lightning,
)


@dataclass
class ClassifyResult:
    """Where a classification run wrote its outputs."""

    run_dir: Path
    last_checkpoint: Path
    best_checkpoint: Path | None
    module: ClassifierModule
    config: ClassifyConfig
    seconds: float
    skipped: list[str]
    stopped_by: int | None = None
    """The signal (SIGTERM, SIGINT) that stopped training early, None otherwise."""


def resolve_classify_config(
    config: ClassifyConfig, spec: InputSpec, train_labels: Any
) -> ClassifyConfig:
    """Fill ``model.input_size``, ``model.class_names`` and balanced class weights from the data.

    Values the user gave are kept, and refused when they contradict the data.

    Raises
    ------
    ValueError
        A given ``input_size`` or ``class_names`` that differs from the data's.
    """
    m = config.model
    cls = CLASSIFIERS.get(m.name)
    size = cls.input_size_for(spec, m.options)
    if m.input_size is not None and m.input_size != size:
        raise ValueError(
            f"model.input_size={m.input_size} but dataset {config.data.name!r} needs {size}"
        )
    names = list(spec.class_names)
    if m.class_names is not None and list(m.class_names) != names:
        raise ValueError(
            f"model.class_names={m.class_names} but dataset {config.data.name!r} has {names}"
        )
    weights = config.train.class_weights
    if weights == "balanced":
        weights = balanced_class_weights(train_labels, len(names))
    return replace(
        config,
        model=replace(m, input_size=size, class_names=names),
        train=replace(config.train, class_weights=weights),
    )


def train_classifier(
    config: ClassifyConfig,
    *,
    resume: str | Path | None = None,
    callbacks: list[Callback] | None = None,
    verbose: bool = True,
) -> ClassifyResult:
    """Train ``config``'s classifier on its labelled data.

    Parameters
    ----------
    config : ClassifyConfig
        The run; ``train.run_name`` (default: model, cell and time) names its
        folder under ``train.out_dir``.
    resume : path, optional
        A checkpoint or run folder to continue exactly.
    callbacks : list of Callback, optional
        Extra Lightning callbacks.
    verbose : bool
        Print skipped files, one line per validation and a summary.

    Raises
    ------
    ValueError
        A new run in a folder that holds one, a resumed run with another
        model, or data that do not fit the model. Nothing is written then.
    """
    t = config.train
    threads = configure_torch(t.num_threads, choose=True)
    L.seed_everything(t.seed, workers=True, verbose=False)
    ckpt_path = checkpoint_to_resume(resume) if resume is not None else None
    ckpt_state = file_state(ckpt_path) if ckpt_path is not None else None
    if ckpt_path is not None:
        run_dir = ckpt_path.parent.parent
    else:
        cell = config.model.options.get("cell", "")
        name = t.run_name or "-".join(
            p for p in (config.model.name, str(cell), time.strftime("%Y%m%d-%H%M%S")) if p
        )
        run_dir = Path(t.out_dir) / name
        check_new_run_dir(run_dir)

    train_ds = build_labelled_dataset(config.data, "train")
    vocabulary = getattr(train_ds, "vocabulary", None)
    val_ds = build_labelled_dataset(config.data, "val", vocabulary)
    config = resolve_classify_config(config, train_ds.spec, train_ds.labels)  # type: ignore[attr-defined]
    config = replace(config, train=replace(config.train, run_name=run_dir.name))
    words = list(vocabulary.words) if vocabulary is not None else None
    module = ClassifierModule(config.to_dict(), words)
    x, _ = train_ds[0]
    module.model(x[None])  # refuse data that do not fit the model before writing anything
    resume_step = check_resumable(ckpt_path, config, module) if ckpt_path is not None else 0  # type: ignore[arg-type]
    train_loader = make_labelled_loader(config.data, train_ds, train=True, seed=t.seed)
    val_loader = make_labelled_loader(config.data, val_ds, train=False)
    check_val_limit(t.limit_val_batches, val_loader)

    checkpoint_dir = run_dir / "checkpoints"
    best = ModelCheckpoint(
        dirpath=checkpoint_dir,
        filename="best-{epoch:03d}",
        monitor="val_loss",
        mode="min",
        save_on_train_epoch_end=False,  # before `last` saves its state: see training.run
    )
    folder: RunFolder | None = None
    last = LastCheckpoint(
        checkpoint_dir,
        every_n_steps=t.checkpoint_every_n_steps,
        after_save=lambda: folder.record_new() if folder is not None else None,
    )
    stop = StopRequest()
    cbs: list[Callback] = []
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

    def best_score() -> float | None:
        return None if best.best_model_score is None else float(best.best_model_score)

    report = [ConsoleReport(best=best_score)] if verbose else []
    cbs.extend([stop, *report, best, last])  # checkpoint callbacks last, as in train()
    trainer = make_trainer(run_dir, t, cbs, grad_clip=t.grad_clip)

    # the run is valid: only now write its folder, held (locked) for the run's life
    folder = open_run_folder(run_dir, ckpt_path, ckpt_state)
    try:
        folder.record("vocabulary.json")
        remove_partial_files(run_dir, folder.listed())
        keep_rows_before(run_dir / "logs" / METRICS_FILE, resume_step)
        with atomic_write(run_dir / "config.yaml") as partial:
            config.save(partial)
        if vocabulary is not None:
            vocabulary.save(run_dir / "vocabulary.json")
        skipped = list(getattr(train_ds, "skipped", [])) + [
            s for s in getattr(val_ds, "skipped", []) if s not in getattr(train_ds, "skipped", [])
        ]
        if verbose and skipped:
            print(f"skipped {len(skipped)} unreadable file(s): {'; '.join(skipped[:5])}")

        start = time.perf_counter()
        with quiet_lightning(), stop_on_interrupt(stop):
            trainer.fit(module, train_loader, val_loader, ckpt_path=ckpt_path)
        seconds = time.perf_counter() - start
    finally:
        folder.close()
    best_path = Path(best.best_model_path) if best.best_model_path else None
    score = best_score()
    if verbose and trainer.is_global_zero:
        print(
            f"trained to step {trainer.global_step} in {seconds / 60:.1f} min "
            f"({threads} torch thread{'s' if threads > 1 else ''})"
            + (f"; best val_loss {score:.5g}" if score is not None else "")
            + f"; last: {last.path}"
            + (f"; best: {best_path}" if best_path is not None else "")
        )
    return ClassifyResult(
        run_dir, last.path, best_path, module, config, seconds, skipped, stop.signal
    )
