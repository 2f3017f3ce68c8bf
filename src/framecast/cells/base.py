"""The one interface every recurrent cell implements.

The key experiment of framecast is swapping the recurrent cell inside an
architecture, so all cells share one signature (docs/extending.md):

``forward(x, state, memory=None) -> (h, new_state, memory)``

``state`` is a tuple of tensors whose first entry is the hidden state ``h``;
cells with a spatiotemporal memory ``M`` (``uses_memory = True``) read and
return it, the others hand ``memory`` back unchanged.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

# (h, c, ...) with h first; every tensor is (B, hidden, H, W).
CellState = tuple[Tensor, ...]


class RecurrentCell(nn.Module):
    """Base class of the convolutional recurrent cells.

    Parameters
    ----------
    in_channels : int
        Channels of the input ``x`` at each step; 0 for a cell fed nothing
        (then ``x`` is a ``(B, 0, H, W)`` tensor and there are no input weights).
    hidden_channels : int
        Channels of the hidden state (and of every memory).
    kernel_size : int
        Odd side of the square convolution kernels; padding keeps the size.
    """

    uses_memory: ClassVar[bool] = False
    #: "conv" for cells on (B, C, H, W) maps, "vector" for cells on (B, features)
    kind: ClassVar[str] = "conv"
    #: number of tensors in the state tuple, h included
    state_size: ClassVar[int] = 2

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        if not isinstance(in_channels, int) or isinstance(in_channels, bool) or in_channels < 0:
            raise ValueError(f"in_channels must be an integer >= 0, got {in_channels!r}")
        if not isinstance(hidden_channels, int) or hidden_channels < 1:
            raise ValueError(f"hidden_channels must be a positive integer, got {hidden_channels!r}")
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size!r}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.kernel_size = kernel_size
        self.padding = kernel_size // 2

    def init_state(
        self,
        batch: int,
        height: int,
        width: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> CellState:
        """Zero state for a batch of ``batch`` maps of ``height`` x ``width``."""
        shape = (batch, self.hidden_channels, height, width)
        return tuple(torch.zeros(shape, device=device, dtype=dtype) for _ in range(self.state_size))

    def init_memory(
        self,
        batch: int,
        height: int,
        width: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> Tensor | None:
        """Zero spatiotemporal memory, or None for cells without one."""
        if not self.uses_memory:
            return None
        return torch.zeros(batch, self.hidden_channels, height, width, device=device, dtype=dtype)

    def forward(
        self, x: Tensor, state: CellState, memory: Tensor | None = None
    ) -> tuple[Tensor, CellState, Tensor | None]:
        raise NotImplementedError
