"""Spatio-temporal video autoencoder with differentiable memory.

A spatial encoder maps each frame to a feature map, a recurrent
convolutional cell (the temporal encoder) tracks its motion, a small
decoder regresses an optical-flow map from the cell's hidden state, and a
differentiable bilinear sampler warps the last feature map with that flow
to predict the next one, which a spatial decoder turns back into a frame.

References
----------
V. Patraucean, A. Handa, R. Cipolla, "Spatio-temporal video autoencoder
with differentiable memory", ICLR 2016 workshop track, arXiv:1511.06309,
Section 2 and Fig. 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from framecast.cells import CellState, build_cell
from framecast.models.base import (
    StepwiseForecaster,
    apply_output_activation,
    check_output_activation,
    next_frame_loss,
)

#: recurrent state of one rollout: the cell's state and its spatiotemporal memory M
STVAEState = tuple[CellState, Tensor | None]

#: ``grid_sample``'s ``align_corners``: False, so -1 and 1 are the outer edges of the
#: border cells and one cell is 2 / size in normalised coordinates (any size >= 1 works)
ALIGN_CORNERS = False


def warp(features: Tensor, flow: Tensor) -> Tensor:
    """Move a feature map along a flow with a differentiable bilinear sampler.

    The flow is the displacement of the content, in cells of the map:
    ``out[..., y, x] = features[..., y - dy, x - dx]`` (paper Sec. 2,
    "differentiable memory" / sampler; backward warping with the flow of
    the step). Bilinear interpolation, border padding (cells sampled
    outside the map take the nearest border value), ``align_corners=False``.

    Parameters
    ----------
    features : Tensor
        (B, C, h, w) map x_t^E.
    flow : Tensor
        (B, 2, h, w) flow T_t, channel 0 = dx (columns), channel 1 = dy (rows).

    Returns
    -------
    Tensor
        (B, C, h, w) predicted map x_{t+1}^E.
    """
    if features.dim() != 4 or flow.dim() != 4:
        raise ValueError(
            f"warp expects (B, C, h, w) features and (B, 2, h, w) flow, got shapes "
            f"{tuple(features.shape)} and {tuple(flow.shape)}"
        )
    b, _, h, w = features.shape
    if flow.shape != (b, 2, h, w):
        raise ValueError(f"flow must have shape {(b, 2, h, w)}, got {tuple(flow.shape)}")
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype).view(1, h, 1)  # (1, h, 1)
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype).view(1, 1, w)  # (1, 1, w)
    src_x = xs - flow[:, 0]  # (B, h, w) source column of each output cell
    src_y = ys - flow[:, 1]  # (B, h, w) source row
    # pixel index -> normalised coordinate with align_corners=False: (2 i + 1) / n - 1
    grid = torch.stack([(2 * src_x + 1) / w - 1, (2 * src_y + 1) / h - 1], dim=-1)  # (B, h, w, 2)
    return F.grid_sample(
        features, grid, mode="bilinear", padding_mode="border", align_corners=ALIGN_CORNERS
    )


def flow_smoothness_penalty(flows: Tensor, delta: float = 1.0) -> Tensor:
    """Huber penalty on the spatial gradients of flow maps (paper Sec. 2).

    Parameters
    ----------
    flows : Tensor
        (..., 2, h, w) flow maps, e.g. (B, T', 2, h, w) over a rollout.
    delta : float
        Huber threshold: quadratic below it, linear above.

    Returns
    -------
    Tensor
        Scalar: the mean Huber loss of the horizontal finite differences
        plus the mean Huber loss of the vertical ones (a map one cell wide
        or high contributes no term in that direction). Zero for a
        constant flow.
    """
    if flows.dim() < 3 or flows.shape[-3] != 2:
        raise ValueError(f"flows must have shape (..., 2, h, w), got {tuple(flows.shape)}")
    penalty = flows.new_zeros(())
    grad_x = flows[..., :, 1:] - flows[..., :, :-1]  # (..., 2, h, w-1)
    grad_y = flows[..., 1:, :] - flows[..., :-1, :]  # (..., 2, h-1, w)
    for grad in (grad_x, grad_y):
        if grad.numel():
            penalty = penalty + F.huber_loss(grad, torch.zeros_like(grad), delta=delta)
    return penalty


class SpatioTemporalVideoAutoencoder(StepwiseForecaster):
    """Spatio-temporal video autoencoder (Patraucean et al. 2016, Fig. 1).

    One step, on the (patched) frame y_t::

        x_t^E     = maxpool_2(ReLU(conv(y_t)))                spatial encoder E
        h_t       = cell(x_t^E, h_{t-1}, M)                   temporal encoder
        T_t       = conv_1x1(tanh(conv(h_t)))                 flow decoder, (dx, dy)
        x_{t+1}^E = warp(x_t^E, T_t)                          bilinear sampler
        y_{t+1}   = act(conv(upsample_2(x_{t+1}^E)))          spatial decoder D

    trained with the next-frame loss plus ``flow_smoothness`` times the
    Huber penalty on the spatial gradients of T (:func:`flow_smoothness_penalty`).

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    encoder_channels : int
        Feature maps of the spatial encoder (paper: 16).
    encoder_kernel : int
        Odd kernel side of the encoder convolution (paper: 7).
    hidden_channels : int
        Hidden channels of the recurrent cell (paper: 64).
    kernel_size : int
        Odd kernel side inside the cell (paper: 7).
    flow_channels : int
        Feature maps of the flow decoder's first convolution.
    flow_kernel : int
        Odd kernel side of that convolution (paper: a large 15x15 filter).
    decoder_kernel : int
        Odd kernel side of the decoder convolution (paper: 7).
    upsample : {"nearest", "transposed"}
        Nearest-neighbour x2 upsampling, or a stride-2 transposed convolution.
    patch_size : int
        Space-to-depth factor; frame sides must be multiples of 2 * patch_size.
    cell : str
        Registered conv cell name (paper: ConvLSTM).
    cell_options : mapping, optional
        Extra keyword options of the cell.
    flow_smoothness : float
        Weight of the flow smoothness penalty in :meth:`training_loss` (paper: 1e-2).
    huber_delta : float
        Huber threshold of the penalty, in cells per step.
    output_activation : {"none", "sigmoid", "softplus", "exp"}
        Applied to each predicted frame. The paper uses a sigmoid; the
        default is none (predictions are clipped to [0, 1] when scored),
        because on mostly black frames a sigmoid decoder trained for a
        few CPU minutes sticks at the all-black forecast.
    """

    uses_cell: ClassVar[bool] = True
    cell_kind: ClassVar[str] = "conv"

    def __init__(
        self,
        in_channels: int,
        encoder_channels: int = 16,
        encoder_kernel: int = 7,
        hidden_channels: int = 64,
        kernel_size: int = 7,
        flow_channels: int = 16,
        flow_kernel: int = 15,
        decoder_kernel: int = 7,
        upsample: str = "nearest",
        patch_size: int = 1,
        cell: str = "convlstm",
        cell_options: Mapping[str, Any] | None = None,
        flow_smoothness: float = 1e-2,
        huber_delta: float = 1.0,
        output_activation: str = "none",
    ) -> None:
        super().__init__(in_channels, patch_size)
        for name, value in (
            ("encoder_channels", encoder_channels),
            ("hidden_channels", hidden_channels),
            ("flow_channels", flow_channels),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name, value in (
            ("encoder_kernel", encoder_kernel),
            ("flow_kernel", flow_kernel),
            ("decoder_kernel", decoder_kernel),
        ):
            if not isinstance(value, int) or value < 1 or value % 2 == 0:
                raise ValueError(f"{name} must be a positive odd integer, got {value!r}")
        if upsample not in ("nearest", "transposed"):
            raise ValueError(f"upsample must be 'nearest' or 'transposed', got {upsample!r}")
        if float(flow_smoothness) < 0:
            raise ValueError(f"flow_smoothness must be >= 0, got {flow_smoothness!r}")
        if float(huber_delta) <= 0:
            raise ValueError(f"huber_delta must be > 0, got {huber_delta!r}")
        check_output_activation(output_activation)
        frame_ch = in_channels * patch_size * patch_size
        self.encoder = nn.Sequential(
            nn.Conv2d(frame_ch, encoder_channels, encoder_kernel, padding=encoder_kernel // 2),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.cell = build_cell(
            cell, encoder_channels, hidden_channels, kernel_size, **dict(cell_options or {})
        )
        if self.cell.kind != "conv":
            raise ValueError(
                f"cell {cell!r} is a {self.cell.kind} cell; the video autoencoder's temporal "
                "encoder runs on feature maps and needs a conv cell"
            )
        self.flow_decoder = nn.Sequential(
            nn.Conv2d(hidden_channels, flow_channels, flow_kernel, padding=flow_kernel // 2),
            nn.Tanh(),
            nn.Conv2d(flow_channels, 2, 1),
        )
        if upsample == "nearest":
            up: nn.Module = nn.Upsample(scale_factor=2, mode="nearest")
        else:
            up = nn.ConvTranspose2d(encoder_channels, encoder_channels, 2, stride=2)
        self.decoder = nn.Sequential(
            up, nn.Conv2d(encoder_channels, frame_ch, decoder_kernel, padding=decoder_kernel // 2)
        )
        self.cell_name = cell
        self.flow_smoothness = float(flow_smoothness)
        self.huber_delta = float(huber_delta)
        self.output_activation = output_activation

    # -- frames ----------------------------------------------------------------------

    def check_frames(self, frames: Tensor, what: str = "frames") -> None:
        """Base checks, then frame sides must be multiples of 2 * patch_size (the 2x2 pool)."""
        super().check_frames(frames, what)
        side = 2 * self.patch_size
        height, width = frames.shape[-2:]
        if height % side or width % side:
            raise ValueError(
                f"{what} of {height}x{width} do not fit the 2x2 max-pool after "
                f"patch_size={self.patch_size}: height and width must be multiples of {side}"
            )

    # -- one step ----------------------------------------------------------------------

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> STVAEState:
        h, w = height // 2, width // 2  # the cell runs on the pooled feature map
        kw = {"device": like.device, "dtype": like.dtype}
        return self.cell.init_state(batch, h, w, **kw), self.cell.init_memory(batch, h, w, **kw)

    def step_with_flow(self, x: Tensor, state: STVAEState) -> tuple[Tensor, Tensor, STVAEState]:
        """One step: frame (B, C', h, w) -> prediction, flow (B, 2, h/2, w/2), new state."""
        cell_state, memory = state
        feat = self.encoder(x)  # (B, E, h/2, w/2) x_t^E
        hid, cell_state, memory = self.cell(feat, cell_state, memory)  # (B, hid, h/2, w/2)
        flow = self.flow_decoder(hid)  # (B, 2, h/2, w/2) T_t = (dx, dy)
        feat_next = warp(feat, flow)  # (B, E, h/2, w/2) x_{t+1}^E
        pred = apply_output_activation(self.decoder(feat_next), self.output_activation)
        return pred, flow, (cell_state, memory)

    def step(self, x: Tensor, state: STVAEState) -> tuple[Tensor, STVAEState]:
        pred, _, state = self.step_with_flow(x, state)
        return pred, state

    # -- rollout -----------------------------------------------------------------------

    def _rollout_with_flows(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """:meth:`StepwiseForecaster.rollout`, also returning the flow of every step.

        The loop is the base class's (same checks, same scheduled sampling).

        Returns
        -------
        tuple of Tensor
            Predictions (B, Tc + horizon - 1, C, H, W) and flows
            (B, Tc + horizon - 1, 2, H / (2p), W / (2p)).
        """
        preds, flows = self.rollout_steps(context, horizon, target, true_mask, self._step_aux)
        return preds, torch.stack(flows, dim=1)  # (B, T-1, 2, H/2p, W/2p)

    def _step_aux(self, x: Tensor, state: STVAEState) -> tuple[Tensor, STVAEState, Tensor]:
        pred, flow, state = self.step_with_flow(x, state)
        return pred, state, flow

    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        return self._rollout_with_flows(context, horizon, target, true_mask)[0]

    def flows(self, context: Tensor, horizon: int) -> Tensor:
        """Flow maps T_t of a free-running forecast.

        Returns
        -------
        Tensor
            (B, Tc + horizon - 1, 2, H / (2p), W / (2p)): (dx, dy) in feature
            cells, the flow that moves step t's feature map to step t+1's.
        """
        return self._rollout_with_flows(context, horizon)[1]

    def training_loss(
        self,
        context: Tensor,
        target: Tensor,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        true_mask: Tensor | None = None,
        future_only: bool = False,
    ) -> Tensor:
        """Next-frame loss plus ``flow_smoothness`` x the Huber flow penalty (paper Sec. 2).

        The frame term is the base class's (all next-frame predictions, or
        the future ones with ``future_only``); the penalty is
        :func:`flow_smoothness_penalty` over the flows of every step of the
        same rollout.
        """
        preds, flows = self._rollout_with_flows(
            context, target.shape[1], target=target, true_mask=true_mask
        )
        frame_loss = next_frame_loss(preds, context, target, loss_fn, future_only)
        if self.flow_smoothness == 0:
            return frame_loss
        return frame_loss + self.flow_smoothness * flow_smoothness_penalty(flows, self.huber_delta)
