"""MIM's equations (Wang et al., CVPR 2019, eq. 4-6) against hand-written steps on tiny tensors.

Each gate is written out with its own slice of the convolution weights, in
the gate order of the authors' code (i, g, f, o for MIM-N/MIM-S and for the
block's input and memory convolutions; i, g, o for the block's hidden
convolution). As in the authors' code, the MIM block's temporal and
spatiotemporal gates share the input convolution (W'_x = W_x).
"""

from __future__ import annotations

import torch
from torch import Tensor

from framecast.cells.mim_blocks import MIMBlock, PeepholeConvLSTM

HID = 3


def _conv(x: Tensor, weight: Tensor, gate: int) -> Tensor:
    """The convolution of gate number ``gate`` (a HID-channel slice of ``weight``)."""
    w = weight[gate * HID : (gate + 1) * HID]
    return torch.conv2d(x, w, padding=w.shape[-1] // 2)


def _randomise(module: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():  # peepholes start at zero: give them values
            p.copy_(0.3 * torch.randn(p.shape, generator=g))


def _peephole_step(m: PeepholeConvLSTM, x: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """MIM eq. 5 (MIM-N) and eq. 6 (MIM-S), written out gate by gate."""
    wx, wh = m.conv_x.weight, m.conv_h.weight
    w_ci, w_cf = m.w_c[:HID], m.w_c[HID:]
    i = torch.sigmoid(_conv(x, wx, 0) + _conv(h, wh, 0) + w_ci * c)
    g = torch.tanh(_conv(x, wx, 1) + _conv(h, wh, 1))
    f = torch.sigmoid(_conv(x, wx, 2) + _conv(h, wh, 2) + w_cf * c + 1.0)
    c_new = f * c + i * g
    o = torch.sigmoid(_conv(x, wx, 3) + _conv(h, wh, 3) + m.w_o * c_new)
    return o * torch.tanh(c_new), c_new


def _rand(g: torch.Generator, channels: int = HID) -> Tensor:
    return torch.randn(2, channels, 5, 5, generator=g)


def test_mim_n_matches_eq5_on_the_difference_of_hidden_states():
    mim_n = PeepholeConvLSTM(HID, HID, 3)
    _randomise(mim_n, 0)
    g = torch.Generator().manual_seed(1)
    h_below_t, h_below_prev, n_h, n_c = _rand(g), _rand(g), _rand(g), _rand(g)
    diff = h_below_t - h_below_prev  # MIM-N reads H^{l-1}_t - H^{l-1}_{t-1}
    got = mim_n(diff, n_h, n_c)
    expected = _peephole_step(mim_n, diff, n_h, n_c)
    for a, b in zip(got, expected, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_mim_s_matches_eq6_reading_d_and_the_temporal_memory():
    mim_s = PeepholeConvLSTM(HID, HID, 3)
    _randomise(mim_s, 2)
    g = torch.Generator().manual_seed(3)
    d, c_prev, s_prev = _rand(g), _rand(g), _rand(g)
    t_out, s_new = mim_s(d, c_prev, s_prev)  # T_t = MIM-S(D_t, C_{t-1}, S_{t-1})
    t_hand, s_hand = _peephole_step(mim_s, d, c_prev, s_prev)
    assert torch.allclose(t_out, t_hand, atol=1e-6)
    assert torch.allclose(s_new, s_hand, atol=1e-6)


def test_mim_block_matches_eq4():
    block = MIMBlock(HID, HID, 3)
    _randomise(block, 4)
    g = torch.Generator().manual_seed(5)
    x, d, h, c, s, m = (_rand(g) for _ in range(6))
    wx, wt, ws = block.conv_x.weight, block.conv_t.weight, block.conv_s.weight
    i = torch.sigmoid(_conv(x, wx, 0) + _conv(h, wt, 0))
    gg = torch.tanh(_conv(x, wx, 1) + _conv(h, wt, 1))
    t_out, s_new = _peephole_step(block.stationary, d, c, s)  # MIM-S in place of f ⊙ C
    c_new = t_out + i * gg
    i_m = torch.sigmoid(_conv(x, wx, 0) + _conv(m, ws, 0))
    g_m = torch.tanh(_conv(x, wx, 1) + _conv(m, ws, 1))
    f_m = torch.sigmoid(_conv(x, wx, 2) + _conv(m, ws, 2) + 1.0)
    m_new = f_m * m + i_m * g_m
    o = torch.sigmoid(_conv(x, wx, 3) + _conv(h, wt, 2) + _conv(m, ws, 3))
    h_new = o * torch.tanh(torch.conv2d(torch.cat([c_new, m_new], 1), block.conv_last.weight))

    h_out, (h_state, c_state, s_state), m_out = block(x, d, (h, c, s), m)
    assert torch.allclose(h_out, h_new, atol=1e-6) and torch.equal(h_out, h_state)
    assert torch.allclose(c_state, c_new, atol=1e-6)
    assert torch.allclose(s_state, s_new, atol=1e-6)
    assert torch.allclose(m_out, m_new, atol=1e-6)


def test_mim_block_depends_on_d_only_through_mim_s():
    block = MIMBlock(HID, HID, 3)
    _randomise(block, 6)
    g = torch.Generator().manual_seed(7)
    x, h, c, s, m = (_rand(g) for _ in range(5))
    a = block(x, _rand(g), (h, c, s), m)
    b = block(x, _rand(g), (h, c, s), m)
    assert torch.equal(a[2], b[2])  # M' does not read D
    assert not torch.allclose(a[1][1], b[1][1])  # C' does, through MIM-S
