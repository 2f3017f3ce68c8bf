"""The mflow cell against Wang et al. 2017 eq. (3), and its zigzag memory in PredRNN."""

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
def test_mflow_matches_wang_2017_eq3(hidden_recurrence):
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
