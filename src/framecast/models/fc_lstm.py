"""FC-LSTM: the composite LSTM autoencoder of Srivastava et al. (2015).

References
----------
N. Srivastava, E. Mansimov, R. Salakhutdinov, "Unsupervised Learning of
Video Representations using LSTMs", ICML 2015, Sec. 2.2 (autoencoder and
future predictor, conditional decoders), Sec. 2.3 and Fig. 3 (composite
model).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from framecast.cells import CellState, build_cell, layer_widths
from framecast.models.base import (
    ForecastModel,
    apply_output_activation,
    check_horizon,
    check_output_activation,
)

# (per-layer states, memory or None): the representation the encoder hands the decoders
VectorStackState = tuple[list[CellState], Tensor | None]


def _frame_size(frame_size: int | Sequence[int]) -> tuple[int, int]:
    """``frame_size`` as (H, W): an int is a square side."""
    size = [frame_size] * 2 if isinstance(frame_size, int) else list(frame_size)
    if len(size) != 2 or not all(isinstance(s, int) and s >= 1 for s in size):
        raise ValueError(
            f"frame_size must be a positive integer or a pair (height, width) of them, "
            f"got {frame_size!r}"
        )
    return size[0], size[1]


class VectorStack(nn.Module):
    """Layers of one registered vector cell, stepped bottom to top.

    The input of layer ``l`` is the hidden state of layer ``l-1``; ``memory``
    is handed through every layer (vector cells hand it back unchanged).
    """

    def __init__(
        self,
        cell: str,
        in_features: int,
        hidden: Sequence[int],
        cell_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        options = dict(cell_options or {})
        # kernel_size is part of the one cell signature; vector cells ignore it
        self.cells = nn.ModuleList(
            build_cell(cell, in_features if i == 0 else hidden[i - 1], h, 3, **options)
            for i, h in enumerate(hidden)
        )
        if self.cells[0].kind != "vector":
            raise ValueError(
                f"cell {cell!r} works on maps (kind {self.cells[0].kind!r}); fc_lstm flattens "
                "each frame to one vector, so it needs a vector cell such as lstm, gru or rnn"
            )

    def init_state(self, batch: int, like: Tensor) -> VectorStackState:
        """Zero states of every layer and the cells' initial memory."""
        kw = {"device": like.device, "dtype": like.dtype}
        states = [cell.init_state(batch, 1, 1, **kw) for cell in self.cells]
        return states, self.cells[0].init_memory(batch, 1, 1, **kw)

    def forward(self, x: Tensor, state: VectorStackState) -> tuple[Tensor, VectorStackState]:
        """One step: (B, in) -> top hidden state (B, hidden[-1]), new state."""
        states, memory = state
        new_states: list[CellState] = []
        inp = x
        for cell, s in zip(self.cells, states, strict=True):
            inp, s_new, memory = cell(inp, s, memory)  # (B, hid)
            new_states.append(s_new)
        return inp, (new_states, memory)


