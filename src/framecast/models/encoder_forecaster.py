"""The ConvLSTM encoding-forecasting network of Shi et al. 2015.

References
----------
X. Shi, Z. Chen, H. Wang, D.-Y. Yeung, W.-K. Wong, W.-C. Woo,
"Convolutional LSTM Network: A Machine Learning Approach for Precipitation
Nowcasting", NeurIPS 2015, Section 3.2 and Fig. 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from framecast.cells import CellStack, layer_widths
from framecast.models.base import (
    ForecastModel,
    apply_output_activation,
    check_horizon,
    check_output_activation,
)
from framecast.models.patching import patch, unpatch


class EncoderForecaster(ForecastModel):
    """An encoding stack reads the context; a forecasting stack unrolls the future.

    Shi et al. 2015, Sec. 3.2 / Fig. 3: the encoding network (a stack of
    recurrent cells) reads the (patched) context frames. The forecasting
    network, a second stack with weights of its own, starts from the
    encoder's final states: every layer's state, and for cells with a
    spatiotemporal memory (``stlstm``, ``mflow``) the memory M too, are
    handed over as they are (gradients flow back through them). The
    forecaster then runs ``horizon`` steps with no input: its bottom layer
    is built with ``in_channels=0`` (no input convolution, as Shi et al.'s
    forecaster takes nothing but its states; a zero input map would leave
    the input weights untrained and counted), the layers above read the
    hidden state of the layer below. The prediction at each step is a 1x1
    convolution over the concatenation of all forecaster layers' hidden
    states, unpatched to a frame.

    Unlike :class:`~framecast.models.predrnn.PredRNN`, the forecaster never
    sees a frame, true or predicted: ``rollout`` accepts ``target`` and
    ``true_mask`` for the common interface and ignores them (teacher forcing
    and scheduled sampling do not apply), and returns only the ``horizon``
    future frames. :meth:`~framecast.models.base.ForecastModel.training_loss`
    therefore scores the future frames only.

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    hidden_channels : int or sequence of int
        Hidden channels per layer, the same in both stacks; an int repeats
        over ``num_layers``. Cells with a memory M need one size for all.
    num_layers : int
        Layers per stack (the paper's best Moving MNIST model: 3).
    kernel_size : int
        Convolution size in the cells (paper: 5).
    patch_size : int
        Space-to-depth factor. Default 4, as the paper cuts 64x64 Moving
        MNIST frames into 16x16 maps of 4x4 patches; 2 keeps more spatial
        resolution for small frames.
    cell : str
        Registered convolutional cell name (paper: ``convlstm``).
    cell_options : mapping, optional
        Extra keyword options of the cell (``peephole``, ``layer_norm``, ...).
    output_activation : {"none", "sigmoid", "softplus", "exp"}
        Applied to each predicted frame. Default ``"none"`` (train with MSE);
        the paper's Moving MNIST setting is ``"sigmoid"`` with the
        cross-entropy loss ``bce``.
    output_bias : float, optional
        Starting value of the output convolution's bias (default: PyTorch's
        initialisation); a rate model starts at ``softplus^-1(mean rate)``.

    Raises
    ------
    ValueError
        Bad sizes, an unknown output activation, or a cell that does not
        work on maps.
    """

    uses_cell: ClassVar[bool] = True

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int | list[int] = 64,
        num_layers: int = 3,
        kernel_size: int = 5,
        patch_size: int = 4,
        cell: str = "convlstm",
        cell_options: Mapping[str, Any] | None = None,
        output_activation: str = "none",
        output_bias: float | None = None,
    ) -> None:
        super().__init__(in_channels, patch_size)
        hidden = layer_widths(hidden_channels, num_layers)
        check_output_activation(output_activation)
        frame_ch = in_channels * patch_size * patch_size
        self.encoder = CellStack(cell, frame_ch, hidden, kernel_size, cell_options)
        # in_channels=0: the forecaster is fed nothing, so it has no input weights
        self.forecaster = CellStack(cell, 0, hidden, kernel_size, cell_options)
        self.head = nn.Conv2d(sum(hidden), frame_ch, 1)
        if output_bias is not None:
            nn.init.constant_(self.head.bias, float(output_bias))
        self.frame_channels = frame_ch
        self.cell_name = cell
        self.output_activation = output_activation

    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        """Forecast ``horizon`` frames after ``context``.

        Parameters
        ----------
        context : Tensor
            (B, Tc, C, H, W) observed frames.
        horizon : int
            Number of future frames to predict.
        target, true_mask : Tensor, optional
            Ignored: the forecaster is fed no frames, so there is nothing
            to teacher-force.

        Returns
        -------
        Tensor
            (B, horizon, C, H, W): the future frames only.
        """
        self.check_frames(context, "context")
        check_horizon(horizon)
        seq = patch(context, self.patch_size)  # (B, Tc, C*p*p, h, w)
        b, tc, _, h, w = seq.shape
        state = self.encoder.init_state(b, h, w, seq)
        for t in range(tc):
            _, state = self.encoder(seq[:, t], state)
        # the forecaster starts from the encoder's last states (and memory M)
        nothing = seq.new_zeros(b, 0, h, w)  # (B, 0, h, w): the forecaster has no input
        preds: list[Tensor] = []
        for _ in range(horizon):
            hs, state = self.forecaster(nothing, state)
            out = self.head(torch.cat(hs, dim=1))  # (B, C*p*p, h, w) from all layers
            preds.append(apply_output_activation(out, self.output_activation))
        return unpatch(torch.stack(preds, dim=1), self.patch_size)  # (B, horizon, C, H, W)
