"""The encoding-forecasting network of Shi et al. 2015 (Sec. 3.2, Fig. 3)."""

from __future__ import annotations

import pytest
import torch
from framecast_testing import learning_check

import framecast.cells.memory_flow  # registers "mflow"
import framecast.models.encoder_forecaster  # noqa: F401  (registers the model)
from framecast.cells import build_cell
from framecast.models import build_model

CELLS = ["convlstm", "stlstm", "mflow", "mflow_eq3"]
TINY = {"hidden_channels": 2, "num_layers": 2, "kernel_size": 3, "patch_size": 2}


def _tiny(cell: str = "convlstm", seed: int = 0, **kw):
    torch.manual_seed(seed)
    opts = {"cell": cell, "hidden_channels": 4, "num_layers": 3, "kernel_size": 3, "patch_size": 2}
    return build_model("encoder_forecaster", 1, {**opts, **kw})


@pytest.mark.parametrize("cell", CELLS)
def test_shapes_and_future_only(cell, frames):
    model = _tiny(cell)
    assert model.rollout(frames[:, :3], 4).shape == (2, 4, 1, 8, 8)
    out = model(frames[:, :3], 4)
    assert out.shape == (2, 4, 1, 8, 8)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("cell", CELLS)
def test_encoder_states_are_copied_into_forecaster(cell, frames):
    """The forecaster's first step starts from the encoder's last states and memory M."""
    model = _tiny(cell)
    enc_out: list[tuple] = []
    fc_in: list[tuple] = []
    model.encoder.register_forward_hook(lambda mod, args, out: enc_out.append(out[1]))
    model.forecaster.register_forward_hook(lambda mod, args, out: fc_in.append(args[1]))
    model(frames[:, :3], 2)
    assert len(enc_out) == 3 and len(fc_in) == 2
    (enc_states, enc_memory), (fc_states, fc_memory) = enc_out[-1], fc_in[0]
    for s_enc, s_fc in zip(enc_states, fc_states, strict=True):
        assert all(a is b for a, b in zip(s_enc, s_fc, strict=True))
    assert fc_memory is enc_memory
    assert (enc_memory is None) == (cell == "convlstm")


def test_encoder_and_forecaster_have_their_own_weights():
    model = _tiny()
    enc = {id(p) for p in model.encoder.parameters()}
    assert not enc & {id(p) for p in model.forecaster.parameters()}


@pytest.mark.parametrize("cell", CELLS)
def test_forecaster_gets_no_input(cell, frames):
    model = _tiny(cell)
    seen: list[torch.Tensor] = []
    model.forecaster.register_forward_hook(lambda mod, args, out: seen.append(args[0]))
    model(frames[:, :3], 3)
    assert len(seen) == 3
    assert all(x.shape == (2, 0, 4, 4) for x in seen)  # no channels at all
    assert model.forecaster.cells[0].in_channels == 0


@pytest.mark.parametrize("cell", CELLS)
def test_forecaster_lacks_exactly_the_input_weights(cell):
    """The stacks differ by the bottom cell's input weights, which the forecaster does not have."""
    model = _tiny(cell)
    n_enc = sum(p.numel() for p in model.encoder.parameters())
    n_fc = sum(p.numel() for p in model.forecaster.parameters())
    count = lambda c: sum(p.numel() for p in c.parameters())  # noqa: E731
    fed = count(build_cell(cell, model.frame_channels, 4, 3))
    unfed = count(build_cell(cell, 0, 4, 3))
    assert n_enc - n_fc == fed - unfed > 0


def test_forecaster_ignores_target_and_mask(frames):
    """No frame is fed back: changing target or true_mask changes nothing."""
    model = _tiny("stlstm")
    ctx, tgt = frames[:, :2], frames[:, 2:]
    free = model.rollout(ctx, 3)
    forced = model.rollout(ctx, 3, target=tgt, true_mask=torch.ones(2, 3))
    other = model.rollout(ctx, 3, target=torch.rand_like(tgt), true_mask=torch.zeros(2, 3))
    assert torch.equal(free, forced) and torch.equal(free, other)


def test_output_uses_every_layers_hidden_state(frames):
    """The 1x1 head reads the concatenated hidden states of all forecaster layers."""
    widths = [3, 4, 5]
    model = _tiny(hidden_channels=widths, cell="convlstm")
    assert model.head.in_channels == sum(widths) and model.head.kernel_size == (1, 1)
    hs: list[list[torch.Tensor]] = []
    heads: list[torch.Tensor] = []
    model.forecaster.register_forward_hook(lambda mod, args, out: hs.append(out[0]))
    model.head.register_forward_hook(lambda mod, args, out: heads.append(args[0]))
    model(frames[:, :3], 2)
    for layers, head_in in zip(hs, heads, strict=True):
        assert torch.equal(head_in, torch.cat(layers, dim=1))
    base = model(frames[:, :3], 1)
    lo = 0
    for width in widths:  # silence one layer's slice of the head: the output moves
        with torch.no_grad():
            saved = model.head.weight[:, lo : lo + width].clone()
            model.head.weight[:, lo : lo + width] = 0
            changed = model(frames[:, :3], 1)
            model.head.weight[:, lo : lo + width] = saved
        assert not torch.allclose(base, changed)
        lo += width


def test_output_activation_sigmoid(frames):
    out = _tiny(output_activation="sigmoid")(frames[:, :3], 3)
    assert out.min() >= 0 and out.max() <= 1


def test_training_loss_scores_the_future(frames):
    model = _tiny()
    ctx, tgt = frames[:, :3], frames[:, 3:]
    loss = model.training_loss(ctx, tgt, torch.nn.functional.mse_loss)
    assert torch.allclose(loss, ((model(ctx, 2) - tgt) ** 2).mean())


def test_bad_inputs_refused():
    model = _tiny()
    with pytest.raises(ValueError, match="5 dimensions"):
        model(torch.rand(3, 1, 8, 8), 2)
    with pytest.raises(ValueError, match="channels"):
        model(torch.rand(1, 3, 2, 8, 8), 2)
    with pytest.raises(ValueError, match="horizon"):
        model(torch.rand(1, 3, 1, 8, 8), 0)
    with pytest.raises(ValueError, match="patch_size=2"):
        model(torch.rand(1, 3, 1, 9, 8), 2)
    with pytest.raises(ValueError, match="output_activation"):
        _tiny(output_activation="relu")
    with pytest.raises(ValueError, match="same hidden_channels"):
        _tiny(cell="stlstm", hidden_channels=[2, 3, 4])


@pytest.mark.parametrize("cell", CELLS)
def test_every_parameter_gets_a_gradient(cell, frames):
    """No dead weights: the encoder learns through the copied states, the forecaster too."""
    torch.manual_seed(5)
    model = build_model("encoder_forecaster", 1, {**TINY, "cell": cell})
    loss = model.training_loss(frames[:, :3], frames[:, 3:], torch.nn.functional.mse_loss)
    loss.backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not dead


def test_encoder_forecaster_learns():
    opts = {"hidden_channels": 8, "num_layers": 2, "kernel_size": 3, "patch_size": 4}
    r = learning_check("encoder_forecaster", opts, steps=60, lr=2e-2)
    assert r["trained"] < 0.5 * r["initial"]
    assert r["trained"] < r["persistence"]
