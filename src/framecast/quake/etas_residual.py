"""A network that forecasts a correction to ETAS: ``log rate = log ETAS rate + network output``.

Registered as the model ``etas_residual``: it wraps any registered
framecast model (the "inner" network) and needs the frames' ``etas``
channel (:mod:`framecast.quake.etas_channel`), which at frame ``t`` holds
the first-order ETAS forecast of bin ``t + 1``. For the prediction of frame
``t + 1`` made at step ``t``::

    rate_{t+1} = ETAS_{t+1} · exp(head(inner_t))

where ``inner_t`` is the inner network's (B, C, H, W) output at step ``t``
and ``head`` a 1x1 convolution to one channel whose weights and bias start
at zero: an untrained network IS the ETAS forecast, and training moves away
from it only where the Poisson likelihood of the data says so (the
zero-initialised residual branch of Goyal et al. 2017 and Bachlechner et
al. 2021, ReZero). The inner network sees ``log ETAS`` in place of the raw
channel, on the scale of its other inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from framecast.models.base import ForecastModel, check_horizon

_TINY = 1e-30  # a floor under log ETAS (ETAS rates are > 0; the floor only guards padding)


class EtasResidual(ForecastModel):
    """Rates as ETAS times ``exp`` of a learned correction (module docstring).

    Parameters
    ----------
    in_channels : int
        Channels per frame, the ``etas`` channel included.
    model : str
        Registered name of the inner network (``predrnn``, ``prednet``, ...).
    options : mapping, optional
        The inner network's options (its ``output_activation`` is free: the
        head reads its output as features).
    etas_channel : int
        Index of the ``etas`` channel.
    count_channel : int
        Index of the ``count`` channel, where the rate is written.

    Raises
    ------
    ValueError
        Channel indices out of range or equal.
    """

    #: the rate is ETAS · exp(correction): positive, as a Poisson rate must be
    output_activation = "exp"

    def __init__(
        self,
        in_channels: int,
        model: str = "predrnn",
        options: Mapping[str, Any] | None = None,
        etas_channel: int = 1,
        count_channel: int = 0,
    ) -> None:
        from framecast.models import build_model

        for name, value in (("etas_channel", etas_channel), ("count_channel", count_channel)):
            if not isinstance(value, int) or not 0 <= value < in_channels:
                raise ValueError(f"{name} must be an index in 0..{in_channels - 1}, got {value!r}")
        if etas_channel == count_channel:
            raise ValueError(f"etas_channel and count_channel are both {etas_channel}")
        if model == "etas_residual":
            raise ValueError("the inner model of etas_residual cannot be etas_residual")
        inner = build_model(model, in_channels, options)
        super().__init__(in_channels, inner.patch_size)
        self.inner = inner
        self.head = nn.Conv2d(in_channels, 1, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.etas_channel = etas_channel
        self.count_channel = count_channel

    def check_frames(self, frames: Tensor, what: str = "frames") -> None:
        """As the inner network does."""
        self.inner.check_frames(frames, what)

    def _inner_input(self, frames: Tensor) -> Tensor:
        logged = frames.clone()
        e = self.etas_channel
        logged[:, :, e] = torch.log(frames[:, :, e].clamp_min(_TINY))  # (B, T, H, W)
        return logged

    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        """Next-frame predictions of frames 1 .. Tc (one bin ahead only).

        Raises
        ------
        ValueError
            ``horizon`` other than 1: the ETAS channel of a bin after the
            first forecast one is not known when forecasting.
        """
        check_horizon(horizon)
        if horizon != 1:
            raise ValueError(
                f"etas_residual forecasts one bin ahead (horizon 1), got horizon={horizon}: the "
                "ETAS forecast of later bins depends on events not yet observed"
            )
        self.check_frames(context, "context")
        inner_target = None if target is None else self._inner_input(target)
        raw = self.inner.rollout(self._inner_input(context), 1, inner_target, true_mask)
        b, n, c, h, w = raw.shape  # n = Tc: step t predicts frame t + 1
        correction = self.head(raw.reshape(b * n, c, h, w)).reshape(b, n, h, w)  # (B, Tc, H, W)
        etas = context[:, :, self.etas_channel]  # (B, Tc, H, W): ETAS of bin t + 1
        rate = etas * torch.exp(correction)  # (B, Tc, H, W)
        out = raw.clone()
        out[:, :, self.count_channel] = rate
        out[:, :, self.etas_channel] = etas  # as observed; not a forecast of the next channel
        return out  # (B, Tc, C, H, W)

    def extra_config(self) -> dict[str, Any]:
        return {}
