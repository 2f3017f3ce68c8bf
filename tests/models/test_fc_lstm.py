"""FC-LSTM composite autoencoder (Srivastava et al. 2015)."""

from __future__ import annotations

import pytest
import torch
from framecast_testing import learning_check

import framecast.cells.vector  # registers lstm, gru, rnn
import framecast.models.fc_lstm  # noqa: F401  (registers fc_lstm)
from framecast.data import build_dataset
from framecast.models import build_model, compatible_cells
from framecast.models.fc_lstm import FCLSTM
from framecast.training.losses import mse_loss

TINY = {"frame_size": 8, "hidden_size": 8}


def _tiny(seed: int = 0, **kw) -> FCLSTM:
    torch.manual_seed(seed)
    return build_model("fc_lstm", 1, {**TINY, **kw})


def _cell_inputs(stack) -> list[torch.Tensor]:
    """Record the input vector of the bottom cell of ``stack`` at every step."""
    seen: list[torch.Tensor] = []
    stack.cells[0].register_forward_hook(lambda mod, args, out: seen.append(args[0]))
    return seen


def test_compatible_cells_are_the_vector_cells():
    assert set(compatible_cells("fc_lstm")) >= {"lstm", "gru", "rnn"}
    assert "convlstm" not in compatible_cells("fc_lstm")


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_shapes_range_and_finite_gradients(cell, frames):
    model = _tiny(cell=cell, num_layers=2, conditional=True)
    context, target = frames[:, :3], frames[:, 3:]
    out = model(context, 4)
    assert out.shape == (2, 4, 1, 8, 8)
    assert model.rollout(context, 4).shape == (2, 4, 1, 8, 8)  # future frames only
    assert out.min() >= 0 and out.max() <= 1  # sigmoid outputs
    loss = model.training_loss(context, target, mse_loss, true_mask=torch.ones(2, 3))
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)


def test_training_loss_is_future_plus_weighted_reversed_reconstruction(frames):
    """Sec. 2.3: the reconstruction is scored against the context in reverse order."""
    model = _tiny(reconstruction_weight=0.5)
    context, target = frames[:, :3], frames[:, 3:]
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def recording_mse(pred, truth):
        calls.append((pred, truth))
        return mse_loss(pred, truth)

    loss = model.training_loss(context, target, recording_mse)
    (future, truth_f), (recon, truth_r) = calls
    assert torch.equal(truth_f, target) and torch.equal(future, model.rollout(context, 2))
    assert torch.equal(truth_r, context.flip(1))
    rep = model.encode(context)
    assert torch.equal(recon, model.reconstruct(rep, 3, context))
    assert torch.allclose(loss, mse_loss(future, target) + 0.5 * mse_loss(recon, context.flip(1)))
    # reconstruction_weight 0 trains the future predictor alone
    calls.clear()
    _tiny(reconstruction_weight=0.0).training_loss(context, target, recording_mse)
    assert len(calls) == 1


