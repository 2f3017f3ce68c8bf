"""Contract tests over every model of the core x every compatible cell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from framecast_testing import TINY_MODEL_OPTIONS, core_models

from framecast import load
from framecast.config import Config
from framecast.models import build_model, compatible_cells
from framecast.training.losses import mse_loss


def _pairs() -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for name in core_models():
        cells = compatible_cells(name)
        pairs += [(name, cell) for cell in cells] if cells else [(name, None)]
    return pairs


PAIRS = _pairs()
IDS = [f"{m}-{c}" if c else m for m, c in PAIRS]


def _options(model: str, cell: str | None) -> dict[str, Any]:
    if model not in TINY_MODEL_OPTIONS:
        pytest.fail(
            f"model {model!r} has no entry in TINY_MODEL_OPTIONS: add one to run its contract"
        )
    return {**TINY_MODEL_OPTIONS[model], **({"cell": cell} if cell else {})}


def _build(model: str, cell: str | None, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(model, 1, _options(model, cell))


@pytest.mark.parametrize(("model_name", "cell"), PAIRS, ids=IDS)
def test_output_shapes(model_name, cell, frames):
    model = _build(model_name, cell)
    context = frames[:, :3]
    out = model(context, 4)
    assert out.shape == (2, 4, 1, 8, 8)
    # step-wise models predict every next frame, others only the future
    assert model.rollout(context, 4).shape[1] in (4, 3 + 4 - 1)
    assert model.rollout(context, 4).shape[2:] == (1, 8, 8)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(("model_name", "cell"), PAIRS, ids=IDS)
def test_finite_gradients(model_name, cell, frames):
    model = _build(model_name, cell)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        pytest.skip(f"{model_name} has no trainable parameters")
    context, target = frames[:, :3], frames[:, 3:]
    mask = torch.ones(2, 3)  # teacher forcing on the one fed future frame
    loss = model.training_loss(context, target, mse_loss, true_mask=mask)  # the path training takes
    loss.backward()
    grads = [p.grad for p in params]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


@pytest.mark.parametrize(("model_name", "cell"), PAIRS, ids=IDS)
def test_same_seed_same_output(model_name, cell, frames):
    a = _build(model_name, cell, seed=3)(frames[:, :3], 2)
    b = _build(model_name, cell, seed=3)(frames[:, :3], 2)
    assert torch.equal(a, b)
    if any(True for _ in _build(model_name, cell).parameters()):
        c = _build(model_name, cell, seed=4)(frames[:, :3], 2)
        assert not torch.equal(a, c)


@pytest.mark.parametrize(("model_name", "cell"), PAIRS, ids=IDS)
def test_checkpoint_round_trip(model_name, cell, frames, tmp_path: Path):
    model = _build(model_name, cell, seed=5)
    config = Config()
    config.model.name = model_name
    config.model.in_channels = 1
    config.model.options = _options(model_name, cell)
    ckpt = {
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "hyper_parameters": {"config": config.to_dict()},
    }
    path = tmp_path / "m.ckpt"
    torch.save(ckpt, path)
    loaded, loaded_config = load(path)
    assert loaded_config == config
    with torch.no_grad():
        assert torch.equal(model.eval()(frames[:, :3], 2), loaded(frames[:, :3], 2))


@pytest.mark.parametrize(("model_name", "cell"), PAIRS, ids=IDS)
def test_bad_frames_refused(model_name, cell):
    model = _build(model_name, cell)
    with pytest.raises(ValueError, match="5 dimensions"):
        model(torch.rand(3, 1, 8, 8), 2)
    with pytest.raises(ValueError, match="channels"):
        model(torch.rand(1, 3, 2, 8, 8), 2)
    with pytest.raises(ValueError, match="horizon"):
        model(torch.rand(1, 3, 1, 8, 8), 0)
    patch = model.patch_size
    if patch > 1:
        with pytest.raises(ValueError, match=f"patch_size={patch}"):
            model(torch.rand(1, 3, 1, 8 * patch + 1, 8), 2)
