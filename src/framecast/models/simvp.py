"""SimVP: a CNN encoder, a translator over the stacked frames, a CNN decoder (no recurrence).

References
----------
Z. Gao, C. Tan, L. Wu, S. Z. Li, "SimVP: Simpler yet Better Video
Prediction", CVPR 2022, Sec. 3 (Inception-U translator, "SimVP v1").
C. Tan, Z. Gao, S. Li, S. Z. Li, "SimVP: Towards Simple yet Powerful
Spatiotemporal Predictive Learning", arXiv:2211.12509, Sec. 3.2 (gSTA
translator, "SimVP v2"). Layers follow OpenSTL's ``SimVP_Model``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from framecast.models.base import (
    ForecastModel,
    apply_output_activation,
    check_horizon,
    check_output_activation,
)
from framecast.models.simvp_blocks import (
    InceptionUNet,
    MetaTranslator,
    SpatialDecoder,
    SpatialEncoder,
)


class SimVP(ForecastModel):
    """SimVP: ``context_frames`` frames in, as many frames out, in one pass.

    Each frame goes through the spatial encoder (``spatial_layers``
    conv-GroupNorm-SiLU layers, every second halving the size) to
    ``(hid_S, H', W')``; the ``T`` latents are stacked into ``T * hid_S``
    channels and the translator maps them to the next ``T`` latents; the
    decoder (with a skip from the first encoder layer) maps each back to a
    frame. A horizon longer than ``T`` is reached by feeding the forecast
    back in, T frames at a time (as OpenSTL does); a shorter one keeps the
    first frames.

    No recurrent cell: the temporal model is a convolutional translator,
    so there is nothing to swap by name.

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    context_frames : int
        Frames per input (paper: 10); the translator's width depends on it.
    spatial_channels : int
        ``hid_S`` (paper/OpenSTL MMNIST: 64).
    temporal_channels : int
        ``hid_T`` (512).
    spatial_layers : int
        ``N_S``, an even number (4).
    temporal_layers : int
        ``N_T`` (8).
    translator : {"incepu", "gsta"}
        Inception-U (SimVP v1) or gated spatiotemporal attention (v2).
    kernel_size : int
        Encoder/decoder convolution size (3).
    mlp_ratio : float
        gSTA MLP width ratio (OpenSTL: 8).
    output_activation : {"none", "sigmoid", "softplus", "exp"}
        Applied to each predicted frame (SimVP: none).
    """

    #: translators this class builds (TAU adds its own)
    translators: tuple[str, ...] = ("incepu", "gsta")

    def __init__(
        self,
        in_channels: int,
        context_frames: int = 10,
        spatial_channels: int = 64,
        temporal_channels: int = 512,
        spatial_layers: int = 4,
        temporal_layers: int = 8,
        translator: str = "gsta",
        kernel_size: int = 3,
        mlp_ratio: float = 8.0,
        output_activation: str = "none",
    ) -> None:
        super().__init__(in_channels)
        for name, value in (
            ("context_frames", context_frames),
            ("spatial_channels", spatial_channels),
            ("temporal_channels", temporal_channels),
            ("temporal_layers", temporal_layers),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(spatial_layers, int) or spatial_layers < 2 or spatial_layers % 2:
            raise ValueError(f"spatial_layers must be an even integer >= 2, got {spatial_layers!r}")
        if translator not in self.translators:
            raise ValueError(
                f"unknown translator {translator!r}; expected one of {self.translators}"
            )
        if translator == "incepu" and (temporal_layers < 2 or temporal_channels % 2):
            raise ValueError(
                "the Inception-U translator needs temporal_layers >= 2 and an even "
                f"temporal_channels, got {temporal_layers} and {temporal_channels}"
            )
        check_output_activation(output_activation)
        self.context_frames = context_frames
        self.scale = 2 ** (spatial_layers // 2)
        self.encoder = SpatialEncoder(in_channels, spatial_channels, spatial_layers, kernel_size)
        self.decoder = SpatialDecoder(spatial_channels, in_channels, spatial_layers, kernel_size)
        stacked = context_frames * spatial_channels
        self.translator = self._translator(
            translator, stacked, temporal_channels, temporal_layers, mlp_ratio
        )
        self.output_activation = output_activation

    @staticmethod
    def _translator(
        name: str, channels: int, hidden: int, depth: int, mlp_ratio: float
    ) -> nn.Module:
        if name == "incepu":
            return InceptionUNet(channels, hidden, depth)
        return MetaTranslator(channels, hidden, depth, mlp_ratio, temporal=name == "tau")

    def predict_block(self, frames: Tensor) -> Tensor:
        """One pass: (B, T, C, H, W) -> the next (B, T, C, H, W)."""
        b, t, c, h, w = frames.shape
        z, skip = self.encoder(frames.reshape(b * t, c, h, w))  # (B*T, hid_S, H', W')
        hid, hh, ww = z.shape[1:]
        z = self.translator(z.reshape(b, t * hid, hh, ww))  # (B, T*hid_S, H', W')
        y = self.decoder(z.reshape(b * t, hid, hh, ww), skip)  # (B*T, C, H, W)
        return apply_output_activation(y.reshape(b, t, c, h, w), self.output_activation)

    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        """Forecast (B, horizon, C, H, W); ``target`` and ``true_mask`` are not used."""
        self.check_frames(context, "context")
        check_horizon(horizon)
        if context.shape[1] != self.context_frames:
            raise ValueError(
                f"context has {context.shape[1]} frames, this SimVP takes "
                f"context_frames={self.context_frames}"
            )
        h, w = context.shape[-2:]
        if h % self.scale or w % self.scale:
            raise ValueError(
                f"frame size {h}x{w} must be a multiple of {self.scale} "
                "(the encoder halves it every second layer)"
            )
        blocks: list[Tensor] = []
        frames = context
        while sum(x.shape[1] for x in blocks) < horizon:
            frames = self.predict_block(frames)  # (B, T, C, H, W)
            blocks.append(frames)
        return torch.cat(blocks, dim=1)[:, :horizon]
