"""PredRNN-V2: PredRNN with the memory-decoupling loss (and reverse scheduled sampling).

References
----------
Y. Wang, H. Wu, J. Zhang, Z. Gao, J. Wang, P. S. Yu, M. Long, "PredRNN: A
Recurrent Neural Network for Spatiotemporal Predictive Learning", TPAMI
2022 (arXiv:2103.09504), Sec. 4.1 eq. (6)-(7) (decoupling loss) and
Sec. 4.2 (reverse scheduled sampling). Loss and adapter as in the authors'
code and OpenSTL's ``PredRNNv2_Model`` (``openstl/models/predrnnv2_model.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from framecast.cells import StackState
from framecast.models.base import next_frame_loss
from framecast.models.predrnn import PredRNN


def decoupling_loss(delta_c: Tensor, delta_m: Tensor) -> Tensor:
    """Mean absolute cosine similarity of two increments, per channel over space.

    PredRNN-V2 eq. (7): for each sample and channel the increments (already
    through the shared 1x1 adapter) are compared as vectors over the
    ``H x W`` positions; the loss is the mean of ``|cos|`` over batch and
    channels.

    Parameters
    ----------
    delta_c, delta_m : Tensor
        (B, C, H, W) adapted increments of the temporal memory C and the
        spatiotemporal memory M.

    Returns
    -------
    Tensor
        Scalar in [0, 1].
    """
    c = delta_c.flatten(2)  # (B, C, H*W)
    m = delta_m.flatten(2)
    return torch.cosine_similarity(c, m, dim=2).abs().mean()


class PredRNNV2(PredRNN):
    """PredRNN (a stack of ST-LSTMs, zigzag memory) trained with the decoupling loss.

    PredRNN-V2 eq. (6) passes the increments of both memories,
    ``ΔC = i_t ⊙ g_t`` and ``ΔM = i'_t ⊙ g'_t``, through one shared 1x1
    convolution (the adapter, no bias) and eq. (7) penalises their absolute
    cosine similarity, averaged over steps and layers, weighted by
    ``decouple_beta`` (paper and authors: 0.1), beside the MSE of all next
    frames. Reverse scheduled sampling is a training setting
    (``sampling.mode: reverse``, :mod:`framecast.training.sampling`), which
    :meth:`rollout` already takes through ``true_mask``.

    The cell is chosen by name among the cells that report both increments
    (``reports_increments``: ``stlstm``, ``causal_lstm``); a cell without a
    spatiotemporal memory has no ΔM to decouple.

    Parameters
    ----------
    in_channels, hidden_channels, num_layers, kernel_size, patch_size, cell, cell_options,
    output_activation, output_bias
        As :class:`~framecast.models.predrnn.PredRNN` (paper: 4 x 128, 5x5, patch 4).
    decouple_beta : float
        Weight of the decoupling loss (paper: 0.1).
    """

    @classmethod
    def accepts_cell(cls, cell_cls: type) -> bool:
        return super().accepts_cell(cell_cls) and bool(
            getattr(cell_cls, "reports_increments", False)
        )

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int | list[int] = 128,
        num_layers: int = 4,
        kernel_size: int = 5,
        patch_size: int = 4,
        cell: str = "stlstm",
        cell_options: Mapping[str, Any] | None = None,
        output_activation: str = "none",
        output_bias: float | None = None,
        decouple_beta: float = 0.1,
    ) -> None:
        super().__init__(
            in_channels,
            hidden_channels,
            num_layers,
            kernel_size,
            patch_size,
            cell,
            cell_options,
            output_activation,
            output_bias,
        )
        if not getattr(self.stack.cells[0], "reports_increments", False):
            raise ValueError(
                f"cell {cell!r} does not report memory increments, which PredRNN-V2's "
                "decoupling loss needs; use stlstm or causal_lstm"
            )
        if not isinstance(decouple_beta, int | float) or decouple_beta < 0:
            raise ValueError(f"decouple_beta must be a number >= 0, got {decouple_beta!r}")
        hid = self.stack.hidden_channels[0]
        self.adapter = nn.Conv2d(hid, hid, 1, bias=False)  # shared by all layers and steps
        self.decouple_beta = float(decouple_beta)
        self._decoupling: list[Tensor] | None = None

    def step(self, x: Tensor, state: StackState) -> tuple[Tensor, StackState]:
        pred, state = super().step(x, state)
        if self._decoupling is not None:
            for cell in self.stack.cells:
                delta_c, delta_m = cell.increments
                self._decoupling.append(
                    decoupling_loss(self.adapter(delta_c), self.adapter(delta_m))
                )
        return pred, state

    def training_loss(
        self,
        context: Tensor,
        target: Tensor,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        true_mask: Tensor | None = None,
        future_only: bool = False,
    ) -> Tensor:
        """``loss_fn`` on the next frames plus ``decouple_beta`` x the decoupling loss (eq. 7)."""
        self._decoupling = []
        for cell in self.stack.cells:
            cell.record_increments = True
        try:
            preds = self.rollout(context, target.shape[1], target=target, true_mask=true_mask)
            decouple = torch.stack(self._decoupling).mean()  # over steps and layers
        finally:
            self._decoupling = None
            for cell in self.stack.cells:
                cell.record_increments = False
                cell.increments = None
        frame_loss = next_frame_loss(preds, context, target, loss_fn, future_only)
        return frame_loss + self.decouple_beta * decouple
