"""PredRNN: stacked recurrent cells with the zigzag spatiotemporal memory flow.

References
----------
Y. Wang, M. Long, J. Wang, Z. Gao, P. S. Yu, "PredRNN: Recurrent Neural
Networks for Predictive Learning using Spatiotemporal LSTMs", NeurIPS 2017,
Section 3.2 and Fig. 3 (right).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from torch import Tensor, nn

from framecast.cells import CellStack, StackState, layer_widths
from framecast.models.base import (
    StepwiseForecaster,
    apply_output_activation,
    check_output_activation,
)


class PredRNN(StepwiseForecaster):
    """A stack of recurrent cells, the zigzag memory running through it.

    At each step the spatiotemporal memory M goes up the stack (layer l-1
    -> layer l at time t), then from the top layer at time t to the bottom
    layer at time t+1. With ``cell="stlstm"`` this is PredRNN; with
    ``cell="convlstm"`` (no M) it is the stacked ConvLSTM baseline. A 1x1
    convolution maps the top hidden state to the next (patched) frame.

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    hidden_channels : int or sequence of int
        Hidden channels per layer; an int repeats over ``num_layers``.
        Cells with a memory M need one size for all layers.
    num_layers : int
        Layers in the stack (paper: 4).
    kernel_size : int
        Convolution size in the cells (paper: 5).
    patch_size : int
        Space-to-depth factor (paper: 4 for 64x64 Moving MNIST).
    cell : str
        Registered cell name.
    cell_options : mapping, optional
        Extra keyword options of the cell (``layer_norm``, ``peephole``, ...).
    output_activation : {"none", "sigmoid", "clip", "softplus", "exp"}
        Applied to each predicted frame (PredRNN: none).
    output_bias : float, optional
        Gives the output convolution a bias starting at this value (PredRNN
        has none). A rate model starts near the data's mean rate with
        ``softplus^-1(mean)``, instead of spending thousands of steps
        walking a zero bias down to a small rate.
    """

    uses_cell: ClassVar[bool] = True

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int | list[int] = 64,
        num_layers: int = 4,
        kernel_size: int = 5,
        patch_size: int = 4,
        cell: str = "stlstm",
        cell_options: Mapping[str, Any] | None = None,
        output_activation: str = "none",
        output_bias: float | None = None,
    ) -> None:
        super().__init__(in_channels, patch_size)
        hidden = layer_widths(hidden_channels, num_layers)
        check_output_activation(output_activation)
        frame_ch = in_channels * patch_size * patch_size
        self.stack = CellStack(cell, frame_ch, hidden, kernel_size, cell_options)
        self.head = nn.Conv2d(hidden[-1], frame_ch, 1, bias=output_bias is not None)
        if output_bias is not None:
            nn.init.constant_(self.head.bias, float(output_bias))
        self.cell_name = cell
        self.output_activation = output_activation

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> StackState:
        return self.stack.init_state(batch, height, width, like)

    def step(self, x: Tensor, state: StackState) -> tuple[Tensor, StackState]:
        hs, state = self.stack(x, state)  # x: (B, C*p*p, h, w); M climbs the stack
        pred = apply_output_activation(self.head(hs[-1]), self.output_activation)
        return pred, state  # the top layer's M reaches the bottom layer at t+1
