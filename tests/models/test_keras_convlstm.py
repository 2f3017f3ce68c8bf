"""The Keras next-frame ConvLSTM example network."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from framecast_testing import learning_check
from torch import nn

import framecast.cells.memory_flow  # registers "mflow"
import framecast.models.keras_convlstm  # noqa: F401  (registers the model)
from framecast.config import load_config
from framecast.models import build_model

CELLS = ["convlstm", "stlstm", "mflow"]
TINY = {"filters": 2, "num_layers": 2, "kernel_size": 3, "patch_size": 2}
CONFIG = Path(__file__).resolve().parents[2] / "configs" / "quick" / "keras_convlstm.yaml"


def _tiny(cell: str = "convlstm", seed: int = 0, **kw):
    torch.manual_seed(seed)
    opts = {"cell": cell, "filters": 4, "num_layers": 3, "kernel_size": 3, "patch_size": 2}
    return build_model("keras_convlstm", 1, {**opts, **kw})


def test_default_is_the_keras_example():
    model = build_model("keras_convlstm", 1)
    cells = model.stack.cells
    assert len(cells) == 4
    assert all(c.hidden_channels == 40 and c.kernel_size == 3 for c in cells)
    assert type(cells[0]).__name__ == "ConvLSTMCell"
    assert len(model.stack.between) == 3
    assert all(isinstance(m, nn.BatchNorm2d) and m.num_features == 40 for m in model.stack.between)
    assert isinstance(model.top_norm, nn.BatchNorm2d)
    assert isinstance(model.head, nn.Conv3d) and model.head.kernel_size == (3, 3, 3)
    assert model.output_activation == "sigmoid" and model.patch_size == 1


@pytest.mark.parametrize("cell", CELLS)
def test_shapes_and_unit_range(cell, frames):
    model = _tiny(cell)
    assert model.rollout(frames[:, :3], 4).shape == (2, 6, 1, 8, 8)
    out = model(frames[:, :3], 4)
    assert out.shape == (2, 4, 1, 8, 8)
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("cell", CELLS)
def test_output_is_causal_in_time(cell, frames):
    """The prediction of frame t+1 does not change when frames after t change."""
    model = _tiny(cell).eval()
    full = torch.ones(2, 3)  # every fed frame is the true one
    with torch.no_grad():
        a = model.rollout(frames[:, :2], 3, target=frames[:, 2:], true_mask=full)
        changed = frames.clone()
        changed[:, 3:] = torch.rand_like(changed[:, 3:])
        b = model.rollout(changed[:, :2], 3, target=changed[:, 2:], true_mask=full)
    # predictions of frames 1..3 use frames 0..2 only
    assert torch.equal(a[:, :3], b[:, :3])
    assert not torch.allclose(a[:, 3], b[:, 3])


def test_output_conv_sees_the_last_three_steps(frames):
    """Step t's output is the Conv3d over top-layer maps t-2, t-1, t (zeros before step 0)."""
    model = _tiny().eval()
    tops: list[torch.Tensor] = []
    model.top_norm.register_forward_hook(lambda mod, args, out: tops.append(out))
    with torch.no_grad():
        preds = model.rollout(frames, 1)  # 5 steps
        maps = torch.stack(tops, dim=2)  # (B, F, T, h, w)
        padded = torch.nn.functional.pad(maps, (0, 0, 0, 0, 2, 0))  # past side only
        ref = torch.sigmoid(model.head(padded)).transpose(1, 2)  # (B, T, C', h, w)
    patched = torch.nn.functional.pixel_unshuffle(preds.flatten(0, 1), 2).unflatten(0, (2, 5))
    assert torch.allclose(patched, ref, atol=1e-6)


def test_batch_norm_between_layers_and_on_top(frames):
    model = _tiny()
    calls: list[str] = []
    for i, m in enumerate(model.stack.between):
        m.register_forward_hook(lambda mod, a, o, i=i: calls.append(f"bn{i}"))
    model.top_norm.register_forward_hook(lambda mod, a, o: calls.append("top"))
    model(frames[:, :2], 1)
    assert calls == ["bn0", "bn1", "top"] * 2


def test_predictions_are_fed_back(frames):
    model = _tiny().eval()
    with torch.no_grad():
        free = model.rollout(frames[:, :2], 3)
        forced = model.rollout(frames[:, :2], 3, target=frames[:, 2:], true_mask=torch.ones(2, 3))
    assert torch.equal(free[:, 0], forced[:, 0])
    assert not torch.allclose(free[:, -1], forced[:, -1])


def test_bad_inputs_refused():
    model = _tiny()
    with pytest.raises(ValueError, match="5 dimensions"):
        model(torch.rand(3, 1, 8, 8), 2)
    with pytest.raises(ValueError, match="horizon"):
        model(torch.rand(1, 3, 1, 8, 8), 0)
    with pytest.raises(ValueError, match="patch_size=2"):
        model(torch.rand(1, 3, 1, 9, 8), 2)
    with pytest.raises(ValueError, match="output_activation"):
        _tiny(output_activation="tanh")
    with pytest.raises(ValueError, match="num_layers"):
        _tiny(num_layers=0)


def test_quick_config_builds_with_bce():
    config = load_config(CONFIG)
    assert config.model.name == "keras_convlstm"
    assert config.train.loss == "bce"
    assert config.model.options["output_activation"] == "sigmoid"
    model = build_model(config.model.name, 1, config.model.options)
    assert model(torch.rand(1, 2, 1, 40, 40), 1).shape == (1, 1, 1, 40, 40)


def test_keras_convlstm_learns():
    opts = {"filters": 8, "num_layers": 2, "kernel_size": 3, "patch_size": 4}
    r = learning_check("keras_convlstm", opts, steps=60, lr=1e-2)
    assert r["trained"] < 0.5 * r["initial"]
    assert r["trained"] < r["persistence"]
