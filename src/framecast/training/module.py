"""The LightningModule that trains any registered forecasting model."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torch import Tensor

from framecast.config import Config, config_from_dict
from framecast.metrics.data_range import clamp_to_range
from framecast.models import ForecastModel, build_model
from framecast.training.losses import LOSSES
from framecast.training.sampling import sample_true_mask, true_frame_probabilities

LOSS_FRAMES = ("all", "future")
SCHEDULERS = ("step", "onecycle", "none")


def select_channels(
    loss_fn: Callable[[Tensor, Tensor], Tensor], channels: list[int] | None, num_channels: int
) -> Callable[[Tensor, Tensor], Tensor]:
    """``loss_fn`` restricted to ``channels`` of (B, T, C, H, W) frames; None keeps all.

    Lets auxiliary input channels (a magnitude map beside event counts, a
    radio spectrogram) inform the forecast without being scored.

    Raises
    ------
    ValueError
        Empty, repeated or out-of-range channel indices.
    """
    if channels is None:
        return loss_fn
    bad = [c for c in channels if not 0 <= c < num_channels]
    if not channels or bad or len(set(channels)) != len(channels):
        raise ValueError(
            f"train.loss_channels must be distinct indices in 0..{num_channels - 1}, got {channels}"
        )
    index = list(channels)

    def restricted(pred: Tensor, target: Tensor) -> Tensor:
        return loss_fn(pred[:, :, index], target[:, :, index])  # (B, T, len(index), H, W)

    return restricted


class TrainingModule(L.LightningModule):
    """What every framecast LightningModule shares: the data order by epoch and the optimiser.

    Subclasses set ``self.cfg`` with an ``optim``
    (:class:`~framecast.config.OptimConfig`) and a ``train.max_steps``; the
    forecasters (:class:`ForecastModule`) and the sequence classifiers
    (:class:`framecast.classify.module.ClassifierModule`) train through it.
    """

    cfg: Any

    #: checkpoint key of the running sums of the epoch means (:meth:`log_epoch_mean`)
    EPOCH_SUMS_KEY = "framecast_epoch_sums"

    def _epoch_sums(self) -> dict[str, Any]:
        if not hasattr(self, "_sums"):
            self._sums: dict[str, Any] = {"epoch": None, "batches": 0, "values": {}}
        return self._sums

    def log_epoch_mean(self, name: str, value: Tensor, batch_size: int) -> None:
        """Add a training batch's ``value`` to the epoch mean logged as ``name`` at epoch end.

        Lightning's own epoch means (``on_epoch=True``) restart from nothing
        when a run resumes mid-epoch, and a partial-epoch mean would then be
        logged as the epoch's. These running sums (weighted by
        ``batch_size``) are kept in every checkpoint, so a resumed epoch's
        mean covers the whole epoch, as in an uninterrupted run; an epoch
        that a stop cuts short logs no mean (its resume does).
        """
        sums = self._epoch_sums()
        total, count = sums["values"].get(name, (0.0, 0))
        sums["values"][name] = (total + value.detach().float() * batch_size, count + batch_size)

    def on_train_epoch_start(self) -> None:
        # Lightning hands samplers a count of processed epochs, which is off by
        # one after resuming from an end-of-epoch checkpoint; the epoch number
        # itself keeps the data order of a resumed run identical.
        sampler = getattr(self.trainer.train_dataloader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(self.current_epoch)

    def _log_unlogged_epoch(self, sums: dict[str, Any]) -> None:
        """Log the means of an epoch whose end a resumed checkpoint was taken just before.

        A checkpoint written at the last batch of an epoch (every ``n``
        steps, or at a validation) holds the epoch's whole sums, and the
        resumed run starts the next epoch without ending that one again: its
        row (at the step Lightning gives epoch ends) is written here, unless
        ``metrics.csv`` has it already.
        """
        from framecast.training.csv_log import ResumableCSVLogger

        if sums["epoch"] is None or not sums["values"] or "last_step" not in sums:
            return
        expected = self.trainer.num_training_batches
        if math.isfinite(expected) and sums["batches"] < expected:
            return  # not a whole epoch (cannot happen with framecast's loaders)
        if not self.trainer.is_global_zero:
            return
        row = {name: total / count for name, (total, count) in sums["values"].items() if count}
        row = {k: float(v) for k, v in row.items()}
        row["epoch"] = int(sums["epoch"])
        step = int(sums["last_step"]) - 1
        for logger in self.trainer.loggers:
            if isinstance(logger, ResumableCSVLogger):
                logger.log_metrics_once(row, step)
            else:
                logger.log_metrics(row, step)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        sums = self._epoch_sums()
        if sums["epoch"] != self.current_epoch:  # a new epoch (kept when resuming this one)
            self._log_unlogged_epoch(sums)
            sums.update(epoch=self.current_epoch, batches=0, values={})
        sums["batches"] += 1  # counted before the step: a checkpoint in its end hooks holds it

    def on_train_epoch_end(self) -> None:
        sums = self._epoch_sums()
        expected = self.trainer.num_training_batches
        if math.isfinite(expected) and sums["batches"] < expected:
            return  # stopped mid-epoch: the sums go into the checkpoint for the resume
        for name, (total, count) in sums["values"].items():
            if count:
                mean = torch.as_tensor(total / count, dtype=torch.float32)
                # the mean of the processes' means: a DDP run logs its whole batch, as one process
                self.log(name, mean, on_step=False, on_epoch=True, batch_size=1, sync_dist=True)
        sums.update(batches=0, values={})

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        sums = self._epoch_sums()
        values = {k: [float(total), int(n)] for k, (total, n) in sums["values"].items()}
        checkpoint[self.EPOCH_SUMS_KEY] = {
            "epoch": sums["epoch"],
            "batches": int(sums["batches"]),
            "last_step": int(self.global_step),  # the step the last batch trained ended at
            "values": values,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        stored = checkpoint.get(self.EPOCH_SUMS_KEY)
        if isinstance(stored, dict):
            values = {k: (float(v[0]), int(v[1])) for k, v in stored.get("values", {}).items()}
            self._epoch_sums().update(
                epoch=stored.get("epoch"),
                batches=int(stored.get("batches", 0)),
                last_step=int(stored.get("last_step", 0)),
                values=values,
            )

    def configure_optimizers(self) -> Any:
        o = self.cfg.optim
        optimizer = torch.optim.Adam(self.parameters(), lr=o.lr, weight_decay=o.weight_decay)
        if o.scheduler == "none":
            return optimizer
        total = self.trainer.estimated_stepping_batches
        total = int(total) if total and total != float("inf") else self.cfg.train.max_steps
        if o.scheduler == "step":
            sched = torch.optim.lr_scheduler.MultiStepLR(
                optimizer, milestones=[max(total // 2, 1)], gamma=o.step_gamma
            )
        else:
            sched = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=o.lr, total_steps=max(total, 1)
            )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class ForecastModule(TrainingModule):
    """Wraps a :class:`~framecast.models.ForecastModel` for training.

    The fully resolved config is stored as the only hyperparameter, so a
    checkpoint rebuilds the model with :func:`framecast.load`.

    Parameters
    ----------
    config : dict
        A resolved :class:`~framecast.config.Config` as a dict (``model.in_channels`` set).
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.cfg: Config = config_from_dict(config)
        if self.cfg.model.in_channels is None:
            raise ValueError("model.in_channels must be resolved before building the module")
        self.model: ForecastModel = build_model(
            self.cfg.model.name, self.cfg.model.in_channels, self.cfg.model.options
        )
        if not any(p.requires_grad for p in self.model.parameters()):
            raise ValueError(
                f"model {self.cfg.model.name!r} has no trainable parameters; evaluate it instead"
            )
        self.loss_fn = select_channels(
            LOSSES.get(self.cfg.train.loss), self.cfg.train.loss_channels, self.model.in_channels
        )
        if (
            self.cfg.train.loss == "bce"
            and getattr(self.model, "output_activation", None) != "sigmoid"
        ):
            raise ValueError("loss 'bce' needs model.options.output_activation: sigmoid")
        if self.cfg.train.loss_frames not in LOSS_FRAMES:
            raise ValueError(
                f"unknown train.loss_frames {self.cfg.train.loss_frames!r}; "
                f"expected one of {LOSS_FRAMES}"
            )
        if self.cfg.optim.scheduler not in SCHEDULERS:
            raise ValueError(
                f"unknown optim.scheduler {self.cfg.optim.scheduler!r}; "
                f"expected one of {SCHEDULERS}"
            )
        true_frame_probabilities(self.cfg.sampling, 0)  # validates the mode early
        # train.reverse_input takes two optimiser steps per batch, so it steps by hand
        self.automatic_optimization = not self.cfg.train.reverse_input
        #: range of the data's values (None: no upper bound), set from the dataset by
        #: :func:`~framecast.training.run.train`; validation clamps to it as evaluation does
        self.data_range: float | None = 1.0

    def forward(self, context: Tensor, horizon: int) -> Tensor:
        return self.model(context, horizon)

    def _batch_loss(self, context: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        return self.model.training_loss(
            context,
            target,
            self.loss_fn,
            true_mask=mask,
            future_only=self.cfg.train.loss_frames == "future",
        )

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        context, target = batch  # (B, Tc, C, H, W), (B, Tf, C, H, W)
        b, tc = context.shape[:2]
        horizon = target.shape[1]
        reverse = self.cfg.train.reverse_input
        # the schedule counts batches (the PredRNN authors' iterations): 2 steps each if reversed
        iteration = self.global_step // 2 if reverse else self.global_step
        p_ctx, p_fut = true_frame_probabilities(self.cfg.sampling, iteration)
        # seeded by step, so a resumed run draws the same masks as an uninterrupted one
        gen = torch.Generator().manual_seed(self.cfg.train.seed * 1_000_003 + iteration)
        rank, world = self._rank_and_world()
        # the mask of the whole global batch, this process's rows: the distributed sampler deals
        # sample r + world * j of the global batch to process r as its j-th, so the processes of
        # a DDP run draw what one process with their whole batch draws, not one mask each
        full = sample_true_mask(b * world, tc, horizon, p_ctx, p_fut, gen)  # (b * world, steps)
        mask = full[rank::world].to(context.device)  # (b, steps)
        if reverse:
            loss = self._forward_and_reversed_steps(context, target, mask)
        else:
            loss = self._batch_loss(context, target, mask)
        self.log("train_loss_step", loss, prog_bar=True, on_step=True, on_epoch=False, batch_size=b)
        self.log_epoch_mean("train_loss_epoch", loss, b)
        self.log("p_true_future", p_fut, on_step=True, on_epoch=False, batch_size=b)
        return loss

    def _rank_and_world(self) -> tuple[int, int]:
        """This process's global rank and the number of processes (0, 1 without a trainer)."""
        trainer = self._trainer
        if trainer is None:
            return 0, 1
        return int(trainer.global_rank), int(trainer.world_size)

    def _forward_and_reversed_steps(self, context: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        """One optimiser step on the batch, one on it reversed in time; their mean loss.

        As the PredRNN authors' trainer (``thuml/predrnn-pytorch``,
        ``core/trainer.py``, ``--reverse_input 1``): the whole sequence
        (context + target) is flipped in time and split again at the same
        context length, and both steps use the same scheduled-sampling mask.
        """
        tc = context.shape[1]
        frames = torch.cat([context, target], dim=1)  # (B, T, C, H, W)
        flipped = frames.flip(1)  # (B, T, C, H, W), last frame first
        optimizer = self.optimizers()
        scheduler = self.lr_schedulers()
        losses = []
        for ctx, tgt in ((context, target), (flipped[:, :tc], flipped[:, tc:])):
            loss = self._batch_loss(ctx, tgt, mask)
            optimizer.zero_grad()  # type: ignore[union-attr]
            self.manual_backward(loss)
            if self.cfg.optim.grad_clip is not None:
                self.clip_gradients(
                    optimizer,  # type: ignore[arg-type]
                    gradient_clip_val=self.cfg.optim.grad_clip,
                    gradient_clip_algorithm="norm",
                )
            optimizer.step()  # type: ignore[union-attr]
            if scheduler is not None:
                scheduler.step()  # type: ignore[union-attr]
            losses.append(loss.detach())
        return (losses[0] + losses[1]) / 2

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        context, target = batch
        # pure extrapolation, scored on the future frames only, so that the
        # losses of different architectures compare
        future = self.model(context, target.shape[1])  # (B, Tf, C, H, W)
        loss = self.loss_fn(future, target)  # the objective, on the model's own output
        # the frame metric follows test evaluation's rule: predictions clamped to the data range
        scored = clamp_to_range(future.float(), self.data_range)  # (B, Tf, C, H, W)
        mse_sum = (scored - target.float()).pow(2).sum(dim=(2, 3, 4)).mean()
        b = context.shape[0]
        self.log("val_loss", loss, prog_bar=True, on_epoch=True, sync_dist=True, batch_size=b)
        self.log("val_mse_per_frame_sum", mse_sum, on_epoch=True, sync_dist=True, batch_size=b)
        return loss
