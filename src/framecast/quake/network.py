"""Rolling rate forecasts from a trained framecast network."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from framecast.models.base import ForecastModel
from framecast.quake.etas_channel import ETAS_CHANNEL
from framecast.quake.frames import SeismicityFrames
from framecast.quake.rates import RateForecast

RATE_ACTIVATIONS = ("softplus", "exp")


def check_rate_model(model: ForecastModel, channels: tuple[str, ...]) -> int:
    """Index of the "count" channel after checking the model forecasts rates of it.

    Raises
    ------
    ValueError
        The model's channels differ from ``channels``, "count" is not among
        them, or its output is not a positive rate.
    """
    if "count" not in channels:
        raise ValueError(f"rate forecasts need the 'count' channel; the frames hold {channels}")
    if model.in_channels != len(channels):
        raise ValueError(
            f"the model takes {model.in_channels} channels but the frames give {len(channels)} "
            f"{list(channels)}"
        )
    activation = getattr(model, "output_activation", None)
    if activation not in RATE_ACTIVATIONS:
        raise ValueError(
            f"the model's output_activation is {activation!r}; a Poisson rate forecast needs "
            f"one of {list(RATE_ACTIVATIONS)} (train with the 'poisson' loss)"
        )
    etas = getattr(model, "etas_channel", None)
    if etas is not None and channels[etas] != ETAS_CHANNEL:
        raise ValueError(
            f"the model corrects the ETAS forecast read from channel {etas}, but the frames' "
            f"channel {etas} is {channels[etas]!r}; give it frames with the {ETAS_CHANNEL!r} "
            "channel (framecast.quake.etas_channel.frames_with_etas)"
        )
    if etas is not None and getattr(model, "count_channel", None) != channels.index("count"):
        raise ValueError(
            f"the model writes rates to channel {model.count_channel}, but 'count' is channel "
            f"{channels.index('count')} of {list(channels)}"
        )
    return channels.index("count")


@torch.no_grad()
def network_forecast(
    model: ForecastModel,
    frames: SeismicityFrames,
    *,
    channels: tuple[str, ...],
    n_context: int,
    first_bin: int,
    stop_bin: int,
    name: str,
    b_value: float = 1.0,
    batch_size: int = 32,
) -> RateForecast:
    """One-bin-ahead forecasts for bins ``first_bin .. stop_bin - 1``.

    The forecast for bin ``k`` is the model's next frame given the observed
    frames ``k - n_context .. k - 1`` (a rolling forecast: each window sees
    every event before it, as an operational forecast would).

    Raises
    ------
    ValueError
        Bins out of range, too little history, or a model that does not
        forecast rates of these frames (see :func:`check_rate_model`).
    """
    count = check_rate_model(model, channels)
    if not (n_context <= first_bin < stop_bin <= frames.num_bins):
        raise ValueError(
            f"forecast bins {first_bin}..{stop_bin} must lie in {n_context}..{frames.num_bins} "
            f"(the first {n_context} bins are context)"
        )
    missing = [c for c in channels if c not in frames.channels]
    if missing:
        raise ValueError(
            f"the frames lack the channels {missing} the model reads; they hold "
            f"{list(frames.channels)}"
        )
    index = [frames.channels.index(c) for c in channels]
    data = torch.from_numpy(np.ascontiguousarray(frames.frames[:, index]))  # (T, C, H, W)
    rates = one_bin_ahead_rates(
        model,
        lambda i: data[first_bin + i - n_context : first_bin + i],
        stop_bin - first_bin,
        count=count,
        batch_size=batch_size,
    )
    return forecast_of_bins(
        frames,
        slice(first_bin, stop_bin),
        rates,
        name=name,
        b_value=b_value,
        details=f"one-bin-ahead forecasts from {n_context} observed bins",
    )


@torch.no_grad()
def one_bin_ahead_rates(
    model: ForecastModel,
    context: Callable[[int], torch.Tensor],
    num_windows: int,
    *,
    count: int,
    batch_size: int,
) -> np.ndarray:
    """float64 ``[N, H, X]``: the model's next frame of channel ``count`` after each context.

    Parameters
    ----------
    model : ForecastModel
        Put in eval mode.
    context : callable
        ``context(i)``, ``[Tc, C, H, X]``: the frames before window ``i``.
    num_windows : int
        Windows ``0 .. num_windows - 1`` are forecast, ``batch_size`` at a time.
    count : int
        The channel of the counts in the model's output.
    batch_size : int
        Windows per forward pass.
    """
    model.eval()
    rates = []
    for lo in range(0, num_windows, batch_size):
        batch = torch.stack([context(i) for i in range(lo, min(lo + batch_size, num_windows))])
        pred = model(batch, 1)  # (B, 1, C, H, W)
        rates.append(pred[:, 0, count].double().numpy())  # (B, H, W)
    return np.concatenate(rates)


def forecast_of_bins(
    frames: SeismicityFrames,
    bins: slice | np.ndarray,
    rates: np.ndarray,
    *,
    name: str,
    b_value: float,
    details: str,
) -> RateForecast:
    """The :class:`RateForecast` of ``rates`` (``[N, H, X]``), one window per bin of ``bins``."""
    return RateForecast(
        name=name,
        rates=rates,
        window_start=frames.bin_start[bins],
        window_days=frames.bin_days,
        grid=frames.grid,
        mc=frames.mc,
        b_value=b_value,
        details=details,
    )
