"""side_input over every architecture: shapes, end-to-end gradients, the side input matters."""

from __future__ import annotations

import pytest
import torch
from framecast_testing import TINY_MODEL_OPTIONS, core_models

from framecast.models import MODELS, build_model
from framecast.models.side_inputs import SIDE_INPUTS, pack_side, packed_channels, unpack_side
from framecast.training.losses import mse_loss

SIDE = (2, 5, 6)  # (2 x stations, frequency rows, slots)
H = W = 8
P = packed_channels(SIDE, H, W)
CELLS = {"predrnn": ["convlstm", "stlstm"]}
ARCHITECTURES = [
    (name, cell)
    for name in core_models()
    if name != "side_input" and MODELS.get(name).trainable
    for cell in CELLS.get(name, [None])
]


def _model(name, cell, injection, seed=0):
    torch.manual_seed(seed)
    options = {**TINY_MODEL_OPTIONS[name], **({"cell": cell} if cell else {})}
    inner_channels = 1 + 3 if injection == "broadcast_channels" else 1
    if name == "prednet":  # its first stack layer is the frame itself
        options["stack_channels"] = [inner_channels, 2]
    return build_model(
        "side_input",
        1 + P,
        {
            "model": name,
            "model_options": options,
            "side_shape": list(SIDE),
            "side_channels": P,
            "side_dim": 3,
            "injection": injection,
        },
    )


def _frames(seed=0):
    g = torch.Generator().manual_seed(seed)
    frames = torch.rand(2, 5, 1, H, W, generator=g)
    side = torch.randn(2, 5, *SIDE, generator=g)
    return torch.cat([frames, pack_side(side, H, W)], dim=2), side  # (B, T, 1+P, H, W)


def test_pack_round_trip():
    _, side = _frames()
    packed = pack_side(side, H, W)
    assert packed.shape == (2, 5, P, H, W)
    assert torch.equal(unpack_side(packed, SIDE), side)
    with pytest.raises(ValueError, match="side_shape must be three positive integers"):
        unpack_side(packed, (2, 0, 3))


@pytest.mark.parametrize("injection", SIDE_INPUTS.available())
@pytest.mark.parametrize(
    ("name", "cell"), ARCHITECTURES, ids=[f"{n}-{c}" for n, c in ARCHITECTURES]
)
def test_every_architecture_trains_through_the_side_input(name, cell, injection):
    model = _model(name, cell, injection)
    x, _ = _frames()
    out = model(x[:, :3], 2)
    assert out.shape == (2, 2, 1 + P, H, W)
    assert torch.equal(out[:, -1, 1:], x[:, 2, 1:])  # side channels: the last known side
    loss = model.training_loss(x[:, :3], x[:, 3:], mse_loss, true_mask=torch.ones(2, 3))
    loss.backward()
    grads = [p.grad for p in model.encoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0  # trained end to end
    # the forecast depends on the side input of the context
    x2 = x.clone()
    x2[:, :3, 1:] = pack_side(torch.randn(2, 3, *SIDE), H, W)
    with torch.no_grad():
        assert not torch.allclose(model(x[:, :3], 1), model(x2[:, :3], 1)[:, :, :])


def test_checkpoint_config_round_trip(tmp_path):
    from framecast.models import ForecastModel

    model = _model("predrnn", "stlstm", "film", seed=1)
    assert isinstance(model.inner, ForecastModel) and model.inner.in_channels == 1
    again = _model("predrnn", "stlstm", "film", seed=2)
    again.load_state_dict(model.state_dict())
    x, _ = _frames()
    with torch.no_grad():
        assert torch.equal(model(x[:, :3], 1), again(x[:, :3], 1))


def test_bad_options_fail_in_one_line():
    with pytest.raises(ValueError, match="leaves no frame channel"):
        build_model("side_input", P, {"side_shape": list(SIDE), "side_channels": P})
    with pytest.raises(KeyError, match="unknown side input 'concat'"):
        build_model("side_input", 1 + P, {"side_channels": P, "injection": "concat"})
    with pytest.raises(ValueError, match="cannot wrap itself"):
        build_model("side_input", 1 + P, {"side_channels": P, "model": "side_input"})


def test_without_side_channels_a_learned_vector_replaces_the_encoder():
    torch.manual_seed(0)
    options = {**TINY_MODEL_OPTIONS["predrnn"], "cell": "convlstm"}
    model = build_model(
        "side_input", 1, {"model": "predrnn", "model_options": options, "side_channels": 0}
    )
    assert model.encoder is None and model.absent is not None
    x = torch.rand(2, 5, 1, H, W)
    model.training_loss(x[:, :3], x[:, 3:], mse_loss, true_mask=torch.ones(2, 3)).backward()
    assert model.absent.grad is not None and float(model.absent.grad.abs().sum()) > 0
    with pytest.raises(KeyError, match="unknown side encoder 'cnn'"):
        build_model("side_input", 1, {"side_channels": 0, "encoder": "cnn"})


def test_conv_pool_pooled_input_is_cheaper_and_still_sees_the_image():
    from framecast.models.side_inputs import ConvPoolEncoder

    torch.manual_seed(0)
    full = ConvPoolEncoder(2, 3)
    pooled = ConvPoolEncoder(2, 3, pool_input=[1, 4])
    pooled.load_state_dict(full.state_dict())  # same weights: only the input differs
    images = torch.randn(5, 2, 16, 24)
    out = pooled(images)
    assert out.shape == (5, 3)
    assert not torch.allclose(out, full(images))
    # pooling averages time slots: an image constant within 4-slot blocks encodes alike
    blocks = images[..., ::4].repeat_interleave(4, dim=-1)  # (5, 2, 16, 24)
    assert torch.allclose(pooled(blocks), full(blocks[..., ::4]), atol=1e-6)
    odd = ConvPoolEncoder(2, 3, pool_input=[1, 5])(images)  # 24 slots: ceil to 5 columns
    assert odd.shape == (5, 3) and torch.isfinite(odd).all()
    with pytest.raises(ValueError, match=r"pool_input must be two integers >= 1, got \[0, 2\]"):
        ConvPoolEncoder(2, 3, pool_input=[0, 2])
