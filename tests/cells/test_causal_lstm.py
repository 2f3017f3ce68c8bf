"""The causal LSTM cell against Wang et al. 2018 (PredRNN++) eq. (1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import framecast.cells.causal_lstm  # registers "causal_lstm"
from framecast.cells import build_cell
from framecast.models import build_model


def test_causal_lstm_matches_wang_2018_eq1():
    torch.manual_seed(0)
    cell = framecast.cells.causal_lstm.CausalLSTMCell(3, 4, 3, forget_bias=0.5)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 5, 5, generator=g)
    h, c, m = (torch.randn(2, 4, 5, 5, generator=g) for _ in range(3))
    h_new, (h2, c_new), m_new = cell(x, (h, c), m)

    def conv(mod, t):
        return F.conv2d(t, mod.weight, mod.bias, padding=mod.padding)

    gg, gi, gf = conv(cell.conv_1, torch.cat([x, h, c], 1)).split(4, 1)
    c_ref = torch.sigmoid(gf + 0.5) * c + torch.sigmoid(gi) * torch.tanh(gg)
    mg, mi, mf = conv(cell.conv_2, torch.cat([x, c_ref, m], 1)).split(4, 1)
    m_ref = torch.sigmoid(mf + 0.5) * torch.tanh(conv(cell.conv_3, m)) + torch.sigmoid(
        mi
    ) * torch.tanh(mg)
    o = torch.tanh(conv(cell.conv_4, torch.cat([x, c_ref, m_ref], 1)))
    h_ref = o * torch.tanh(conv(cell.conv_5, torch.cat([c_ref, m_ref], 1)))
    assert cell.conv_5.kernel_size == (1, 1)
    assert torch.allclose(c_new, c_ref, atol=1e-6)
    assert torch.allclose(m_new, m_ref, atol=1e-6)
    assert torch.allclose(h_new, h_ref, atol=1e-6)
    assert h2 is h_new


def test_causal_lstm_state_and_memory():
    cell = build_cell("causal_lstm", 2, 4, 3)
    assert cell.uses_memory and cell.state_size == 2
    assert cell.init_memory(1, 6, 6).shape == (1, 4, 6, 6)


def test_predrnn_causal_lstm_passes_memory_zigzag(frames):
    torch.manual_seed(0)
    opts = {"cell": "causal_lstm", "hidden_channels": 4, "num_layers": 2, "kernel_size": 3}
    model = build_model("predrnn", 1, {**opts, "patch_size": 2})
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []
    for cell in model.stack.cells:
        cell.register_forward_hook(lambda mod, args, out: calls.append((args[2], out[2])))
    out = model(frames[:, :2], 1)  # 2 steps x 2 layers
    assert out.shape == (2, 1, 1, 8, 8)
    assert torch.equal(calls[1][0], calls[0][1])
    assert torch.equal(calls[2][0], calls[1][1])  # top layer at t=0 -> bottom at t=1
