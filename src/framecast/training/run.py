"""Train a model from a config: build data, module, Lightning trainer, fit."""

from __future__ import annotations

import time
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
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from framecast.config import Config
from framecast.numerics import configure_torch, resolve_precision
from framecast.training.loaders import make_dataset, make_loader
from framecast.training.module import ForecastModule


@dataclass
class TrainResult:
    """Where a training run wrote its outputs."""

    run_dir: Path
    last_checkpoint: Path
    best_checkpoint: Path | None
    module: ForecastModule
    seconds: float


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
        path = path / "checkpoints" / "last.ckpt"
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume at {str(path)!r}")
    return path


def train(
    config: Config,
    *,
    resume: str | Path | None = None,
    callbacks: list[Callback] | None = None,
) -> TrainResult:
    """Train ``config``'s model on its data, checkpointing every epoch.

    Parameters
    ----------
    config : Config
        The run. ``train.run_name`` (default: model, cell and time) names the
        folder under ``train.out_dir``.
    resume : path, optional
        A checkpoint or a run folder to continue from exactly: weights,
        optimiser, scheduler, step counter and data order.
    callbacks : list of Callback, optional
        Extra Lightning callbacks.
    """
    t = config.train
    configure_torch(t.num_threads)
    L.seed_everything(t.seed, workers=True, verbose=False)

    ckpt_path = checkpoint_to_resume(resume) if resume is not None else None
    if ckpt_path is not None:
        run_dir = ckpt_path.parent.parent
    else:
        run_dir = Path(t.out_dir) / (t.run_name or default_run_name(config))

    train_ds = make_dataset(config.data, "train")
    val_ds = make_dataset(config.data, "val")
    config = resolve_config(config, train_ds.channels)  # type: ignore[attr-defined]
    config = replace(config, train=replace(t, run_name=run_dir.name))
    module = ForecastModule(config.to_dict())
    context, _ = train_ds[0]
    module.model.check_frames(context[None], f"frames of dataset {config.data.name!r}")
    run_dir.mkdir(parents=True, exist_ok=True)  # only once the run is known to be valid
    config.save(run_dir / "config.yaml")

    checkpoint = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best-{epoch:03d}",
        monitor="val_loss",
        mode="min",
        save_top_k=1,
        save_last=True,
    )
    cbs: list[Callback] = [checkpoint, LearningRateMonitor(logging_interval="step")]
    if t.early_stopping_patience is not None:
        cbs.append(
            EarlyStopping(monitor="val_loss", mode="min", patience=t.early_stopping_patience)
        )
    cbs.extend(callbacks or [])

    trainer_kwargs: dict[str, Any] = {}
    if t.max_minutes is not None:
        trainer_kwargs["max_time"] = {"minutes": t.max_minutes}
    trainer = L.Trainer(
        default_root_dir=run_dir,
        accelerator=t.accelerator,
        devices=t.devices,
        strategy=t.strategy,
        precision=resolve_precision(t.precision, t.accelerator),  # type: ignore[arg-type]
        max_steps=t.max_steps,
        max_epochs=t.max_epochs if t.max_epochs is not None else -1,
        limit_val_batches=t.limit_val_batches,
        val_check_interval=t.val_every_n_steps,
        # count val_every_n_steps in global steps, so it may exceed an epoch's batches
        check_val_every_n_epoch=None if t.val_every_n_steps is not None else 1,
        gradient_clip_val=config.optim.grad_clip,
        log_every_n_steps=t.log_every_n_steps,
        logger=[
            CSVLogger(run_dir, name="logs", version=""),
            TensorBoardLogger(run_dir, name="tensorboard", version=""),
        ],
        callbacks=cbs,
        enable_progress_bar=t.progress_bar,
        enable_model_summary=False,
        deterministic=False,
        **trainer_kwargs,
    )
    start = time.perf_counter()
    trainer.fit(
        module,
        train_dataloaders=make_loader(config.data, train_ds, train=True, seed=t.seed),
        val_dataloaders=make_loader(config.data, val_ds, train=False),
        ckpt_path=ckpt_path,
    )
    best = checkpoint.best_model_path
    return TrainResult(
        run_dir=run_dir,
        last_checkpoint=run_dir / "checkpoints" / "last.ckpt",
        best_checkpoint=Path(best) if best else None,
        module=module,
        seconds=time.perf_counter() - start,
    )
