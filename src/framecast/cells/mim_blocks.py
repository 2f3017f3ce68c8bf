"""The blocks of MIM (Memory In Memory): the MIM block and its stationary/non-stationary modules.

References
----------
Y. Wang, J. Zhang, H. Zhu, M. Long, J. Wang, P. S. Yu, "Memory In Memory:
A Predictive Neural Network for Learning Higher-Order Non-Stationarity from
Spatiotemporal Dynamics", CVPR 2019, eq. (4)-(6) and Fig. 3. Layer shapes
as in OpenSTL's ``MIMBlock`` and ``MIMN`` (authors' code ported).

These are not :class:`~framecast.cells.base.RecurrentCell` s: a MIM block
reads two inputs (the hidden state below and the non-stationary module's
output), so it is not in the cell registry.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class PeepholeConvLSTM(nn.Module):
    """The MIM-N / MIM-S module (MIM eq. 5-6): a ConvLSTM with elementwise peepholes::

        i = σ(W_xi * X + W_hi * H + w_ci ⊙ C)
        f = σ(W_xf * X + W_hf * H + w_cf ⊙ C + 1)
        C' = f ⊙ C + i ⊙ tanh(W_xg * X + W_hg * H)
        H' = σ(W_xo * X + W_ho * H + w_co ⊙ C') ⊙ tanh(C')

    Convolutions have no bias (authors' code). The peephole weights are
    one per channel, broadcast over space (the authors' are full
    ``(C, H, W)`` maps, tied to one frame size; see benchmarks/param_counts.py).
    """

    def __init__(self, in_channels: int, hidden: int, kernel_size: int) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.hidden = hidden
        self.conv_h = nn.Conv2d(hidden, 4 * hidden, kernel_size, padding=pad, bias=False)
        self.conv_x = nn.Conv2d(in_channels, 4 * hidden, kernel_size, padding=pad, bias=False)
        self.w_c = nn.Parameter(torch.zeros(2 * hidden, 1, 1))  # i and f peepholes
        self.w_o = nn.Parameter(torch.zeros(hidden, 1, 1))

    def forward(self, x: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        """(B, in, H, W) input, (B, hid, H, W) h and c -> new (h, c)."""
        i_h, g_h, f_h, o_h = torch.chunk(self.conv_h(h), 4, dim=1)
        i_x, g_x, f_x, o_x = torch.chunk(self.conv_x(x), 4, dim=1)
        i_c, f_c = torch.chunk(self.w_c * torch.cat([c, c], dim=1), 2, dim=1)
        i = torch.sigmoid(i_h + i_x + i_c)
        f = torch.sigmoid(f_h + f_x + f_c + 1.0)
        c_new = f * c + i * torch.tanh(g_h + g_x)
        h_new = torch.sigmoid(o_h + o_x + self.w_o * c_new) * torch.tanh(c_new)
        return h_new, c_new


class MIMBlock(nn.Module):
    """A MIM block (MIM eq. 4, Fig. 3): ST-LSTM whose forget gate is replaced by MIM-S.

    The temporal memory is updated as ``C_t = MIM-S(D_t, C_{t-1}) + i_t ⊙ g_t``,
    where ``D_t`` is the non-stationary module's output (MIM-N over the
    differences of the layer below); the spatiotemporal memory M and the
    output follow the ST-LSTM. State: ``(h, c, s)`` with ``s`` MIM-S's cell.
    Unlike OpenSTL, MIM-S's cell is not detached between steps (the paper
    backpropagates through it). As in the authors' code (and OpenSTL), the
    temporal and spatiotemporal gates share one input convolution (the
    paper's ``W'_x`` are the ``W_x``), and the output gate reads the
    incoming ``M`` (``W_m * M^{l-1}``), not ``C_t`` and ``M_t``; the weights
    are laid out as those codes are, and tests/models/test_zoo_mim_equations.py
    checks every gate against a hand-written step.
    """

    def __init__(self, in_channels: int, hidden: int, kernel_size: int) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.conv_t = nn.Conv2d(in_channels, 3 * hidden, kernel_size, padding=pad, bias=False)
        self.conv_s = nn.Conv2d(hidden, 4 * hidden, kernel_size, padding=pad, bias=False)
        self.conv_x = nn.Conv2d(hidden, 4 * hidden, kernel_size, padding=pad, bias=False)
        self.stationary = PeepholeConvLSTM(hidden, hidden, kernel_size)  # MIM-S
        self.conv_last = nn.Conv2d(2 * hidden, hidden, 1, bias=False)

    def forward(
        self, x: Tensor, diff: Tensor, state: tuple[Tensor, Tensor, Tensor], memory: Tensor
    ) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor], Tensor]:
        """x: hidden state below; diff: MIM-N output; -> (h, (h, c, s), M), all (B, hid, H, W)."""
        h, c, s = state
        i_t, g_t, o_t = torch.chunk(self.conv_t(h), 3, dim=1)
        i_s, g_s, f_s, o_s = torch.chunk(self.conv_s(memory), 4, dim=1)
        i_x, g_x, f_x, o_x = torch.chunk(self.conv_x(x), 4, dim=1)
        i = torch.sigmoid(i_x + i_t)
        g = torch.tanh(g_x + g_t)
        m_new = torch.sigmoid(f_x + f_s + 1.0) * memory + torch.sigmoid(i_x + i_s) * torch.tanh(
            g_x + g_s
        )
        stationary_c, s_new = self.stationary(diff, c, s)  # MIM-S replaces f ⊙ C
        c_new = stationary_c + i * g
        o = torch.sigmoid(o_x + o_t + o_s)
        h_new = o * torch.tanh(self.conv_last(torch.cat([c_new, m_new], dim=1)))
        return h_new, (h_new, c_new, s_new), m_new
