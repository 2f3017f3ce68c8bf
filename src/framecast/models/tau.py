"""TAU: SimVP with the temporal attention unit and differential divergence regularisation.

References
----------
C. Tan, Z. Gao, L. Wu, Y. Xu, J. Xia, S. Li, S. Z. Li, "Temporal Attention
Unit: Towards Efficient Spatiotemporal Predictive Learning", CVPR 2023,
Sec. 3.2 eq. (2)-(3) (TAU) and Sec. 3.3 eq. (4)-(5) (differential
divergence regularisation). Layers and loss follow OpenSTL's ``TAU``
method (``openstl/methods/tau.py``) and ``TAUSubBlock``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from framecast.models.simvp import SimVP


def differential_divergence(pred: Tensor, truth: Tensor, tau: float = 0.1) -> Tensor:
    """TAU eq. (4)-(5): KL divergence of the softmax-normalised frame differences.

    The differences between consecutive frames, flattened per (sample,
    step), are turned into distributions by a softmax with temperature
    ``tau``; the loss is ``KL(softmax(Δŷ/τ) || softmax(Δy/τ))`` averaged over
    every element, as OpenSTL's ``diff_div_reg`` averages it. Zero when
    there are fewer than three frames (as OpenSTL).

    Parameters
    ----------
    pred, truth : Tensor
        (B, T, C, H, W) predicted and true frames.
    tau : float
        Softmax temperature (paper: 0.1).
    """
    b, t = pred.shape[:2]
    if t <= 2:
        return pred.new_zeros(())
    gap_pred = (pred[:, 1:] - pred[:, :-1]).reshape(b, t - 1, -1)  # (B, T-1, C*H*W)
    gap_true = (truth[:, 1:] - truth[:, :-1]).reshape(b, t - 1, -1)
    log_p = torch.log_softmax(gap_pred / tau, dim=-1)
    log_q = torch.log_softmax(gap_true / tau, dim=-1)
    return (log_p.exp() * (log_p - log_q)).mean()


class TAU(SimVP):
    """SimVP with TAU blocks as translator, trained with ``loss + alpha * DDR``.

    Each TAU block (eq. 2-3) multiplies a statical attention (the
    decomposed 21x21 large-kernel convolution) by a dynamical attention
    (squeeze-and-excitation over channels, i.e. over the stacked frames)
    and by its input; it replaces gSTA inside the same SimVP encoder,
    translator and decoder. No recurrent cell (see :class:`SimVP`).

    Parameters
    ----------
    alpha : float
        Weight of the differential divergence regularisation (paper and
        OpenSTL MMNIST: 0.1).
    tau : float
        Its softmax temperature (0.1).
    in_channels, context_frames, spatial_channels, temporal_channels, spatial_layers,
    temporal_layers, kernel_size, mlp_ratio, output_activation
        As :class:`SimVP` (OpenSTL MMNIST: 64, 512, 4, 8, 3, 8).
    """

    translators: tuple[str, ...] = ("tau",)

    def __init__(
        self,
        in_channels: int,
        context_frames: int = 10,
        spatial_channels: int = 64,
        temporal_channels: int = 512,
        spatial_layers: int = 4,
        temporal_layers: int = 8,
        kernel_size: int = 3,
        mlp_ratio: float = 8.0,
        output_activation: str = "none",
        alpha: float = 0.1,
        tau: float = 0.1,
    ) -> None:
        super().__init__(
            in_channels,
            context_frames,
            spatial_channels,
            temporal_channels,
            spatial_layers,
            temporal_layers,
            "tau",
            kernel_size,
            mlp_ratio,
            output_activation,
        )
        if not isinstance(alpha, int | float) or alpha < 0:
            raise ValueError(f"alpha must be a number >= 0, got {alpha!r}")
        if not isinstance(tau, int | float) or tau <= 0:
            raise ValueError(f"tau must be a positive number, got {tau!r}")
        self.alpha = float(alpha)
        self.tau = float(tau)

    def training_loss(
        self,
        context: Tensor,
        target: Tensor,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        true_mask: Tensor | None = None,
        future_only: bool = False,
    ) -> Tensor:
        """``loss_fn`` on the forecast plus ``alpha`` x the differential divergence."""
        preds = self.rollout(context, target.shape[1])  # (B, Tf, C, H, W)
        return loss_fn(preds, target) + self.alpha * differential_divergence(
            preds, target, self.tau
        )
