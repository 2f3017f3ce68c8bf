"""Tests of the spatio-temporal video autoencoder (Patraucean et al. 2016)."""

from __future__ import annotations

import pytest
import torch
from framecast_testing import learning_check

import framecast.models.stvae  # noqa: F401  (registers "stvae")
from framecast.models import build_model
from framecast.models.stvae import flow_smoothness_penalty, warp
from framecast.training.losses import mse_loss

TINY = {
    "encoder_channels": 2,
    "encoder_kernel": 3,
    "hidden_channels": 2,
    "kernel_size": 3,
    "flow_channels": 2,
    "flow_kernel": 3,
    "decoder_kernel": 3,
}


def _tiny(cell: str = "convlstm", seed: int = 0, **kw):
    torch.manual_seed(seed)
    return build_model("stvae", 1, {**TINY, "cell": cell, **kw})


def test_warp_zero_flow_is_identity():
    feat = torch.rand(2, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    out = warp(feat, torch.zeros(2, 2, 5, 6))
    assert torch.allclose(out, feat, atol=1e-6, rtol=0)


def test_warp_constant_flow_shifts_by_one_cell():
    feat = torch.arange(20.0).view(1, 1, 4, 5)  # value = 5 * row + column
    right = torch.zeros(1, 2, 4, 5)
    right[:, 0] = 1.0  # dx = +1: content moves one column right
    out = warp(feat, right)
    assert torch.allclose(out[..., 1:], feat[..., :-1], atol=1e-5)
    assert torch.allclose(out[..., 0], feat[..., 0], atol=1e-5)  # border padding
    down = torch.zeros(1, 2, 4, 5)
    down[:, 1] = 1.0  # dy = +1: content moves one row down
    out = warp(feat, down)
    assert torch.allclose(out[..., 1:, :], feat[..., :-1, :], atol=1e-5)
    half = torch.zeros(1, 2, 4, 5)
    half[:, 0] = 0.5  # bilinear: halfway between two columns
    out = warp(feat, half)
    assert torch.allclose(out[..., 1:], feat[..., 1:] - 0.5, atol=1e-5)


def test_warp_refuses_bad_flow():
    with pytest.raises(ValueError, match="flow must have shape"):
        warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 3, 4, 4))


def test_smoothness_penalty_zero_for_constant_flow():
    flows = torch.full((2, 3, 2, 4, 4), 0.7)
    assert float(flow_smoothness_penalty(flows)) == 0.0


def test_smoothness_penalty_by_hand():
    flows = torch.zeros(1, 1, 2, 2, 2)
    flows[..., 0, :, 1] = 0.5  # dx jumps by 0.5 between the two columns
    # x differences: 4 entries (2 channels x 2 rows), two of 0.5 -> Huber 0.125 each;
    # y differences: all zero
    expected = (2 * 0.5 * 0.5**2) / 4
    assert torch.isclose(flow_smoothness_penalty(flows), torch.tensor(expected))
    flows[..., 0, :, 1] = 3.0  # linear part above delta=1: 3 - 0.5
    assert torch.isclose(flow_smoothness_penalty(flows), torch.tensor(2 * 2.5 / 4))


def test_training_loss_is_frame_loss_plus_weighted_penalty(frames):
    model = _tiny(flow_smoothness=0.3)
    context, target = frames[:, :3], frames[:, 3:]
    loss = model.training_loss(context, target, mse_loss)
    preds = model.rollout(context, 2)
    truth = frames[:, 1:]
    penalty = flow_smoothness_penalty(model.flows(context, 2))
    assert float(penalty.detach()) > 0
    assert torch.allclose(loss, mse_loss(preds, truth) + 0.3 * penalty)
    future = model.training_loss(context, target, mse_loss, future_only=True)
    assert torch.allclose(future, mse_loss(preds[:, -2:], target) + 0.3 * penalty)
    plain = _tiny(flow_smoothness=0.0).training_loss(context, target, mse_loss)
    assert torch.allclose(plain, mse_loss(preds, truth))


@pytest.mark.parametrize("cell", ["convlstm", "stlstm"])
def test_cells_run_and_shapes(cell, frames):
    model = _tiny(cell)
    assert model(frames[:, :3], 4).shape == (2, 4, 1, 8, 8)
    assert model.rollout(frames[:, :3], 4).shape == (2, 6, 1, 8, 8)
    assert model.flows(frames[:, :3], 4).shape == (2, 6, 2, 4, 4)
    patched = _tiny(cell, patch_size=2)
    assert patched(frames[:, :3], 2).shape == (2, 2, 1, 8, 8)
    assert patched.flows(frames[:, :3], 2).shape == (2, 4, 2, 2, 2)


def test_stlstm_memory_flows_through_steps(frames):
    model = _tiny("stlstm")
    seen: list[tuple[torch.Tensor | None, torch.Tensor]] = []
    model.cell.register_forward_hook(lambda mod, args, out: seen.append((args[2], out[2])))
    model(frames[:, :2], 2)
    assert len(seen) == 3
    assert torch.equal(seen[1][0], seen[0][1]) and torch.equal(seen[2][0], seen[1][1])


def test_gradients_finite_and_nonzero(frames):
    model = _tiny("stlstm")
    loss = model.training_loss(frames[:, :3], frames[:, 3:], mse_loss, true_mask=torch.ones(2, 3))
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert all(float(g.abs().sum()) > 0 for g in grads)


def test_sigmoid_output_in_unit_range(frames):
    out = _tiny()(frames[:, :3], 3)
    assert out.min() >= 0 and out.max() <= 1


def test_indivisible_size_refused():
    with pytest.raises(ValueError, match="multiples of 2"):
        _tiny()(torch.rand(1, 3, 1, 9, 8), 2)
    with pytest.raises(ValueError, match="multiples of 4"):
        _tiny(patch_size=2)(torch.rand(1, 3, 1, 6, 8), 2)


def test_bad_options_refused(frames):
    with pytest.raises(ValueError, match="upsample"):
        _tiny(upsample="bicubic")
    with pytest.raises(ValueError, match="flow_kernel"):
        _tiny(flow_kernel=4)
    with pytest.raises(ValueError, match="flow_smoothness"):
        _tiny(flow_smoothness=-1.0)
    with pytest.raises(ValueError, match="horizon"):
        _tiny()(frames[:, :3], 0)


def test_learns_moving_squares():
    options = {
        "encoder_channels": 8,
        "encoder_kernel": 3,
        "hidden_channels": 8,
        "kernel_size": 3,
        "flow_channels": 8,
        "flow_kernel": 3,
        "decoder_kernel": 3,
        # with a sigmoid this tiny model sits on the all-background plateau for
        # hundreds of steps; the identity output learns within the test's budget
        "output_activation": "none",
    }
    r = learning_check("stvae", options, steps=120, lr=1e-2)
    assert r["trained"] < 0.5 * r["initial"]
    assert r["trained"] < r["persistence"]
