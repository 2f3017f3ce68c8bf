"""PhyDNet: a physically constrained branch (PhyCell) beside a recurrent residual branch.

References
----------
V. Le Guen, N. Thome, "Disentangling Physical Dynamics from Unknown Factors
for Unsupervised Video Prediction", CVPR 2020, Sec. 3 and Fig. 2. Layer
shapes as in the authors' code (vincent-leguen/PhyDNet, ``models/models.py``,
``main.py``) and OpenSTL's ``PhyDNet_Model``
(``openstl/models/phydnet_model.py``, ``openstl/modules/phydnet_modules.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from torch import Tensor, nn

from framecast.cells import CellStack, StackState, layer_widths
from framecast.cells.phycell import PhyCell
from framecast.models.base import (
    StepwiseForecaster,
    apply_output_activation,
    check_output_activation,
    next_frame_loss,
)

# (PhyCell state, residual branch's stack state)
PhyDNetState = tuple[Tensor, StackState]


def _conv_block(cin: int, cout: int, stride: int, groups: int) -> nn.Sequential:
    """3x3 convolution, group norm, LeakyReLU(0.2): the authors' ``dcgan_conv``."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1),
        nn.GroupNorm(groups, cout),
        nn.LeakyReLU(0.2),
    )


def _upconv_block(cin: int, cout: int, stride: int, groups: int) -> nn.Sequential:
    """3x3 transposed convolution, group norm, LeakyReLU(0.2): the authors' ``dcgan_upconv``."""
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 3, stride=stride, padding=1, output_padding=stride - 1),
        nn.GroupNorm(groups, cout),
        nn.LeakyReLU(0.2),
    )


