"""A stack of recurrent cells stepped together, the memory M climbing it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor, nn

from framecast.cells.base import CellState
from framecast.cells.build import build_cell

# (per-layer states, spatiotemporal memory or None)
StackState = tuple[list[CellState], Tensor | None]


def layer_widths(hidden_channels: int | Sequence[int], num_layers: int) -> list[int]:
    """Hidden channels per layer: an int repeated ``num_layers`` times, or a list of that length."""
    if not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
    if isinstance(hidden_channels, int):
        return [hidden_channels] * num_layers
    hidden = list(hidden_channels)
    if len(hidden) != num_layers:
        raise ValueError(
            f"hidden_channels has {len(hidden)} entries, expected num_layers={num_layers}"
        )
    return hidden


class CellStack(nn.Module):
    """Layers of one registered cell, stepped bottom to top.

    The input of layer ``l`` is the hidden state of layer ``l-1`` (after
    ``between[l-1]`` when given, e.g. batch normalisation). For cells with a
    spatiotemporal memory M, M goes up the stack within a step and the
    caller carries the top layer's M to the bottom at the next step: the
    zigzag flow of PredRNN (Wang et al. 2017, Fig. 3).

    Parameters
    ----------
    cell : str
        Registered convolutional cell name.
    in_channels : int
        Channels of the stack's input.
    hidden_channels : sequence of int
        Hidden channels per layer; cells with M need one size for all.
    kernel_size : int
        Convolution size of every cell.
    cell_options : mapping, optional
        Extra keyword options of the cell.
    between : sequence of nn.Module, optional
        ``len(hidden_channels) - 1`` modules applied to a layer's output
        before it enters the next layer.
    """

    def __init__(
        self,
        cell: str,
        in_channels: int,
        hidden_channels: Sequence[int],
        kernel_size: int,
        cell_options: Mapping[str, Any] | None = None,
        between: Sequence[nn.Module] | None = None,
    ) -> None:
        super().__init__()
        hidden = list(hidden_channels)
        if not hidden:
            raise ValueError("a cell stack needs at least one layer")
        options = dict(cell_options or {})
        self.cells = nn.ModuleList(
            build_cell(cell, in_channels if i == 0 else hidden[i - 1], h, kernel_size, **options)
            for i, h in enumerate(hidden)
        )
        if self.cells[0].kind != "conv":
            raise ValueError(
                f"cell {cell!r} works on vectors; this architecture needs a convolutional cell "
                "(one whose state is a map), such as convlstm or stlstm"
            )
        self.uses_memory = self.cells[0].uses_memory
        if self.uses_memory and len(set(hidden)) != 1:
            raise ValueError(
                f"cell {cell!r} passes its memory M between layers, so all layers need the same "
                f"hidden_channels; got {hidden}"
            )
        if between is not None and len(between) != len(hidden) - 1:
            raise ValueError(f"between needs {len(hidden) - 1} modules, got {len(between)}")
        self.between = nn.ModuleList(between) if between is not None else None
        self.hidden_channels = hidden

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> StackState:
        """Zero states of every layer and zero memory, on ``like``'s device and dtype."""
        kw = {"device": like.device, "dtype": like.dtype}
        states = [cell.init_state(batch, height, width, **kw) for cell in self.cells]
        return states, self.cells[0].init_memory(batch, height, width, **kw)

    def forward(self, x: Tensor, state: StackState) -> tuple[list[Tensor], StackState]:
        """One step: (B, in, H, W) -> hidden maps of every layer, new state."""
        states, memory = state
        hs: list[Tensor] = []
        new_states: list[CellState] = []
        inp = x
        for i, (cell, s) in enumerate(zip(self.cells, states, strict=True)):
            h, s_new, memory = cell(inp, s, memory)  # memory climbs the stack
            hs.append(h)
            new_states.append(s_new)
            inp = self.between[i](h) if self.between is not None and i < len(self.between) else h
        return hs, (new_states, memory)
