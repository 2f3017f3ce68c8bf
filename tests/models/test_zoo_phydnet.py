"""PhyDNet (Le Guen & Thome 2020): moment matrices, the PhyCell step, the objective."""

from __future__ import annotations

import math

import pytest
import torch
from framecast_testing import TINY_MODEL_OPTIONS, learning_check

from framecast.cells.phycell import PhyCell, derivative_targets, kernel_moments, moment_basis
from framecast.models import build_model
from framecast.training.losses import mse_loss

TINY = TINY_MODEL_OPTIONS["phydnet"]


def test_central_difference_has_the_moments_of_a_first_derivative():
    # d/dy by central differences: its moment matrix is the indicator of order (0, 1)
    kernel = torch.zeros(3, 3, dtype=torch.float64)
    kernel[1, 0], kernel[1, 2] = -0.5, 0.5
    expected = torch.zeros(3, 3, dtype=torch.float64)
    expected[0, 1] = 1.0
    assert torch.allclose(kernel_moments(kernel), expected)
    # the five-point Laplacian's moments: orders (2, 0) and (0, 2)
    laplacian = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    m = kernel_moments(laplacian)
    assert m[2, 0] == pytest.approx(1.0) and m[0, 2] == pytest.approx(1.0)
    assert float(m.abs().sum()) == pytest.approx(2.0)


def test_moment_basis_matches_its_definition_and_targets_are_indicators():
    b = moment_basis(7)
    assert b[3, 6] == pytest.approx(3**3 / math.factorial(3))  # (u - 3)^i / i! at u=6, i=3
    assert b[2, 0] == pytest.approx((-3) ** 2 / 2)
    targets = derivative_targets(7)
    assert targets.shape == (49, 7, 7)
    assert targets[7 * 2 + 5, 2, 5] == 1.0 and float(targets.sum()) == 49.0
    # a kernel built from its target moments (inverse map) has exactly those moments
    inv = torch.linalg.inv(b)
    kernels = inv @ targets @ inv.T  # (49, 7, 7)
    assert torch.allclose(kernel_moments(kernels), targets, atol=1e-9)


def test_phycell_step_is_prediction_then_correction():
    torch.manual_seed(0)
    cell = PhyCell(4, 3)
    g = torch.Generator().manual_seed(1)
    x, h = torch.randn(2, 4, 5, 5, generator=g), torch.randn(2, 4, 5, 5, generator=g)
    phi = cell.combine(
        cell.norm(torch.conv2d(h, cell.derivatives.weight, cell.derivatives.bias, padding=1))
    )
    h_pred = h + phi
    gain = torch.sigmoid(
        torch.conv2d(torch.cat([x, h], 1), cell.gain.weight, cell.gain.bias, padding=1)
    )
    assert torch.allclose(cell(x, h), h_pred + gain * (x - h_pred), atol=1e-6)
    assert cell.derivatives.out_channels == 9  # one map per derivative order (i, j) < 3


def test_moment_loss_is_zero_for_derivative_kernels_and_enters_the_objective(frames):
    torch.manual_seed(0)
    model = build_model("phydnet", 1, TINY)
    assert float(model.moment_loss().detach()) > 0
    k = TINY["phy_kernel"]
    inv = torch.linalg.inv(moment_basis(k))
    kernels = (inv @ derivative_targets(k) @ inv.T).float()  # (k*k, k, k)
    with torch.no_grad():
        model.phycell.derivatives.weight.copy_(
            kernels[:, None].expand_as(model.phycell.derivatives.weight)
        )
    assert float(model.moment_loss().detach()) == pytest.approx(0.0, abs=1e-10)

    model = build_model("phydnet", 1, TINY)
    context, target = frames[:, :3], frames[:, 3:]
    preds = model.rollout(context, 2)
    truth = torch.cat([context[:, 1:], target], 1)
    expected = mse_loss(preds, truth) + model.moment_loss() / preds.shape[1]
    assert torch.allclose(model.training_loss(context, target, mse_loss), expected)
    zero = build_model("phydnet", 1, {**TINY, "moment_weight": 0.0})
    zero.load_state_dict(model.state_dict())
    assert torch.allclose(zero.training_loss(context, target, mse_loss), mse_loss(preds, truth))


def test_paper_layout_and_swappable_residual_cell():
    model = build_model("phydnet", 1, {"cell": "stlstm", "hidden_channels": 64})
    assert model.phycell.derivatives.weight.shape == (49, 64, 7, 7)
    assert model.resid.uses_memory and len(model.resid.cells) == 3
    out = model(torch.rand(1, 2, 1, 64, 64), 1).detach()
    assert out.shape == (1, 1, 1, 64, 64) and float(out.min()) >= 0 and float(out.max()) <= 1
    with pytest.raises(ValueError, match="same hidden_channels"):
        build_model("phydnet", 1, {"cell": "stlstm"})  # 128-128-64 widths and a memory M


def test_bad_options_and_frames_refused():
    with pytest.raises(ValueError, match="downsample must be 2 or 4, got 3"):
        build_model("phydnet", 1, {**TINY, "downsample": 3})
    with pytest.raises(ValueError, match="norm_groups must be a positive divisor"):
        build_model("phydnet", 1, {**TINY, "norm_groups": 3})
    with pytest.raises(ValueError, match="moment_weight must be a number >= 0"):
        build_model("phydnet", 1, {**TINY, "moment_weight": -1.0})
    model = build_model("phydnet", 1, {**TINY, "downsample": 4})
    with pytest.raises(ValueError, match="10x12 do not fit downsample=4"):
        model(torch.rand(1, 3, 1, 10, 12), 1)


@pytest.mark.slow  # about 10-13 s on one thread
def test_phydnet_learns_moving_squares():
    options = {
        "downsample": 2,
        "encoder_channels": 4,
        "norm_groups": 2,
        "phy_kernel": 3,
        "hidden_channels": 8,
        "num_layers": 1,
        "kernel_size": 3,
    }
    r = learning_check("phydnet", options, steps=40, lr=1e-2, batch_size=4)
    assert r["trained"] < 0.65 * r["initial"]
    assert r["trained"] < r["persistence"]
