"""Frame-wise forecast metrics with explicit units.

Functions return one value per sample and lead time, ``(B, T)``;
:class:`FrameMetrics` accumulates them over batches.
"""

from framecast.metrics.accumulator import (
    DEFAULT_METRICS,
    METRIC_SPECS,
    SSIM_DEFINITIONS,
    FrameMetrics,
)
from framecast.metrics.data_range import clamp_to_range, dataset_data_range
from framecast.metrics.frame_metrics import (
    bce_per_frame_sum,
    mae_per_frame_sum,
    mae_per_pixel,
    mse_per_frame_sum,
    mse_per_pixel,
    psnr_per_frame,
    ssim_per_frame,
)
from framecast.metrics.skimage_ssim import ssim_skimage_per_frame

__all__ = [
    "DEFAULT_METRICS",
    "METRIC_SPECS",
    "SSIM_DEFINITIONS",
    "FrameMetrics",
    "bce_per_frame_sum",
    "clamp_to_range",
    "dataset_data_range",
    "mae_per_frame_sum",
    "mae_per_pixel",
    "mse_per_frame_sum",
    "mse_per_pixel",
    "psnr_per_frame",
    "ssim_per_frame",
    "ssim_skimage_per_frame",
]
