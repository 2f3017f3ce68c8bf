"""E3D-LSTM: a stack of Eidetic 3D LSTM cells over sliding windows of frames.

References
----------
Y. Wang, L. Jiang, M.-H. Yang, L.-J. Li, M. Long, L. Fei-Fei, "Eidetic 3D
LSTM: A Model for Video Prediction and Beyond", ICLR 2019, Sec. 3 and
Fig. 2 (c). Wiring as in the authors' code (google/e3d_lstm,
``src/models/eidetic_3d_lstm_net.py``) and OpenSTL's ``E3DLSTM_Model``
(``openstl/models/e3dlstm_model.py``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from framecast.cells import layer_widths
from framecast.cells.e3d_lstm import Eidetic3DLSTMCell
from framecast.models.base import (
    StepwiseForecaster,
    apply_output_activation,
    check_output_activation,
)


class E3DLSTM(StepwiseForecaster):
    """Stacked E3D-LSTM cells reading the last ``window`` frames at every step.

    At step ``t`` the bottom layer reads the window ``(x_{t-T+1}, ..., x_t)``
    (zeros before the first frame; window 2 and stride 1 as the authors),
    each layer above reads the hidden window below, and the spatiotemporal
    memory M climbs the stack and returns to the bottom at the next step
    (PredRNN's zigzag). Each layer's recall gate attends over all its past
    memories ``C_0 .. C_{t-1}`` (the authors keep the whole history). A
    3D convolution with kernel and stride ``(T, 1, 1)`` maps the top hidden
    window to the next (patched) frame.

    The cell is the model: no registered cell can be swapped in. A
    registered cell steps one 2D map per frame, while E3D-LSTM's input,
    states and memory are windows of ``T`` frames mixed by 3D convolutions,
    and its recall gate needs the history of the cell's own memory C, which
    the one-signature interface does not hand back.

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    hidden_channels : int or sequence of int
        Channels per layer; M passes between layers, so one width for all
        (OpenSTL: 128 x 4).
    num_layers : int
        Layers (paper: 4).
    kernel_size : int
        Spatial size of the 3D kernels (paper: 5; temporal size ``window``).
    window : int
        Frames per input window (paper: 2).
    patch_size : int
        Space-to-depth factor (paper: 4).
    forget_bias : float
        Constant of the memory's forget gate (authors: 1.0).
    output_activation : {"none", "sigmoid", "clip", "softplus", "exp"}
        Applied to each predicted frame (paper: none).
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int | list[int] = 128,
        num_layers: int = 4,
        kernel_size: int = 5,
        window: int = 2,
        patch_size: int = 4,
        forget_bias: float = 1.0,
        output_activation: str = "none",
    ) -> None:
        super().__init__(in_channels, patch_size)
        hidden = layer_widths(hidden_channels, num_layers)
        if len(set(hidden)) != 1:
            raise ValueError(
                f"E3D-LSTM passes its memory M between layers, so all layers need the same "
                f"hidden_channels; got {hidden}"
            )
        if not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be a positive integer, got {window!r}")
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size!r}")
        check_output_activation(output_activation)
        frame_ch = in_channels * patch_size * patch_size
        self.cells = nn.ModuleList(
            Eidetic3DLSTMCell(
                frame_ch if i == 0 else hidden[i - 1], h, window, kernel_size, forget_bias
            )
            for i, h in enumerate(hidden)
        )
        self.head = nn.Conv3d(
            hidden[-1], frame_ch, (window, 1, 1), stride=(window, 1, 1), bias=False
        )
        self.hidden = hidden[0]
        self.window = window
        self.output_activation = output_activation

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> dict[str, Any]:
        frame_ch = self.in_channels * self.patch_size * self.patch_size
        n = len(self.cells)

        def zeros() -> Tensor:
            return like.new_zeros(batch, self.hidden, self.window, height, width)

        return {
            # the window - 1 frames before the current one (zeros before the sequence)
            "frames": [like.new_zeros(batch, frame_ch, height, width)] * (self.window - 1),
            "h": [zeros() for _ in range(n)],
            "c": [zeros() for _ in range(n)],
            "history": [None] * n,  # (B, hid, L, h, w): C_0 .. C_{t-1} stacked in time
            "memory": zeros(),
        }

    def step(self, x: Tensor, state: dict[str, Any]) -> tuple[Tensor, dict[str, Any]]:
        frames = [*state["frames"], x]
        inp = torch.stack(frames, dim=2)  # (B, C', T, h, w)
        memory = state["memory"]
        hs, cs, histories = [], [], []
        for cell, h, c, past in zip(
            self.cells, state["h"], state["c"], state["history"], strict=True
        ):
            history = c if past is None else torch.cat([past, c], dim=2)  # (B, hid, L, h, w)
            h, c, memory = cell(inp, h, c, memory, history)  # M climbs the stack
            hs.append(h)
            cs.append(c)
            histories.append(history)
            inp = h
        pred = self.head(hs[-1]).squeeze(2)  # (B, C', h, w)
        pred = apply_output_activation(pred, self.output_activation)
        new_state = {"frames": frames[1:], "h": hs, "c": cs, "history": histories}
        new_state["memory"] = memory  # the top layer's M reaches the bottom layer at t+1
        return pred, new_state
