"""PredRNN++ (Wang et al. 2018): the gradient highway unit and its place in the stack."""

from __future__ import annotations

import pytest
import torch
from framecast_testing import learning_check

from framecast.cells.gradient_highway import GradientHighwayUnit
from framecast.models import build_model


def test_ghu_matches_wang_2018_eq2():
    torch.manual_seed(0)
    ghu = GradientHighwayUnit(3, 3, init_range=0.5)
    g = torch.Generator().manual_seed(1)
    x, z = torch.randn(2, 3, 5, 5, generator=g), torch.randn(2, 3, 5, 5, generator=g)
    wx, wz = ghu.conv_x.weight, ghu.conv_z.weight
    p = torch.conv2d(x, wx[:3], padding=1) + torch.conv2d(z, wz[:3], padding=1)
    s = torch.sigmoid(torch.conv2d(x, wx[3:], padding=1) + torch.conv2d(z, wz[3:], padding=1))
    assert torch.allclose(ghu(x, z), s * torch.tanh(p) + (1 - s) * z, atol=1e-6)
    assert (
        ghu.conv_x.bias is None
        and float(GradientHighwayUnit(3).conv_x.weight.detach().abs().max()) <= 1e-3
    )


def test_highway_state_feeds_layer_two_and_memory_zigzags(frames):
    torch.manual_seed(0)
    opts = {"hidden_channels": 4, "num_layers": 3, "kernel_size": 3, "patch_size": 2}
    model = build_model("predrnn_pp", 1, opts)
    seen: dict[str, list] = {"ghu": [], "upper_in": [], "mem_in": [], "mem_out": []}
    model.ghu.register_forward_hook(lambda mod, args, out: seen["ghu"].append(out))
    model.upper.cells[0].register_forward_hook(
        lambda mod, args, out: seen["upper_in"].append(args[0])
    )

    def record_memory(mod, args, out) -> None:
        seen["mem_in"].append(args[2])
        seen["mem_out"].append(out[2])

    for cell in [*model.bottom.cells, *model.upper.cells]:
        cell.register_forward_hook(record_memory)
    model(frames[:, :2], 1)  # 2 steps x 3 layers
    assert all(torch.equal(a, b) for a, b in zip(seen["ghu"], seen["upper_in"], strict=True))
    # M climbs the stack, and the top layer's M at t=0 enters the bottom layer at t=1
    assert all(torch.equal(seen["mem_in"][i + 1], seen["mem_out"][i]) for i in range(5))


def test_one_layer_refused():
    with pytest.raises(ValueError, match="num_layers must be at least 2"):
        build_model("predrnn_pp", 1, {"num_layers": 1})


def test_predrnn_pp_learns_moving_squares():
    options = {"hidden_channels": 8, "num_layers": 2, "kernel_size": 3, "patch_size": 4}
    r = learning_check("predrnn_pp", options, steps=60, lr=1e-2, batch_size=4)
    assert r["trained"] < 0.65 * r["initial"]
    assert r["trained"] < r["persistence"]
