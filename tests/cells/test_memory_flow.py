"""The memory-flow cells: mflow_eq3 against Wang et al. 2017 eq. (3), the mflow variant, zigzag."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import framecast.cells.memory_flow  # noqa: F401  (registers "mflow")
from framecast.cells import build_cell
from framecast.cells.memory_flow import MemoryFlowLSTMCell
from framecast.models import build_model


def _inputs(cell, batch=2, size=5):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, cell.in_channels, size, size, generator=g)
    h = torch.randn(batch, cell.hidden_channels, size, size, generator=g)
    m = torch.randn(batch, cell.hidden_channels, size, size, generator=g)
    return x, h, m


@pytest.mark.parametrize("hidden_recurrence", [True, False])
def test_mflow_variant_equations(hidden_recurrence):
    """The variant: convolutional M terms, the layer's own H_{t-1} (not eq. 3)."""
    torch.manual_seed(0)
    cell = MemoryFlowLSTMCell(3, 4, 3, hidden_recurrence=hidden_recurrence, forget_bias=0.5)
    x, h, m = _inputs(cell)
    h_new, state, m_new = cell(x, (h,), m)

    conv = lambda mod, t: F.conv2d(t, mod.weight, mod.bias, padding=1)  # noqa: E731
    gate_in = torch.cat([x, h], 1) if hidden_recurrence else x
    zi, zf, zg, zo = conv(cell.conv_xh, gate_in).split(4, 1)
    mi, mf = conv(cell.conv_m, m).split(4, 1)
    i = torch.sigmoid(zi + mi)
    f = torch.sigmoid(zf + mf + 0.5)
    c_ref = f * m + i * torch.tanh(zg)  # C_t = f ⊙ M + i ⊙ g: no C_{t-1} of its own
    h_ref = torch.sigmoid(zo + conv(cell.conv_o, c_ref)) * torch.tanh(c_ref)
    assert torch.allclose(m_new, c_ref, atol=1e-6)  # the cell memory is handed up as M
    assert torch.allclose(h_new, h_ref, atol=1e-6)
    assert len(state) == 1 and state[0] is h_new


def test_mflow_state_is_h_only_and_uses_memory():
    cell = build_cell("mflow", 2, 4, 3)
    assert cell.uses_memory and cell.state_size == 1
    state = cell.init_state(1, 6, 6)
    assert len(state) == 1
    assert cell.init_memory(1, 6, 6).shape == (1, 4, 6, 6)


def test_mflow_without_hidden_recurrence_ignores_h():
    cell = build_cell("mflow", 2, 4, 3, hidden_recurrence=False)
    x, h, m = _inputs(cell)
    a = cell(x, (h,), m)[0]
    b = cell(x, (torch.zeros_like(h),), m)[0]
    assert torch.equal(a, b)


def test_mflow_memory_carries_the_past():
    """With zero memory the output differs: all cell memory arrives through M."""
    cell = build_cell("mflow", 2, 4, 3)
    x, h, m = _inputs(cell)
    assert not torch.allclose(cell(x, (h,), m)[0], cell(x, (h,), torch.zeros_like(m))[0])


def test_predrnn_mflow_passes_memory_zigzag(frames):
    torch.manual_seed(0)
    opts = {"cell": "mflow", "hidden_channels": 4, "num_layers": 3, "kernel_size": 3}
    model = build_model("predrnn", 1, {**opts, "patch_size": 2})
    calls: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    for i, cell in enumerate(model.stack.cells):
        cell.register_forward_hook(lambda mod, args, out, i=i: calls.append((i, args[2], out[2])))
    model(frames[:, :2], 1)  # 2 steps x 3 layers
    assert [c[0] for c in calls] == [0, 1, 2, 0, 1, 2]
    assert not calls[0][1].any()  # zero memory at the first step
    assert torch.equal(calls[1][1], calls[0][2])  # up the stack at t=0
    assert torch.equal(calls[2][1], calls[1][2])
    assert torch.equal(calls[3][1], calls[2][2])  # top layer at t=0 -> bottom layer at t=1
    assert torch.equal(calls[4][1], calls[3][2])


def test_mflow_refuses_unequal_layer_widths():
    with pytest.raises(ValueError, match="same"):
        build_model("predrnn", 1, {"cell": "mflow", "hidden_channels": [4, 8], "num_layers": 2})


# ---------------------------------------------------------------- mflow_eq3


def _eq3_inputs(cell, batch=2, size=5):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(batch, cell.in_channels, size, size, generator=g)
    h_own = torch.randn(batch, cell.hidden_channels, size, size, generator=g)
    packed = torch.randn(batch, 2 * cell.hidden_channels, size, size, generator=g)  # [M; H]
    return x, h_own, packed


