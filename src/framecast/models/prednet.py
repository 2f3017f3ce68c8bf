"""PredNet: a deep predictive coding network for next-frame prediction.

References
----------
W. Lotter, G. Kreiman, D. Cox, "Deep Predictive Coding Networks for Video
Prediction and Unsupervised Learning", ICLR 2017, Section 2, eqs. (1)-(4)
and Algorithm 1; the authors' Keras code (``prednet.py``, ``extrap_start_time``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from framecast.cells.base import CellState
from framecast.cells.build import build_cell
from framecast.models.base import ForecastModel, apply_output_activation, check_horizon
from framecast.models.patching import patch, unpatch

TRAIN_MODES = ("error", "extrapolate", "extrapolate_keras")
LAYER_WEIGHT_PRESETS = ("L0", "Lall")

# (R states per layer, E_l^{t-1} per layer, spatiotemporal memory at layer 0's size or None)
PredNetState = tuple[list[CellState], list[Tensor], Tensor | None]


def _positive_ints(value: Sequence[int], name: str) -> list[int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a sequence of positive integers, got {value!r}")
    out = list(value)
    if not out or not all(isinstance(v, int) and v >= 1 for v in out):
        raise ValueError(f"{name} must be a non-empty sequence of positive integers, got {value!r}")
    return out


def layer_weights(spec: str | Sequence[float], num_layers: int) -> list[float]:
    """The layer loss weights λ_l of the training loss (Sec. 2) for ``num_layers`` layers.

    ``"L0"`` weighs only the pixel layer (1, 0, 0, ...), ``"Lall"`` all
    layers (1, 0.1, 0.1, ...), as in the paper's two variants (Sec. 3.1).
    """
    if isinstance(spec, str):
        if spec == "L0":
            return [1.0] + [0.0] * (num_layers - 1)
        if spec == "Lall":
            return [1.0] + [0.1] * (num_layers - 1)
        raise ValueError(
            f"unknown layer_loss_weights {spec!r}; expected one of {LAYER_WEIGHT_PRESETS} "
            f"or a list of {num_layers} floats"
        )
    weights = [float(w) for w in spec]
    if len(weights) != num_layers:
        raise ValueError(
            f"layer_loss_weights has {len(weights)} entries, expected one per layer ({num_layers})"
        )
    return weights


PREDNET_OUTPUT_ACTIVATIONS = ("relu", "softplus", "exp")


class PredNet(ForecastModel):
    """PredNet (Lotter et al. 2017): stacked predictive coding layers.

    Each layer ``l = 0 .. L-1`` holds a target ``A_l``, a prediction ``Â_l``,
    an error ``E_l`` and a representation ``R_l`` (eqs. 1-4)::

        A_l^t = x_t                                   if l = 0
              = MaxPool(ReLU(Conv(E_{l-1}^t)))        if l > 0
        Â_l^t = ReLU(Conv(R_l^t))                     (clipped to pixel_max at l = 0)
        E_l^t = [ReLU(A_l^t - Â_l^t); ReLU(Â_l^t - A_l^t)]
        R_l^t = Cell([E_l^{t-1}, Upsample(R_{l+1}^t)], R_l^{t-1})

    At each step all R are updated first, top-down (``l = L-1`` to 0), then
    Â, E and A are computed bottom-up. ``Â_0^t`` is the model's prediction
    of ``x_t`` made before seeing it, so :meth:`rollout` returns ``Â_0^t``
    for ``t = 1 .. T-1``. Where a frame is unknown (after the context, or
    where ``true_mask`` is 0) the model's own ``Â_0^t`` is fed as ``A_0^t``
    (the authors' extrapolation mode), so ``E_0^t = 0`` there.

    The R units are any registered convolutional cell. Cells with a
    spatiotemporal memory M (stlstm) pass it down the R update order within
    a step (upsampled x2 between layers, nearest neighbour), and from layer
    0 at ``t`` to layer ``L-1`` at ``t+1`` (average-pooled by ``2^(L-1)``),
    a zigzag like PredRNN's that follows PredNet's top-down update order;
    they need one ``r_channels`` value for all layers.

    Paper sizes (KITTI, 128x160 frames): ``stack_channels=(3, 48, 96, 192)``,
    ``r_channels=(3, 48, 96, 192)``, 3x3 kernels, ``layer_loss_weights="L0"``,
    ConvLSTM R units. The defaults here are small enough to train on a CPU.

    Parameters
    ----------
    in_channels : int
        Channels per frame.
    stack_channels : sequence of int, optional
        Channels of ``A_l`` and ``Â_l`` per layer; the first must equal
        ``in_channels * patch_size**2``. Default ``(in_channels*p*p, 16, 32)``.
    r_channels : sequence of int, optional
        Channels of ``R_l`` per layer, one per layer of ``stack_channels``.
        Default: ``(16, 32, 64)`` with the default stack, else ``stack_channels``
        (the paper's choice).
    kernel_size : int
        Odd size of every convolution (the A, Â and R convolutions; paper: 3).
    cell : str
        Registered convolutional cell of the R units (paper: ``"convlstm"``).
    cell_options : mapping, optional
        Extra keyword options of the cell.
    layer_loss_weights : {"L0", "Lall"} or sequence of float
        Weights λ_l of each layer's error in the error-mode loss (Sec. 2).
    time_loss_weights : sequence of float, optional
        Weights λ_t of each step's error in the error-mode loss, one per frame
        of context + target. Default: 0 for the first step (nothing to
        predict it from), ``1/(T-1)`` for the others.
    output_activation : {"relu", "softplus", "exp"}
        Activation of the frame prediction ``Â_0``: the paper's (clipped)
        ReLU, or a strictly positive rate, so that a Poisson log-likelihood
        of counts is finite everywhere (framecast issue 13; use it with
        ``pixel_max: null`` and the ``poisson`` loss). Higher layers keep ReLU.
    pixel_max : float, optional
        Upper clip of ``Â_0`` (1.0 for frames in [0, 1]); None: no clip.
    extrap_start : int, optional
        Step from which the model feeds its own predictions when no
        ``true_mask`` is given (the authors' ``extrap_start_time``), clipped
        to the frames available. Default: the end of the context.
    train_mode : {"error", "extrapolate", "extrapolate_keras"}
        ``"error"``: the paper's unsupervised loss on the error units, the
        true frames fed at every step. The multi-step fine-tunes feed the
        model's predictions after the context (from ``extrap_start``):
        ``"extrapolate_keras"`` is the authors' loss
        (``kitti_extrap_finetune.py``: ``0.5 * MAE`` of the predicted frames
        at every step ``t >= 1``, the context steps included; the 0.5 matches
        the scale of the error-mode loss, whose errors are split into
        positive and negative units); ``"extrapolate"`` scores ``loss_fn`` on
        the future frames only. Start either from a t+1 model with
        ``train.init_from``.
    patch_size : int
        Space-to-depth factor; frames' sides must be multiples of
        ``patch_size * 2**(L-1)``.
    output_bias : float, optional
        Starting value of the bias of ``Â_0``'s convolution (default 0.05,
        see the comment in the code). A rate model starts at
        ``softplus^-1(mean rate)`` (or its log for ``exp``), as the quake
        pipeline sets it, instead of a rate near ``softplus(0) = 0.69``.
    """

    uses_cell: ClassVar[bool] = True

    def __init__(
        self,
        in_channels: int,
        stack_channels: Sequence[int] | None = None,
        r_channels: Sequence[int] | None = None,
        kernel_size: int = 3,
        cell: str = "convlstm",
        cell_options: Mapping[str, Any] | None = None,
        layer_loss_weights: str | Sequence[float] = "L0",
        time_loss_weights: Sequence[float] | None = None,
        output_activation: str = "relu",
        pixel_max: float | None = 1.0,
        extrap_start: int | None = None,
        train_mode: str = "error",
        patch_size: int = 1,
        output_bias: float | None = None,
    ) -> None:
        super().__init__(in_channels, patch_size)
        frame_ch = in_channels * patch_size * patch_size
        if stack_channels is None:
            stack = [frame_ch, 16, 32]
            r = [16, 32, 64] if r_channels is None else _positive_ints(r_channels, "r_channels")
        else:
            stack = _positive_ints(stack_channels, "stack_channels")
            r = list(stack) if r_channels is None else _positive_ints(r_channels, "r_channels")
        if stack[0] != frame_ch:
            raise ValueError(
                f"stack_channels[0] is {stack[0]}, expected in_channels * patch_size**2 = "
                f"{frame_ch} (the channels of A_0, the frame)"
            )
        if len(r) != len(stack):
            raise ValueError(
                f"r_channels has {len(r)} entries, expected one per layer of stack_channels "
                f"({len(stack)})"
            )
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size!r}")
        if train_mode not in TRAIN_MODES:
            raise ValueError(f"unknown train_mode {train_mode!r}; expected one of {TRAIN_MODES}")
        if extrap_start is not None and (not isinstance(extrap_start, int) or extrap_start < 1):
            raise ValueError(
                f"extrap_start must be a positive integer or None, got {extrap_start!r}"
            )
        if pixel_max is not None and not pixel_max > 0:
            raise ValueError(f"pixel_max must be positive or None, got {pixel_max!r}")
        num_layers = len(stack)
        self.layer_loss_weights = layer_weights(layer_loss_weights, num_layers)
        self.time_loss_weights = (
            None if time_loss_weights is None else [float(w) for w in time_loss_weights]
        )
        options = dict(cell_options or {})
        pad = kernel_size // 2
        cells = []
        for i in range(num_layers):
            # input of R_l: E_l^{t-1} (2 * A_l channels) and the upsampled R_{l+1}^t
            cell_in = 2 * stack[i] + (r[i + 1] if i < num_layers - 1 else 0)
            cells.append(build_cell(cell, cell_in, r[i], kernel_size, **options))
        if cells[0].kind != "conv":
            raise ValueError(
                f"cell {cell!r} works on vectors; PredNet's R units need a convolutional cell "
                "(one whose state is a map), such as convlstm or stlstm"
            )
        self.uses_memory = cells[0].uses_memory
        if self.uses_memory and len(set(r)) != 1:
            raise ValueError(
                f"cell {cell!r} passes its memory M between the R layers, so all layers need the "
                f"same r_channels; got {r}"
            )
        self.cells = nn.ModuleList(cells)
        self.ahat_convs = nn.ModuleList(
            nn.Conv2d(r[i], stack[i], kernel_size, padding=pad) for i in range(num_layers)
        )
        # Â = ReLU(Conv(R)) with R near zero at the start is ReLU(bias): a negative
        # bias on a map with few channels (one for grey frames) makes the
        # prediction dead from the first step, with no gradient to revive it.
        # A small positive bias starts every prediction unit in the ReLU's linear part.
        for conv in self.ahat_convs:
            nn.init.constant_(conv.bias, 0.05)
        if output_bias is not None:  # a rate output starts at the mean rate
            nn.init.constant_(self.ahat_convs[0].bias, float(output_bias))
        self.a_convs = nn.ModuleList(
            nn.Conv2d(2 * stack[i], stack[i + 1], kernel_size, padding=pad)
            for i in range(num_layers - 1)
        )
        self.stack_channels = stack
        self.r_channels = r
        self.num_layers = num_layers
        self.cell_name = cell
        self.pixel_max = None if pixel_max is None else float(pixel_max)
        self.extrap_start = extrap_start
        self.train_mode = train_mode
        if output_activation not in PREDNET_OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"unknown output_activation {output_activation!r}; expected one of "
                f"{PREDNET_OUTPUT_ACTIVATIONS}"
            )
        self.output_activation = output_activation

    # ------------------------------------------------------------------ checks

    def check_frames(self, frames: Tensor, what: str = "frames") -> None:
        """As the base class, and the sides must halve ``L-1`` times after patching."""
        super().check_frames(frames, what)
        factor = self.patch_size * 2 ** (self.num_layers - 1)
        h, w = frames.shape[-2:]
        if h % factor or w % factor:
            raise ValueError(
                f"{what} of {h}x{w} do not fit PredNet's {self.num_layers} layers with "
                f"patch_size={self.patch_size}: height and width must be multiples of "
                f"patch_size * 2**(num_layers - 1) = {factor}, as each layer halves the size"
            )

    def _check_horizon_and_target(
        self, context: Tensor, horizon: int, target: Tensor | None
    ) -> Tensor:
        self.check_frames(context, "context")
        check_horizon(horizon)
        if target is None:
            return context
        self.check_frames(target, "target")
        if target.shape[1] != horizon:
            raise ValueError(f"target has {target.shape[1]} frames, expected horizon={horizon}")
        return torch.cat([context, target], dim=1)  # (B, T, C, H, W)

    # -------------------------------------------------------------- one step

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> PredNetState:
        """Zero R states and errors per layer, zero memory (maps of ``height`` x ``width``)."""
        kw = {"device": like.device, "dtype": like.dtype}
        states: list[CellState] = []
        errors: list[Tensor] = []
        for i, cell in enumerate(self.cells):
            h, w = height // 2**i, width // 2**i
            states.append(cell.init_state(batch, h, w, **kw))
            errors.append(torch.zeros(batch, 2 * self.stack_channels[i], h, w, **kw))
        memory = self.cells[0].init_memory(batch, height, width, **kw)
        return states, errors, memory

    def update_representations(
        self, state: PredNetState
    ) -> tuple[list[Tensor], list[CellState], Tensor | None]:
        """Top-down R update (eq. 4, Algorithm 1): ``l = L-1`` down to 0.

        Returns the new ``R_l^t`` maps (index l), the new cell states and the
        memory at layer 0's size.
        """
        states, errors, memory = state
        top = self.num_layers - 1
        if memory is not None and top > 0:
            memory = F.avg_pool2d(memory, 2**top)  # layer 0 at t-1 -> layer L-1 at t
        hs: list[Tensor] = [errors[0]] * self.num_layers  # placeholders, all overwritten
        new_states: list[CellState] = list(states)
        up: Tensor | None = None
        for i in range(top, -1, -1):
            inp = errors[i] if up is None else torch.cat([errors[i], up], dim=1)
            if memory is not None and i < top:
                memory = F.interpolate(memory, scale_factor=2, mode="nearest")  # M goes down
            h, new_states[i], memory = self.cells[i](inp, states[i], memory)  # (B, r_l, H_l, W_l)
            hs[i] = h
            if i > 0:
                up = F.interpolate(h, scale_factor=2, mode="nearest")  # (B, r_l, 2H_l, 2W_l)
        return hs, new_states, memory

    def predict_layer(self, i: int, r: Tensor) -> Tensor:
        """Â_l = ReLU(Conv(R_l)), clipped to ``pixel_max`` at l = 0 (eq. 2)."""
        raw = self.ahat_convs[i](r)  # (B, A_l, H_l, W_l)
        if i == 0 and self.output_activation != "relu":
            ahat = apply_output_activation(raw, self.output_activation)  # a rate: > 0
        else:
            ahat = F.relu(raw)
        if i == 0 and self.pixel_max is not None:
            ahat = torch.clamp(ahat, max=self.pixel_max)
        return ahat

    def bottom_up(self, a0: Tensor, ahat0: Tensor, hs: list[Tensor]) -> list[Tensor]:
        """Errors ``E_l^t`` of every layer (eqs. 1-3), from ``A_0 = a0`` upwards."""
        errors: list[Tensor] = []
        a, ahat = a0, ahat0
        for i in range(self.num_layers):
            if i > 0:
                ahat = self.predict_layer(i, hs[i])
            e = torch.cat([F.relu(ahat - a), F.relu(a - ahat)], dim=1)  # (B, 2*A_l, H_l, W_l)
            errors.append(e)
            if i < self.num_layers - 1:
                a = F.max_pool2d(F.relu(self.a_convs[i](e)), 2)  # (B, A_{l+1}, H_l/2, W_l/2)
        return errors

    # ----------------------------------------------------------------- runs

    def _run(
        self, seq: Tensor, steps: int, true_mask: Tensor, last_errors: bool
    ) -> tuple[list[Tensor], list[list[Tensor]]]:
        """Step over ``steps`` patched inputs; the Â_0 and the errors of every step.

        ``true_mask[:, t-1]`` mixes the true ``seq[:, t]`` and ``Â_0^t`` at
        step ``t >= 1``; without a true frame ``Â_0^t`` is fed.
        """
        b = seq.shape[0]
        state = self.init_state(b, seq.shape[-2], seq.shape[-1], seq)
        preds: list[Tensor] = []
        errors_per_step: list[list[Tensor]] = []
        for t in range(steps):
            hs, cell_states, memory = self.update_representations(state)
            ahat0 = self.predict_layer(0, hs[0])  # (B, C', h, w): prediction of x_t
            preds.append(ahat0)
            if t == steps - 1 and not last_errors:
                break
            if t == 0:
                a0 = seq[:, 0]
            elif t < seq.shape[1]:
                m = true_mask[:, t - 1].to(seq.dtype).view(b, 1, 1, 1)
                a0 = m * seq[:, t] + (1 - m) * ahat0
            else:
                a0 = ahat0  # no true frame: extrapolate
            errors = self.bottom_up(a0, ahat0, hs)
            errors_per_step.append(errors)
            state = (cell_states, errors, memory)
        return preds, errors_per_step

    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        """Next-frame predictions ``Â_0^t`` of frames 1 .. Tc+horizon-1.

        See :meth:`ForecastModel.rollout`. Without ``true_mask`` the true
        frames are fed up to ``extrap_start`` (default: the context length,
        clipped to the frames given) and the model's own predictions after.
        """
        frames = self._check_horizon_and_target(context, horizon, target)
        b, tc = context.shape[:2]
        total = tc + horizon
        if true_mask is None:
            start = tc if self.extrap_start is None else min(self.extrap_start, frames.shape[1])
            true_mask = torch.zeros(b, total - 2, device=context.device, dtype=context.dtype)
            true_mask[:, : start - 1] = 1.0
        elif true_mask.shape != (b, total - 2):
            raise ValueError(
                f"true_mask must have shape {(b, total - 2)}, got {tuple(true_mask.shape)}"
            )
        elif target is None and bool((true_mask[:, tc - 1 :] > 0).any()):
            raise ValueError("true_mask feeds future frames but no target was given")
        seq = patch(frames, self.patch_size)  # (B, T', C*p*p, h, w)
        preds, _ = self._run(seq, total, true_mask, last_errors=False)
        out = torch.stack(preds[1:], dim=1)  # (B, Tc + horizon - 1, C', h, w)
        return unpatch(out, self.patch_size)

    def error_loss(self, frames: Tensor) -> Tensor:
        """The paper's error-mode training loss (Sec. 2) with the true frames fed at every step::

            L = Σ_t λ_t Σ_l (λ_l / n_l) Σ E_l^t

        with ``n_l`` the units of ``E_l`` (a mean over them), averaged over the batch.

        Parameters
        ----------
        frames : Tensor
            (B, T, C, H, W) true frames.
        """
        self.check_frames(frames, "frames")
        b, t = frames.shape[:2]
        if self.time_loss_weights is None:
            time_w = [0.0] + [1.0 / (t - 1)] * (t - 1) if t > 1 else [0.0]
        elif len(self.time_loss_weights) != t:
            raise ValueError(
                f"time_loss_weights has {len(self.time_loss_weights)} entries, expected one per "
                f"frame of context + target ({t})"
            )
        else:
            time_w = self.time_loss_weights
        seq = patch(frames, self.patch_size)  # (B, T, C', h, w)
        ones = torch.ones(b, max(t - 1, 0), device=frames.device, dtype=frames.dtype)
        _, errors = self._run(seq, t, ones, last_errors=True)
        loss = frames.new_zeros(())
        for wt, step_errors in zip(time_w, errors, strict=True):
            for wl, e in zip(self.layer_loss_weights, step_errors, strict=True):
                if wt != 0.0 and wl != 0.0:
                    loss = loss + wt * wl * e.mean()  # mean over batch and the n_l units
        return loss

    def keras_extrapolation_loss(
        self, context: Tensor, target: Tensor, true_mask: Tensor | None = None
    ) -> Tensor:
        """The authors' extrapolation fine-tune loss, ``0.5 * mean |Â_0^t - x_t|`` over ``t >= 1``.

        As ``extrap_loss`` of ``kitti_extrap_finetune.py`` (Lotter et al.
        2017, coxlab/prednet): every predicted frame after the first counts,
        those predicted from true frames (before ``extrap_start``) and those
        extrapolated from the model's own predictions alike; the 0.5 matches
        the scale of the error-mode loss.

        Parameters
        ----------
        context, target : Tensor
            (B, Tc, C, H, W) and (B, Tf, C, H, W) true frames.
        true_mask : Tensor, optional
            As :meth:`rollout` (default: true frames up to ``extrap_start``).
        """
        preds = self.rollout(context, target.shape[1], target=target, true_mask=true_mask)
        truth = torch.cat([context, target], dim=1)[:, 1:]  # (B, T-1, C, H, W): x_1 .. x_{T-1}
        return 0.5 * (preds - truth).abs().mean()

    def training_loss(
        self,
        context: Tensor,
        target: Tensor,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        true_mask: Tensor | None = None,
        future_only: bool = False,
    ) -> Tensor:
        """The training objective of ``train_mode``.

        ``"error"``: :meth:`error_loss` over context + target, true frames
        fed; ``loss_fn``, ``true_mask`` and ``future_only`` are unused (the
        loss is the error units' activity, not a distance to frames).
        ``"extrapolate"``: ``loss_fn`` on the future frames predicted with
        the model's own predictions fed after the context (or as
        ``true_mask`` says); ``future_only`` is always on.
        ``"extrapolate_keras"``: :meth:`keras_extrapolation_loss` (``loss_fn``
        and ``future_only`` unused).
        """
        if self.train_mode == "extrapolate":
            return super().training_loss(context, target, loss_fn, true_mask, future_only=True)
        if self.train_mode == "extrapolate_keras":
            return self.keras_extrapolation_loss(context, target, true_mask)
        self.check_frames(context, "context")
        self.check_frames(target, "target")
        return self.error_loss(torch.cat([context, target], dim=1))
