"""Train a forecaster from a config: build its data and module, then fit them with the engine."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from lightning.pytorch.callbacks import Callback

from framecast.checkpoint import check_state_dict, read_checkpoint, resolve_checkpoint
from framecast.config import Config
from framecast.metrics.data_range import dataset_data_range
from framecast.numerics import resolve_precision
from framecast.training.engine import fit_run, start_run
from framecast.training.launch import check_launch
from framecast.training.loaders import make_dataset, make_loader
from framecast.training.module import ForecastModule
from framecast.training.run_checks import check_resumable


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
        A new run in a folder that already holds one, a resumed run whose
        model or optimiser settings differ from the checkpoint's, or a
        ``train.num_nodes``, ``train.devices`` or ``train.strategy`` that
        does not fit how the process was launched
        (:func:`~framecast.training.launch.check_launch`). Nothing is
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
    check_launch(t.num_nodes, t.devices, t.strategy)
    start = start_run(config, resume)
    ckpt_path, run_dir = start.checkpoint, start.run_dir

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

    fit = fit_run(
        start,
        config,
        module,
        train_loader,
        val_loader,
        resume_step=resume_step,
        # with train.reverse_input the module steps (and clips) by hand
        grad_clip=None if t.reverse_input else config.optim.grad_clip,
        callbacks=callbacks or (),
        log_learning_rate=True,
        trainer_options={
            "strategy": t.strategy,
            "num_nodes": t.num_nodes,
            "precision": resolve_precision(t.precision, t.accelerator),
            "deterministic": False,
        },
        verbose=verbose,
    )
    return TrainResult(
        run_dir=fit.run_dir,
        last_checkpoint=fit.last_checkpoint,
        best_checkpoint=fit.best_checkpoint,
        module=module,
        seconds=fit.seconds,
        stopped_by=fit.stopped_by,
    )
