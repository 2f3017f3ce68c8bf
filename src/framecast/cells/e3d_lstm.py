"""The Eidetic 3D LSTM cell (E3D-LSTM): 3D convolutions and a recall gate over past memories.

References
----------
Y. Wang, L. Jiang, M.-H. Yang, L.-J. Li, M. Long, L. Fei-Fei, "Eidetic 3D
LSTM: A Model for Video Prediction and Beyond", ICLR 2019, Sec. 3.2 (the
E3D-LSTM unit and its recall gate) and Fig. 2. Layer shapes as in the authors' code
(google/e3d_lstm, ``src/layers/rnn_cell.py``) and OpenSTL's
``Eidetic3DLSTMCell`` (``openstl/modules/e3dlstm_modules.py``).

Not a :class:`~framecast.cells.base.RecurrentCell`: its input and states are
short windows of maps, ``(B, C, T, H, W)``, and it reads the history of its
own memory, so it is not in the cell registry.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SameConv3d(nn.Module):
    """A bias-free 3D convolution whose output keeps the input's (T, H, W) size.

    The padding is TensorFlow's ``"same"`` (the authors' ``tf.layers.conv3d``):
    for an even temporal kernel the extra zero goes after the window, so the
    first output step sees ``(x_{t-1}, x_t)`` and the second ``(x_t, 0)``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int, int]) -> None:
        super().__init__()
        kt, kh, kw = kernel
        before = (kt - 1) // 2
        # F.pad order: (w_left, w_right, h_top, h_bottom, t_before, t_after)
        self.pad = (kw // 2, kw - 1 - kw // 2, kh // 2, kh - 1 - kh // 2, before, kt - 1 - before)
        self.conv = nn.Conv3d(in_channels, out_channels, kernel, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, T, H, W) -> (B, C_out, T, H, W)."""
        return self.conv(F.pad(x, self.pad))


def recall(query: Tensor, history: Tensor) -> Tensor:
    """The recall gate's attention (E3D-LSTM, Sec. 3.2): ``softmax(R · C_hist^T) · C_hist``.

    Every position of the query window attends over every position of every
    past memory, the vectors being the channels; no ``1/sqrt(d)`` scaling
    (authors' ``_attn``). Runs through
    :func:`torch.nn.functional.scaled_dot_product_attention` with ``scale=1``.

    Parameters
    ----------
    query : Tensor
        (B, C, T, H, W) recall gate ``R_t``.
    history : Tensor
        (B, C, L, H, W) past memories ``C_{t-τ:t-1}`` stacked in time.

    Returns
    -------
    Tensor
        (B, C, T, H, W).
    """
    q = query.flatten(2).transpose(1, 2)  # (B, T*H*W, C)
    kv = history.flatten(2).transpose(1, 2)  # (B, L*H*W, C)
    out = F.scaled_dot_product_attention(q, kv, kv, scale=1.0)  # (B, T*H*W, C)
    return out.transpose(1, 2).reshape(query.shape)


class Eidetic3DLSTMCell(nn.Module):
    """The E3D-LSTM unit (Wang et al. 2019, Sec. 3.2), ``*`` a 3D convolution::

        R = σ(W_xr * X + W_hr * H)        I = σ(W_xi * X + W_hi * H)
        G = tanh(W_xg * X + W_hg * H)
        C' = I ⊙ G + LayerNorm(C + RECALL(R, C_{t-τ:t-1}))
        I' = σ(W'_xi * X + W_mi * M)      G' = tanh(W'_xg * X + W_mg * M)
        F' = σ(W'_xf * X + W_mf * M + 1)
        M' = I' ⊙ G' + F' ⊙ tanh(W_mm * M)
        O = σ(W_xo * X + W_ho * H + W_co * C' + W_mo * M')
        H' = O ⊙ tanh(W_1x1x1 * [C', M'])

    Two places follow the authors' code rather than the printed equation,
    and one does not:

    - ``F' ⊙ tanh(W_mm * M)`` where the paper writes ``F' ⊙ M`` (the code's
      fourth memory gate; it keeps the published parameter count);
    - the layer norm normalises over (C, T, H, W) with one gain and shift
      per channel (the code's ``tf.contrib.layers.layer_norm``; OpenSTL
      learns full ``(C, T, H, W)`` maps instead);
    - ``O`` is ``σ(...)`` as printed (the code takes ``σ(tanh(...))``), and
      the cell returns the updated ``M'`` (the authors' and OpenSTL's cells
      return the ``M`` they were given, so M stays zero; the paper's M flows
      through every layer and step).

    Convolutions have no bias (OpenSTL); the forget bias 1.0 is a constant.

    Parameters
    ----------
    in_channels : int
        Channels of the input window.
    hidden : int
        Channels of ``H``, ``C`` and ``M``.
    window : int
        Frames per window ``T``; also the temporal size of the kernels (authors: 2).
    kernel_size : int
        Spatial size of the kernels (authors: 5).
    forget_bias : float
        Added to ``F'``'s pre-activation (authors: 1.0).
    """

    def __init__(
        self,
        in_channels: int,
        hidden: int,
        window: int = 2,
        kernel_size: int = 5,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__()
        kernel = (window, kernel_size, kernel_size)
        self.hidden = hidden
        self.forget_bias = float(forget_bias)
        self.conv_x = SameConv3d(in_channels, 7 * hidden, kernel)
        self.conv_h = SameConv3d(hidden, 4 * hidden, kernel)
        self.conv_m = SameConv3d(hidden, 4 * hidden, kernel)
        self.conv_co = SameConv3d(hidden, hidden, kernel)
        self.conv_mo = SameConv3d(hidden, hidden, kernel)
        self.conv_last = nn.Conv3d(2 * hidden, hidden, 1, bias=False)
        self.norm_c = nn.GroupNorm(1, hidden)  # layer norm over (C, T, H, W), per-channel affine

    def forward(
        self, x: Tensor, h: Tensor, c: Tensor, memory: Tensor, history: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One step; ``x`` (B, C_in, T, H, W), states (B, hid, T, H, W), history (B, hid, L, H, W).

        Returns ``(H', C', M')``.
        """
        i_x, g_x, r_x, o_x, mi_x, mg_x, mf_x = torch.chunk(self.conv_x(x), 7, dim=1)
        i_h, g_h, r_h, o_h = torch.chunk(self.conv_h(h), 4, dim=1)
        i = torch.sigmoid(i_x + i_h)
        r = torch.sigmoid(r_x + r_h)
        g = torch.tanh(g_x + g_h)
        c_new = self.norm_c(c + recall(r, history)) + i * g  # (B, hid, T, H, W)
        i_m, f_m, g_m, m_m = torch.chunk(self.conv_m(memory), 4, dim=1)
        mi = torch.sigmoid(mi_x + i_m)
        mf = torch.sigmoid(mf_x + f_m + self.forget_bias)
        mg = torch.tanh(mg_x + g_m)
        m_new = mf * torch.tanh(m_m) + mi * mg
        o = torch.sigmoid(o_x + o_h + self.conv_co(c_new) + self.conv_mo(m_new))
        h_new = o * torch.tanh(self.conv_last(torch.cat([c_new, m_new], dim=1)))
        return h_new, c_new, m_new
