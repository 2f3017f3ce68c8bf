"""PredNet (Lotter et al. 2017): shapes, training loss by hand, update order, cells, learning."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from framecast_testing import learning_check

import framecast.models.prednet  # noqa: F401  (registers "prednet")
from framecast.models import build_model
from framecast.training.losses import mse_loss

TINY = {"stack_channels": [1, 2], "r_channels": [2, 2], "kernel_size": 3}


def _tiny(seed: int = 0, **kw):
    torch.manual_seed(seed)
    return build_model("prednet", 1, {**TINY, **kw})


def _hand_error_loss(model, frames: torch.Tensor, layer_w: list[float]) -> torch.Tensor:
    """Eqs. (1)-(4) written out for a 2-layer PredNet, with the model's own weights."""
    b, t = frames.shape[:2]
    c0, c1 = model.cells
    s0 = c0.init_state(b, 8, 8)
    s1 = c1.init_state(b, 4, 4)
    e0 = torch.zeros(b, 2, 8, 8)
    e1 = torch.zeros(b, 4, 4, 4)
    conv = model.ahat_convs
    total = torch.zeros(())
    for step in range(t):
        h1, s1, _ = c1(e1, s1)  # top layer first: R_1^t from E_1^{t-1}
        up = F.interpolate(h1, scale_factor=2, mode="nearest")
        h0, s0, _ = c0(torch.cat([e0, up], 1), s0)  # R_0^t from E_0^{t-1}, Upsample(R_1^t)
        ahat0 = F.relu(F.conv2d(h0, conv[0].weight, conv[0].bias, padding=1)).clamp(max=1.0)
        a0 = frames[:, step]
        e0 = torch.cat([F.relu(ahat0 - a0), F.relu(a0 - ahat0)], 1)
        wa = model.a_convs[0]
        a1 = F.max_pool2d(F.relu(F.conv2d(e0, wa.weight, wa.bias, padding=1)), 2)
        ahat1 = F.relu(F.conv2d(h1, conv[1].weight, conv[1].bias, padding=1))
        e1 = torch.cat([F.relu(ahat1 - a1), F.relu(a1 - ahat1)], 1)
        lam_t = 0.0 if step == 0 else 1.0 / (t - 1)
        total = total + lam_t * (layer_w[0] * e0.mean() + layer_w[1] * e1.mean())
    return total


@pytest.mark.parametrize(("preset", "layer_w"), [("L0", [1.0, 0.0]), ("Lall", [1.0, 0.1])])
def test_error_loss_matches_hand_computation(frames, preset, layer_w):
    model = _tiny(layer_loss_weights=preset)
    loss = model.training_loss(frames[:, :2], frames[:, 2:], mse_loss)
    with torch.no_grad():
        expected = _hand_error_loss(model, frames, layer_w)
    assert torch.allclose(loss.detach(), expected, atol=1e-6)
    assert loss.requires_grad


def test_l0_loss_is_mean_abs_error_of_the_frame_predictions(frames):
    """With L0 weights, E_0's mean is half the mean |Â_0 - x| (2C channels), steps 1..T-1."""
    model = _tiny(layer_loss_weights="L0")
    loss = model.training_loss(frames[:, :2], frames[:, 2:], mse_loss)
    preds = model.rollout(frames[:, :2], 3, target=frames[:, 2:], true_mask=torch.ones(2, 3))
    expected = (preds - frames[:, 1:]).abs().mean() / 2  # mean over steps = weights 1/(T-1)
    assert torch.allclose(loss, expected, atol=1e-6)


def test_time_weights_are_used_and_checked(frames):
    model = _tiny(time_loss_weights=[0.0, 0.0, 0.0, 0.0, 1.0])
    only_last = model.training_loss(frames[:, :2], frames[:, 2:], mse_loss)
    preds = model.rollout(frames[:, :2], 3, target=frames[:, 2:], true_mask=torch.ones(2, 3))
    assert torch.allclose(only_last, (preds[:, -1] - frames[:, -1]).abs().mean() / 2, atol=1e-6)
    with pytest.raises(ValueError, match="time_loss_weights has 5 entries"):
        model.training_loss(frames[:, :2], frames[:, 2:4], mse_loss)


def test_extrapolation_gives_10_frames_from_10():
    model = build_model("prednet", 1, {"stack_channels": [1, 4, 8], "r_channels": [4, 8, 8]})
    context = torch.rand(2, 10, 1, 16, 16)
    out = model(context, 10)
    assert out.shape == (2, 10, 1, 16, 16)
    assert torch.isfinite(out).all()
    assert model.rollout(context, 10).shape == (2, 19, 1, 16, 16)
    assert out.min() >= 0 and out.max() <= 1.0  # ReLU, clipped to pixel_max


def test_teacher_forcing_equals_observing_the_frames(frames):
    model = _tiny()
    full = model.rollout(frames, 1)  # 5 frames observed: predictions of frames 1..5
    forced = model.rollout(frames[:, :2], 3, target=frames[:, 2:], true_mask=torch.ones(2, 3))
    assert torch.allclose(full[:, :4], forced, atol=1e-6)
    free = model.rollout(frames[:, :2], 3)
    assert torch.equal(free[:, 0], forced[:, 0])  # prediction of x_1 is made before seeing it
    assert not torch.allclose(free[:, -1], forced[:, -1])


def test_extrap_start_feeds_predictions_from_that_step(frames):
    a = _tiny(extrap_start=2).rollout(frames, 2)  # context frames 2..4 replaced by predictions
    b = _tiny().rollout(frames[:, :2], 5)
    assert torch.allclose(a, b, atol=1e-6)


