"""Fully connected recurrent cells on feature vectors: LSTM, GRU and Elman RNN.

These are the cells of the FC-LSTM family (Srivastava et al. 2015), the
non-convolutional baseline of ConvLSTM (Shi et al. 2015). Their state is a
vector, not a map, so they run in architectures with ``cell_kind = "vector"``
only. The recurrences are torch's own :class:`torch.nn.LSTMCell`,
:class:`torch.nn.GRUCell` and :class:`torch.nn.RNNCell` (fused, well tested);
these classes only adapt them to the one cell signature of framecast.

References
----------
S. Hochreiter, J. Schmidhuber, "Long Short-Term Memory", Neural
Computation 9(8), 1997 (in the forget-gate form of Gers et al. 2000).

K. Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder
for Statistical Machine Translation", EMNLP 2014, eqs. (5)-(8).

J. L. Elman, "Finding Structure in Time", Cognitive Science 14, 1990.

R. Jozefowicz, W. Zaremba, I. Sutskever, "An Empirical Exploration of
Recurrent Network Architectures", ICML 2015 (forget-gate bias of 1).

N. Srivastava, E. Mansimov, R. Salakhutdinov, "Unsupervised Learning of
Video Representations using LSTMs", ICML 2015, Sec. 2.1.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from framecast.cells.base import CellState, RecurrentCell

RNN_NONLINEARITIES = ("tanh", "relu")


class VectorCell(RecurrentCell):
    """Base class of the cells on (B, features) vectors.

    ``in_channels`` and ``hidden_channels`` are feature sizes. ``kernel_size``
    is accepted and ignored: every registered cell has one signature
    (``build_cell(name, in, hidden, kernel_size, **options)``), so a
    configuration can name any cell; it is still checked (positive, odd)
    by :class:`~framecast.cells.base.RecurrentCell` like everywhere else.
    """

    kind: ClassVar[str] = "vector"

    def init_state(
        self,
        batch: int,
        height: int = 1,
        width: int = 1,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> CellState:
        """Zero state: ``state_size`` tensors of shape (B, hidden); height and width are ignored."""
        shape = (batch, self.hidden_channels)
        return tuple(torch.zeros(shape, device=device, dtype=dtype) for _ in range(self.state_size))

    def check_input(self, x: Tensor) -> None:
        """Raise ValueError unless ``x`` is a (B, in_channels) batch of vectors."""
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} takes (B, {self.in_channels}) feature vectors, got shape "
                f"{tuple(x.shape)}; vector cells need an architecture with cell_kind='vector'"
            )


class VectorLSTMCell(VectorCell):
    """Fully connected LSTM cell (torch's :class:`torch.nn.LSTMCell`)::

        i_t = σ(W_xi x_t + W_hi h_{t-1} + b_i)
        f_t = σ(W_xf x_t + W_hf h_{t-1} + b_f)
        g_t = tanh(W_xg x_t + W_hg h_{t-1} + b_g)
        o_t = σ(W_xo x_t + W_ho h_{t-1} + b_o)
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        h_t = o_t ⊙ tanh(c_t)

    Srivastava et al. (2015), Sec. 2.1, use this cell without peepholes.

    Parameters
    ----------
    in_channels : int
        Input features.
    hidden_channels : int
        Hidden (and cell) features.
    kernel_size : int
        Ignored (see :class:`VectorCell`).
    forget_bias : float
        Added once, at initialisation, to the forget-gate bias ``b_f``
        (1.0 keeps memory early in training, Jozefowicz et al. 2015). It is
        a trainable starting value, unlike ConvLSTM's constant offset.
    """

    state_size: ClassVar[int] = 2

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int = 3,
        *,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size)
        self.forget_bias = float(forget_bias)
        self.cell = nn.LSTMCell(in_channels, hidden_channels)
        with torch.no_grad():
            # torch orders the gates (i, f, g, o) in the bias vectors
            self.cell.bias_ih[hidden_channels : 2 * hidden_channels] += self.forget_bias

    def forward(
        self, x: Tensor, state: CellState, memory: Tensor | None = None
    ) -> tuple[Tensor, CellState, Tensor | None]:
        self.check_input(x)
        h, c = self.cell(x, state)  # (B, hid) each
        return h, (h, c), memory


class VectorGRUCell(VectorCell):
    """Gated recurrent unit (torch's :class:`torch.nn.GRUCell`), Cho et al. 2014::

        r_t = σ(W_xr x_t + b_xr + W_hr h_{t-1} + b_hr)
        z_t = σ(W_xz x_t + b_xz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_xn x_t + b_xn + r_t ⊙ (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    Parameters
    ----------
    in_channels, hidden_channels : int
        Input and hidden features.
    kernel_size : int
        Ignored (see :class:`VectorCell`).
    """

    state_size: ClassVar[int] = 1

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size)
        self.cell = nn.GRUCell(in_channels, hidden_channels)

    def forward(
        self, x: Tensor, state: CellState, memory: Tensor | None = None
    ) -> tuple[Tensor, CellState, Tensor | None]:
        self.check_input(x)
        h = self.cell(x, state[0])  # (B, hid)
        return h, (h,), memory


class VectorRNNCell(VectorCell):
    """Elman recurrent cell (torch's :class:`torch.nn.RNNCell`)::

        h_t = φ(W_xh x_t + b_xh + W_hh h_{t-1} + b_hh),   φ = tanh or relu

    Parameters
    ----------
    in_channels, hidden_channels : int
        Input and hidden features.
    kernel_size : int
        Ignored (see :class:`VectorCell`).
    nonlinearity : {"tanh", "relu"}
        The activation φ.
    """

    state_size: ClassVar[int] = 1

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int = 3,
        *,
        nonlinearity: str = "tanh",
    ) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size)
        if nonlinearity not in RNN_NONLINEARITIES:
            raise ValueError(
                f"unknown nonlinearity {nonlinearity!r}; expected one of {RNN_NONLINEARITIES}"
            )
        self.nonlinearity = nonlinearity
        self.cell = nn.RNNCell(in_channels, hidden_channels, nonlinearity=nonlinearity)

    def forward(
        self, x: Tensor, state: CellState, memory: Tensor | None = None
    ) -> tuple[Tensor, CellState, Tensor | None]:
        self.check_input(x)
        h = self.cell(x, state[0])  # (B, hid)
        return h, (h,), memory
