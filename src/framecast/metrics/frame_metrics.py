"""Frame-wise image metrics: one value per sample and lead time.

Every function takes ``pred`` and ``target`` as ``(B, T, C, H, W)`` float
tensors with pixel values in ``[0, data_range]`` and returns a ``(B, T)``
tensor. Names carry the unit: ``*_per_frame_sum`` sums over the ``C*H*W``
pixels of a frame (the convention of the video-prediction papers, e.g.
PredRNN's MSE of 56.8 on Moving MNIST with pixels in ``[0, 1]``), and
``*_per_pixel`` averages over them.

PSNR and SSIM come from torchmetrics; the error sums are one line each.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torchmetrics.functional.image import (
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)

FRAME_DIMS = (2, 3, 4)  # C, H, W of a (B, T, C, H, W) tensor


def check_frame_pair(pred: Tensor, target: Tensor) -> None:
    """Raise unless ``pred`` and ``target`` are float ``(B, T, C, H, W)`` tensors of one shape.

    Parameters
    ----------
    pred, target : Tensor
        Predicted and true frames.

    Raises
    ------
    TypeError
        Either is not a tensor, or not a floating-point tensor.
    ValueError
        Either does not have 5 dimensions, or their shapes differ.
    """
    for name, value in (("pred", pred), ("target", target)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
        if value.dim() != 5:
            raise ValueError(
                f"{name} must have shape (B, T, C, H, W) (5 dimensions), got shape "
                f"{tuple(value.shape)} ({value.dim()} dimensions)"
            )
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a float tensor, got dtype {value.dtype}")
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got pred {tuple(pred.shape)} "
            f"and target {tuple(target.shape)}"
        )


def check_data_range(data_range: float) -> float:
    """Return ``data_range`` as a float, or raise unless it is a positive finite number.

    Raises
    ------
    TypeError
        ``data_range`` is not a real number (a bool is not accepted).
    ValueError
        ``data_range`` is not positive and finite.
    """
    if isinstance(data_range, bool) or not isinstance(data_range, int | float):
        raise TypeError(
            f"data_range must be a number (the largest pixel value), got {data_range!r}"
        )
    if not math.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"data_range must be positive and finite, got {data_range!r}")
    return float(data_range)


def mse_per_frame_sum(pred: Tensor, target: Tensor) -> Tensor:
    """Squared error summed over the ``C*H*W`` pixels of each frame.

    This is the "MSE per frame" of the video-prediction literature.

    Parameters
    ----------
    pred, target : Tensor
        ``(B, T, C, H, W)`` float tensors.

    Returns
    -------
    Tensor
        ``(B, T)``.

    References
    ----------
    Wang, Y. et al. (2017). PredRNN: Recurrent neural networks for predictive
    learning using spatiotemporal LSTMs. NeurIPS. (Table 1 reports this sum
    with pixels in [0, 1].)
    """
    check_frame_pair(pred, target)
    return (pred - target).square().sum(dim=FRAME_DIMS)  # (B, T)


def mse_per_pixel(pred: Tensor, target: Tensor) -> Tensor:
    """Squared error averaged over the ``C*H*W`` pixels of each frame.

    Parameters
    ----------
    pred, target : Tensor
        ``(B, T, C, H, W)`` float tensors.

    Returns
    -------
    Tensor
        ``(B, T)``.
    """
    check_frame_pair(pred, target)
    return (pred - target).square().mean(dim=FRAME_DIMS)  # (B, T)


def mae_per_frame_sum(pred: Tensor, target: Tensor) -> Tensor:
    """Absolute error summed over the ``C*H*W`` pixels of each frame.

    Parameters
    ----------
    pred, target : Tensor
        ``(B, T, C, H, W)`` float tensors.

    Returns
    -------
    Tensor
        ``(B, T)``.
    """
    check_frame_pair(pred, target)
    return (pred - target).abs().sum(dim=FRAME_DIMS)  # (B, T)


def mae_per_pixel(pred: Tensor, target: Tensor) -> Tensor:
    """Absolute error averaged over the ``C*H*W`` pixels of each frame.

    Parameters
    ----------
    pred, target : Tensor
        ``(B, T, C, H, W)`` float tensors.

    Returns
    -------
    Tensor
        ``(B, T)``.
    """
    check_frame_pair(pred, target)
    return (pred - target).abs().mean(dim=FRAME_DIMS)  # (B, T)


PSNR_CAP_DB = 100.0
"""PSNR of an exact prediction, in dB (an MSE of 1e-10 of the squared range)."""


def psnr_per_frame(pred: Tensor, target: Tensor, data_range: float) -> Tensor:
    """Peak signal-to-noise ratio of each frame, in dB.

    ``PSNR = 10 log10(data_range**2 / mse_per_pixel)``, computed per frame by
    torchmetrics and capped at :data:`PSNR_CAP_DB`: a frame predicted exactly
    (MSE 0, e.g. persistence on a still scene) would otherwise be ``+inf``
    and make every mean that includes it ``+inf``.

    Parameters
    ----------
    pred, target : Tensor
        ``(B, T, C, H, W)`` float tensors with pixels in ``[0, data_range]``.
    data_range : float
        The largest possible pixel value (1.0 for images in ``[0, 1]``).

    Returns
    -------
    Tensor
        ``(B, T)``, in dB.
    """
    check_frame_pair(pred, target)
    data_range = check_data_range(data_range)
    psnr = peak_signal_noise_ratio(
        pred, target, data_range=data_range, reduction="none", dim=FRAME_DIMS
    )  # (B, T)
    return psnr.clamp(max=PSNR_CAP_DB)


def ssim_per_frame(
    pred: Tensor,
    target: Tensor,
    data_range: float,
    kernel_size: int = 11,
    sigma: float = 1.5,
) -> Tensor:
    """Structural similarity (SSIM) of each frame, averaged over its pixels and channels.

    Computed by torchmetrics with a Gaussian window. Frames smaller than the
    window raise ``ValueError``: pass a smaller odd ``kernel_size`` (and
    ``sigma``) explicitly rather than have the window shrink silently, since
    SSIM values from different windows are not comparable.

    Parameters
    ----------
    pred, target : Tensor
        ``(B, T, C, H, W)`` float tensors with pixels in ``[0, data_range]``.
    data_range : float
        The largest possible pixel value (1.0 for images in ``[0, 1]``).
    kernel_size : int
        Side of the Gaussian window, odd (11 as in Wang et al. 2004).
    sigma : float
        Standard deviation of the Gaussian window (1.5 as in Wang et al. 2004).

    Returns
    -------
    Tensor
        ``(B, T)``, unitless, in ``[-1, 1]``.

    Raises
    ------
    ValueError
        Bad shapes, a non-positive ``data_range``, an even or non-positive
        ``kernel_size``, or frames smaller than ``kernel_size``.

    References
    ----------
    Wang, Z., Bovik, A. C., Sheikh, H. R., Simoncelli, E. P. (2004). Image
    quality assessment: from error visibility to structural similarity.
    IEEE Trans. Image Processing 13(4), 600-612, Eq. (13).
    """
    check_frame_pair(pred, target)
    data_range = check_data_range(data_range)
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int):
        raise TypeError(f"kernel_size must be an int, got {kernel_size!r}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size}")
    batch, steps, channels, height, width = pred.shape
    if height < kernel_size or width < kernel_size:
        raise ValueError(
            f"frames of {height}x{width} pixels are smaller than the {kernel_size}x{kernel_size} "
            "SSIM window; pass a smaller odd kernel_size (and sigma)"
        )
    flat_pred = pred.reshape(batch * steps, channels, height, width)  # (B*T, C, H, W)
    flat_target = target.reshape(batch * steps, channels, height, width)  # (B*T, C, H, W)
    ssim = structural_similarity_index_measure(
        flat_pred,
        flat_target,
        gaussian_kernel=True,
        sigma=sigma,
        kernel_size=kernel_size,
        reduction="none",
        data_range=data_range,
    )  # (B*T,)
    return ssim.reshape(batch, steps)  # (B, T)


def bce_per_frame_sum(pred: Tensor, target: Tensor, eps: float = 1e-7) -> Tensor:
    """Binary cross-entropy summed over the ``C*H*W`` pixels of each frame.

    ``-sum(y log p + (1 - y) log(1 - p))`` with ``p`` clamped to
    ``[eps, 1 - eps]`` so that a confident wrong pixel costs a finite amount.
    Pixels must be in ``[0, 1]`` (``data_range`` 1).

    Parameters
    ----------
    pred : Tensor
        ``(B, T, C, H, W)`` predicted probabilities.
    target : Tensor
        ``(B, T, C, H, W)`` true frames with values in ``[0, 1]``.
    eps : float
        Clamp of ``pred``, in ``(0, 0.5)``.

    Returns
    -------
    Tensor
        ``(B, T)``, in nats per frame.

    Raises
    ------
    ValueError
        Bad shapes, ``eps`` outside ``(0, 0.5)``, or target values outside ``[0, 1]``.

    References
    ----------
    Srivastava, N., Mansimov, E., Salakhutdinov, R. (2015). Unsupervised
    learning of video representations using LSTMs. ICML. (Moving MNIST
    cross-entropy reported per frame.)
    """
    check_frame_pair(pred, target)
    if not 0.0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5), got {eps!r}")
    if target.numel() > 0 and (target.min() < 0 or target.max() > 1):
        raise ValueError(
            "bce_per_frame_sum needs target values in [0, 1] (data_range 1), got values in "
            f"[{target.min().item():.4g}, {target.max().item():.4g}]"
        )
    p = pred.clamp(eps, 1.0 - eps)  # (B, T, C, H, W)
    cross_entropy = -(target * torch.log(p) + (1.0 - target) * torch.log1p(-p))
    return cross_entropy.sum(dim=FRAME_DIMS)  # (B, T)
