"""The persistence baseline: tomorrow looks like today."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from framecast.models.base import ForecastModel, check_horizon


class Persistence(ForecastModel):
    """Predicts every future frame as the last observed one.

    It has no parameters and no cell; every result is reported against it.
    """

    trainable: ClassVar[bool] = False

    def __init__(self, in_channels: int, patch_size: int = 1) -> None:
        super().__init__(in_channels, patch_size)

    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        self.check_frames(context, "context")
        check_horizon(horizon)
        # the prediction of frame t+1 is the frame seen at t: the context, then its last frame held
        last = context[:, -1:].expand(-1, horizon, -1, -1, -1)  # (B, horizon, C, H, W)
        return torch.cat([context[:, :-1], last], dim=1)  # (B, Tc + horizon - 1, C, H, W)
