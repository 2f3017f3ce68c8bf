"""PredNet's extrapolation fine-tune loss as the authors' Keras code (kitti_extrap_finetune.py)."""

from __future__ import annotations

import pytest
import torch

from framecast.models import build_model

TINY = {"stack_channels": [1, 2], "r_channels": [2, 2], "kernel_size": 3}


def _model(mode: str, **kw):
    torch.manual_seed(0)
    return build_model("prednet", 1, {**TINY, "train_mode": mode, **kw})


def test_keras_loss_is_half_the_mae_over_every_step_after_the_first(frames):
    model = _model("extrapolate_keras")
    ctx, tgt = frames[:, :3], frames[:, 3:]
    loss = model.training_loss(ctx, tgt, torch.nn.functional.mse_loss)  # loss_fn unused
    preds = model.rollout(ctx, 2, target=tgt)  # Â_0^t, t = 1..4; true frames up to the context
    expected = 0.5 * (preds - frames[:, 1:]).abs().mean()
    torch.testing.assert_close(loss, expected)
    # the context steps count too: a loss over the future frames alone differs
    future = 0.5 * (preds[:, -2:] - tgt).abs().mean()
    assert not torch.isclose(loss, future)


def test_keras_loss_feeds_predictions_after_extrap_start(frames):
    """Changing a target frame changes the loss only through its score, not the inputs."""
    model = _model("extrapolate_keras")
    ctx, tgt = frames[:, :3], frames[:, 3:]
    other = tgt.clone()
    other[:, 0] = 0.0  # x_3 is never fed (extrapolation starts at 3), only scored
    preds_a = model.rollout(ctx, 2, target=tgt)
    preds_b = model.rollout(ctx, 2, target=other)
    torch.testing.assert_close(preds_a, preds_b)
    assert model.training_loss(ctx, tgt, None) != model.training_loss(ctx, other, None)


def test_keras_and_framecast_extrapolation_are_both_offered(frames):
    ctx, tgt = frames[:, :3], frames[:, 3:]
    l1 = torch.nn.functional.l1_loss
    keras = _model("extrapolate_keras").training_loss(ctx, tgt, l1)
    future = _model("extrapolate").training_loss(ctx, tgt, l1)
    assert not torch.isclose(keras, future)


def test_unknown_train_mode_is_refused():
    with pytest.raises(ValueError, match="unknown train_mode 'keras'; expected one of"):
        _model("keras")


def test_gradients_reach_every_weight(frames):
    model = _model("extrapolate_keras")
    model.training_loss(frames[:, :3], frames[:, 3:], None).backward()
    assert all(p.grad is not None for p in model.parameters())
