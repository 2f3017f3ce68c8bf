"""SSIM as scikit-image's ``structural_similarity`` computes it by default, in torch.

The PredRNN authors score KTH (and Moving MNIST) with scikit-image's SSIM on
frames quantised to uint8 (``thuml/predrnn-pytorch``, ``core/trainer.py``:
``np.uint8(x * 255)`` then ``compare_ssim(pred, true, multichannel=True)``).
Its defaults differ from the Gaussian 11x11 window of
:func:`framecast.metrics.frame_metrics.ssim_per_frame` by a few hundredths
on ordinary frames, so the two are kept apart by name.

scikit-image is not a dependency of framecast: this is the same arithmetic
(a 7x7 uniform window, the sample-covariance correction ``N / (N - 1)``,
``K1 = 0.01``, ``K2 = 0.03``, the mean over the pixels whose window lies
inside the frame), batched on the device in float64; the tests compare it
with ``skimage.metrics.structural_similarity`` where scikit-image is installed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from framecast.metrics.frame_metrics import check_data_range, check_frame_pair

SKIMAGE_WIN_SIZE = 7
"""scikit-image's default window side (``win_size=7``, uniform weights)."""
UINT8_MAX = 255.0


def quantize_uint8(frames: Tensor, data_range: float) -> Tensor:
    """Frames in ``[0, data_range]`` as the authors' uint8 values, ``floor(255 x / data_range)``.

    ``np.uint8(x * 255)`` truncates towards zero, which is the floor for the
    non-negative values left after clipping to ``[0, 1]``.

    Returns
    -------
    Tensor
        Same shape, float64, integer values in ``[0, 255]``.
    """
    scaled = (frames / data_range).clamp(0.0, 1.0) * UINT8_MAX  # in the frames' own dtype
    return torch.floor(scaled).to(torch.float64)


def ssim_skimage_per_frame(pred: Tensor, target: Tensor, data_range: float) -> Tensor:
    """SSIM of each frame with scikit-image's defaults, on frames quantised to uint8.

    For each channel, with ``μ``, ``σ²`` and ``σ_xy`` the means, variances
    and covariance over a 7x7 uniform window, the variances multiplied by
    ``N / (N - 1)`` (``N = 49``, scikit-image's ``use_sample_covariance``)::

        SSIM = (2 μ_x μ_y + C1)(2 σ_xy + C2) / ((μ_x² + μ_y² + C1)(σ_x² + σ_y² + C2))

    with ``C1 = (0.01 L)²``, ``C2 = (0.03 L)²`` and ``L = 255``, averaged over
    the pixels at least 3 pixels from the border and over the channels.

    Parameters
    ----------
    pred, target : Tensor
        ``(B, T, C, H, W)`` float tensors with pixels in ``[0, data_range]``;
        both are clipped to that range and quantised to uint8 first
        (:func:`quantize_uint8`).
    data_range : float
        The largest possible pixel value (1.0 for images in ``[0, 1]``).

    Returns
    -------
    Tensor
        ``(B, T)`` float64, unitless.

    Raises
    ------
    ValueError
        Bad shapes, a non-positive ``data_range``, or frames smaller than 7x7.

    References
    ----------
    Wang, Z., Bovik, A. C., Sheikh, H. R., Simoncelli, E. P. (2004). Image
    quality assessment: from error visibility to structural similarity.
    IEEE Trans. Image Processing 13(4), 600-612, Eq. (13); scikit-image's
    ``skimage.metrics.structural_similarity`` (``win_size=7``,
    ``gaussian_weights=False``, ``use_sample_covariance=True``).
    """
    check_frame_pair(pred, target)
    data_range = check_data_range(data_range)
    batch, steps, channels, height, width = pred.shape
    win = SKIMAGE_WIN_SIZE
    if height < win or width < win:
        raise ValueError(
            f"frames of {height}x{width} pixels are smaller than scikit-image's {win}x{win} "
            "SSIM window"
        )
    x = quantize_uint8(pred, data_range).reshape(batch * steps, channels, height, width)
    y = quantize_uint8(target, data_range).reshape(batch * steps, channels, height, width)

    def mean(t: Tensor) -> Tensor:
        # valid windows only: scikit-image filters with padding, then crops (win-1)/2 per side
        return F.avg_pool2d(t, win, stride=1)  # (B*T, C, H-6, W-6)

    ux, uy = mean(x), mean(y)
    cov_norm = win * win / (win * win - 1.0)  # sample covariance
    vx = cov_norm * (mean(x * x) - ux * ux)
    vy = cov_norm * (mean(y * y) - uy * uy)
    vxy = cov_norm * (mean(x * y) - ux * uy)
    c1 = (0.01 * UINT8_MAX) ** 2
    c2 = (0.03 * UINT8_MAX) ** 2
    ssim_map = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return ssim_map.mean(dim=(1, 2, 3)).reshape(batch, steps)  # (B, T)
