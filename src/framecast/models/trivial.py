"""Trivial forecasts that a learnt model must beat: blank, mean frame, best constant, flow.

Beside :class:`~framecast.models.persistence.Persistence` these are the
reference rows of every table (:mod:`framecast.baselines`). None has
weights to train; the mean frame and the best constant hold values fitted
on a training split (:func:`framecast.baselines.fit_training_means`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from framecast.models.base import ForecastModel, check_horizon

FLOW_METHODS = ("ilk", "tvl1")


def _held(frame: Tensor, like: Tensor, horizon: int) -> Tensor:
    """``frame`` (C, H, W) repeated over the batch and horizon of ``like`` (B, Tc, C, H, W)."""
    frame = frame.to(device=like.device, dtype=like.dtype)
    return frame.expand(like.shape[0], horizon, *frame.shape).clone()  # (B, horizon, C, H, W)


class _TrivialForecast(ForecastModel):
    """Shared checks of the trivial forecasts: no weights, only future frames returned."""

    trainable: ClassVar[bool] = False

    def __init__(self, in_channels: int) -> None:
        super().__init__(in_channels, patch_size=1)

    def forecast(self, context: Tensor, horizon: int) -> Tensor:
        """(B, Tc, C, H, W) checked context -> (B, horizon, C, H, W) forecast."""
        raise NotImplementedError

    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        """The forecast of the ``horizon`` future frames only, (B, horizon, C, H, W)."""
        self.check_frames(context, "context")
        check_horizon(horizon)
        return self.forecast(context, horizon)


class BlankFrame(_TrivialForecast):
    """Predicts every future frame as all zeros (an empty, black frame).

    On sparse frames such as Moving MNIST this beats persistence on MSE
    and SSIM (issue 22): a forecast must beat it to show that it places
    anything.
    """

    def forecast(self, context: Tensor, horizon: int) -> Tensor:
        b, _, c, h, w = context.shape
        return context.new_zeros(b, horizon, c, h, w)  # (B, horizon, C, H, W)


class BestConstant(_TrivialForecast):
    """Predicts every pixel of every future frame as one value per channel.

    The value that minimises the MSE over the training frames is their mean
    intensity, since ``argmin_c mean((x - c)^2) = mean(x)``;
    :func:`framecast.baselines.fit_training_means` fits it.

    Parameters
    ----------
    in_channels : int
    value : float or sequence of float
        One value for all channels, or one per channel.
    """

    def __init__(self, in_channels: int, value: float | Sequence[float] = 0.0) -> None:
        super().__init__(in_channels)
        values = [value] * in_channels if isinstance(value, int | float) else list(value)
        if len(values) != in_channels or not all(
            isinstance(v, int | float) and math.isfinite(v) for v in values
        ):
            raise ValueError(
                f"best_constant value must be a finite number or {in_channels} of them, "
                f"got {value!r}"
            )
        self.value = [float(v) for v in values]
        self.register_buffer(
            "constant", torch.tensor(self.value).view(in_channels, 1, 1), persistent=False
        )  # (C, 1, 1)

    def forecast(self, context: Tensor, horizon: int) -> Tensor:
        c, h, w = context.shape[2:]
        frame = self.constant.expand(c, h, w)  # (C, H, W)
        return _held(frame, context, horizon)

    def extra_config(self) -> dict[str, Any]:
        return {"value": self.value}


class MeanFrame(_TrivialForecast):
    """Predicts every future frame as the per-pixel mean of the training frames.

    The climatology of weather verification: the forecast that knows where
    things tend to be but not when. :func:`framecast.baselines.fit_training_means`
    fits it.

    Parameters
    ----------
    in_channels : int
    frame : nested sequence of float
        The mean frame, (C, H, W) as nested lists (so a config holds it).
    """

    def __init__(self, in_channels: int, frame: Sequence[Any]) -> None:
        super().__init__(in_channels)
        mean = torch.as_tensor(np.asarray(frame, dtype=np.float32))  # (C, H, W)
        if mean.dim() != 3 or mean.shape[0] != in_channels or not torch.isfinite(mean).all():
            raise ValueError(
                f"mean_frame frame must be finite values of shape ({in_channels}, H, W), "
                f"got shape {tuple(mean.shape)}"
            )
        self.register_buffer("mean", mean, persistent=False)  # (C, H, W)

    def forecast(self, context: Tensor, horizon: int) -> Tensor:
        if context.shape[-2:] != self.mean.shape[-2:]:
            raise ValueError(
                f"mean_frame was fitted on {tuple(self.mean.shape[-2:])} frames, "
                f"got {tuple(context.shape[-2:])} frames"
            )
        return _held(self.mean, context, horizon)

    def extra_config(self) -> dict[str, Any]:
        return {"frame": self.mean.tolist()}


def motion_field(previous: np.ndarray, last: np.ndarray, method: str = "ilk") -> np.ndarray:
    """The backward displacement field from ``last`` to ``previous``.

    Parameters
    ----------
    previous, last : ndarray
        (C, H, W) consecutive frames; the flow is estimated on their channel mean.
    method : {"ilk", "tvl1"}
        :func:`skimage.registration.optical_flow_ilk` (iterative Lucas-Kanade,
        the dense form of pySTEPS' default "LK" motion) or
        :func:`skimage.registration.optical_flow_tvl1` (TV-L1, Zach et al. 2007).

    Returns
    -------
    ndarray
        (2, H, W) displacement ``d`` (rows, columns) with
        ``previous(p + d(p)) ~ last(p)``: where the content at ``p`` came from.
    """
    from skimage.registration import optical_flow_ilk, optical_flow_tvl1

    estimate = optical_flow_ilk if method == "ilk" else optical_flow_tvl1
    # skimage's flow u satisfies moving(p + u(p)) ~ reference(p)
    return np.asarray(estimate(last.mean(axis=0), previous.mean(axis=0)))  # (2, H, W)


def semi_lagrangian(frame: np.ndarray, displacement: np.ndarray, horizon: int) -> np.ndarray:
    """Advect ``frame`` along a stationary backward displacement field, step by step.

    The backward semi-Lagrangian scheme of radar extrapolation nowcasting
    (pySTEPS ``extrapolation.semilagrangian``; Germann and Zawadzki 2002):
    the departure point of pixel ``p`` at lead ``k`` is found by following
    the field back ``k`` steps, ``D_k = D_{k-1} + d(p + D_{k-1})`` with
    ``d`` interpolated bilinearly, and the forecast is the last frame
    sampled there, ``x_{t+k}(p) = x_t(p + D_k(p))``. Points that come from
    outside the frame take the frame's minimum (pySTEPS' ``outval``).

    Parameters
    ----------
    frame : ndarray
        (C, H, W) last observed frame.
    displacement : ndarray
        (2, H, W) from :func:`motion_field`.
    horizon : int

    Returns
    -------
    ndarray
        (horizon, C, H, W) forecast.
    """
    from scipy.ndimage import map_coordinates

    channels, height, width = frame.shape
    grid = np.indices((height, width), dtype=np.float64)  # (2, H, W)
    total = np.zeros_like(grid)  # (2, H, W) displacement back to the last frame
    out = np.empty((horizon, channels, height, width), dtype=np.float64)
    floor = frame.reshape(channels, -1).min(axis=1)  # (C,)
    for k in range(horizon):
        here = grid + total  # (2, H, W) where the trajectory stands after k steps back
        total += np.stack(
            [map_coordinates(d, here, order=1, mode="nearest") for d in displacement]
        )  # (2, H, W)
        departure = grid + total  # (2, H, W)
        for c in range(channels):
            out[k, c] = map_coordinates(
                frame[c], departure, order=1, mode="constant", cval=float(floor[c])
            )  # (H, W)
    return out


class FlowExtrapolation(_TrivialForecast):
    """Optical-flow extrapolation: the last frame advected along the last motion.

    The motion field is estimated from the last two context frames
    (:func:`motion_field`) and held fixed; the last frame is advected over
    the horizon by backward semi-Lagrangian steps (:func:`semi_lagrangian`),
    as the extrapolation nowcasts of radar rainfall do (pySTEPS; Germann and
    Zawadzki 2002). The flow comes from scikit-image (a dependency already,
    well kept, pure CPU), the advection from :func:`scipy.ndimage.map_coordinates`:
    OpenCV is not installed here, and pySTEPS, which holds the same two
    steps, would add a heavy dependency for about forty lines. It runs in
    NumPy on the CPU, one sequence at a time (about 20 ms a 64x64 sequence
    of 10 frames).

    Parameters
    ----------
    in_channels : int
    method : {"ilk", "tvl1"}
        The optical-flow estimator (:func:`motion_field`).
    """

    def __init__(self, in_channels: int, method: str = "ilk") -> None:
        super().__init__(in_channels)
        if method not in FLOW_METHODS:
            raise ValueError(f"flow method must be one of {FLOW_METHODS}, got {method!r}")
        self.method = method

    def forecast(self, context: Tensor, horizon: int) -> Tensor:
        if context.shape[1] < 2:
            raise ValueError(f"flow needs at least 2 context frames, got {context.shape[1]}")
        pair = context[:, -2:].detach().float().cpu()  # (B, 2, C, H, W)
        frames = pair.numpy().astype(np.float64)
        out = np.stack(
            [
                semi_lagrangian(seq[1], motion_field(seq[0], seq[1], self.method), horizon)
                for seq in frames
            ]
        )  # (B, horizon, C, H, W)
        return torch.from_numpy(out).to(device=context.device, dtype=context.dtype)

    def extra_config(self) -> dict[str, Any]:
        return {"method": self.method}
