"""Building blocks of SimVP and TAU: the spatial encoder/decoder and the translators.

Layer shapes and initialisation follow OpenSTL (``openstl/models/simvp_model.py``,
``openstl/modules/simvp_modules.py``), which holds the authors' code.

References
----------
Z. Gao, C. Tan, L. Wu, S. Z. Li, "SimVP: Simpler yet Better Video
Prediction", CVPR 2022, Sec. 3 and Fig. 3 (Inception-U translator).
C. Tan, Z. Gao, S. Li, S. Z. Li, "SimVP: Towards Simple yet Powerful
Spatiotemporal Predictive Learning", arXiv:2211.12509, Sec. 3.2 (gSTA).
C. Tan, Z. Gao, L. Wu, Y. Xu, J. Xia, S. Li, S. Z. Li, "Temporal
Attention Unit: Towards Efficient Spatiotemporal Predictive Learning",
CVPR 2023, Sec. 3.2 eq. (2)-(3) (TAU).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def _trunc_normal_conv(module: nn.Module) -> None:
    """OpenSTL's encoder/decoder init: truncated normal (std 0.02), zero bias."""
    if isinstance(module, nn.Conv2d):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def _fan_out_conv(module: nn.Module) -> None:
    """OpenSTL's gSTA/TAU init: normal with std sqrt(2 / fan_out), zero bias."""
    if isinstance(module, nn.Conv2d):
        fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels
        nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / (fan_out // module.groups)))
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class ConvNormAct(nn.Module):
    """Conv (stride 2 down, or pixel-shuffle 2x up) -> GroupNorm(2) -> SiLU: SimVP's ``ConvSC``."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel: int, down: bool = False, up: bool = False
    ) -> None:
        super().__init__()
        stride = 2 if down else 1
        pad = (kernel - stride + 1) // 2
        if up:
            self.conv: nn.Module = nn.Sequential(
                nn.Conv2d(in_ch, 4 * out_ch, kernel, padding=pad), nn.PixelShuffle(2)
            )
        else:
            self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=pad)
        self.norm = nn.GroupNorm(2, out_ch)
        self.act = nn.SiLU()
        self.apply(_trunc_normal_conv)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


def _downsamplings(n: int) -> list[bool]:
    """Which of ``n`` encoder layers halve the size: every second one, from the second."""
    return [i % 2 == 1 for i in range(n)]


class SpatialEncoder(nn.Module):
    """``num_layers`` ConvNormAct layers, every second one halving H and W (SimVP eq. 1)."""

    def __init__(self, in_ch: int, hid: int, num_layers: int, kernel: int) -> None:
        super().__init__()
        downs = _downsamplings(num_layers)
        self.layers = nn.ModuleList(
            ConvNormAct(in_ch if i == 0 else hid, hid, kernel, down=d) for i, d in enumerate(downs)
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(N, C, H, W) -> latent (N, hid, H', W') and the first layer's output (the skip)."""
        skip = self.layers[0](x)
        z = skip
        for layer in self.layers[1:]:
            z = layer(z)
        return z, skip


class SpatialDecoder(nn.Module):
    """Mirror of :class:`SpatialEncoder` (pixel-shuffle up), skip added before the last layer."""

    def __init__(self, hid: int, out_ch: int, num_layers: int, kernel: int) -> None:
        super().__init__()
        ups = list(reversed(_downsamplings(num_layers)))
        self.layers = nn.ModuleList(ConvNormAct(hid, hid, kernel, up=u) for u in ups)
        self.readout = nn.Conv2d(hid, out_ch, 1)

    def forward(self, z: Tensor, skip: Tensor) -> Tensor:
        for layer in self.layers[:-1]:
            z = layer(z)
        return self.readout(self.layers[-1](z + skip))


class GroupConvNormAct(nn.Module):
    """Grouped conv -> GroupNorm -> LeakyReLU(0.2), one branch of an Inception block."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, groups: int) -> None:
        super().__init__()
        # as OpenSTL's GroupConv2d, which also needs out_ch % groups == 0 for its GroupNorm
        groups = groups if in_ch % groups == 0 and out_ch % groups == 0 else 1
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2, groups=groups)
        self.norm = nn.GroupNorm(groups, out_ch)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


class InceptionBlock(nn.Module):
    """SimVP's ``gInception_ST``: 1x1 conv, then the sum of grouped 3/5/7/11 branches."""

    def __init__(
        self,
        in_ch: int,
        hid: int,
        out_ch: int,
        kernels: tuple[int, ...] = (3, 5, 7, 11),
        groups: int = 8,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, hid, 1)
        self.branches = nn.ModuleList(GroupConvNormAct(hid, out_ch, k, groups) for k in kernels)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv1(x)
        return torch.stack([branch(x) for branch in self.branches]).sum(0)


class InceptionUNet(nn.Module):
    """SimVP's Inception-U translator (Fig. 3): ``depth`` Inception blocks down, ``depth`` up,
    with U-Net skips, on the time-stacked latent (N, T*hid_S, H', W')."""

    def __init__(self, channels: int, hidden: int, depth: int, groups: int = 8) -> None:
        super().__init__()
        half = hidden // 2
        self.down = nn.ModuleList(
            InceptionBlock(channels if i == 0 else hidden, half, hidden, groups=groups)
            for i in range(depth)
        )
        self.up = nn.ModuleList(
            InceptionBlock(
                hidden if i == 0 else 2 * hidden,
                half,
                channels if i == depth - 1 else hidden,
                groups=groups,
            )
            for i in range(depth)
        )

    def forward(self, x: Tensor) -> Tensor:
        skips: list[Tensor] = []
        z = x
        for i, block in enumerate(self.down):
            z = block(z)
            if i < len(self.down) - 1:
                skips.append(z)
        z = self.up[0](z)
        for block in self.up[1:]:
            z = block(torch.cat([z, skips.pop()], dim=1))
        return z


class MixMlp(nn.Module):
    """1x1 conv -> 3x3 depth-wise conv -> GELU -> 1x1 conv (the channel mixer of gSTA/TAU)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.dwconv(self.fc1(x))))


class LargeKernelAttention(nn.Module):
    """Decomposed large-kernel attention of gSTA and TAU's statical attention.

    A ``kernel_size`` (21) convolution is decomposed into a 5x5 depth-wise
    conv, a 7x7 depth-wise conv of dilation 3 and a 1x1 conv (SimVP v2
    Sec. 3.2; TAU eq. 2). gSTA gates it (``sigmoid(g) * f`` from a 1x1 conv
    to twice the channels); TAU multiplies it by a squeeze-and-excitation
    dynamical attention and by the input (TAU eq. 2-3).
    """

    def __init__(self, dim: int, kernel_size: int = 21, dilation: int = 3, temporal: bool = False):
        super().__init__()
        d_k = 2 * dilation - 1
        dd_k = kernel_size // dilation + ((kernel_size // dilation) % 2 - 1)
        self.conv0 = nn.Conv2d(dim, dim, d_k, padding=(d_k - 1) // 2, groups=dim)
        self.conv_spatial = nn.Conv2d(
            dim, dim, dd_k, padding=dilation * (dd_k - 1) // 2, groups=dim, dilation=dilation
        )
        self.temporal = temporal
        self.conv1 = nn.Conv2d(dim, dim if temporal else 2 * dim, 1)
        if temporal:
            reduced = dim // max(dim // 16, 4)  # OpenSTL: reduction max(dim // 16, 4)
            self.se = nn.Sequential(
                nn.Linear(dim, reduced, bias=False),
                nn.ReLU(),
                nn.Linear(reduced, dim, bias=False),
                nn.Sigmoid(),
            )

    def forward(self, x: Tensor) -> Tensor:
        attn = self.conv1(self.conv_spatial(self.conv0(x)))
        if not self.temporal:
            f, g = torch.chunk(attn, 2, dim=1)
            return torch.sigmoid(g) * f
        se = self.se(x.mean(dim=(2, 3)))[:, :, None, None]  # (N, C, 1, 1) dynamical attention
        return se * attn * x


class AttentionMetaBlock(nn.Module):
    """A gSTA (SimVP v2) or TAU block: BN -> attention, BN -> MixMlp, each layer-scaled residual.

    Parameters
    ----------
    dim : int
        Channels (time-stacked latent).
    mlp_ratio : float
        Hidden width of the MixMlp over ``dim`` (OpenSTL's SimVP: 8).
    temporal : bool
        TAU's attention (statical x dynamical) instead of gSTA's gated one.
    """

    def __init__(self, dim: int, mlp_ratio: float = 8.0, temporal: bool = False) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(dim)
        self.proj_1 = nn.Conv2d(dim, dim, 1)
        self.act = nn.GELU()
        self.attn = LargeKernelAttention(dim, temporal=temporal)
        self.proj_2 = nn.Conv2d(dim, dim, 1)
        self.norm2 = nn.BatchNorm2d(dim)
        self.mlp = MixMlp(dim, int(dim * mlp_ratio))
        self.layer_scale_1 = nn.Parameter(torch.full((dim,), 1e-2))
        self.layer_scale_2 = nn.Parameter(torch.full((dim,), 1e-2))
        self.apply(_fan_out_conv)

    def forward(self, x: Tensor) -> Tensor:
        y = self.norm1(x)
        y = self.proj_2(self.attn(self.act(self.proj_1(y)))) + y  # attention with its shortcut
        x = x + self.layer_scale_1[:, None, None] * y
        return x + self.layer_scale_2[:, None, None] * self.mlp(self.norm2(x))


class MetaTranslator(nn.Module):
    """``depth`` gSTA or TAU blocks; 1x1 convolutions change the width at both ends."""

    def __init__(
        self, channels: int, hidden: int, depth: int, mlp_ratio: float, temporal: bool
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        for i in range(depth):
            dim = channels if i == 0 else hidden
            out = channels if i == depth - 1 else hidden
            blocks.append(AttentionMetaBlock(dim, mlp_ratio, temporal))
            if dim != out:
                blocks.append(nn.Conv2d(dim, out, 1))  # OpenSTL's MetaBlock.reduction
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: Tensor) -> Tensor:
        return self.blocks(x)
