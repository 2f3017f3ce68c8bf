"""ConvLSTM with spatiotemporal memory flow, the ablation of PredRNN (Wang et al. 2017).

References
----------
Y. Wang, M. Long, J. Wang, Z. Gao, P. S. Yu, "PredRNN: Recurrent Neural
Networks for Predictive Learning using Spatiotemporal LSTMs", NeurIPS 2017,
Section 3.1, eq. (3) and Fig. 2 (left).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from framecast.cells.base import CellState, RecurrentCell
from framecast.cells.registry import CELLS


@CELLS.register("mflow")
class MemoryFlowLSTMCell(RecurrentCell):
    """ConvLSTM whose cell memory is the zigzag memory M, Wang et al. 2017 eq. (3)::

        g_t   = tanh(W_xg * X_t + W_hg * H_{t-1} + b_g)
        i_t   = σ(W_xi * X_t + W_hi * H_{t-1} + W_mi * M^{l-1}_t + b_i)
        f_t   = σ(W_xf * X_t + W_hf * H_{t-1} + W_mf * M^{l-1}_t + b_f)
        M^l_t = f_t ⊙ M^{l-1}_t + i_t ⊙ g_t
        o_t   = σ(W_xo * X_t + W_ho * H_{t-1} + W_mo * M^l_t + b_o)
        H^l_t = o_t ⊙ tanh(M^l_t)

    The cell has no memory of its own: ``memory`` is M arriving from the
    layer below at this step (at the bottom layer, from the top layer at
    the previous step, carried by :class:`~framecast.cells.stack.CellStack`),
    and the new M^l_t is handed up. With ``PredRNN(cell="mflow")`` this is
    the "spatiotemporal memory flow" ablation of the paper, the step
    between the stacked ConvLSTM and ST-LSTM. The state is ``(h,)`` only.

    ``X_t`` is the cell's input: the frame at the bottom layer, the hidden
    state H^{l-1}_t of the layer below above it (the paper's
    ``W * H^{l-1}_t`` terms). In the paper's eq. (3) the bottom layer also
    receives the top layer's hidden state H^L_{t-1} in place of its own; the
    cell interface carries only M between layers, so here each layer keeps
    its own H_{t-1} as an input (``hidden_recurrence=True``, a ConvLSTM
    whose cell memory is M). ``hidden_recurrence=False`` drops the
    ``W_h * H_{t-1}`` terms: the paper's equations above the bottom layer,
    with all temporal information in M.

    Parameters
    ----------
    in_channels, hidden_channels, kernel_size
        See :class:`~framecast.cells.base.RecurrentCell`.
    hidden_recurrence : bool
        Feed the layer's previous hidden state H_{t-1} into the gates.
    forget_bias : float
        Constant added to the forget-gate pre-activation.
    """

    uses_memory: ClassVar[bool] = True
    state_size: ClassVar[int] = 1

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int = 3,
        *,
        hidden_recurrence: bool = True,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size)
        hid = hidden_channels
        self.hidden_recurrence = bool(hidden_recurrence)
        self.forget_bias = float(forget_bias)
        gate_in = in_channels + hid if self.hidden_recurrence else in_channels
        # i, f, g, o from [X, H_{t-1}] in one fused convolution
        self.conv_xh = nn.Conv2d(gate_in, 4 * hid, kernel_size, padding=self.padding)
        # i, f from the incoming memory M^{l-1}_t
        self.conv_m = nn.Conv2d(hid, 2 * hid, kernel_size, padding=self.padding, bias=False)
        # o from the new memory M^l_t
        self.conv_o = nn.Conv2d(hid, hid, kernel_size, padding=self.padding, bias=False)

    def forward(
        self, x: Tensor, state: CellState, memory: Tensor | None = None
    ) -> tuple[Tensor, CellState, Tensor | None]:
        (h,) = state  # (B, hid, H, W)
        if memory is None:
            memory = torch.zeros_like(h)
        inp = torch.cat([x, h], dim=1) if self.hidden_recurrence else x  # (B, in[+hid], H, W)
        zi, zf, zg, zo = torch.chunk(self.conv_xh(inp), 4, dim=1)
        mi, mf = torch.chunk(self.conv_m(memory), 2, dim=1)
        i = torch.sigmoid(zi + mi)
        f = torch.sigmoid(zf + mf + self.forget_bias)
        g = torch.tanh(zg)
        m_new = f * memory + i * g  # (B, hid, H, W): the cell memory is M
        o = torch.sigmoid(zo + self.conv_o(m_new))
        h_new = o * torch.tanh(m_new)
        return h_new, (h_new,), m_new
