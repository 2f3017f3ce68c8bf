"""E3D-LSTM (Wang et al. 2019): same-padded 3D convolutions, the recall gate, the windows."""

from __future__ import annotations

import pytest
import torch
from framecast_testing import TINY_MODEL_OPTIONS, learning_check

from framecast.cells.e3d_lstm import Eidetic3DLSTMCell, SameConv3d, recall
from framecast.models import build_model
from framecast.models.patching import patch

TINY = TINY_MODEL_OPTIONS["e3d_lstm"]


def test_recall_is_unscaled_softmax_attention_over_all_past_positions():
    g = torch.Generator().manual_seed(0)
    query = torch.randn(2, 3, 2, 4, 5, generator=g)  # (B, C, T, H, W)
    history = torch.randn(2, 3, 6, 4, 5, generator=g)  # (B, C, L, H, W)
    out = recall(query, history)
    for b in range(2):
        q = query[b].reshape(3, -1).T  # (T*H*W, C): one vector per position
        k = history[b].reshape(3, -1).T  # (L*H*W, C)
        expected = torch.softmax(q @ k.T, dim=1) @ k  # no 1/sqrt(C)
        assert torch.allclose(out[b].reshape(3, -1).T, expected, atol=1e-5)


def test_same_conv3d_pads_time_after_the_window_as_tensorflow():
    torch.manual_seed(0)
    conv = SameConv3d(1, 1, (2, 3, 3))
    x = torch.randn(1, 1, 2, 5, 5)
    out = conv(x)
    assert out.shape == x.shape
    w = conv.conv.weight[0, 0]  # (2, 3, 3)

    def conv2d(frame: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        return torch.conv2d(frame[None, None], kernel[None, None], padding=1)[0, 0]

    first = conv2d(x[0, 0, 0], w[0]) + conv2d(x[0, 0, 1], w[1])  # sees (x_0, x_1)
    second = conv2d(x[0, 0, 1], w[0])  # sees (x_1, 0)
    assert torch.allclose(out[0, 0, 0], first, atol=1e-5)
    assert torch.allclose(out[0, 0, 1], second, atol=1e-5)


def test_cell_step_matches_its_equations():
    torch.manual_seed(0)
    cell = Eidetic3DLSTMCell(2, 3, window=2, kernel_size=3)
    g = torch.Generator().manual_seed(1)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g)

    x, h, c, m = rand(2, 2, 2, 4, 4), rand(2, 3, 2, 4, 4), rand(2, 3, 2, 4, 4), rand(2, 3, 2, 4, 4)
    history = rand(2, 3, 4, 4, 4)
    i_x, g_x, r_x, o_x, mi_x, mg_x, mf_x = cell.conv_x(x).split(3, dim=1)
    i_h, g_h, r_h, o_h = cell.conv_h(h).split(3, dim=1)
    i_m, f_m, g_m, m_m = cell.conv_m(m).split(3, dim=1)
    r = torch.sigmoid(r_x + r_h)
    summed = c + recall(r, history)
    mean = summed.mean(dim=(1, 2, 3, 4), keepdim=True)
    var = summed.var(dim=(1, 2, 3, 4), unbiased=False, keepdim=True)
    gamma = cell.norm_c.weight.view(1, 3, 1, 1, 1)
    beta = cell.norm_c.bias.view(1, 3, 1, 1, 1)
    normed = (summed - mean) / torch.sqrt(var + cell.norm_c.eps) * gamma + beta
    c_new = normed + torch.sigmoid(i_x + i_h) * torch.tanh(g_x + g_h)
    m_new = torch.sigmoid(mf_x + f_m + 1.0) * torch.tanh(m_m) + torch.sigmoid(
        mi_x + i_m
    ) * torch.tanh(mg_x + g_m)
    o = torch.sigmoid(o_x + o_h + cell.conv_co(c_new) + cell.conv_mo(m_new))
    h_new = o * torch.tanh(cell.conv_last(torch.cat([c_new, m_new], dim=1)))
    got = cell(x, h, c, m, history)
    for a, b in zip(got, (h_new, c_new, m_new), strict=True):
        assert torch.allclose(a, b, atol=1e-5)


def test_windows_history_and_memory_zigzag(frames):
    torch.manual_seed(0)
    model = build_model("e3d_lstm", 1, TINY)
    seen: dict[str, list] = {"x": [], "hist": [], "m_in": [], "m_out": []}

    def record(mod, args, out) -> None:
        seen["x"].append(args[0])
        seen["hist"].append(args[4])
        seen["m_in"].append(args[3])
        seen["m_out"].append(out[2])

    for cell in model.cells:
        cell.register_forward_hook(record)
    model(frames[:, :3], 1)  # 3 steps x 2 layers
    seq = patch(frames[:, :3], 2)  # (B, 3, 4, 4, 4)
    bottom = seen["x"][0::2]
    assert torch.equal(bottom[0], torch.stack([torch.zeros_like(seq[:, 0]), seq[:, 0]], dim=2))
    assert torch.equal(bottom[2], torch.stack([seq[:, 1], seq[:, 2]], dim=2))
    # the recall gate reads C_0 .. C_{t-1}: one more window of memory at every step
    assert [h.shape[2] for h in seen["hist"][0::2]] == [2, 4, 6]
    # M climbs the stack and the top layer's M enters the bottom layer at the next step
    assert all(torch.equal(seen["m_in"][i + 1], seen["m_out"][i]) for i in range(5))
    # M is updated, not handed back unchanged
    assert float(seen["m_out"][-1].detach().abs().sum()) > 0


def test_no_cell_to_swap_and_bad_options_refused():
    with pytest.raises(TypeError, match="has no recurrent cell"):
        build_model("e3d_lstm", 1, {**TINY, "cell": "convlstm"})
    with pytest.raises(ValueError, match="same hidden_channels; got \\[4, 8\\]"):
        build_model("e3d_lstm", 1, {**TINY, "hidden_channels": [4, 8]})
    with pytest.raises(ValueError, match="window must be a positive integer, got 0"):
        build_model("e3d_lstm", 1, {**TINY, "window": 0})


@pytest.mark.slow  # about 20-30 s on one thread (3D convolutions on CPU)
def test_e3d_lstm_learns_moving_squares():
    options = {"hidden_channels": 8, "num_layers": 1, "kernel_size": 3, "patch_size": 4}
    r = learning_check("e3d_lstm", options, steps=60, lr=1e-2, batch_size=4)
    assert r["trained"] < 0.65 * r["initial"]
    assert r["trained"] < r["persistence"]
