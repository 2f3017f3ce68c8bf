"""The value range of a dataset's frames, and the one clamping rule of validation and test.

Video frames lie in ``[0, 1]``; seismicity frames hold raw counts with no
upper bound. Scores that need a peak value (PSNR, SSIM) and the clamping
of predictions before scoring take the range from the dataset, so that
count frames are not clipped to 1 and both validation and test score the
same clamped predictions.
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor

from framecast.metrics.frame_metrics import check_data_range

DEFAULT_DATA_RANGE = 1.0
"""The range of a dataset that states none: frames in ``[0, 1]`` (framecast's datasets)."""


def dataset_data_range(dataset: Any) -> float | None:
    """The largest value a dataset's frames can take, or None when unbounded.

    Read from the dataset's ``data_range`` attribute when it has one (a
    float, or None for unbounded values), else from the upper end of its
    ``value_range`` (``(low, high)``; an infinite ``high`` gives None, as
    for seismicity counts), else :data:`DEFAULT_DATA_RANGE`.

    Raises
    ------
    ValueError
        A stated range that is not positive (or a ``value_range`` that is
        not a pair).
    """
    if hasattr(dataset, "data_range"):
        value = dataset.data_range
        return None if value is None else check_data_range(value)
    value_range = getattr(dataset, "value_range", None)
    if value_range is None:
        return DEFAULT_DATA_RANGE
    try:
        _low, high = value_range
    except (TypeError, ValueError):
        raise ValueError(
            f"dataset value_range must be a pair (low, high), got {value_range!r}"
        ) from None
    if math.isinf(float(high)):
        return None
    return check_data_range(float(high))


def clamp_to_range(pred: Tensor, data_range: float | None) -> Tensor:
    """Predictions clamped to ``[0, data_range]`` (to ``[0, inf)`` when ``data_range`` is None).

    The one rule of validation (``val_mse_per_frame_sum``) and test
    evaluation (:func:`framecast.evaluation.evaluate`): a frame's values
    cannot leave the data's range, so neither can a scored prediction.
    """
    if data_range is None:
        return pred.clamp(min=0.0)
    return pred.clamp(0.0, data_range)
