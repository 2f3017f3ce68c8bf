"""FrameMetrics accumulates per lead time and reports units."""

from __future__ import annotations

import pytest
import torch

from framecast.metrics import DEFAULT_METRICS, FrameMetrics, mse_per_frame_sum


def make_batch(batch: int, steps: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, steps, 1, 12, 12)
    return torch.rand(shape, generator=generator), torch.rand(shape, generator=generator)


def test_two_batches_equal_one_concatenated_pass() -> None:
    pred_a, target_a = make_batch(2, seed=1)
    pred_b, target_b = make_batch(3, seed=2)
    names = (*DEFAULT_METRICS, "bce_per_frame_sum")

    split = FrameMetrics(data_range=1.0, metrics=names)
    split.update(pred_a, target_a)
    split.update(pred_b, target_b)
    whole = FrameMetrics(data_range=1.0, metrics=names)
    whole.update(torch.cat([pred_a, pred_b]), torch.cat([target_a, target_b]))

    got, expected = split.compute(), whole.compute()
    assert got["n_sequences"] == expected["n_sequences"] == 5
    for name in names:
        assert got[name]["curve"] == pytest.approx(expected[name]["curve"], rel=1e-6)
        assert got[name]["mean"] == pytest.approx(expected[name]["mean"], rel=1e-6)
        assert got[name]["unit"] == expected[name]["unit"]


def test_curve_has_one_value_per_lead_time_and_matches_function() -> None:
    pred, target = make_batch(3, steps=5)
    metrics = FrameMetrics(data_range=1.0)
    metrics.update(pred, target)
    result = metrics.compute()
    for name in DEFAULT_METRICS:
        assert len(result[name]["curve"]) == 5
        assert isinstance(result[name]["mean"], float)
        assert isinstance(result[name]["unit"], str)
    expected_curve = mse_per_frame_sum(pred, target).double().mean(dim=0)
    assert result["mse_per_frame_sum"]["curve"] == pytest.approx(expected_curve.tolist())
    assert result["mse_per_frame_sum"]["mean"] == pytest.approx(expected_curve.mean().item())


def test_units_name_the_convention() -> None:
    metrics = FrameMetrics(data_range=255.0)
    metrics.update(*make_batch(1))
    result = metrics.compute()
    assert "summed over the C*H*W pixels" in result["mse_per_frame_sum"]["unit"]
    assert "[0, 255.0]" in result["mse_per_frame_sum"]["unit"]
    assert "averaged" in result["mse_per_pixel"]["unit"]
    assert result["psnr"]["unit"].startswith("dB")
    assert result["ssim"]["unit"].startswith("unitless, [-1, 1]; SSIM 'gaussian'")


def test_frame_count_mismatch_raises_and_reset_clears() -> None:
    metrics = FrameMetrics(data_range=1.0, metrics=("mse_per_pixel",))
    metrics.update(*make_batch(2, steps=4))
    with pytest.raises(ValueError, match="3 frames per sequence, earlier batches had 4"):
        metrics.update(*make_batch(2, steps=3))
    assert metrics.compute()["n_sequences"] == 2  # the failed update added nothing
    metrics.reset()
    with pytest.raises(RuntimeError, match="before any sequence"):
        metrics.compute()
    metrics.update(*make_batch(1, steps=3))
    assert len(metrics.compute()["mse_per_pixel"]["curve"]) == 3


def test_accumulates_in_float64_on_cpu_without_grad() -> None:
    pred, target = make_batch(2)
    pred.requires_grad_(True)
    metrics = FrameMetrics(data_range=1.0, metrics=("mse_per_frame_sum",))
    metrics.update(pred, target)
    sums = metrics._sums["mse_per_frame_sum"]
    assert sums.dtype == torch.float64
    assert sums.device.type == "cpu"
    assert not sums.requires_grad


def test_bad_construction_raises() -> None:
    with pytest.raises(ValueError, match=r"unknown metric name.*expected names among"):
        FrameMetrics(data_range=1.0, metrics=("mse", "ssim"))
    with pytest.raises(ValueError, match=r"data_range=1\.0"):
        FrameMetrics(data_range=255.0, metrics=("bce_per_frame_sum",))
    with pytest.raises(ValueError, match="empty"):
        FrameMetrics(data_range=1.0, metrics=())
    with pytest.raises(ValueError, match="unique"):
        FrameMetrics(data_range=1.0, metrics=("ssim", "ssim"))
    with pytest.raises(TypeError, match="sequence of names"):
        FrameMetrics(data_range=1.0, metrics="ssim")
    with pytest.raises(ValueError, match="data_range"):
        FrameMetrics(data_range=0.0)


def test_bad_batch_raises() -> None:
    metrics = FrameMetrics(data_range=1.0)
    with pytest.raises(ValueError, match="5 dimensions"):
        metrics.update(torch.rand(4, 1, 12, 12), torch.rand(4, 1, 12, 12))
