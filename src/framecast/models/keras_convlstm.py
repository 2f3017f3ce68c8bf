"""The Keras "Next-frame prediction with Conv-LSTM" example network.

References
----------
F. Chollet et al., Keras example ``conv_lstm.py``, "Next-frame prediction
with Conv-LSTM" (four ConvLSTM2D layers of 40 3x3 filters, each followed by
BatchNormalization, and a sigmoid Conv3D output, trained with binary
cross-entropy on moving squares).
X. Shi et al., "Convolutional LSTM Network: A Machine Learning Approach for
Precipitation Nowcasting", NeurIPS 2015 (the ConvLSTM layer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from framecast.cells import CellStack, StackState, layer_widths
from framecast.models.base import (
    StepwiseForecaster,
    apply_output_activation,
    check_output_activation,
)

#: time steps the output Conv3d looks at (its kernel is (3, 3, 3))
OUTPUT_WINDOW = 3

# (stack state, last OUTPUT_WINDOW normalised top-layer maps as (B, F, 3, h, w))
KerasState = tuple[StackState, Tensor]


class KerasConvLSTM(StepwiseForecaster):
    """Stacked recurrent layers with batch normalisation and a causal Conv3d output.

    The Keras example: ``num_layers`` recurrent layers of ``filters`` maps
    (ConvLSTM2D, 40 filters of 3x3, in the example), a BatchNorm2d over the
    hidden maps after every layer (between layers, and on the top layer
    before the output), and a Conv3d with a (3, 3, 3) kernel over the
    sequence of normalised top-layer maps, with a sigmoid, predicting frame
    t+1 at every step t. Predictions are fed back to extrapolate.

    Differences from the Keras code, on purpose:

    - The Conv3d is causal in time. Keras pads it 'same' on both sides, so
      its output at step t also sees the top-layer map of step t+1, which
      leaks the frame it is asked to predict when training on the whole
      sequence. Here the time axis is padded on the past side only (two
      zero maps before the first step): the prediction of frame t+1 uses
      the top-layer maps of steps t-2, t-1 and t. Space keeps 'same'
      padding. Step-wise, the model's state carries the last three
      normalised top-layer maps.
    - Keras' BatchNormalization normalises over batch, time and space;
      BatchNorm2d here normalises each step over batch and space (the
      running statistics are shared by all steps).
    - The cell is swappable (``cell``), and frames may be patched.

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    filters : int or sequence of int
        Hidden maps per layer (Keras: 40); an int repeats over
        ``num_layers``. Cells with a memory M need one size for all.
    num_layers : int
        Recurrent layers (Keras: 4).
    kernel_size : int
        Convolution size in the cells (Keras: 3).
    patch_size : int
        Space-to-depth factor (Keras: 1, the 40x40 frames as they are).
    cell : str
        Registered convolutional cell name (Keras: ``convlstm``).
    cell_options : mapping, optional
        Extra keyword options of the cell.
    output_activation : {"sigmoid", "none", "softplus", "exp"}
        Applied to each predicted frame (Keras: sigmoid, with the ``bce``
        loss).

    Raises
    ------
    ValueError
        Bad sizes, an unknown output activation, or a cell that does not
        work on maps.
    """

    uses_cell: ClassVar[bool] = True

    def __init__(
        self,
        in_channels: int,
        filters: int | list[int] = 40,
        num_layers: int = 4,
        kernel_size: int = 3,
        patch_size: int = 1,
        cell: str = "convlstm",
        cell_options: Mapping[str, Any] | None = None,
        output_activation: str = "sigmoid",
    ) -> None:
        super().__init__(in_channels, patch_size)
        hidden = layer_widths(filters, num_layers)
        check_output_activation(output_activation)
        frame_ch = in_channels * patch_size * patch_size
        between = [nn.BatchNorm2d(h) for h in hidden[:-1]]
        self.stack = CellStack(cell, frame_ch, hidden, kernel_size, cell_options, between)
        self.top_norm = nn.BatchNorm2d(hidden[-1])
        # 'same' in space; time is padded on the past side only, in step()
        self.head = nn.Conv3d(hidden[-1], frame_ch, (OUTPUT_WINDOW, 3, 3), padding=(0, 1, 1))
        self.cell_name = cell
        self.output_activation = output_activation

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> KerasState:
        window = like.new_zeros(batch, self.stack.hidden_channels[-1], OUTPUT_WINDOW, height, width)
        return self.stack.init_state(batch, height, width, like), window

    def step(self, x: Tensor, state: KerasState) -> tuple[Tensor, KerasState]:
        stack_state, window = state
        hs, stack_state = self.stack(x, stack_state)  # x: (B, C*p*p, h, w); BN between layers
        top = self.top_norm(hs[-1])  # (B, F, h, w)
        window = torch.cat([window[:, :, 1:], top.unsqueeze(2)], dim=2)  # (B, F, 3, h, w)
        out = self.head(window).squeeze(2)  # (B, C*p*p, h, w): steps t-2, t-1, t only
        return apply_output_activation(out, self.output_activation), (stack_state, window)
