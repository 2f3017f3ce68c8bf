"""The two SSIM definitions: Gaussian 11x11 on floats, and scikit-image's defaults on uint8."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from framecast.metrics import SSIM_DEFINITIONS, FrameMetrics, ssim_per_frame
from framecast.metrics.skimage_ssim import quantize_uint8, ssim_skimage_per_frame


def _pair(channels: int = 1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    target = torch.rand(2, 3, channels, 16, 20, generator=g)  # (B, T, C, H, W)
    pred = (target + 0.2 * torch.randn(target.shape, generator=g)).clamp(0, 1)
    return pred, target


@pytest.mark.parametrize("channels", [1, 3])
def test_skimage_definition_matches_scikit_image(channels):
    skimage_metrics = pytest.importorskip(
        "skimage.metrics",
        reason="scikit-image is not installed (pip install scikit-image) to compare with",
    )
    pred, target = _pair(channels)
    ours = ssim_skimage_per_frame(pred, target, 1.0)
    for b in range(2):
        for t in range(3):
            # the PredRNN authors' conversion (core/trainer.py): np.uint8(x * 255)
            p = np.uint8(pred[b, t].numpy().transpose(1, 2, 0) * 255)
            y = np.uint8(target[b, t].numpy().transpose(1, 2, 0) * 255)
            ref = skimage_metrics.structural_similarity(p, y, channel_axis=2)
            assert abs(float(ours[b, t]) - ref) < 1e-6


def test_the_two_definitions_differ_and_agree_on_identical_frames():
    pred, target = _pair()
    gaussian = ssim_per_frame(pred, target, 1.0)
    skimage_like = ssim_skimage_per_frame(pred, target, 1.0)
    assert (gaussian.double() - skimage_like).abs().mean() > 1e-3
    same = ssim_skimage_per_frame(target, target, 1.0)
    torch.testing.assert_close(same, torch.ones_like(same))


def test_quantisation_truncates_like_numpy_uint8():
    x = torch.tensor([0.0, 0.5, 0.999, 1.0, 1.2, -0.1])
    expected = np.uint8(np.clip(x.numpy(), 0, 1) * 255).astype(np.float64)
    np.testing.assert_array_equal(quantize_uint8(x, 1.0).numpy(), expected)
    # frames in [0, 2] map to the same uint8 values as the same frames in [0, 1]
    torch.testing.assert_close(quantize_uint8(2 * x, 2.0), quantize_uint8(x, 1.0))


def test_skimage_definition_refuses_frames_smaller_than_its_window():
    small = torch.rand(1, 1, 1, 6, 8)
    with pytest.raises(ValueError, match="6x8 pixels are smaller than scikit-image's 7x7"):
        ssim_skimage_per_frame(small, small, 1.0)


def test_frame_metrics_choose_and_name_the_definition():
    pred, target = _pair()
    results = {}
    for name in SSIM_DEFINITIONS:
        metrics = FrameMetrics(1.0, ("ssim",), ssim=name)
        metrics.update(pred, target)
        results[name] = metrics.compute()["ssim"]
        assert f"SSIM '{name}'" in results[name]["unit"]
    expected = ssim_skimage_per_frame(pred, target, 1.0).mean(0)
    np.testing.assert_allclose(results["skimage"]["curve"], expected.numpy(), rtol=1e-12)
    assert results["gaussian"]["mean"] != results["skimage"]["mean"]


def test_unknown_ssim_definition_is_refused():
    with pytest.raises(ValueError, match="unknown SSIM definition 'uniform'; expected one of"):
        FrameMetrics(1.0, ("ssim",), ssim="uniform")
