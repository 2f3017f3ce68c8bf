import math

import pytest
import torch

from framecast.config import SamplingConfig
from framecast.training.losses import LOSSES
from framecast.training.sampling import sample_true_mask, true_frame_probabilities


def test_linear_schedule_of_predrnn():
    cfg = SamplingConfig(mode="linear", start_prob=1.0, stop_step=50000)
    assert true_frame_probabilities(cfg, 0) == (1.0, 1.0)
    assert true_frame_probabilities(cfg, 25000) == (1.0, pytest.approx(0.5))
    assert true_frame_probabilities(cfg, 1) == (1.0, pytest.approx(1 - 2e-5))  # PredRNN's rate
    assert true_frame_probabilities(cfg, 60000) == (1.0, 0.0)


def test_reverse_schedule():
    cfg = SamplingConfig(
        mode="reverse", reverse_start_step=100, reverse_stop_step=200, reverse_alpha=10
    )
    assert true_frame_probabilities(cfg, 50) == (0.5, 0.5)
    p_ctx, p_fut = true_frame_probabilities(cfg, 150)
    assert p_ctx == pytest.approx(1 - 0.5 * math.exp(-5))
    assert p_fut == pytest.approx(0.25)
    assert true_frame_probabilities(cfg, 300) == (1.0, 0.0)


def test_unknown_mode():
    with pytest.raises(ValueError, match="'cosine'"):
        true_frame_probabilities(SamplingConfig(mode="cosine"), 0)


def test_mask_rates_and_layout():
    gen = torch.Generator().manual_seed(0)
    mask = sample_true_mask(4000, 10, 10, p_context=1.0, p_future=0.3, generator=gen)
    assert mask.shape == (4000, 18)
    assert (mask[:, :9] == 1).all()  # input steps 1..9 are context
    assert mask[:, 9:].mean().item() == pytest.approx(0.3, abs=0.01)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}


def test_losses_by_hand():
    pred = torch.tensor([0.5, 0.0, 1.0, 0.25])
    target = torch.tensor([1.0, 0.0, 0.0, 0.25])
    assert LOSSES.get("mse")(pred, target).item() == pytest.approx((0.25 + 0 + 1 + 0) / 4)
    assert LOSSES.get("l1+l2")(pred, target).item() == pytest.approx(1.5 / 4 + 1.25 / 4)
    p = torch.tensor([0.8, 0.2])
    y = torch.tensor([1.0, 0.0])
    assert LOSSES.get("bce")(p, y).item() == pytest.approx(-math.log(0.8))
    rate = torch.tensor([2.0, 0.5])
    counts = torch.tensor([1.0, 0.0])
    expected = ((2.0 - 1 * math.log(2.0)) + (0.5 - 0)) / 2
    assert LOSSES.get("poisson")(rate, counts).item() == pytest.approx(expected, rel=1e-5)
