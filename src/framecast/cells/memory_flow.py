"""The spatiotemporal memory flow of PredRNN (Wang et al. 2017) as two cells.

``mflow_eq3`` is the paper's eq. (3) exactly: the memory M enters the gates
through elementwise (Hadamard) weights and the hidden state H travels the
zigzag path with M, so a layer keeps nothing of its own in time. ``mflow``
is an earlier, looser variant kept so that its configs and checkpoints
load: a ConvLSTM whose cell memory is M, with convolutional M terms and the
layer's own H_{t-1}.

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


class MemoryFlowEq3Cell(RecurrentCell):
    """Spatiotemporal memory flow exactly as Wang et al. 2017 eq. (3)::

        g_t   = tanh(W_xg * X_t 1{l=1} + W_hg * H^{l-1}_t + b_g)
        i_t   = σ(W_xi * X_t 1{l=1} + W_hi * H^{l-1}_t + W_mi ⊙ M^{l-1}_t + b_i)
        f_t   = σ(W_xf * X_t 1{l=1} + W_hf * H^{l-1}_t + W_mf ⊙ M^{l-1}_t + b_f)
        M^l_t = f_t ⊙ M^{l-1}_t + i_t ⊙ g_t
        o_t   = σ(W_xo * X_t 1{l=1} + W_ho * H^{l-1}_t + W_mo ⊙ M^l_t + b_o)
        H^l_t = o_t ⊙ tanh(M^l_t)

    with ``M^0_t = M^L_{t-1}`` and ``H^0_t = H^L_{t-1}`` at the bottom layer:
    both M and H zigzag (up the stack within a step, from the top layer to
    the bottom at the next step), and no layer reads its own H_{t-1}. The
    cell interface carries only ``memory`` between layers, so here
    ``memory`` packs both, ``[M; H]`` (``2 * hidden`` channels): the cell
    reads M^{l-1}_t and H^{l-1}_t from it and hands ``[M^l_t; H^l_t]`` up.
    Its own state ``(h,)`` is returned for the interface and never read.

    ``x`` is ``X_t`` at the bottom layer; above it, the stack feeds the
    layer below's H^{l-1}_t, which the cell also reads from ``memory``, so
    there ``W_x * x + W_h * H^{l-1}_t`` is one convolution of H^{l-1}_t
    written as two (the same functions as eq. 3, ``W_x`` redundant above
    the bottom layer: a cell cannot tell which layer it is in). A cell
    built with ``in_channels=0`` has no input convolution (a stack fed
    nothing, such as the forecaster of an encoder-forecaster).

    The Hadamard weights ``W_m`` are one weight per channel, broadcast over
    space (the paper's are full maps), so a cell works at any map size, as
    the ``convlstm`` peephole weights do.

    Parameters
    ----------
    in_channels, hidden_channels, kernel_size
        See :class:`~framecast.cells.base.RecurrentCell`; ``in_channels``
        may be 0 (no input).
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
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size)
        hid = hidden_channels
        self.forget_bias = float(forget_bias)
        # g, i, f, o from [X_t 1{l=1}, H^{l-1}_t] in one fused convolution
        self.conv_xh = nn.Conv2d(self.in_channels + hid, 4 * hid, kernel_size, padding=self.padding)
        # W_mi, W_mf, W_mo: Hadamard weights, one per channel
        self.w_mi = nn.Parameter(torch.zeros(hid, 1, 1))
        self.w_mf = nn.Parameter(torch.zeros(hid, 1, 1))
        self.w_mo = nn.Parameter(torch.zeros(hid, 1, 1))

    def init_memory(
        self,
        batch: int,
        height: int,
        width: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> Tensor:
        """Zero ``[M; H]``, ``(batch, 2 * hidden, height, width)``."""
        shape = (batch, 2 * self.hidden_channels, height, width)
        return torch.zeros(shape, device=device, dtype=dtype)

    def forward(
        self, x: Tensor, state: CellState, memory: Tensor | None = None
    ) -> tuple[Tensor, CellState, Tensor | None]:
        hid = self.hidden_channels
        if memory is None:
            b, _, height, width = state[0].shape
            memory = self.init_memory(b, height, width, device=x.device, dtype=x.dtype)
        m, h_below = memory[:, :hid], memory[:, hid:]  # M^{l-1}_t, H^{l-1}_t: (B, hid, H, W)
        inp = torch.cat([x, h_below], dim=1) if self.in_channels else h_below  # (B, in+hid, H, W)
        zg, zi, zf, zo = torch.chunk(self.conv_xh(inp), 4, dim=1)
        i = torch.sigmoid(zi + self.w_mi * m)
        f = torch.sigmoid(zf + self.w_mf * m + self.forget_bias)
        g = torch.tanh(zg)
        m_new = f * m + i * g  # M^l_t: (B, hid, H, W)
        o = torch.sigmoid(zo + self.w_mo * m_new)
        h_new = o * torch.tanh(m_new)  # H^l_t
        return h_new, (h_new,), torch.cat([m_new, h_new], dim=1)  # [M^l_t; H^l_t] goes up


class MemoryFlowLSTMCell(RecurrentCell):
    """ConvLSTM whose cell memory is the zigzag memory M (a variant, not eq. 3)::

        g_t   = tanh(W_xg * X_t + W_hg * H_{t-1} + b_g)
        i_t   = σ(W_xi * X_t + W_hi * H_{t-1} + W_mi * M^{l-1}_t + b_i)
        f_t   = σ(W_xf * X_t + W_hf * H_{t-1} + W_mf * M^{l-1}_t + b_f)
        M^l_t = f_t ⊙ M^{l-1}_t + i_t ⊙ g_t
        o_t   = σ(W_xo * X_t + W_ho * H_{t-1} + W_mo * M^l_t + b_o)
        H^l_t = o_t ⊙ tanh(M^l_t)

    Two departures from Wang et al. 2017 eq. (3) (for that, use
    :class:`MemoryFlowEq3Cell`, ``"mflow_eq3"``): the M terms are
    convolutions (``*``) where the paper has elementwise weights (``⊙``),
    and by default each layer keeps its own H_{t-1} (``hidden_recurrence=True``)
    where eq. (3) feeds the layer below's H^{l-1}_t and, at the bottom
    layer, the top layer's H^L_{t-1}. ``hidden_recurrence=False`` drops the
    ``W_h * H_{t-1}`` terms, so all temporal information flows through M.

    The cell has no memory of its own: ``memory`` is M arriving from the
    layer below at this step (at the bottom layer, from the top layer at
    the previous step, carried by :class:`~framecast.cells.stack.CellStack`),
    and the new M^l_t is handed up. The state is ``(h,)`` only.

    Parameters
    ----------
    in_channels, hidden_channels, kernel_size
        See :class:`~framecast.cells.base.RecurrentCell`; ``in_channels``
        may be 0 (no input).
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
        gate_in = self.in_channels + (hid if self.hidden_recurrence else 0)
        if gate_in == 0:
            raise ValueError(
                "cell 'mflow' with in_channels=0 needs hidden_recurrence=True (it has no input)"
            )
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
        parts = ([x] if self.in_channels else []) + ([h] if self.hidden_recurrence else [])
        inp = torch.cat(parts, dim=1)  # (B, in[+hid], H, W)
        zi, zf, zg, zo = torch.chunk(self.conv_xh(inp), 4, dim=1)
        mi, mf = torch.chunk(self.conv_m(memory), 2, dim=1)
        i = torch.sigmoid(zi + mi)
        f = torch.sigmoid(zf + mf + self.forget_bias)
        g = torch.tanh(zg)
        m_new = f * memory + i * g  # (B, hid, H, W): the cell memory is M
        o = torch.sigmoid(zo + self.conv_o(m_new))
        h_new = o * torch.tanh(m_new)
        return h_new, (h_new,), m_new
