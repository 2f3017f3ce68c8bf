"""PredRNN++: causal LSTM stack with a gradient highway between layers 1 and 2.

References
----------
Y. Wang, Z. Gao, M. Long, J. Wang, P. S. Yu, "PredRNN++: Towards A
Resolution of the Deep-in-Time Dilemma in Spatiotemporal Predictive
Learning", ICML 2018, Sec. 3 and Fig. 3. Layer layout as in the authors'
code and OpenSTL's ``PredRNNpp_Model`` (``openstl/models/predrnnpp_model.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from framecast.cells import CellStack, StackState, layer_widths
from framecast.cells.gradient_highway import GradientHighwayUnit
from framecast.models.base import (
    StepwiseForecaster,
    apply_output_activation,
    check_output_activation,
)

# (bottom layer state, gradient highway Z, upper layers' state)
PlusPlusState = tuple[StackState, Tensor, StackState]


class PredRNNPlusPlus(StepwiseForecaster):
    """Stacked recurrent cells (causal LSTM by default) with a gradient highway unit.

    At each step the bottom layer reads the frame, the GHU (eq. 2) mixes the
    bottom layer's hidden state into its highway state Z, and Z is the input
    of the second layer; the layers above read the layer below. The
    spatiotemporal memory M climbs the whole stack and returns to the bottom
    layer at the next step (Fig. 3), as in PredRNN. Any convolutional cell
    runs here (``cell="stlstm"`` gives PredRNN with a GHU).

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    hidden_channels : int or sequence of int
        Hidden channels per layer (paper: 128 x 4); the GHU has the bottom
        layer's width, which the second layer's input takes.
    num_layers : int
        Layers in the stack, at least 2 (paper: 4).
    kernel_size : int
        Convolution size of the cells and the GHU (paper: 5).
    patch_size : int
        Space-to-depth factor (paper: 4 for 64x64 Moving MNIST).
    cell : str
        Registered convolutional cell (default: ``causal_lstm``, eq. 1).
    cell_options : mapping, optional
        Extra keyword options of the cell.
    output_activation : {"none", "sigmoid", "softplus", "exp"}
        Applied to each predicted frame (paper: none).
    """

    uses_cell: ClassVar[bool] = True

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int | list[int] = 128,
        num_layers: int = 4,
        kernel_size: int = 5,
        patch_size: int = 4,
        cell: str = "causal_lstm",
        cell_options: Mapping[str, Any] | None = None,
        output_activation: str = "none",
    ) -> None:
        super().__init__(in_channels, patch_size)
        hidden = layer_widths(hidden_channels, num_layers)
        if num_layers < 2:
            raise ValueError(
                f"num_layers must be at least 2 (the gradient highway joins layers 1 and 2), "
                f"got {num_layers}"
            )
        check_output_activation(output_activation)
        frame_ch = in_channels * patch_size * patch_size
        self.bottom = CellStack(cell, frame_ch, hidden[:1], kernel_size, cell_options)
        self.ghu = GradientHighwayUnit(hidden[0], kernel_size)
        self.upper = CellStack(cell, hidden[0], hidden[1:], kernel_size, cell_options)
        if self.bottom.uses_memory and len(set(hidden)) != 1:
            raise ValueError(
                f"cell {cell!r} passes its memory M between layers, so all layers need the same "
                f"hidden_channels; got {hidden}"
            )
        self.head = nn.Conv2d(hidden[-1], frame_ch, 1, bias=False)
        self.output_activation = output_activation

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> PlusPlusState:
        bottom = self.bottom.init_state(batch, height, width, like)
        upper_states, _ = self.upper.init_state(batch, height, width, like)
        z = torch.zeros(
            batch, self.ghu.channels, height, width, device=like.device, dtype=like.dtype
        )
        return bottom, z, (upper_states, None)

    def step(self, x: Tensor, state: PlusPlusState) -> tuple[Tensor, PlusPlusState]:
        (bottom_states, memory), z, (upper_states, _) = state
        hs, (bottom_states, memory) = self.bottom(x, (bottom_states, memory))  # (B, hid, h, w)
        z = self.ghu(hs[0], z)  # the highway state feeds layer 2
        hs, (upper_states, memory) = self.upper(z, (upper_states, memory))  # M climbs on
        pred = apply_output_activation(self.head(hs[-1]), self.output_activation)
        # the top layer's M reaches the bottom layer at t+1
        return pred, ((bottom_states, memory), z, (upper_states, None))
