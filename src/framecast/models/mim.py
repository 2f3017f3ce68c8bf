"""MIM: Memory In Memory networks (Wang et al. 2019).

References
----------
Y. Wang, J. Zhang, H. Zhu, M. Long, J. Wang, P. S. Yu, "Memory In Memory:
A Predictive Neural Network for Learning Higher-Order Non-Stationarity from
Spatiotemporal Dynamics", CVPR 2019, Sec. 4 and Fig. 3. Wiring as in
OpenSTL's ``MIM_Model`` (``openstl/models/mim_model.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from torch import Tensor, nn

from framecast.cells import CELLS, build_cell
from framecast.cells.mim_blocks import MIMBlock, PeepholeConvLSTM
from framecast.models.base import StepwiseForecaster


class MIM(StepwiseForecaster):
    """A memory cell at the bottom, MIM blocks above, MIM-N modules on the differences.

    Layer 1 is a registered cell with a spatiotemporal memory (``stlstm``,
    as in the paper). Each layer ``l >= 2`` is a MIM block whose
    non-stationary input is MIM-N (a peephole ConvLSTM) run over the
    difference of layer 1's hidden state between steps (for ``l = 2``) or
    over the MIM-N output below (``l > 2``). M zigzags through all layers.
    Only the bottom cell is chosen by name: the MIM blocks are the model.

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    hidden_channels : int
        Channels of every layer (paper: 128).
    num_layers : int
        Layers, at least 2 (paper: 4).
    kernel_size : int
        Convolution size (paper: 5).
    patch_size : int
        Space-to-depth factor (paper: 4).
    cell : str
        Registered cell of the bottom layer; it must carry a memory M.
    cell_options : mapping, optional
        Its extra options.
    """

    uses_cell: ClassVar[bool] = True

    @classmethod
    def accepts_cell(cls, cell_cls: type) -> bool:
        # cells whose M is one hidden-sized map, as the MIM blocks read it
        return cell_cls in (CELLS.get("stlstm"), CELLS.get("causal_lstm"))

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int = 128,
        num_layers: int = 4,
        kernel_size: int = 5,
        patch_size: int = 4,
        cell: str = "stlstm",
        cell_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(in_channels, patch_size)
        if not isinstance(num_layers, int) or num_layers < 2:
            raise ValueError(f"num_layers must be an integer >= 2, got {num_layers!r}")
        if not isinstance(hidden_channels, int) or hidden_channels < 1:
            raise ValueError(f"hidden_channels must be a positive integer, got {hidden_channels!r}")
        hid = hidden_channels
        frame_ch = in_channels * patch_size * patch_size
        self.bottom = build_cell(cell, frame_ch, hid, kernel_size, **dict(cell_options or {}))
        if not self.accepts_cell(type(self.bottom)):
            raise ValueError(
                f"cell {cell!r} does not hand on one hidden-sized memory M, which MIM's blocks "
                "read; use stlstm or causal_lstm"
            )
        self.blocks = nn.ModuleList(MIMBlock(hid, hid, kernel_size) for _ in range(num_layers - 1))
        self.non_stationary = nn.ModuleList(
            PeepholeConvLSTM(hid, hid, kernel_size) for _ in range(num_layers - 1)
        )  # MIM-N
        self.head = nn.Conv2d(hid, frame_ch, 1, bias=False)
        self.hidden = hid

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> dict[str, Any]:
        def zeros() -> Tensor:
            return like.new_zeros(batch, self.hidden, height, width)

        n = len(self.blocks)
        return {
            "bottom": self.bottom.init_state(
                batch, height, width, device=like.device, dtype=like.dtype
            ),
            "memory": zeros(),
            "blocks": [(zeros(), zeros(), zeros()) for _ in range(n)],
            "diffs": [(zeros(), zeros()) for _ in range(n)],
            "prev_h": None,  # layer 1's hidden state at t-1 (none at t = 0)
        }

    def step(self, x: Tensor, state: dict[str, Any]) -> tuple[Tensor, dict[str, Any]]:
        h, bottom, memory = self.bottom(x, state["bottom"], state["memory"])
        prev_h = state["prev_h"]
        diff_in = h - prev_h if prev_h is not None else None  # (B, hid, h, w)
        blocks, diffs = [], []
        below = h
        for block, mim_n, block_state, (dh, dc) in zip(
            self.blocks, self.non_stationary, state["blocks"], state["diffs"], strict=True
        ):
            if diff_in is not None:  # OpenSTL leaves MIM-N at zero on the first step
                dh, dc = mim_n(diff_in, dh, dc)
            diffs.append((dh, dc))
            below, block_state, memory = block(below, dh, block_state, memory)
            blocks.append(block_state)
            diff_in = dh if diff_in is not None else None
        new_state = {"bottom": bottom, "memory": memory, "blocks": blocks, "diffs": diffs}
        new_state["prev_h"] = h
        return self.head(below), new_state
