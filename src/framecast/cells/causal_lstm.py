"""Causal LSTM, the cell of PredRNN++ (Wang et al. 2018).

References
----------
Y. Wang, Z. Gao, M. Long, J. Wang, P. S. Yu, "PredRNN++: Towards A
Resolution of the Deep-in-Time Dilemma in Spatiotemporal Predictive
Learning", ICML 2018, eq. (1) and Fig. 2.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from framecast.cells.base import CellState, RecurrentCell


class CausalLSTMCell(RecurrentCell):
    """Causal LSTM cell, Wang et al. 2018 eq. (1)::

        (g_t, i_t, f_t)    = (tanh, σ, σ) W_1 * [X_t, H_{t-1}, C_{t-1}]
        C_t                = f_t ⊙ C_{t-1} + i_t ⊙ g_t
        (g'_t, i'_t, f'_t) = (tanh, σ, σ) W_2 * [X_t, C_t, M^{k-1}_t]
        M_t                = f'_t ⊙ tanh(W_3 * M^{k-1}_t) + i'_t ⊙ g'_t
        o_t                = tanh(W_4 * [X_t, C_t, M_t])
        H_t                = o_t ⊙ tanh(W_5 * [C_t, M_t])

    The two memories are cascaded: the temporal memory C is updated first
    and feeds the update of the spatiotemporal memory M, which arrives from
    the layer below (or, at the bottom layer, from the top layer at the
    previous step). The state is ``(h, c)``. ``W_5`` is a 1x1 convolution,
    as in the authors' code; the output gate follows the paper's eq. (1)
    (a tanh of ``[X, C, M]``). Every convolution has a bias.

    Parameters
    ----------
    in_channels, hidden_channels, kernel_size
        See :class:`~framecast.cells.base.RecurrentCell`.
    forget_bias : float
        Constant added to both forget-gate pre-activations (authors' code: 1.0).
    """

    uses_memory: ClassVar[bool] = True
    #: forward can keep its memory increments (``record_increments``), for PredRNN-V2
    reports_increments: ClassVar[bool] = True

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int = 3,
        *,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size)
        hid, k, pad = hidden_channels, kernel_size, self.padding
        self.forget_bias = float(forget_bias)
        self.conv_1 = nn.Conv2d(in_channels + 2 * hid, 3 * hid, k, padding=pad)  # [X, H, C]
        self.conv_2 = nn.Conv2d(in_channels + 2 * hid, 3 * hid, k, padding=pad)  # [X, C, M]
        self.conv_3 = nn.Conv2d(hid, hid, k, padding=pad)  # M^{k-1}
        self.conv_4 = nn.Conv2d(in_channels + 2 * hid, hid, k, padding=pad)  # [X, C, M]
        self.conv_5 = nn.Conv2d(2 * hid, hid, 1)  # [C, M]
        # when set, forward keeps the memory increments i ⊙ g and i' ⊙ g' (PredRNN-V2)
        self.record_increments = False
        self.increments: tuple[Tensor, Tensor] | None = None

    def forward(
        self, x: Tensor, state: CellState, memory: Tensor | None = None
    ) -> tuple[Tensor, CellState, Tensor | None]:
        h, c = state  # (B, hid, H, W) each
        if memory is None:
            memory = torch.zeros_like(h)
        zg, zi, zf = torch.chunk(self.conv_1(torch.cat([x, h, c], dim=1)), 3, dim=1)
        dc = torch.sigmoid(zi) * torch.tanh(zg)  # increment of C
        c_new = torch.sigmoid(zf + self.forget_bias) * c + dc

        zg2, zi2, zf2 = torch.chunk(self.conv_2(torch.cat([x, c_new, memory], dim=1)), 3, dim=1)
        dm = torch.sigmoid(zi2) * torch.tanh(zg2)  # increment of M
        m_new = torch.sigmoid(zf2 + self.forget_bias) * torch.tanh(self.conv_3(memory)) + dm
        if self.record_increments:
            self.increments = (dc, dm)  # (B, hid, H, W) each

        o = torch.tanh(self.conv_4(torch.cat([x, c_new, m_new], dim=1)))
        h_new = o * torch.tanh(self.conv_5(torch.cat([c_new, m_new], dim=1)))
        return h_new, (h_new, c_new), m_new
