"""Frame-wise forecast metrics with explicit units.

Functions return one value per sample and lead time, ``(B, T)``;
:class:`FrameMetrics` accumulates them over batches. The threshold scores
of radar nowcasting (CSI and FSS, :mod:`framecast.metrics.categorical`) are
accumulated over a split by :class:`CategoricalMetrics`, then computed.
"""

from framecast.metrics.accumulator import (
    DEFAULT_METRICS,
    METRIC_SPECS,
    SSIM_DEFINITIONS,
    FrameMetrics,
)
from framecast.metrics.categorical import (
    DEFAULT_FSS_SCALES,
    CategoricalMetrics,
    categorical_metric_names,
    check_fss_scales,
    check_thresholds,
    critical_success_index,
    fractions_skill_score,
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
    "DEFAULT_FSS_SCALES",
    "DEFAULT_METRICS",
    "METRIC_SPECS",
    "SSIM_DEFINITIONS",
    "CategoricalMetrics",
    "FrameMetrics",
    "bce_per_frame_sum",
    "categorical_metric_names",
    "check_fss_scales",
    "check_thresholds",
    "clamp_to_range",
    "critical_success_index",
    "dataset_data_range",
    "fractions_skill_score",
    "mae_per_frame_sum",
    "mae_per_pixel",
    "mse_per_frame_sum",
    "mse_per_pixel",
    "psnr_per_frame",
    "ssim_per_frame",
    "ssim_skimage_per_frame",
]