def test_reconstruction_learns_the_reversed_order():
    """Trained on random sequences, the reconstructor outputs v_T first and v_1 last."""
    torch.manual_seed(0)
    model = build_model("fc_lstm", 1, {"frame_size": 2, "hidden_size": 32, "conditional": True})
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        seq = torch.rand(16, 4, 1, 2, 2, generator=g)
        loss = model.training_loss(seq[:, :3], seq[:, 3:], mse_loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    ctx = torch.rand(64, 3, 1, 2, 2, generator=g)
    with torch.no_grad():
        recon = model.reconstruct(model.encode(ctx), 3, ctx)
    reversed_err = float(mse_loss(recon, ctx.flip(1)))
    assert reversed_err < 0.5 * float(mse_loss(recon, ctx))
    assert reversed_err < 0.5 * float(mse_loss(ctx.mean(dim=(0, 1)).expand_as(ctx), ctx))


def test_conditional_decoders_are_fed_previous_outputs(frames):
    model = _tiny(conditional=True)
    context = frames[:, :3]
    rec_in, pred_in = _cell_inputs(model.reconstructor), _cell_inputs(model.predictor)
    with torch.no_grad():
        future = model.rollout(context, 3)
        recon = model.reconstruct(model.encode(context), 3, context)
    assert torch.equal(pred_in[0], context[:, -1].flatten(1))  # first input: last context frame
    for k in (1, 2):
        assert torch.equal(pred_in[k], future[:, k - 1].flatten(1))
    assert not rec_in[0].any()  # the reconstructor starts from zeros (Fig. 2)
    for k in (1, 2):
        assert torch.equal(rec_in[k], recon[:, k - 1].flatten(1))


def test_unconditioned_decoders_get_no_input_and_differ_from_conditional(frames):
    context = frames[:, :3]
    free = _tiny()
    rec_in, pred_in = _cell_inputs(free.reconstructor), _cell_inputs(free.predictor)
    with torch.no_grad():
        out_free = free.rollout(context, 3)
        free.reconstruct(free.encode(context), 3, context)
    assert len(pred_in) == len(rec_in) == 3
    assert all(x.shape == (2, 1) and not x.any() for x in pred_in + rec_in)  # no input
    cond = _tiny(conditional=True)
    assert free.predictor.cells[0].in_channels == 1
    assert cond.predictor.cells[0].in_channels == cond.reconstructor.cells[0].in_channels == 64
    # the same encoder and read-out weights; only the decoders' inputs differ
    cond.load_state_dict(
        {k: v for k, v in free.state_dict().items() if "cells.0.cell.weight_ih" not in k},
        strict=False,
    )
    assert not torch.allclose(out_free, cond.rollout(context, 3))


def test_teacher_forcing_follows_the_future_part_of_the_mask(frames):
    context, target = frames[:, :2], frames[:, 2:5]  # Tc = 2, horizon = 3: mask (B, 3)
    model = _tiny(conditional=True)
    pred_in = _cell_inputs(model.predictor)
    mask = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # column 0: a context input
    with torch.no_grad():
        out = model.rollout(context, 3, target=target, true_mask=mask)
    assert torch.equal(pred_in[1][0], target[0, 0].flatten())  # sample 0: true v_3 fed
    assert torch.equal(pred_in[1][1], out[1, 0].flatten())  # sample 1: its own prediction
    assert torch.equal(pred_in[2][0], out[0, 1].flatten())
    assert torch.equal(pred_in[2][1], target[1, 1].flatten())
    # an unconditioned model ignores the mask
    free = _tiny()
    forced = free.rollout(context, 3, target=target, true_mask=torch.ones(2, 3))
    assert torch.equal(forced, free.rollout(context, 3))


def test_bad_inputs_refused(frames):
    model = _tiny(conditional=True)
    with pytest.raises(ValueError, match=r"16x8 but this fc_lstm was built for frame_size=8x8"):
        model(torch.rand(1, 3, 1, 16, 8), 2)
    with pytest.raises(ValueError, match="5 dimensions"):
        model(torch.rand(3, 1, 8, 8), 2)
    with pytest.raises(ValueError, match="channels"):
        model(torch.rand(1, 3, 2, 8, 8), 2)
    with pytest.raises(ValueError, match="horizon"):
        model(frames[:, :3], 0)
    with pytest.raises(ValueError, match="true_mask must have shape"):
        model.rollout(frames[:, :3], 2, target=frames[:, 3:], true_mask=torch.ones(2, 2))
    with pytest.raises(ValueError, match="no target"):
        model.rollout(frames[:, :3], 2, true_mask=torch.ones(2, 3))
    with pytest.raises(ValueError, match="frame_size"):
        build_model("fc_lstm", 1, {"frame_size": (8, 0)})
    with pytest.raises(ValueError, match="reconstruction_weight"):
        build_model("fc_lstm", 1, {"reconstruction_weight": -1.0})
    with pytest.raises(ValueError, match="output_activation"):
        build_model("fc_lstm", 1, {"output_activation": "tanh"})


def test_rectangular_frames():
    torch.manual_seed(0)
    model = build_model("fc_lstm", 2, {"frame_size": [4, 6], "hidden_size": 8})
    assert model(torch.rand(1, 3, 2, 4, 6), 2).shape == (1, 2, 2, 4, 6)


@pytest.mark.parametrize("cell", ["convlstm", "stlstm"])
def test_convolutional_cell_refused(cell):
    with pytest.raises(ValueError, match=f"runs vector cells, and cell '{cell}' is a conv cell"):
        build_model("fc_lstm", 1, {**TINY, "cell": cell})
    with pytest.raises(ValueError, match="needs a vector cell such as lstm"):
        FCLSTM(1, frame_size=8, hidden_size=8, cell=cell)


def test_vector_cell_refused_by_a_convolutional_model():
    with pytest.raises(ValueError, match="runs conv cells, and cell 'lstm' is a vector cell"):
        build_model("predrnn", 1, {"cell": "lstm"})


def test_learns_moving_squares():
    options = {"frame_size": 40, "hidden_size": 64, "conditional": True}
    r = learning_check("fc_lstm", options, steps=100, lr=1e-2)
    assert r["trained"] < 0.5 * r["initial"]
    assert r["trained"] < r["persistence"]
    # and better than a blank forecast, which also beats persistence on moving squares
    val = build_dataset(
        "moving_squares", "val", n_context=4, n_target=4, options={"num_sequences": 16}
    )
    blank = float(torch.stack([val[i][1] for i in range(len(val))]).pow(2).mean())
    assert r["trained"] < 0.97 * blank
