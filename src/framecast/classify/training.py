"""Train a sequence classifier from a config, with the forecasters' run conventions.

The forecasters' engine fits it (:func:`framecast.training.engine.fit_run`):
atomic checkpoints (``last.ckpt`` after every validation and at every
stop, ``best-*.ckpt`` by validation loss), exact resume (data order
included), early stopping on the validation loss, a first Ctrl-C that
stops cleanly, one console line per validation, CSV and TensorBoard logs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import Callback

from framecast.classify.config import ClassifyConfig
from framecast.classify.data import build_labelled_dataset, make_labelled_loader
from framecast.classify.models import CLASSIFIERS, InputSpec
from framecast.classify.module import ClassifierModule, balanced_class_weights
from framecast.training.engine import fit_run, start_run
from framecast.training.run_checks import check_resumable


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
    start = start_run(config, resume)
    ckpt_path, run_dir = start.checkpoint, start.run_dir

    train_ds = build_labelled_dataset(config.data, "train")
    vocabulary = getattr(train_ds, "vocabulary", None)
    val_ds = build_labelled_dataset(config.data, "val", vocabulary)
    config = resolve_classify_config(config, train_ds.spec, train_ds.labels)  # type: ignore[attr-defined]
    config = replace(config, train=replace(config.train, run_name=run_dir.name))
    words = list(vocabulary.words) if vocabulary is not None else None
    module = ClassifierModule(config.to_dict(), words)
    x, _ = train_ds[0]
    module.model(x[None])  # refuse data that do not fit the model before writing anything
    resume_step = check_resumable(ckpt_path, config, module) if ckpt_path is not None else 0
    train_loader = make_labelled_loader(config.data, train_ds, train=True, seed=t.seed)
    val_loader = make_labelled_loader(config.data, val_ds, train=False)
    skipped = list(getattr(train_ds, "skipped", [])) + [
        s for s in getattr(val_ds, "skipped", []) if s not in getattr(train_ds, "skipped", [])
    ]

    def write_vocabulary(run_dir: Path) -> None:
        if vocabulary is not None:
            vocabulary.save(run_dir / "vocabulary.json")
        if verbose and skipped:
            print(f"skipped {len(skipped)} unreadable file(s): {'; '.join(skipped[:5])}")

    fit = fit_run(
        start,
        config,
        module,
        train_loader,
        val_loader,
        resume_step=resume_step,
        grad_clip=t.grad_clip,
        callbacks=callbacks or (),
        extra_files=("vocabulary.json",),
        before_fit=write_vocabulary,
        verbose=verbose,
    )
    return ClassifyResult(
        fit.run_dir,
        fit.last_checkpoint,
        fit.best_checkpoint,
        module,
        config,
        fit.seconds,
        skipped,
        fit.stopped_by,
    )
