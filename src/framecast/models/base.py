"""Base classes of the forecasting models.

Every model takes and returns frames as ``(B, T, C, H, W)`` float tensors.
A recurrent model predicts one frame ahead at a time: at step ``t`` it sees
frame ``x_t`` (the true frame, or its own prediction when the true one is
unknown or withheld by scheduled sampling) and predicts ``x_{t+1}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from framecast.models.patching import check_patchable, patch, unpatch

OUTPUT_ACTIVATIONS = ("none", "sigmoid", "clip", "softplus", "exp")

_STEP_PROGRESS: ContextVar[Callable[[int, int], None] | None] = ContextVar(
    "framecast_step_progress", default=None
)


@contextmanager
def step_progress(callback: Callable[[int, int], None]) -> Iterator[None]:
    """Call ``callback(done, total)`` after each step of the rollouts run inside the block.

    Recurrent models (:class:`StepwiseForecaster`) report every step, so
    that a long forecast (``framecast predict --horizon 100000``) can show
    its progress; other models report nothing.

    Parameters
    ----------
    callback : callable
        Receives the steps done and the steps of the rollout.
    """
    token = _STEP_PROGRESS.set(callback)
    try:
        yield
    finally:
        _STEP_PROGRESS.reset(token)


def check_output_activation(name: str) -> None:
    """Raise ValueError unless ``name`` is one of :data:`OUTPUT_ACTIVATIONS`."""
    if name not in OUTPUT_ACTIVATIONS:
        raise ValueError(
            f"unknown output_activation {name!r}; expected one of {OUTPUT_ACTIVATIONS}"
        )


def next_frame_loss(
    preds: Tensor,
    context: Tensor,
    target: Tensor,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    future_only: bool = False,
) -> Tensor:
    """``loss_fn`` of predictions against the true frames they predict, aligned at the end.

    ``preds`` is (B, n, C, H, W) with the last frame predicting the last
    target frame: every next frame (n = Tc + Tf - 1) or only the future
    (n = Tf). With ``future_only`` only the Tf future frames count.
    """
    truth = torch.cat([context[:, 1:], target], dim=1)  # (B, T-1, C, H, W)
    n = target.shape[1] if future_only else preds.shape[1]
    return loss_fn(preds[:, -n:], truth[:, -n:])


def check_horizon(horizon: object) -> None:
    """Raise ValueError unless ``horizon`` is a positive integer."""
    if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")


def apply_output_activation(x: Tensor, name: str) -> Tensor:
    """Map raw outputs to frames: identity, [0, 1] images, or positive rates.

    ``"clip"`` is min(max(x, 0), 1), PredNet's saturating ReLU (Lotter et al.
    2017, "SatLU"): unlike a sigmoid it reaches 0 exactly, so an empty
    background is predicted as exactly empty, which SSIM rewards.
    """
    if name == "none":
        return x
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "clip":
        return torch.clamp(x, 0.0, 1.0)
    if name == "softplus":
        return nn.functional.softplus(x)
    if name == "exp":
        return torch.exp(x)
    raise ValueError(f"unknown output_activation {name!r}; expected one of {OUTPUT_ACTIVATIONS}")


class ForecastModel(nn.Module):
    """A model that forecasts future frames from context frames.

    Subclasses implement :meth:`rollout`; :meth:`forward` keeps its last
    ``horizon`` frames.

    Parameters
    ----------
    in_channels : int
        Channels per frame (inputs and outputs alike).
    patch_size : int
        Frames' height and width must be multiples of it.
    """

    #: whether the model is built around a recurrent cell chosen by name
    uses_cell: ClassVar[bool] = False
    #: whether it has weights to train (persistence has none)
    trainable: ClassVar[bool] = True
    #: the kind of cell it takes ("conv" maps or "vector" features), when it takes one
    cell_kind: ClassVar[str] = "conv"

    @classmethod
    def accepts_cell(cls, cell_cls: type) -> bool:
        """Whether this model can run the registered cell class ``cell_cls``."""
        return getattr(cell_cls, "kind", None) == cls.cell_kind

    def __init__(self, in_channels: int, patch_size: int = 1) -> None:
        super().__init__()
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"in_channels must be a positive integer, got {in_channels!r}")
        if not isinstance(patch_size, int) or patch_size < 1:
            raise ValueError(f"patch_size must be a positive integer, got {patch_size!r}")
        self.in_channels = in_channels
        self.patch_size = patch_size

    def check_frames(self, frames: Tensor, what: str = "frames") -> None:
        """Raise ValueError unless ``frames`` is (B, T, C, H, W) as this model expects."""
        if not isinstance(frames, Tensor):
            raise TypeError(f"{what} must be a torch.Tensor, got {type(frames).__name__}")
        if frames.dim() != 5:
            raise ValueError(
                f"{what} must have shape (B, T, C, H, W) (5 dimensions), got shape "
                f"{tuple(frames.shape)} ({frames.dim()} dimensions)"
            )
        if frames.shape[2] != self.in_channels:
            raise ValueError(
                f"{what} have {frames.shape[2]} channels, the model expects {self.in_channels}"
            )
        if not frames.is_floating_point():
            raise TypeError(f"{what} must be a float tensor, got {frames.dtype}")
        check_patchable(frames.shape[-2], frames.shape[-1], self.patch_size)

    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        """Next-frame predictions over context and horizon.

        Parameters
        ----------
        context : Tensor
            (B, Tc, C, H, W) observed frames, Tc >= 1.
        horizon : int
            Number of future frames to predict.
        target : Tensor, optional
            (B, horizon, C, H, W) true future frames, needed only when
            ``true_mask`` feeds some of them back (teacher forcing).
        true_mask : Tensor, optional
            (B, Tc + horizon - 2) values in [0, 1] for input steps
            1 .. Tc+horizon-2: 1 feeds the true frame, 0 the model's own
            prediction (scheduled sampling). Default: true frames in the
            context, predictions after it.

        Returns
        -------
        Tensor
            (B, Tc + horizon - 1, C, H, W): predictions of frames 1 .. Tc+horizon-1.
        """
        raise NotImplementedError

    def training_loss(
        self,
        context: Tensor,
        target: Tensor,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        true_mask: Tensor | None = None,
        future_only: bool = False,
    ) -> Tensor:
        """The training objective on one batch.

        By default ``loss_fn`` over the frames :meth:`rollout` predicts (all
        next-frame predictions, as PredRNN trains, or only the future ones
        with ``future_only``), aligned with the true frames at the end.
        Architectures with objectives of their own (PredNet's error units,
        an autoencoder's reconstruction, a flow penalty) override this.
        """
        preds = self.rollout(context, target.shape[1], target=target, true_mask=true_mask)
        return next_frame_loss(preds, context, target, loss_fn, future_only)

    def forward(self, context: Tensor, horizon: int) -> Tensor:
        """Forecast ``horizon`` frames: (B, Tc, C, H, W) context -> (B, horizon, C, H, W)."""
        return self.rollout(context, horizon)[:, -horizon:]

    def extra_config(self) -> dict[str, Any]:
        """Constructor arguments, for checkpoints."""
        return {}


class StepwiseForecaster(ForecastModel):
    """A recurrent forecaster defined by one step, rolled out over time.

    Subclasses implement :meth:`init_state` and :meth:`step`, both in the
    patched space ``(B, C*p*p, H/p, W/p)``. Patching happens once, here.
    """

    def init_state(self, batch: int, height: int, width: int, like: Tensor) -> Any:
        """Initial recurrent state for maps of ``height`` x ``width`` (patched)."""
        raise NotImplementedError

    def step(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        """One step: (B, C', h, w) frame -> (B, C', h, w) prediction of the next frame."""
        raise NotImplementedError

    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        def step(x: Tensor, state: Any) -> tuple[Tensor, Any, None]:
            return (*self.step(x, state), None)

        return self.rollout_steps(context, horizon, target, true_mask, step)[0]

    def rollout_steps(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None,
        true_mask: Tensor | None,
        step: Callable[[Tensor, Any], tuple[Tensor, Any, Any]],
    ) -> tuple[Tensor, list[Any]]:
        """The rollout loop of :meth:`rollout` with a step that also returns a side output.

        ``step(x, state) -> (prediction, state, aux)``; the ``aux`` of every
        step (a flow map, say) comes back as a list beside the predictions.
        """
        self.check_frames(context, "context")
        check_horizon(horizon)
        b, tc = context.shape[:2]
        total = tc + horizon
        if target is not None:
            self.check_frames(target, "target")
            if target.shape[1] != horizon:
                raise ValueError(f"target has {target.shape[1]} frames, expected horizon={horizon}")
            frames = torch.cat([context, target], dim=1)  # (B, T, C, H, W)
        else:
            frames = context
        if true_mask is None:
            true_mask = torch.zeros(b, total - 2, device=context.device, dtype=context.dtype)
            true_mask[:, : tc - 1] = 1.0
        elif true_mask.shape != (b, total - 2):
            raise ValueError(
                f"true_mask must have shape {(b, total - 2)}, got {tuple(true_mask.shape)}"
            )
        if target is None and bool((true_mask[:, tc - 1 :] > 0).any()):
            raise ValueError("true_mask feeds future frames but no target was given")

        seq = patch(frames, self.patch_size)  # (B, T', C*p*p, h, w)
        state = self.init_state(b, seq.shape[-2], seq.shape[-1], seq)
        preds: list[Tensor] = []
        aux: list[Any] = []
        x = seq[:, 0]
        report = _STEP_PROGRESS.get()
        for t in range(total - 1):
            if t > 0:
                m = true_mask[:, t - 1].to(seq.dtype).view(b, 1, 1, 1)
                # true frames exist only up to the last target frame
                x = m * seq[:, t] + (1 - m) * preds[-1] if t < seq.shape[1] else preds[-1]
            pred, state, extra = step(x, state)
            preds.append(pred)
            aux.append(extra)
            if report is not None:
                report(t + 1, total - 1)
        return unpatch(torch.stack(preds, dim=1), self.patch_size), aux
