"""The LightningModule that trains a sequence classifier with (weighted) cross-entropy."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from framecast.classify.config import ClassifyConfig, classify_config_from_dict
from framecast.classify.models import build_classifier
from framecast.training.module import SCHEDULERS, TrainingModule


def balanced_class_weights(labels: Tensor, num_classes: int) -> list[float]:
    """``N / (K * N_k)`` per class k of ``labels`` (scikit-learn's "balanced" weights).

    Raises
    ------
    ValueError
        A class without any training item (it cannot be weighted or learnt).
    """
    counts = torch.bincount(labels.reshape(-1).long(), minlength=num_classes).double()  # (K,)
    if (counts == 0).any():
        empty = torch.flatnonzero(counts == 0).tolist()
        raise ValueError(f"class(es) {empty} have no training item; cannot balance the weights")
    return (counts.sum() / (num_classes * counts)).tolist()


class ClassifierModule(TrainingModule):
    """Wraps a registered classifier for training; the resolved config is its hyperparameter.

    The checkpoint's ``hyper_parameters`` hold ``config`` (a resolved
    :class:`~framecast.classify.config.ClassifyConfig` as a dict:
    ``model.input_size``, ``model.class_names`` and ``train.class_weights``
    set) and, for text, the training vocabulary's ``words``, so
    :func:`framecast.classify.checkpoint.load_classifier` rebuilds the model
    and its tokeniser with no CLI.

    Parameters
    ----------
    config : dict
        The resolved config.
    vocabulary : list of str, optional
        The words of the training vocabulary (text data only).
    """

    def __init__(self, config: dict[str, Any], vocabulary: list[str] | None = None) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config, "vocabulary": vocabulary})
        self.cfg: ClassifyConfig = classify_config_from_dict(config)
        m = self.cfg.model
        if m.input_size is None or m.class_names is None:
            raise ValueError("model.input_size and model.class_names must be resolved first")
        self.model = build_classifier(m.name, m.input_size, len(m.class_names), m.options)
        if self.cfg.optim.scheduler not in SCHEDULERS:
            raise ValueError(
                f"unknown optim.scheduler {self.cfg.optim.scheduler!r}; "
                f"expected one of {SCHEDULERS}"
            )
        weights = self.cfg.train.class_weights
        if weights is not None:
            if isinstance(weights, str) or len(weights) != len(m.class_names):
                raise ValueError(
                    f"train.class_weights must hold {len(m.class_names)} numbers (one per class "
                    f"{m.class_names}), got {weights!r}"
                )
            if any(not w > 0 for w in weights):
                raise ValueError(f"train.class_weights must be positive, got {weights}")
            self.register_buffer("class_weight", torch.tensor(weights, dtype=torch.float32))
        else:
            self.class_weight = None

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)  # (B, K) logits

    def _step(self, batch: tuple[Tensor, Tensor], stage: str) -> Tensor:
        x, y = batch  # (B, T, ...) and (B,)
        logits = self.model(x)  # (B, K)
        loss = F.cross_entropy(logits, y, weight=self.class_weight)
        accuracy = (logits.argmax(-1) == y).float().mean()
        b = y.shape[0]
        if stage == "train":  # epoch means kept in checkpoints: whole epochs after a resume
            self.log("train_loss_step", loss, prog_bar=True, on_step=True, batch_size=b)
            self.log_epoch_mean("train_loss_epoch", loss, b)
            self.log_epoch_mean("train_accuracy", accuracy, b)
            return loss
        self.log(f"{stage}_loss", loss, prog_bar=True, on_epoch=True, batch_size=b)
        self.log(f"{stage}_accuracy", accuracy, on_step=False, on_epoch=True, batch_size=b)
        return loss

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "val")
