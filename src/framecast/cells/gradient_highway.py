"""Gradient highway unit (GHU), the shortcut of PredRNN++ (Wang et al. 2018).

References
----------
Y. Wang, Z. Gao, M. Long, J. Wang, P. S. Yu, "PredRNN++: Towards A
Resolution of the Deep-in-Time Dilemma in Spatiotemporal Predictive
Learning", ICML 2018, eq. (2) and Fig. 3.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class GradientHighwayUnit(nn.Module):
    """The GHU of Wang et al. 2018 eq. (2)::

        P_t = tanh(W_px * X_t + W_pz * Z_{t-1})
        S_t = σ(W_sx * X_t + W_sz * Z_{t-1})
        Z_t = S_t ⊙ P_t + (1 - S_t) ⊙ Z_{t-1}

    It is not a :class:`~framecast.cells.base.RecurrentCell`: it has one
    state ``Z`` and no memory, and sits between the first and second layers
    of a stack, so it is not in the cell registry. As in the authors' code
    (and OpenSTL's ``GHU``) the convolutions have no bias and start uniform
    in ``[-init_range, init_range]``, so the highway begins nearly closed.

    Parameters
    ----------
    channels : int
        Channels of ``X`` and ``Z``.
    kernel_size : int
        Odd convolution size.
    init_range : float
        Half-width of the uniform initialisation (authors: 0.001).
    """

    def __init__(self, channels: int, kernel_size: int = 5, init_range: float = 0.001) -> None:
        super().__init__()
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size!r}")
        pad = kernel_size // 2
        self.channels = channels
        self.conv_x = nn.Conv2d(channels, 2 * channels, kernel_size, padding=pad, bias=False)
        self.conv_z = nn.Conv2d(channels, 2 * channels, kernel_size, padding=pad, bias=False)
        for conv in (self.conv_x, self.conv_z):
            nn.init.uniform_(conv.weight, -init_range, init_range)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        """One step: (B, C, H, W) input and state -> (B, C, H, W) new state."""
        p, s = torch.chunk(self.conv_x(x) + self.conv_z(z), 2, dim=1)  # (B, C, H, W) each
        s = torch.sigmoid(s)
        return s * torch.tanh(p) + (1 - s) * z