class FCLSTM(ForecastModel):
    """The composite LSTM autoencoder (Srivastava et al. 2015, Sec. 2.3, Fig. 3).

    Each frame is flattened to a ``C*H*W`` vector. An encoder (a stack of
    ``num_layers`` vector cells) reads the context frames ``v_1 .. v_T``; its
    final state (every layer's ``h`` and ``c``) is the representation, copied
    into two decoders with weights of their own:

    - the reconstruction decoder outputs the context in reverse order,
      ``v̂_T, v̂_{T-1}, .., v̂_1`` (Sec. 2.2: the last frames are the closest to
      the representation, which makes optimisation easier);
    - the future predictor outputs ``v̂_{T+1} .. v̂_{T+horizon}``.

    A decoder is *conditional* when its input at a step is the previous
    output frame (the predictor's first input is the last context frame
    ``v_T``; the reconstructor's first input is zeros, as in Fig. 2), and
    *unconditioned* otherwise: it has no input, implemented as one constant
    zero feature per step (a zero frame would only add an unused
    ``(4*hidden, C*H*W)`` input weight). A linear layer per
    decoder maps its top hidden state to a frame.

    :meth:`rollout` returns the future predictions only, ``(B, horizon, C,
    H, W)``; :meth:`training_loss` adds the reconstruction term of the
    composite objective.

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    frame_size : int or (int, int)
        Frames' (height, width), fixed by the linear read-out layers; an int
        is a square side. Frames of another size are refused.
    hidden_size : int or sequence of int
        Features per layer; an int repeats over ``num_layers`` (paper:
        2048 units for Moving MNIST, one layer; 2 x 1024 in some runs).
    num_layers : int
        Layers of the encoder and of each decoder.
    cell : str
        Registered vector cell name (``lstm``, ``gru``, ``rnn``).
    cell_options : mapping, optional
        Extra keyword options of the cell (``forget_bias``, ``nonlinearity``).
    conditional : bool
        Conditional decoders (fed the previous output) or unconditioned
        ones (fed zeros). The paper finds little difference (Table 1).
    reconstruction_weight : float
        Weight of the reconstruction loss in :meth:`training_loss`; 0 trains
        the future predictor alone (the paper's "future predictor" model).
    output_activation : {"sigmoid", "none", "softplus", "exp"}
        Applied to each output frame. The paper uses logistic outputs and
        cross-entropy for frames in [0, 1].

    Raises
    ------
    ValueError
        A bad size, a convolutional cell, or a negative weight.
    """

    uses_cell: ClassVar[bool] = True
    cell_kind: ClassVar[str] = "vector"

    def __init__(
        self,
        in_channels: int,
        frame_size: int | Sequence[int] = 64,
        hidden_size: int | Sequence[int] = 256,
        num_layers: int = 1,
        cell: str = "lstm",
        cell_options: Mapping[str, Any] | None = None,
        conditional: bool = False,
        reconstruction_weight: float = 1.0,
        output_activation: str = "sigmoid",
    ) -> None:
        super().__init__(in_channels, patch_size=1)
        self.frame_size = _frame_size(frame_size)
        hidden = layer_widths(hidden_size, num_layers)
        check_output_activation(output_activation)
        if not isinstance(reconstruction_weight, int | float) or reconstruction_weight < 0:
            raise ValueError(
                f"reconstruction_weight must be a number >= 0, got {reconstruction_weight!r}"
            )
        features = in_channels * self.frame_size[0] * self.frame_size[1]
        self.encoder = VectorStack(cell, features, hidden, cell_options)
        # an unconditioned decoder has no input (Sec. 2.2); its cells read one constant
        # zero feature rather than C*H*W zeros, which would hold a dead (4*hidden, C*H*W) weight
        decoder_in = features if conditional else 1
        self.reconstructor = VectorStack(cell, decoder_in, hidden, cell_options)
        self.predictor = VectorStack(cell, decoder_in, hidden, cell_options)
        self.reconstruction_head = nn.Linear(hidden[-1], features)
        self.prediction_head = nn.Linear(hidden[-1], features)
        self.cell_name = cell
        self.conditional = bool(conditional)
        self.reconstruction_weight = float(reconstruction_weight)
        self.output_activation = output_activation

    def check_frames(self, frames: Tensor, what: str = "frames") -> None:
        """Also refuse frames whose size differs from ``frame_size``."""
        super().check_frames(frames, what)
        size = tuple(frames.shape[-2:])
        if size != self.frame_size:
            raise ValueError(
                f"{what} are {size[0]}x{size[1]} but this fc_lstm was built for frame_size="
                f"{self.frame_size[0]}x{self.frame_size[1]} (its linear layers fix the "
                "flattened size); build it with the frames' size"
            )

    def encode(self, context: Tensor) -> VectorStackState:
        """Read the context: (B, Tc, C, H, W) -> the encoder's final state (Sec. 2.2)."""
        b = context.shape[0]
        flat = context.flatten(2)  # (B, Tc, C*H*W)
        state = self.encoder.init_state(b, flat)
        for t in range(flat.shape[1]):
            _, state = self.encoder(flat[:, t], state)
        return state

    def reconstruct(self, representation: VectorStackState, length: int, like: Tensor) -> Tensor:
        """The context in reverse order, (B, length, C, H, W): entry k is ``v̂_{Tc-k}``."""
        b = like.shape[0]
        state = representation
        x = like.new_zeros(b, self.reconstructor.cells[0].in_channels)  # (B, C*H*W) or (B, 1)
        outputs: list[Tensor] = []
        for _ in range(length):
            top, state = self.reconstructor(x, state)  # (B, hid)
            out = apply_output_activation(self.reconstruction_head(top), self.output_activation)
            outputs.append(out)
            if self.conditional:
                x = out  # (B, C*H*W)
        return torch.stack(outputs, dim=1).view(b, length, *like.shape[2:])

    def predict(
        self,
        representation: VectorStackState,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        """The future frames, (B, horizon, C, H, W).

        A conditional predictor is fed ``v_Tc`` first, then at future step
        ``k >= 1`` the true frame ``target[:, k-1]`` with weight
        ``true_mask[:, Tc-2+k]`` and its own previous output with the rest.
        """
        b, tc = context.shape[:2]
        state = representation
        last = context[:, -1].flatten(1)  # (B, C*H*W)
        outputs: list[Tensor] = []
        for k in range(horizon):
            if not self.conditional:
                x = last.new_zeros(b, 1)  # no input: one constant zero feature
            elif k == 0:
                x = last
            elif true_mask is not None and target is not None:
                m = true_mask[:, tc - 2 + k].to(last.dtype).view(b, 1)
                x = m * target[:, k - 1].flatten(1) + (1 - m) * outputs[-1]  # (B, C*H*W)
            else:
                x = outputs[-1]
            top, state = self.predictor(x, state)  # (B, hid)
            out = apply_output_activation(self.prediction_head(top), self.output_activation)
            outputs.append(out)
        return torch.stack(outputs, dim=1).view(b, horizon, *context.shape[2:])

    def _check_inputs(
        self, context: Tensor, horizon: int, target: Tensor | None, true_mask: Tensor | None
    ) -> None:
        self.check_frames(context, "context")
        check_horizon(horizon)
        b, tc = context.shape[:2]
        if target is not None:
            self.check_frames(target, "target")
            if target.shape[1] != horizon:
                raise ValueError(f"target has {target.shape[1]} frames, expected horizon={horizon}")
        if true_mask is not None:
            if true_mask.shape != (b, tc + horizon - 2):
                raise ValueError(
                    f"true_mask must have shape {(b, tc + horizon - 2)}, "
                    f"got {tuple(true_mask.shape)}"
                )
            if target is None and bool((true_mask[:, tc - 1 :] > 0).any()):
                raise ValueError("true_mask feeds future frames but no target was given")

    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        """Future predictions, (B, horizon, C, H, W).

        Only the mask's future entries (``true_mask[:, Tc-1:]``) matter, and
        only for a conditional model: the encoder always reads the true
        context. See :meth:`ForecastModel.rollout` for the arguments.
        """
        self._check_inputs(context, horizon, target, true_mask)
        representation = self.encode(context)
        return self.predict(representation, context, horizon, target, true_mask)

    def training_loss(
        self,
        context: Tensor,
        target: Tensor,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        true_mask: Tensor | None = None,
        future_only: bool = False,
    ) -> Tensor:
        """The composite objective (Sec. 2.3).

        ``loss_fn(future, target) + reconstruction_weight *
        loss_fn(reconstruction, context reversed)``. ``future_only`` has no
        effect: the model predicts no context frames, and the reconstruction
        is part of its objective, not a forecast.
        """
        self._check_inputs(context, target.shape[1], target, true_mask)
        representation = self.encode(context)
        future = self.predict(representation, context, target.shape[1], target, true_mask)
        loss = loss_fn(future, target)
        if self.reconstruction_weight > 0:
            recon = self.reconstruct(representation, context.shape[1], context)
            loss = loss + self.reconstruction_weight * loss_fn(recon, context.flip(1))
        return loss
