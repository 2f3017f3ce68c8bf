"""Every parameter of every registered model x cell gets a gradient from one training step.

A parameter that never receives a gradient never trains and only inflates
the parameter counts of the comparison tables (issue 15, item 5).
"""

from __future__ import annotations

import pytest
import torch
from framecast_testing import TINY_MODEL_OPTIONS, core_models

from framecast.models import MODELS, build_model, compatible_cells
from framecast.training.losses import mse_loss

# (model, cell or None) -> {parameter name: why it may stay without a gradient}.
# Only documented exceptions belong here.
_FC_LSTM_UNCONDITIONAL = dict.fromkeys(
    ("reconstructor.cells.0.cell.weight_ih", "predictor.cells.0.cell.weight_ih"),
    "an unconditioned decoder has no input (Srivastava et al. 2015, Sec. 2.2); its vector "
    "cells read one constant zero feature, a (gates x 1) weight_ih column (fc_lstm.py)",
)
DOCUMENTED_EXCEPTIONS: dict[tuple[str, str | None], dict[str, str]] = {
    ("fc_lstm", cell): _FC_LSTM_UNCONDITIONAL for cell in ("lstm", "gru", "rnn")
}


def _pairs() -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for name in core_models():
        if not MODELS.get(name).trainable:
            continue
        cells = compatible_cells(name)
        pairs += [(name, cell) for cell in cells] if cells else [(name, None)]
    return pairs


PAIRS = _pairs()


def dead_parameters(model: torch.nn.Module) -> list[str]:
    """Names of trainable parameters whose gradient is missing or all zero."""
    return [
        name
        for name, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or not bool(p.grad.abs().sum() > 0))
    ]


@pytest.mark.parametrize(
    ("model_name", "cell"), PAIRS, ids=[f"{m}-{c}" if c else m for m, c in PAIRS]
)
def test_every_parameter_gets_a_gradient(model_name, cell):
    if model_name not in TINY_MODEL_OPTIONS:
        pytest.fail(f"model {model_name!r} has no entry in TINY_MODEL_OPTIONS")
    torch.manual_seed(0)
    options = {**TINY_MODEL_OPTIONS[model_name], **({"cell": cell} if cell else {})}
    model = build_model(model_name, 1, options)
    gen = torch.Generator().manual_seed(1)
    frames = torch.rand(2, 6, 1, 8, 8, generator=gen)  # (B, T, C, H, W)
    context, target = frames[:, :3], frames[:, 3:]
    # one teacher-forced and one own-prediction future step, as scheduled sampling mixes them
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]]).repeat(2, 1)
    model.training_loss(context, target, mse_loss, true_mask=mask).backward()
    allowed = DOCUMENTED_EXCEPTIONS.get((model_name, cell), {})
    dead = [name for name in dead_parameters(model) if name not in allowed]
    assert not dead, f"{model_name}/{cell}: parameters without a gradient: {dead}"


def test_dead_parameters_detects_an_unused_weight():
    model = torch.nn.ModuleDict({"used": torch.nn.Linear(2, 1), "unused": torch.nn.Linear(2, 1)})
    model["used"](torch.ones(1, 2)).sum().backward()
    assert dead_parameters(model) == ["unused.weight", "unused.bias"]
