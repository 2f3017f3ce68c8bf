"""SimVP (Inception-U, gSTA) and TAU: one-pass forecasts, longer horizons, the DDR loss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from framecast_testing import TINY_MODEL_OPTIONS, learning_check

from framecast.models import build_model
from framecast.models.tau import differential_divergence
from framecast.training.losses import mse_loss


@pytest.mark.parametrize("translator", ["incepu", "gsta"])
def test_simvp_forecasts_any_horizon_in_blocks(translator, frames):
    torch.manual_seed(0)
    opts = {**TINY_MODEL_OPTIONS["simvp"], "translator": translator, "temporal_channels": 16}
    model = build_model("simvp", 1, opts).eval()
    context = frames[:, :3]
    with torch.no_grad():
        first = model.predict_block(context)  # (B, 3, 1, 8, 8)
        assert torch.equal(model(context, 2), first[:, :2])
        long = model(context, 7)  # 3 + 3 + 1: the forecast is fed back in
        assert torch.allclose(long[:, 3:6], model.predict_block(first), atol=1e-6)
    assert long.shape == (2, 7, 1, 8, 8)


def test_simvp_refuses_bad_input(frames):
    model = build_model("simvp", 1, TINY_MODEL_OPTIONS["simvp"])
    with pytest.raises(ValueError, match="context has 4 frames, this SimVP takes context_frames=3"):
        model(frames[:, :4], 2)
    with pytest.raises(ValueError, match="frame size 9x8 must be a multiple of 2"):
        model(torch.rand(1, 3, 1, 9, 8), 2)
    with pytest.raises(ValueError, match="unknown translator 'vit'"):
        build_model("simvp", 1, {**TINY_MODEL_OPTIONS["simvp"], "translator": "vit"})
    with pytest.raises(ValueError, match="spatial_layers must be an even integer"):
        build_model("simvp", 1, {**TINY_MODEL_OPTIONS["simvp"], "spatial_layers": 3})


def test_differential_divergence_matches_kl_of_softmaxed_differences():
    g = torch.Generator().manual_seed(0)
    pred, truth = torch.rand(2, 4, 1, 3, 3, generator=g), torch.rand(2, 4, 1, 3, 3, generator=g)
    p = F.softmax((pred[:, 1:] - pred[:, :-1]).reshape(2, 3, -1) / 0.1, -1)
    q = F.softmax((truth[:, 1:] - truth[:, :-1]).reshape(2, 3, -1) / 0.1, -1)
    expected = (p * torch.log(p / q)).mean()
    assert torch.allclose(differential_divergence(pred, truth, 0.1), expected, atol=1e-6)
    assert float(differential_divergence(truth, truth)) == pytest.approx(0.0, abs=1e-7)
    assert float(differential_divergence(pred[:, :2], truth[:, :2])) == 0.0


def test_tau_loss_is_mse_plus_alpha_ddr(frames):
    torch.manual_seed(0)
    model = build_model("tau", 1, {**TINY_MODEL_OPTIONS["tau"], "alpha": 0.5})
    context, target = frames[:, :3], frames[:, 2:]  # 3 targets (horizon = T)
    loss = model.training_loss(context, target, mse_loss)
    preds = model.rollout(context, 3)
    expected = mse_loss(preds, target) + 0.5 * differential_divergence(preds, target, 0.1)
    assert torch.allclose(loss, expected, atol=1e-6)


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        # Inception-U's 11x11 branches make it the slow one (about 20 s)
        pytest.param("simvp", {"translator": "incepu"}, marks=pytest.mark.slow),
        ("simvp", {"translator": "gsta"}),
        ("tau", {}),
    ],
)
def test_learns_moving_squares(model, extra):
    options = {
        "context_frames": 4,
        "spatial_channels": 8,
        "temporal_channels": 32,
        "spatial_layers": 2,
        "temporal_layers": 2,
        "mlp_ratio": 2.0,
        **extra,
    }
    r = learning_check(model, options, steps=60, lr=1e-2, batch_size=4)
    assert r["trained"] < 0.65 * r["initial"]
    assert r["trained"] < r["persistence"]
