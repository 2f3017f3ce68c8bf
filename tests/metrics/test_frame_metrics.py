"""Frame-wise metrics against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from framecast.metrics import (
    bce_per_frame_sum,
    mae_per_frame_sum,
    mae_per_pixel,
    mse_per_frame_sum,
    mse_per_pixel,
    psnr_per_frame,
    ssim_per_frame,
)

# one 2x2 frame: errors are 0.5, 0, -0.5, 1 -> squared 0.25, 0, 0.25, 1
PRED = torch.tensor([0.5, 0.0, 0.5, 1.0]).reshape(1, 1, 1, 2, 2)
TARGET = torch.tensor([0.0, 0.0, 1.0, 0.0]).reshape(1, 1, 1, 2, 2)


def test_mse_and_mae_by_hand() -> None:
    assert mse_per_frame_sum(PRED, TARGET).item() == pytest.approx(1.5)
    assert mse_per_pixel(PRED, TARGET).item() == pytest.approx(1.5 / 4)
    assert mae_per_frame_sum(PRED, TARGET).item() == pytest.approx(2.0)
    assert mae_per_pixel(PRED, TARGET).item() == pytest.approx(0.5)


def test_psnr_by_hand() -> None:
    expected = 10 * math.log10(1.0 / (1.5 / 4))
    assert psnr_per_frame(PRED, TARGET, data_range=1.0).item() == pytest.approx(expected, rel=1e-5)
    # scaling pixels and data_range together leaves PSNR unchanged
    scaled = psnr_per_frame(PRED * 255, TARGET * 255, data_range=255.0).item()
    assert scaled == pytest.approx(expected, rel=1e-5)


def test_psnr_of_identical_frames_is_capped() -> None:
    assert psnr_per_frame(TARGET, TARGET, data_range=1.0).item() == 100.0
    assert psnr_per_frame(TARGET + 0.001, TARGET, data_range=1.0).item() < 100.0


def test_shapes_are_batch_by_time() -> None:
    pred = torch.rand(2, 3, 1, 16, 16)
    target = torch.rand(2, 3, 1, 16, 16)
    for values in (
        mse_per_frame_sum(pred, target),
        mse_per_pixel(pred, target),
        mae_per_frame_sum(pred, target),
        mae_per_pixel(pred, target),
        psnr_per_frame(pred, target, data_range=1.0),
        ssim_per_frame(pred, target, data_range=1.0),
        bce_per_frame_sum(pred, target),
    ):
        assert values.shape == (2, 3)


def test_per_frame_values_follow_sample_and_time() -> None:
    target = torch.zeros(2, 3, 1, 2, 2)
    pred = torch.zeros(2, 3, 1, 2, 2)
    pred[1, 2] = 1.0  # only sample 1, lead time 3 is wrong
    expected = torch.zeros(2, 3)
    expected[1, 2] = 4.0
    torch.testing.assert_close(mse_per_frame_sum(pred, target), expected)


def test_ssim_identical_is_one_and_negation_is_lower() -> None:
    torch.manual_seed(0)
    frames = torch.rand(1, 2, 1, 16, 16)
    same = ssim_per_frame(frames, frames, data_range=1.0)
    torch.testing.assert_close(same, torch.ones(1, 2))
    negated = ssim_per_frame(1.0 - frames, frames, data_range=1.0)
    assert (negated < 0.5).all()


def test_ssim_rgb_frames() -> None:
    frames = torch.rand(1, 1, 3, 12, 12)
    torch.testing.assert_close(ssim_per_frame(frames, frames, data_range=1.0), torch.ones(1, 1))


def test_ssim_frames_smaller_than_window_raise() -> None:
    small = torch.rand(1, 1, 1, 8, 8)
    with pytest.raises(ValueError, match="smaller than the 11x11"):
        ssim_per_frame(small, small, data_range=1.0)
    # an explicit smaller window works
    torch.testing.assert_close(
        ssim_per_frame(small, small, data_range=1.0, kernel_size=5, sigma=1.0), torch.ones(1, 1)
    )
    with pytest.raises(ValueError, match="odd"):
        ssim_per_frame(small, small, data_range=1.0, kernel_size=4)


def test_bce_by_hand() -> None:
    pred = torch.tensor([0.5, 0.9, 0.2, 0.0]).reshape(1, 1, 1, 2, 2)
    target = torch.tensor([1.0, 1.0, 0.0, 0.0]).reshape(1, 1, 1, 2, 2)
    eps = 1e-7
    expected = -(math.log(0.5) + math.log(0.9) + math.log(0.8) + math.log(1 - eps))
    assert bce_per_frame_sum(pred, target, eps=eps).item() == pytest.approx(expected, rel=1e-5)


def test_bce_clamps_confident_wrong_pixels() -> None:
    pred = torch.zeros(1, 1, 1, 1, 1)
    target = torch.ones(1, 1, 1, 1, 1)
    value = bce_per_frame_sum(pred, target, eps=1e-7).item()
    assert value == pytest.approx(-math.log(1e-7), rel=1e-4)


def test_bce_rejects_targets_outside_unit_range() -> None:
    with pytest.raises(ValueError, match=r"target values in \[0, 1\]"):
        bce_per_frame_sum(torch.rand(1, 1, 1, 2, 2), 255 * torch.ones(1, 1, 1, 2, 2))
    with pytest.raises(ValueError, match="eps"):
        bce_per_frame_sum(PRED, TARGET, eps=0.0)


@pytest.mark.parametrize(
    ("pred", "target", "error", "match"),
    [
        (torch.rand(1, 1, 2, 2), torch.rand(1, 1, 2, 2), ValueError, "5 dimensions"),
        (torch.rand(1, 1, 1, 2, 2), torch.rand(1, 2, 1, 2, 2), ValueError, "same shape"),
        (torch.ones(1, 1, 1, 2, 2, dtype=torch.int64), TARGET, TypeError, "float"),
        ([[0.0]], TARGET, TypeError, "torch.Tensor"),
    ],
)
def test_bad_inputs_raise(pred, target, error, match) -> None:
    with pytest.raises(error, match=match):
        mse_per_frame_sum(pred, target)


@pytest.mark.parametrize(
    ("data_range", "error"),
    [
        (0.0, ValueError),
        (-1.0, ValueError),
        (float("inf"), ValueError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_bad_data_range_raises(data_range, error) -> None:
    with pytest.raises(error, match="data_range"):
        psnr_per_frame(PRED, TARGET, data_range=data_range)


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(1, 2),
    steps=st.integers(1, 3),
    channels=st.integers(1, 3),
    height=st.integers(1, 5),
    width=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_frame_sum_is_pixel_mean_times_pixel_count(batch, steps, channels, height, width, seed):
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, steps, channels, height, width)
    pred = torch.rand(shape, generator=generator, dtype=torch.float64)
    target = torch.rand(shape, generator=generator, dtype=torch.float64)
    pixels = channels * height * width
    mse_sum, mse_mean = mse_per_frame_sum(pred, target), mse_per_pixel(pred, target)
    mae_sum, mae_mean = mae_per_frame_sum(pred, target), mae_per_pixel(pred, target)
    torch.testing.assert_close(mse_sum, mse_mean * pixels)
    torch.testing.assert_close(mae_sum, mae_mean * pixels)
