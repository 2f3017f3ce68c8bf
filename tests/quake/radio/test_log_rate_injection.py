"""The ``log_rate`` side input: starts as the plain network, sees the past only, learns."""

from __future__ import annotations

import pytest
import torch

from framecast.models import build_model
from framecast.models.side_inputs import MLPEncoder, pack_side, packed_channels
from framecast.training.losses import poisson_loss

SIDE = (2, 4, 6)  # (2 x stations, frequency rows, slots)
H = W = 8
P = packed_channels(SIDE, H, W)
INNER = {
    "cell": "convlstm",
    "hidden_channels": 4,
    "num_layers": 1,
    "kernel_size": 3,
    "patch_size": 2,
    "output_activation": "exp",
}


def _wrapper(seed: int = 0, **options: object) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(
        "side_input",
        1 + P,
        {
            "model": "predrnn",
            "model_options": INNER,
            "side_shape": list(SIDE),
            "side_channels": P,
            "encoder": "mlp",
            "encoder_options": {"pool_input": [1, 2], "hidden": 8},
            "injection": "log_rate",
            "side_dim": 2,
            **options,
        },
    )


def _frames(batch: int = 3, steps: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    counts = torch.poisson(torch.full((batch, steps, 1, H, W), 0.3), generator=g)
    side = torch.randn(batch, steps, *SIDE, generator=g)
    return torch.cat([counts, pack_side(side, H, W)], dim=2)  # (B, T, 1+P, H, W)


def test_untrained_wrapper_is_the_plain_network_with_its_initial_weights():
    wrapper = _wrapper(seed=3)
    torch.manual_seed(3)
    plain = build_model("predrnn", 1, INNER)
    # the wrapped network is built first and takes the plain channels: the same weights
    for (name, a), (_, b) in zip(
        wrapper.inner.named_parameters(), plain.named_parameters(), strict=True
    ):
        assert torch.equal(a, b), name
    x = _frames()
    with torch.no_grad():
        ratio = wrapper(x[:, :5], 1)[:, :, :1] / plain(x[:, :5, :1], 1)  # (B, 1, 1, H, W)
    assert ratio.shape == (3, 1, 1, H, W)
    # a shift of about 0, the same for every cell of a map, not the same for every sample
    assert float((ratio - 1).abs().max()) < 0.05
    assert torch.allclose(ratio, ratio[..., :1, :1].expand_as(ratio))
    assert float(ratio.std()) > 0


def test_forecast_of_a_bin_uses_the_side_of_the_bin_before_it_only():
    wrapper = _wrapper()
    x = _frames()
    with torch.no_grad():
        wrapper.injection.to_shift.weight.normal_()  # a clear effect of the side vector
        base = wrapper.rollout(x[:, :4], 2, target=x[:, 4:6])  # (B, 5, 1+P, H, W)
        later = x.clone()
        later[:, 5, 1:] = pack_side(torch.randn(3, *SIDE), H, W)  # side of the last frame
        same = wrapper.rollout(later[:, :4], 2, target=later[:, 4:6])
        earlier = x.clone()
        earlier[:, 3, 1:] = pack_side(torch.randn(3, *SIDE), H, W)  # side of frame 3
        moved = wrapper.rollout(earlier[:, :4], 2, target=earlier[:, 4:6])
    # no forecast reads the side of the frame it forecasts (frame 5 here)
    assert torch.equal(base[:, :, :1], same[:, :, :1])
    # the forecast of frame 4 reads frame 3's side; forecasts of frames 1..3 do not
    assert torch.equal(base[:, :2, :1], moved[:, :2, :1])
    assert not torch.allclose(base[:, 3, :1], moved[:, 3, :1])


def test_beyond_the_context_the_last_known_side_is_used():
    wrapper = _wrapper()
    x = _frames()
    with torch.no_grad():
        wrapper.injection.to_shift.weight.normal_()
        forecast = wrapper(x[:, :4], 3)  # (B, 3, 1+P, H, W)
        inner = wrapper.inner(x[:, :4, :1], 3)  # (B, 3, 1, H, W)
        vector = wrapper.encode(x[:, :4, :1], wrapper.split(x[:, :4])[1])[:, -1]  # (B, V)
        factor = torch.exp(wrapper.injection.to_shift(vector))  # (B, 1)
    expected = inner * factor[:, None, :, None, None]
    assert torch.allclose(forecast[:, :, :1], expected, rtol=1e-5)


def test_a_planted_precursor_is_learned_in_a_few_steps():
    """Counts double after a side image whose rows 1-2 are raised: the shift learns it."""
    g = torch.Generator().manual_seed(1)
    b, t = 16, 6
    alarm = torch.rand(b, t, generator=g) < 0.3  # (B, T) side of frame j raised
    side = torch.randn(b, t, *SIDE, generator=g)
    side[:, :, 0, 1:3] += 3.0 * alarm[..., None, None]
    rate = torch.full((b, t), 0.2)
    rate[:, 1:] *= 1 + 3.0 * alarm[:, :-1]  # frame j+1 follows frame j's alarm
    counts = torch.poisson(rate[..., None, None, None].expand(b, t, 1, H, W), generator=g)
    x = torch.cat([counts, pack_side(side, H, W)], dim=2)  # (B, T, 1+P, H, W)
    wrapper = _wrapper()

    def loss_fn(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
        return poisson_loss(pred[:, :, :1], truth[:, :, :1])

    opt = torch.optim.Adam(wrapper.parameters(), lr=0.03)
    for _ in range(60):
        opt.zero_grad()
        wrapper.training_loss(x[:, :5], x[:, 5:], loss_fn).backward()
        opt.step()
    with torch.no_grad():
        vectors = wrapper.encode(x[:, :, :1], wrapper.split(x)[1])  # (B, T, V)
        shift = wrapper.injection.to_shift(vectors)[..., 0]  # (B, T)
    gap = float(shift[alarm].mean() - shift[~alarm].mean())
    assert gap > 0.5, gap  # log 4 = 1.39 is the truth; untrained, the gap is about 0


def test_mlp_pool_input_shrinks_the_weights_and_checks_its_value():
    full = MLPEncoder(2, 3, image_shape=(16, 24), hidden=8)
    pooled = MLPEncoder(2, 3, image_shape=(16, 24), hidden=8, pool_input=[1, 4])
    assert full.net[1].in_features == 2 * 16 * 24
    assert pooled.net[1].in_features == 2 * 16 * 6
    assert pooled(torch.randn(5, 2, 16, 24)).shape == (5, 3)
    assert MLPEncoder(2, 3, (16, 24), pool_input=[1, 5]).net[1].in_features == 2 * 16 * 5
    with pytest.raises(ValueError, match=r"pool_input must be two integers >= 1, got \[1, 0\]"):
        MLPEncoder(2, 3, (16, 24), pool_input=[1, 0])
