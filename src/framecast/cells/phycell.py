"""PhyCell: PhyDNet's physically constrained recurrent cell, and its moment constraint.

References
----------
V. Le Guen, N. Thome, "Disentangling Physical Dynamics from Unknown Factors
for Unsupervised Video Prediction", CVPR 2020, Sec. 3.2 (PhyCell: prediction
and correction steps) and Sec. 3.3 (moment loss on the kernels of Φ).
Layer shapes as in the authors' code (vincent-leguen/PhyDNet,
``models/models.py``, ``constrain_moments.py``) and OpenSTL's
``PhyCell_Cell``.

PhyCell is not a :class:`~framecast.cells.base.RecurrentCell`: its state is
one map of the input's own width (the latent being corrected), with no
separate hidden width, so it is not in the cell registry.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def moment_basis(size: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """The (size, size) matrix ``B[i, u] = (u - c)^i / i!`` with ``c = (size - 1) // 2``.

    ``B @ k @ B.T`` is the moment matrix of a ``size x size`` kernel ``k``:
    its ``(i, j)`` entry weighs the Taylor term of order ``(i, j)``, so a
    kernel whose moment matrix is the indicator of ``(i, j)`` approximates
    ``∂^{i+j} / ∂x^i ∂y^j`` (Le Guen & Thome 2020, Sec. 3.3; the ``K2M`` of
    the authors' code).
    """
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"kernel size must be a positive integer, got {size!r}")
    offsets = torch.arange(size, dtype=dtype) - (size - 1) // 2  # (size,)
    orders = torch.arange(size)
    factorials = torch.tensor([math.factorial(int(i)) for i in orders], dtype=dtype)
    return offsets[None, :] ** orders[:, None].to(dtype) / factorials[:, None]  # (i, u)


def kernel_moments(kernels: Tensor) -> Tensor:
    """Moment matrices of square kernels: (..., k, k) -> (..., k, k), in float64.

    ``m = B k B^T`` with ``B`` from :func:`moment_basis` (the authors' ``K2M``).
    """
    size = kernels.shape[-1]
    if kernels.dim() < 2 or kernels.shape[-2] != size:
        raise ValueError(f"kernels must be (..., k, k) square, got shape {tuple(kernels.shape)}")
    basis = moment_basis(size).to(kernels.device)
    return basis @ kernels.double() @ basis.T  # (..., k, k)


def derivative_targets(size: int) -> Tensor:
    """(size*size, size, size) targets: filter ``n = i*size + j`` has moment matrix ``e_i e_j^T``.

    The authors' ``constraints`` tensor: the n-th filter of Φ's first
    convolution is pushed to approximate ``∂^{i+j} / ∂x^i ∂y^j``.
    """
    return torch.eye(size * size, dtype=torch.float64).reshape(size * size, size, size)


class PhyCell(nn.Module):
    """One PhyCell layer (Le Guen & Thome 2020, Sec. 3.2)::

        h̃_{t+1} = h_t + Φ(h_t)                                  (prediction)
        K_{t+1} = σ(W_K * [E(u_t), h_t] + b_K)                   (Kalman-like gain)
        h_{t+1} = h̃_{t+1} + K_{t+1} ⊙ (E(u_t) − h̃_{t+1})        (correction)

    Φ is a ``k x k`` convolution to ``k*k`` maps (one per partial derivative
    ``∂^{i+j}`` with ``i, j < k``), group normalisation (``k`` groups) and a
    1x1 convolution combining the derivatives; the moment loss
    (:meth:`moment_loss`) keeps the first convolution's kernels close to
    finite-difference derivative filters. ``W_K`` is 3x3, as in the authors' code.

    Parameters
    ----------
    channels : int
        Channels of the latent input ``E(u_t)`` and of the state ``h``
        (paper: 64).
    kernel_size : int
        Side of Φ's derivative kernels (paper: 7, so 49 derivative maps).
    """

    def __init__(self, channels: int, kernel_size: int = 7) -> None:
        super().__init__()
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size!r}")
        n_derivatives = kernel_size * kernel_size
        self.channels = channels
        self.kernel_size = kernel_size
        self.derivatives = nn.Conv2d(channels, n_derivatives, kernel_size, padding=kernel_size // 2)
        self.norm = nn.GroupNorm(kernel_size, n_derivatives)
        self.combine = nn.Conv2d(n_derivatives, channels, 1)
        self.gain = nn.Conv2d(2 * channels, channels, 3, padding=1)
        self.register_buffer("targets", derivative_targets(kernel_size), persistent=False)

    def phi(self, h: Tensor) -> Tensor:
        """Φ(h): (B, C, H, W) -> (B, C, H, W), the learnt PDE's right-hand side."""
        return self.combine(self.norm(self.derivatives(h)))

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        """One step: latent input ``x`` and state ``h`` (both (B, C, H, W)) -> new state."""
        h_pred = h + self.phi(h)  # prediction
        gain = torch.sigmoid(self.gain(torch.cat([x, h], dim=1)))  # (B, C, H, W)
        return h_pred + gain * (x - h_pred)  # correction

    def moment_loss(self) -> Tensor:
        """Sum over input channels of the MSE between moment matrices and their targets.

        The authors' regulariser: for each input channel ``b`` the ``k*k``
        kernels ``W[:, b]`` are mapped to moment matrices (in float64, then
        float32, as ``K2M``) and compared with :func:`derivative_targets`.
        """
        weight = self.derivatives.weight  # (k*k, C, k, k)
        moments = kernel_moments(weight.transpose(0, 1)).to(weight.dtype)  # (C, k*k, k, k)
        targets = self.targets.to(weight.dtype)  # (k*k, k, k)
        per_channel = ((moments - targets) ** 2).mean(dim=(1, 2, 3))  # (C,)
        return per_channel.sum()
