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

from framecast.cells import build_cell
from framecast.models.base import OUTPUT_ACTIVATIONS, StepwiseForecaster, apply_output_activation
from framecast.models.registry import MODELS


@MODELS.register("predrnn")
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
    output_activation : {"none", "sigmoid", "softplus", "exp"}
        Applied to each predicted frame (PredRNN: none).
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
    ) -> None:
        super().__init__(in_channels, patch_size)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        hidden = (
            [hidden_channels] * num_layers
            if isinstance(hidden_channels, int)
            else list(hidden_channels)
        )
        if len(hidden) != num_layers:
            raise ValueError(
                f"hidden_channels has {len(hidden)} entries, expected num_layers={num_layers}"
            )
        if output_activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"unknown output_activation {output_activation!r}; "
                f"expected one of {OUTPUT_ACTIVATIONS}"
            )
        frame_ch = in_channels * patch_size * patch_size
        options = dict(cell_options or {})
        self.cells = nn.ModuleList(
            build_cell(
                cell, frame_ch if i == 0 else hidden[i - 1], hidden[i], kernel_size, **options
            )
            for i in range(num_layers)
        )
        self.uses_memory = self.cells[0].uses_memory
        if self.uses_memory and len(set(hidden)) != 1:
            raise ValueError(
                f"cell {cell!r} passes its memory M between layers, so all layers need the same "
                f"hidden_channels; got {hidden}"
            )
        self.head = nn.Conv2d(hidden[-1], frame_ch, 1, bias=False)
        self.cell_name = cell
        self.output_activation = output_activation

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> Any:
        kw = {"device": like.device, "dtype": like.dtype}
        states = [cell.init_state(batch, height, width, **kw) for cell in self.cells]
        memory = self.cells[0].init_memory(batch, height, width, **kw)
        return states, memory

    def step(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        states, memory = state
        new_states = []
        inp = x  # (B, C*p*p, h, w)
        for cell, s in zip(self.cells, states, strict=True):
            inp, s_new, memory = cell(inp, s, memory)  # memory climbs the stack
            new_states.append(s_new)
        pred = apply_output_activation(self.head(inp), self.output_activation)
        return pred, (new_states, memory)  # top memory goes to the bottom at t+1
