"""PredRNN-V2 (Wang et al. 2022): decoupling loss on the memory increments."""

from __future__ import annotations

import pytest
import torch
from framecast_testing import learning_check

from framecast.models import build_model
from framecast.models.predrnn_v2 import decoupling_loss
from framecast.training.losses import mse_loss

TINY = {"hidden_channels": 4, "num_layers": 2, "kernel_size": 3, "patch_size": 2}


def test_decoupling_loss_is_mean_absolute_cosine():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2, 3, 4, 4, generator=g)
    assert float(decoupling_loss(a, -2 * a)) == pytest.approx(1.0)
    b = torch.zeros_like(a)
    b[..., :2, :] = 1.0
    c = torch.zeros_like(a)
    c[..., 2:, :] = 1.0
    assert float(decoupling_loss(b, c)) == pytest.approx(0.0)
    ref = torch.cosine_similarity(a[0, 1].flatten(), b[0, 1].flatten(), dim=0).abs()
    assert float(decoupling_loss(a[:1, 1:2], b[:1, 1:2])) == pytest.approx(float(ref))


@pytest.mark.parametrize("cell", ["stlstm", "causal_lstm"])
def test_training_loss_adds_beta_times_decoupling(cell, frames):
    torch.manual_seed(0)
    model = build_model("predrnn_v2", 1, {**TINY, "cell": cell, "decouple_beta": 0.5})
    context, target = frames[:, :3], frames[:, 3:]
    increments: list[tuple[torch.Tensor, torch.Tensor]] = []

    def keep(mod, args, out) -> None:
        increments.append(mod.increments)

    for c in model.stack.cells:
        c.register_forward_hook(keep)
    total = model.training_loss(context, target, mse_loss)
    preds = model.rollout(context, 2)
    frame_loss = mse_loss(preds, torch.cat([context[:, 1:], target], 1))
    expected = torch.stack(
        [decoupling_loss(model.adapter(dc), model.adapter(dm)) for dc, dm in increments[:8]]
    )
    assert len(increments) == 16 and increments[8] is None  # recording only while training_loss
    assert torch.allclose(total, frame_loss + 0.5 * expected.mean(), atol=1e-6)
    model.zero_grad()
    total.backward()
    assert model.adapter.weight.grad is not None and model.adapter.weight.grad.abs().sum() > 0


def test_cell_without_memory_refused():
    with pytest.raises(ValueError, match="cannot run cell 'convlstm'; valid cells"):
        build_model("predrnn_v2", 1, {**TINY, "cell": "convlstm"})
    with pytest.raises(ValueError, match="decouple_beta"):
        build_model("predrnn_v2", 1, {**TINY, "decouple_beta": -1.0})


def test_predrnn_v2_learns_moving_squares():
    options = {"hidden_channels": 8, "num_layers": 2, "kernel_size": 3, "patch_size": 4}
    r = learning_check("predrnn_v2", options, steps=60, lr=1e-2, batch_size=4)
    assert r["trained"] < 0.65 * r["initial"]
    assert r["trained"] < r["persistence"]
