"""Training losses, by name. Each maps (pred, target) of equal shape to a scalar."""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor

from framecast.plugins import PLUGINS
from framecast.registry import Registry

LossFn = Callable[[Tensor, Tensor], Tensor]
LOSSES: Registry[LossFn] = Registry("loss", PLUGINS["loss"])


def mse_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean squared error per pixel."""
    return F.mse_loss(pred, target)


def l1_l2_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean absolute plus mean squared error (PredRNN's training loss)."""
    return F.l1_loss(pred, target) + F.mse_loss(pred, target)


def bce_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Binary cross-entropy of predicted pixel probabilities (needs a sigmoid output)."""
    eps = 1e-6
    return F.binary_cross_entropy(pred.float().clamp(eps, 1 - eps), target.float())


def poisson_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Poisson negative log-likelihood of counts ``target`` under rates ``pred`` > 0."""
    return F.poisson_nll_loss(pred.float(), target.float(), log_input=False, full=False)