def test_mflow_eq3_matches_wang_2017_eq3():
    torch.manual_seed(0)
    cell = build_cell("mflow_eq3", 3, 4, 3, forget_bias=0.5)
    with torch.no_grad():  # non-zero Hadamard weights, so the M terms count
        for w in (cell.w_mi, cell.w_mf, cell.w_mo):
            w.normal_()
    x, h_own, packed = _eq3_inputs(cell)
    m, h_below = packed[:, :4], packed[:, 4:]
    h_new, state, out = cell(x, (h_own,), packed)

    z = F.conv2d(torch.cat([x, h_below], 1), cell.conv_xh.weight, cell.conv_xh.bias, padding=1)
    zg, zi, zf, zo = z.split(4, 1)
    i = torch.sigmoid(zi + cell.w_mi * m)  # W_mi ⊙ M^{l-1}_t
    f = torch.sigmoid(zf + cell.w_mf * m + 0.5)
    m_ref = f * m + i * torch.tanh(zg)
    h_ref = torch.sigmoid(zo + cell.w_mo * m_ref) * torch.tanh(m_ref)
    assert torch.allclose(h_new, h_ref, atol=1e-6)
    assert torch.allclose(out, torch.cat([m_ref, h_ref], 1), atol=1e-6)  # [M^l_t; H^l_t] up
    assert len(state) == 1 and state[0] is h_new


def test_mflow_eq3_ignores_the_layers_own_previous_hidden_state():
    """Eq. (3) has no H_{t-1} of the layer itself; the variant 'mflow' reads it."""
    eq3 = build_cell("mflow_eq3", 2, 4, 3)
    x, h_own, packed = _eq3_inputs(eq3)
    a = eq3(x, (h_own,), packed)
    b = eq3(x, (torch.zeros_like(h_own),), packed)
    assert torch.equal(a[0], b[0]) and torch.equal(a[2], b[2])
    variant = build_cell("mflow", 2, 4, 3)
    m = packed[:, :4]
    assert not torch.allclose(variant(x, (h_own,), m)[0], variant(x, (h_own * 0,), m)[0])


def test_mflow_eq3_reads_the_hidden_state_that_arrives_with_m():
    cell = build_cell("mflow_eq3", 2, 4, 3)
    x, h_own, packed = _eq3_inputs(cell)
    other = packed.clone()
    other[:, 4:] = 0  # H^{l-1}_t changed, M^{l-1}_t kept
    assert not torch.allclose(cell(x, (h_own,), packed)[0], cell(x, (h_own,), other)[0])


def test_mflow_eq3_memory_terms_are_elementwise_not_convolutions():
    """Changing M at one pixel moves H and M there only (⊙); the variant's conv spreads it."""
    eq3 = build_cell("mflow_eq3", 2, 4, 3)
    with torch.no_grad():
        for w in (eq3.w_mi, eq3.w_mf, eq3.w_mo):
            w.fill_(0.7)
    x, h_own, packed = _eq3_inputs(eq3)
    poked = packed.clone()
    poked[:, :4, 2, 2] += 1.0  # M at the centre pixel only
    changed = (eq3(x, (h_own,), packed)[0] - eq3(x, (h_own,), poked)[0]).abs().sum(dim=(0, 1))
    assert changed[2, 2] > 0
    changed[2, 2] = 0
    assert not changed.any()

    variant = build_cell("mflow", 2, 4, 3)
    m, m_poked = packed[:, :4], poked[:, :4]
    spread = (variant(x, (h_own,), m)[0] - variant(x, (h_own,), m_poked)[0]).abs().sum(dim=(0, 1))
    spread[2, 2] = 0
    assert spread.any()


def test_mflow_eq3_memory_packs_m_and_h():
    cell = build_cell("mflow_eq3", 2, 4, 3)
    assert cell.uses_memory and cell.state_size == 1
    assert cell.init_memory(1, 6, 6).shape == (1, 8, 6, 6)


def test_mflow_eq3_without_input_has_no_input_weights():
    fed, unfed = build_cell("mflow_eq3", 3, 4, 3), build_cell("mflow_eq3", 0, 4, 3)
    n = lambda c: sum(p.numel() for p in c.parameters())  # noqa: E731
    assert n(fed) - n(unfed) == 3 * 4 * 4 * 3 * 3  # the X_t columns of the fused convolution
    _, h_own, packed = _eq3_inputs(unfed)
    h, _, _ = unfed(torch.zeros(2, 0, 5, 5), (h_own,), packed)
    assert h.shape == (2, 4, 5, 5)


def test_predrnn_mflow_eq3_feeds_the_top_hidden_state_to_the_bottom_layer(frames):
    """H^0_t = H^L_{t-1}: the bottom layer at t+1 reads the top layer's H at t."""
    torch.manual_seed(0)
    opts = {"cell": "mflow_eq3", "hidden_channels": 4, "num_layers": 3, "kernel_size": 3}
    model = build_model("predrnn", 1, {**opts, "patch_size": 2})
    calls: list[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]] = []
    for i, cell in enumerate(model.stack.cells):
        cell.register_forward_hook(
            lambda mod, args, out, i=i: calls.append((i, args[2], out[0], out[2]))
        )
    model(frames[:, :2], 1)  # 2 steps x 3 layers
    top_t0, bottom_t1 = calls[2], calls[3]
    assert torch.equal(bottom_t1[1][:, 4:], top_t0[2])  # H^L_{t-1} arrives with M
    assert torch.equal(bottom_t1[1][:, :4], top_t0[3][:, :4])  # M^L_{t-1}
    assert torch.equal(calls[1][1][:, 4:], calls[0][2])  # H^{l-1}_t up the stack


def test_mflow_with_no_input_needs_hidden_recurrence():
    with pytest.raises(ValueError, match="hidden_recurrence"):
        build_cell("mflow", 0, 4, 3, hidden_recurrence=False)
