"""Each frame bin's radio side image, cut so that no forecast sees the future.

The forecast for window ``k`` (the bin starting at ``t_k``) sees the frames
of bins ``k - n .. k - 1`` and, through them, their side images. The side
image of bin ``j`` holds the ``K = slots_per_bin`` radio slots that END at
or before ``t_j + bin_days - lag_days``: with ``j <= k - 1`` that is at or
before ``t_k - lag_days``, so only samples recorded before the window
starts (minus the processing delay ``lag_days``) reach it. A slot that
merely overlaps that time is left out.
"""

from __future__ import annotations

import numpy as np

from framecast.quake.catalog.events import timedelta_to_days
from framecast.quake.radio.store import RadioSeries


def normalization(series: RadioSeries, end: object) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation ``[S, F]`` of the power of slots that end before ``end``.

    Computed on the training period only, so that the scaling of the side
    input carries nothing of the test period.

    Raises
    ------
    ValueError
        No recorded slot before ``end`` for some station.
    """
    end64 = np.datetime64(end, "us") if not isinstance(end, np.datetime64) else end
    slot_end = series.slot_start + np.timedelta64(round(series.slot_seconds * 1e6), "us")
    before = slot_end <= end64  # [N]
    power = series.power[before]  # (n, S, F)
    if not len(power) or np.isnan(power).all(axis=(0, 2)).any():
        raise ValueError(
            f"no recorded radio slot before {end64} for some station of {list(series.stations)}; "
            "the side input cannot be scaled on the training period"
        )
    mean = np.nanmean(power, axis=0)  # (S, F)
    std = np.nanstd(power, axis=0)  # (S, F)
    return mean.astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32)


def side_images(
    series: RadioSeries,
    bin_start: np.ndarray,
    bin_days: float,
    *,
    lag_days: float = 0.0,
    scale: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """float32 ``[T, 2S, F, K]``: each bin's scaled log power and coverage, ``K`` slots wide.

    Channels ``0 .. S-1`` hold the standardised power of each station
    (0 where missing), channels ``S .. 2S-1`` the slot coverage (0..1,
    repeated over the F rows); the last column is the latest slot.

    Parameters
    ----------
    series : RadioSeries
    bin_start : numpy.ndarray
        ``datetime64`` ``[T]``: start of each frame bin.
    bin_days : float
        The frames' bin length; must equal the series' ``bin_days``.
    lag_days : float
        Processing delay: bin ``j`` sees slots ending by ``end_j - lag_days``.
    scale : (mean, std)
        ``[S, F]`` each, from :func:`normalization`.

    Raises
    ------
    ValueError
        Bin lengths that differ, or a negative lag.
    """
    if abs(series.bin_days - bin_days) > 1e-9:
        raise ValueError(
            f"the radio file has bins of {series.bin_days:g} days and the frames "
            f"{bin_days:g} days; prepare it again with --bin-days {bin_days:g}"
        )
    if not lag_days >= 0:
        raise ValueError(f"lag_days must be >= 0, got {lag_days!r}")
    mean, std = scale
    k = series.slots_per_bin
    s, f = series.power.shape[1:]
    slot_days = series.slot_seconds / 86400.0
    # days from the series start to each bin's visible end
    end_days = timedelta_to_days(np.asarray(bin_start) - series.start) + bin_days - lag_days  # [T]
    last = (
        np.floor(end_days / slot_days + 1e-9).astype(np.int64) - 1
    )  # [T] last slot ending by then
    index = last[:, None] + np.arange(-k + 1, 1)[None, :]  # [T, K]
    inside = (index >= 0) & (index < series.num_slots)  # [T, K]
    safe = np.clip(index, 0, max(series.num_slots - 1, 0))  # [T, K]
    power = (series.power[safe] - mean) / std  # (T, K, S, F)
    coverage = np.where(inside[..., None], series.coverage[safe], 0.0)  # (T, K, S)
    power = np.where(inside[..., None, None] & np.isfinite(power), power, 0.0)  # (T, K, S, F)
    power = np.where(coverage[..., None] > 0, power, 0.0)
    power = power.transpose(0, 2, 3, 1)  # (T, S, F, K)
    mask = np.broadcast_to(coverage.transpose(0, 2, 1)[:, :, None, :], (len(last), s, f, k))
    return np.concatenate([power, mask], axis=1).astype(np.float32)  # (T, 2S, F, K)
