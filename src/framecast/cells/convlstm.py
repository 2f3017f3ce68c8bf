"""Convolutional LSTM (Shi et al. 2015).

References
----------
X. Shi, Z. Chen, H. Wang, D.-Y. Yeung, W.-K. Wong, W.-C. Woo,
"Convolutional LSTM Network: A Machine Learning Approach for Precipitation
Nowcasting", NeurIPS 2015, eq. (3).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from framecast.cells.base import CellState, RecurrentCell


class ConvLSTMCell(RecurrentCell):
    """ConvLSTM cell, Shi et al. 2015 eq. (3)::

        i_t = σ(W_xi * X_t + W_hi * H_{t-1} + W_ci ⊙ C_{t-1} + b_i)
        f_t = σ(W_xf * X_t + W_hf * H_{t-1} + W_cf ⊙ C_{t-1} + b_f)
        C_t = f_t ⊙ C_{t-1} + i_t ⊙ tanh(W_xc * X_t + W_hc * H_{t-1} + b_c)
        o_t = σ(W_xo * X_t + W_ho * H_{t-1} + W_co ⊙ C_t + b_o)
        H_t = o_t ⊙ tanh(C_t)

    The four gate convolutions over ``[X, H]`` run as one fused convolution.

    Parameters
    ----------
    in_channels, hidden_channels, kernel_size
        See :class:`~framecast.cells.base.RecurrentCell`.
    peephole : bool
        Add the ``W_c ⊙ C`` terms. The paper's peephole weights are full
        ``(hidden, H, W)`` maps; here they are one weight per channel,
        broadcast over space, so a cell works at any map size.
    forget_bias : float
        Constant added to the forget-gate pre-activation (1.0 keeps memory
        early in training).
    """

    uses_memory: ClassVar[bool] = False

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int = 3,
        *,
        peephole: bool = False,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size)
        self.peephole = peephole
        self.forget_bias = float(forget_bias)
        self.gates = nn.Conv2d(
            in_channels + hidden_channels, 4 * hidden_channels, kernel_size, padding=self.padding
        )
        if peephole:
            self.w_ci = nn.Parameter(torch.zeros(hidden_channels, 1, 1))
            self.w_cf = nn.Parameter(torch.zeros(hidden_channels, 1, 1))
            self.w_co = nn.Parameter(torch.zeros(hidden_channels, 1, 1))

    def forward(
        self, x: Tensor, state: CellState, memory: Tensor | None = None
    ) -> tuple[Tensor, CellState, Tensor | None]:
        h, c = state  # (B, hid, H, W) each
        z = self.gates(torch.cat([x, h], dim=1))  # (B, 4*hid, H, W)
        zi, zf, zg, zo = torch.chunk(z, 4, dim=1)
        if self.peephole:
            zi = zi + self.w_ci * c
            zf = zf + self.w_cf * c
        i = torch.sigmoid(zi)
        f = torch.sigmoid(zf + self.forget_bias)
        c_new = f * c + i * torch.tanh(zg)
        if self.peephole:
            zo = zo + self.w_co * c_new
        h_new = torch.sigmoid(zo) * torch.tanh(c_new)
        return h_new, (h_new, c_new), memory
