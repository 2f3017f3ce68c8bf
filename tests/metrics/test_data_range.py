"""The data range comes from the dataset; predictions are clamped to it before scoring."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from framecast.evaluation import evaluate
from framecast.metrics import FrameMetrics, clamp_to_range, dataset_data_range
from framecast.models import Persistence


class Frames(TensorDataset):
    """(context, target) windows with a stated value range."""

    def __init__(self, context, target, value_range=None, data_range="absent") -> None:
        super().__init__(context, target)
        if value_range is not None:
            self.value_range = value_range
        if data_range != "absent":
            self.data_range = data_range


def test_dataset_data_range_reads_the_dataset():
    x = torch.zeros(1, 2, 1, 8, 8)
    assert dataset_data_range(Frames(x, x)) == 1.0  # video: [0, 1]
    assert dataset_data_range(Frames(x, x, value_range=(0.0, math.inf))) is None  # counts
    assert dataset_data_range(Frames(x, x, value_range=(0.0, 255.0))) == 255.0
    assert dataset_data_range(Frames(x, x, data_range=None)) is None
    assert dataset_data_range(Frames(x, x, data_range=4.0, value_range=(0, 1))) == 4.0


def test_dataset_data_range_refuses_a_bad_range():
    x = torch.zeros(1, 2, 1, 8, 8)
    with pytest.raises(ValueError, match="data_range must be positive"):
        dataset_data_range(Frames(x, x, data_range=0.0))
    with pytest.raises(ValueError, match="value_range must be a pair"):
        dataset_data_range(Frames(x, x, value_range=(1.0,)))


def test_clamp_to_range():
    x = torch.tensor([-1.0, 0.5, 3.0, 30.0])
    assert clamp_to_range(x, 1.0).tolist() == [0.0, 0.5, 1.0, 1.0]
    assert clamp_to_range(x, None).tolist() == [0.0, 0.5, 3.0, 30.0]


class Constant(Persistence):
    """Forecasts a constant value (a model whose output leaves [0, 1])."""

    def __init__(self, value: float) -> None:
        super().__init__(1)
        self.value = value

    def forward(self, context, horizon):
        b, _, c, h, w = context.shape
        return torch.full((b, horizon, c, h, w), self.value)


def test_evaluate_takes_the_range_from_the_dataset():
    context = torch.zeros(2, 2, 1, 16, 16)
    target = torch.full((2, 1, 1, 16, 16), 3.0)  # counts above 1
    counts = DataLoader(Frames(context, target, value_range=(0.0, math.inf)), batch_size=2)
    ev = evaluate({"three": Constant(3.0)}, counts)
    # not clipped to 1.0: a perfect count forecast has no error
    assert ev.results["three"]["mse_per_frame_sum"]["mean"] == 0.0
    assert "ssim" not in ev.results["three"] and "psnr" not in ev.results["three"]
    assert ev.data_range is None

    video = DataLoader(Frames(context, target.clamp(max=1.0)), batch_size=2)
    ev = evaluate({"three": Constant(3.0)}, video)  # clamped to 1: exact again
    assert ev.results["three"]["mse_per_frame_sum"]["mean"] == 0.0
    assert ev.data_range == 1.0 and "ssim" in ev.results["three"]


def test_evaluate_with_skimage_ssim_names_it():
    g = torch.Generator().manual_seed(0)
    context, target = torch.rand(2, 2, 1, 8, 8, generator=g), torch.rand(2, 1, 1, 8, 8, generator=g)
    ev = evaluate(
        {"persistence": Persistence(1)}, DataLoader(Frames(context, target)), ssim="skimage"
    )
    assert ev.ssim == "skimage" and "skimage" in ev.results["persistence"]["ssim"]["unit"]


def test_range_metrics_need_a_range():
    with pytest.raises(ValueError, match=r"\['psnr'\] need a finite data_range"):
        FrameMetrics(None, ("mse_per_frame_sum", "psnr"))
    metrics = FrameMetrics(None, ("mse_per_frame_sum",))
    metrics.update(torch.zeros(1, 1, 1, 2, 2), torch.full((1, 1, 1, 2, 2), 5.0))
    assert metrics.compute()["mse_per_frame_sum"]["mean"] == 100.0