class PhyDNet(StepwiseForecaster):
    """PhyDNet (Le Guen & Thome 2020): encoder, PhyCell + recurrent branch, decoder.

    At each step the frame ``u_t`` is encoded (``E``, downsampling by
    ``downsample``) and split into two latent streams (Sec. 3.1, Fig. 2):

    - the physical stream ``E_p`` feeds PhyCell (:class:`~framecast.cells.phycell.PhyCell`,
      Sec. 3.2): ``h̃ = h + Φ(h)``, ``h' = h̃ + K ⊙ (E_p(E(u_t)) − h̃)``,
      with Φ's 7x7 kernels tied to partial derivatives by the moment loss
      (Sec. 3.3);
    - the residual stream ``E_r`` feeds a stack of recurrent cells
      (ConvLSTM, 128-128-64 channels, 3x3, in the paper).

    The next frame is ``σ(D(D_p(h_phys) + D_r(h_resid)))``. The training
    objective (:meth:`training_loss`) is ``loss_fn`` on every next frame plus
    the moment loss: the authors sum the per-frame MSE over the ``n``
    predicted frames and add ``Σ_b MSE(K2M(W_Φ[:, b]), Δ)`` with weight 1;
    ``loss_fn`` here averages over frames, so the moment term is divided by
    ``n``, which keeps the authors' ratio (Adam ignores the overall scale).

    What can be swapped: the residual branch's cell, by name (any
    convolutional cell; one with a spatiotemporal memory M, such as
    ``stlstm``, needs one width for all layers and its M zigzags through the
    branch as in PredRNN). What cannot: PhyCell, whose update is the
    prediction-correction of a discretised PDE and whose state is the
    latent itself, not a hidden state of another width.

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    downsample : {2, 4}
        Spatial factor of the encoder (OpenSTL's ``patch_size``; paper: 4,
        64x64 frames -> 16x16 latents).
    encoder_channels : int
        Width ``nf`` of the encoder's first layers; the latent has ``2 nf``
        channels (paper: 32, latent 64).
    phy_kernel : int
        Side of PhyCell's derivative kernels (paper: 7, 49 derivatives).
    hidden_channels : int or sequence of int
        Widths of the residual branch's layers (paper: [128, 128, 64]).
    num_layers : int
        Layers of the residual branch (paper: 3).
    kernel_size : int
        Convolution size of the residual branch's cells (paper: 3).
    cell : str
        Registered convolutional cell of the residual branch (paper: ``convlstm``).
    cell_options : mapping, optional
        Its extra options (the authors' ConvLSTM has no forget bias:
        ``{"forget_bias": 0.0}``).
    norm_groups : int
        Groups of the encoder and decoder's group norms (authors: 16).
    moment_weight : float
        Weight of the moment loss relative to the authors' (1.0 = theirs).
    output_activation : {"sigmoid", "none", "clip", "softplus", "exp"}
        Applied to the decoded frame (paper: sigmoid).
    """

    uses_cell: ClassVar[bool] = True

    def __init__(
        self,
        in_channels: int,
        downsample: int = 4,
        encoder_channels: int = 32,
        phy_kernel: int = 7,
        hidden_channels: int | list[int] | None = None,
        num_layers: int = 3,
        kernel_size: int = 3,
        cell: str = "convlstm",
        cell_options: Mapping[str, Any] | None = None,
        norm_groups: int = 16,
        moment_weight: float = 1.0,
        output_activation: str = "sigmoid",
    ) -> None:
        super().__init__(in_channels, patch_size=1)  # the encoder downsamples, not patching
        if downsample not in (2, 4):
            raise ValueError(f"downsample must be 2 or 4, got {downsample!r}")
        if not isinstance(encoder_channels, int) or encoder_channels < 1:
            raise ValueError(
                f"encoder_channels must be a positive integer, got {encoder_channels!r}"
            )
        nf = encoder_channels
        if not isinstance(norm_groups, int) or norm_groups < 1 or nf % norm_groups:
            raise ValueError(
                f"norm_groups must be a positive divisor of encoder_channels={nf}, "
                f"got {norm_groups!r}"
            )
        if not isinstance(moment_weight, int | float) or moment_weight < 0:
            raise ValueError(f"moment_weight must be a number >= 0, got {moment_weight!r}")
        check_output_activation(output_activation)
        hidden = layer_widths(
            [128, 128, 64] if hidden_channels is None else hidden_channels, num_layers
        )
        latent = 2 * nf
        groups = norm_groups
        self.downsample = downsample
        self.encoder = nn.Sequential(  # E: (C, H, W) -> (2nf, H/d, W/d)
            _conv_block(in_channels, nf, 2, groups),
            _conv_block(nf, nf, 1, groups),
            _conv_block(nf, latent, downsample // 2, groups),
        )
        self.encoder_phys = nn.Sequential(  # E_p
            _conv_block(latent, latent, 1, groups), _conv_block(latent, latent, 1, groups)
        )
        self.encoder_resid = nn.Sequential(  # E_r
            _conv_block(latent, latent, 1, groups), _conv_block(latent, latent, 1, groups)
        )
        self.phycell = PhyCell(latent, phy_kernel)
        self.resid = CellStack(cell, latent, hidden, kernel_size, cell_options)
        self.decoder_phys = nn.Sequential(  # D_p
            _upconv_block(latent, latent, 1, groups), _upconv_block(latent, latent, 1, groups)
        )
        self.decoder_resid = nn.Sequential(  # D_r
            _upconv_block(hidden[-1], latent, 1, groups), _upconv_block(latent, latent, 1, groups)
        )
        stride = downsample // 2
        self.decoder = nn.Sequential(  # D: (2nf, H/d, W/d) -> (C, H, W)
            _upconv_block(latent, nf, 2, groups),
            _upconv_block(nf, nf, 1, groups),
            nn.ConvTranspose2d(nf, in_channels, 3, stride, padding=1, output_padding=stride - 1),
        )
        self.latent_channels = latent
        self.moment_weight = float(moment_weight)
        self.output_activation = output_activation

    def check_frames(self, frames: Tensor, what: str = "frames") -> None:
        super().check_frames(frames, what)
        height, width = frames.shape[-2:]
        if height % self.downsample or width % self.downsample:
            raise ValueError(
                f"{what} of {height}x{width} do not fit downsample={self.downsample}: height and "
                f"width must be multiples of {self.downsample}"
            )

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> PhyDNetState:
        h, w = height // self.downsample, width // self.downsample
        phys = like.new_zeros(batch, self.latent_channels, h, w)
        return phys, self.resid.init_state(batch, h, w, like)

    def step(self, x: Tensor, state: PhyDNetState) -> tuple[Tensor, PhyDNetState]:
        phys, resid_state = state
        z = self.encoder(x)  # (B, 2nf, H/d, W/d)
        phys = self.phycell(self.encoder_phys(z), phys)  # physical branch
        hs, resid_state = self.resid(self.encoder_resid(z), resid_state)  # residual branch
        decoded = self.decoder_phys(phys) + self.decoder_resid(hs[-1])  # (B, 2nf, h, w)
        pred = apply_output_activation(self.decoder(decoded), self.output_activation)
        return pred, (phys, resid_state)

    def training_loss(
        self,
        context: Tensor,
        target: Tensor,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        true_mask: Tensor | None = None,
        future_only: bool = False,
    ) -> Tensor:
        """``loss_fn`` on the next frames plus the moment loss / n (see the class docstring)."""
        preds = self.rollout(context, target.shape[1], target=target, true_mask=true_mask)
        frame_loss = next_frame_loss(preds, context, target, loss_fn, future_only)
        n = target.shape[1] if future_only else preds.shape[1]
        return frame_loss + self.moment_weight * self.phycell.moment_loss() / n

    def moment_loss(self) -> Tensor:
        """PhyCell's moment loss (Sec. 3.3), as the authors add it to the objective."""
        return self.phycell.moment_loss()
