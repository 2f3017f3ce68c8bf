"""Each cell against a hand computation of its paper's equations."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from framecast.cells import CELLS, ConvLSTMCell, SpatioTemporalLSTMCell, build_cell


def _inputs(cell, batch=2, size=5):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, cell.in_channels, size, size, generator=g)
    state = tuple(
        torch.randn(batch, cell.hidden_channels, size, size, generator=g) for _ in range(2)
    )
    m = torch.randn(batch, cell.hidden_channels, size, size, generator=g)
    return x, state, m


@pytest.mark.parametrize("peephole", [False, True])
def test_convlstm_matches_shi_2015_equations(peephole):
    torch.manual_seed(0)
    cell = ConvLSTMCell(3, 4, 3, peephole=peephole, forget_bias=0.5)
    if peephole:
        with torch.no_grad():
            for w in (cell.w_ci, cell.w_cf, cell.w_co):
                w.normal_()
    x, (h, c), m = _inputs(cell)
    h_new, (h2, c_new), m_out = cell(x, (h, c), m)

    w, b = cell.gates.weight, cell.gates.bias
    z = F.conv2d(torch.cat([x, h], 1), w, b, padding=1)
    zi, zf, zg, zo = z.split(4, 1)
    pi = cell.w_ci * c if peephole else 0
    pf = cell.w_cf * c if peephole else 0
    i = torch.sigmoid(zi + pi)
    f = torch.sigmoid(zf + pf + 0.5)
    c_ref = f * c + i * torch.tanh(zg)
    po = cell.w_co * c_ref if peephole else 0
    h_ref = torch.sigmoid(zo + po) * torch.tanh(c_ref)
    assert torch.allclose(c_new, c_ref, atol=1e-6)
    assert torch.allclose(h_new, h_ref, atol=1e-6)
    assert h2 is h_new
    assert m_out is m  # cells without M hand it back unchanged


def test_stlstm_matches_wang_2017_equations():
    torch.manual_seed(0)
    cell = SpatioTemporalLSTMCell(3, 4, 3, forget_bias=1.0)
    x, (h, c), m = _inputs(cell)
    h_new, (_, c_new), m_new = cell(x, (h, c), m)

    conv = lambda mod, t: F.conv2d(t, mod.weight, mod.bias, padding=mod.padding)  # noqa: E731
    xg, xi, xf, xg2, xi2, xf2, xo = conv(cell.conv_x, x).split(4, 1)
    hi, hf, hg, ho = conv(cell.conv_h, h).split(4, 1)
    mi, mf, mg = conv(cell.conv_m, m).split(4, 1)
    c_ref = torch.sigmoid(xf + hf + 1.0) * c + torch.sigmoid(xi + hi) * torch.tanh(xg + hg)
    m_ref = torch.sigmoid(xf2 + mf + 1.0) * m + torch.sigmoid(xi2 + mi) * torch.tanh(xg2 + mg)
    cm = torch.cat([c_ref, m_ref], 1)
    o = torch.sigmoid(xo + ho + conv(cell.conv_o, cm))
    h_ref = o * torch.tanh(conv(cell.conv_last, cm))
    assert torch.allclose(c_new, c_ref, atol=1e-6)
    assert torch.allclose(m_new, m_ref, atol=1e-6)
    assert torch.allclose(h_new, h_ref, atol=1e-6)


def test_stlstm_layer_norm_changes_output_and_works_at_any_size():
    torch.manual_seed(0)
    plain = SpatioTemporalLSTMCell(2, 4, 3)
    torch.manual_seed(0)
    normed = SpatioTemporalLSTMCell(2, 4, 3, layer_norm=True)
    for size in (5, 9):
        x, s, m = _inputs(plain, size=size)
        assert not torch.allclose(plain(x, s, m)[0], normed(x, s, m)[0])


@pytest.mark.parametrize("name", [c for c in CELLS.available() if CELLS.get(c).kind == "conv"])
def test_every_conv_cell_keeps_shape_and_zero_state(name):
    cell = build_cell(name, 3, 6, 5)
    state = cell.init_state(2, 7, 9)
    assert len(state) == cell.state_size
    assert all(s.shape == (2, 6, 7, 9) and not s.any() for s in state)
    memory = cell.init_memory(2, 7, 9)
    assert (memory is not None) == cell.uses_memory
    h, new_state, new_memory = cell(torch.rand(2, 3, 7, 9), state, memory)
    assert h.shape == (2, 6, 7, 9)
    assert new_state[0] is h
    if cell.uses_memory:
        # the memory keeps its own shape (M, or [M; H] for mflow_eq3) from step to step
        assert new_memory.shape == memory.shape and memory.shape[2:] == (7, 9)


@pytest.mark.parametrize(
    ("args", "message"),
    [((-1, 4, 3), "in_channels"), ((3, -1, 3), "hidden_channels"), ((3, 4, 4), "odd")],
)
def test_bad_sizes_refused(args, message):
    for name in CELLS.available():
        with pytest.raises(ValueError, match=message):
            build_cell(name, *args)
