"""Frame-wise forecast metrics with explicit units.

Functions return one value per sample and lead time, ``(B, T)``;
:class:`FrameMetrics` accumulates them over batches.
"""

from framecast.metrics.accumulator import DEFAULT_METRICS, METRIC_SPECS, FrameMetrics
from framecast.metrics.frame_metrics import (
    bce_per_frame_sum,
    mae_per_frame_sum,
    mae_per_pixel,
    mse_per_frame_sum,
    mse_per_pixel,
    psnr_per_frame,
    ssim_per_frame,
)

__all__ = [
    "DEFAULT_METRICS",
    "METRIC_SPECS",
    "FrameMetrics",
    "bce_per_frame_sum",
    "mae_per_frame_sum",
    "mae_per_pixel",
    "mse_per_frame_sum",
    "mse_per_pixel",
    "psnr_per_frame",
    "ssim_per_frame",
]