def test_top_down_then_bottom_up_order(frames):
    model = _tiny(stack_channels=[1, 2, 2], r_channels=[2, 2, 2])
    calls: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    for i, cell in enumerate(model.cells):
        cell.register_forward_hook(lambda m, args, out, i=i: calls.append((i, args[0], out[0])))
    a_inputs: list[torch.Tensor] = []
    model.a_convs[0].register_forward_hook(lambda m, args, out: a_inputs.append(args[0]))
    model.rollout(frames[:, :2], 1)  # steps 0, 1 with errors, step 2 only predicts
    assert [c[0] for c in calls] == [2, 1, 0] * 3
    # R_l's input carries the upsampled R_{l+1} of the same step
    for step in range(3):
        (_, _, r2), (_, in1, r1), (_, in0, _) = calls[3 * step : 3 * step + 3]
        assert torch.equal(in1[:, 4:], F.interpolate(r2, scale_factor=2, mode="nearest"))
        assert torch.equal(in0[:, 2:], F.interpolate(r1, scale_factor=2, mode="nearest"))
    # R_0 at step 1 reads E_0 of step 0, computed bottom-up after the R pass of step 0
    assert torch.equal(calls[5][1][:, :2], a_inputs[0])
    assert torch.equal(calls[2][1][:, :2], torch.zeros_like(a_inputs[0]))  # E^{-1} = 0


def test_stlstm_memory_follows_the_top_down_order(frames):
    model = _tiny(cell="stlstm")
    calls: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    for i, cell in enumerate(model.cells):
        cell.register_forward_hook(lambda m, args, out, i=i: calls.append((i, args[2], out[2])))
    out = model(frames[:, :3], 2)
    assert torch.isfinite(out).all()
    assert [c[0] for c in calls] == [1, 0] * 5  # 3 + 2 steps
    assert torch.equal(calls[0][1], torch.zeros_like(calls[0][1]))  # zero memory at t=0
    up = F.interpolate(calls[0][2], scale_factor=2, mode="nearest")
    assert torch.equal(calls[1][1], up)  # M goes down from R_1 to R_0 within a step
    assert torch.allclose(calls[2][1], F.avg_pool2d(calls[1][2], 2))  # R_0 at t -> R_1 at t+1


@pytest.mark.parametrize("cell", ["convlstm", "stlstm"])
def test_cells_shapes_gradients_and_losses(frames, cell):
    model = _tiny(cell=cell)
    out = model(frames[:, :3], 4)
    assert out.shape == (2, 4, 1, 8, 8)
    assert model.rollout(frames[:, :3], 4).shape == (2, 6, 1, 8, 8)
    for mode in ("error", "extrapolate"):
        model = _tiny(cell=cell, train_mode=mode)
        model.training_loss(frames[:, :3], frames[:, 3:], mse_loss).backward()
        grads = [p.grad for p in model.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert sum(float(g.abs().sum()) for g in grads) > 0


def test_bad_frames_and_options_refused():
    model = _tiny(stack_channels=[1, 2, 2], r_channels=[2, 2, 2])
    with pytest.raises(ValueError, match=r"6x8 .* multiples of .* = 4"):
        model(torch.rand(1, 3, 1, 6, 8), 2)
    with pytest.raises(ValueError, match="5 dimensions"):
        model(torch.rand(3, 1, 8, 8), 2)
    with pytest.raises(ValueError, match="channels"):
        model(torch.rand(1, 3, 2, 8, 8), 2)
    with pytest.raises(ValueError, match="horizon"):
        model(torch.rand(1, 3, 1, 8, 8), 0)
    with pytest.raises(ValueError, match="patch_size=2"):
        _tiny(stack_channels=[4, 2], patch_size=2)(torch.rand(1, 3, 1, 9, 8), 2)
    with pytest.raises(ValueError, match=r"stack_channels\[0\] is 3"):
        _tiny(stack_channels=[3, 2])
    with pytest.raises(ValueError, match="r_channels has 3 entries"):
        _tiny(r_channels=[2, 2, 2])
    with pytest.raises(ValueError, match="same r_channels"):
        _tiny(cell="stlstm", r_channels=[2, 4])
    with pytest.raises(ValueError, match="layer_loss_weights"):
        _tiny(layer_loss_weights="L1")
    with pytest.raises(ValueError, match="train_mode"):
        _tiny(train_mode="errors")


def test_learns_in_extrapolation_mode():
    """Error mode alone does not beat persistence on 4-step extrapolation within this budget
    (feeding its own predictions zeroes E_0 and the forecast fades), so the learning check
    trains with the authors' extrapolation fine-tune objective."""
    options = {"stack_channels": [1, 4], "r_channels": [4, 4], "train_mode": "extrapolate"}
    r = learning_check("prednet", options, steps=60, lr=2e-2)
    assert r["trained"] < 0.5 * r["initial"]
    assert r["trained"] < r["persistence"]


def test_output_bias_starts_the_rate_output_there() -> None:
    """``output_bias`` sets the bias of Â_0's convolution only (a rate model starts at its mean
    rate, framecast.quake.network_settings); the other layers keep 0.05."""
    options = {"output_activation": "softplus", "pixel_max": None, "output_bias": -5.0}
    model = build_model("prednet", 1, options)
    assert torch.all(model.ahat_convs[0].bias == -5.0)
    assert all(torch.all(conv.bias == 0.05) for conv in model.ahat_convs[1:])
    assert torch.all(build_model("prednet", 1, {}).ahat_convs[0].bias == 0.05)
