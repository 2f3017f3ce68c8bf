"""Spatiotemporal LSTM (ST-LSTM), the cell of PredRNN (Wang et al. 2017).

References
----------
Y. Wang, M. Long, J. Wang, Z. Gao, P. S. Yu, "PredRNN: Recurrent Neural
Networks for Predictive Learning using Spatiotemporal LSTMs", NeurIPS 2017,
eq. (4).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from framecast.cells.base import CellState, RecurrentCell


def _conv_block(in_ch: int, out_ch: int, kernel: int, layer_norm: bool) -> nn.Module:
    conv = nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2, bias=not layer_norm)
    if not layer_norm:
        return conv
    # GroupNorm with one group normalises over (C, H, W) like PredRNN's
    # LayerNorm([C, H, W]), but with per-channel affine weights, so the cell
    # is not tied to one map size.
    return nn.Sequential(conv, nn.GroupNorm(1, out_ch))


class SpatioTemporalLSTMCell(RecurrentCell):
    """ST-LSTM cell, Wang et al. 2017 eq. (4)::

        g_t  = tanh(W_xg * X_t + W_hg * H_{t-1})
        i_t  = σ(W_xi * X_t + W_hi * H_{t-1})
        f_t  = σ(W_xf * X_t + W_hf * H_{t-1} + b_f)
        C_t  = f_t ⊙ C_{t-1} + i_t ⊙ g_t
        g'_t = tanh(W'_xg * X_t + W_mg * M^{l-1}_t)
        i'_t = σ(W'_xi * X_t + W_mi * M^{l-1}_t)
        f'_t = σ(W'_xf * X_t + W_mf * M^{l-1}_t + b'_f)
        M_t  = f'_t ⊙ M^{l-1}_t + i'_t ⊙ g'_t
        o_t  = σ(W_xo * X_t + W_ho * H_{t-1} + W_co * C_t + W_mo * M_t)
        H_t  = o_t ⊙ tanh(W_1x1 * [C_t, M_t])

    ``memory`` is M arriving from the layer below (or, at the bottom layer,
    from the top layer at the previous step: the zigzag flow of PredRNN).

    Parameters
    ----------
    in_channels, hidden_channels, kernel_size
        See :class:`~framecast.cells.base.RecurrentCell`.
    layer_norm : bool
        Normalise every convolution output (PredRNN's ``layer_norm``).
    forget_bias : float
        Constant added to both forget-gate pre-activations (PredRNN: 1.0).
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
        layer_norm: bool = False,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size)
        hid = hidden_channels
        self.layer_norm = layer_norm
        self.forget_bias = float(forget_bias)
        # no input convolution for a cell fed nothing (in_channels=0)
        self.conv_x = (
            _conv_block(in_channels, 7 * hid, kernel_size, layer_norm) if in_channels else None
        )
        self.conv_h = _conv_block(hid, 4 * hid, kernel_size, layer_norm)
        self.conv_m = _conv_block(hid, 3 * hid, kernel_size, layer_norm)
        self.conv_o = _conv_block(2 * hid, hid, kernel_size, layer_norm)
        self.conv_last = nn.Conv2d(2 * hid, hid, 1)
        # when set, forward keeps the memory increments i ⊙ g and i' ⊙ g' (PredRNN-V2)
        self.record_increments = False
        self.increments: tuple[Tensor, Tensor] | None = None

    def forward(
        self, x: Tensor, state: CellState, memory: Tensor | None = None
    ) -> tuple[Tensor, CellState, Tensor | None]:
        h, c = state  # (B, hid, H, W) each
        if memory is None:
            memory = torch.zeros_like(h)
        zx = (
            self.conv_x(x)
            if self.conv_x is not None
            else h.new_zeros(h.shape[0], 7 * h.shape[1], *h.shape[2:])
        )
        xg, xi, xf, xg2, xi2, xf2, xo = torch.chunk(zx, 7, dim=1)
        hi, hf, hg, ho = torch.chunk(self.conv_h(h), 4, dim=1)
        mi, mf, mg = torch.chunk(self.conv_m(memory), 3, dim=1)

        i = torch.sigmoid(xi + hi)
        f = torch.sigmoid(xf + hf + self.forget_bias)
        g = torch.tanh(xg + hg)
        c_new = f * c + i * g

        i2 = torch.sigmoid(xi2 + mi)
        f2 = torch.sigmoid(xf2 + mf + self.forget_bias)
        g2 = torch.tanh(xg2 + mg)
        m_new = f2 * memory + i2 * g2
        if self.record_increments:  # PredRNN-V2's decoupling loss reads them
            self.increments = (i * g, i2 * g2)  # (ΔC, ΔM), (B, hid, H, W) each

        cm = torch.cat([c_new, m_new], dim=1)  # (B, 2*hid, H, W)
        o = torch.sigmoid(xo + ho + self.conv_o(cm))
        h_new = o * torch.tanh(self.conv_last(cm))
        return h_new, (h_new, c_new), m_new
