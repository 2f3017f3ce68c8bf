"""The information gain per earthquake without the test period's busiest month.

One aftershock sequence can hold most of a test period's events, and then the
gain per earthquake (Rhoades et al. 2011, "Efficient testing of earthquake
forecasting models", Acta Geophys. 59(4), eq. 17), ``IG = sum_w D_w / sum_w n_w``,
mostly says how well each forecast did in that one sequence. Recomputing it
with the calendar block of ``block_days`` (30 by default, counted from the
first window start as in :func:`~framecast.quake.scores.bootstrap.block_index`)
that holds the most events left out,

    IG_without = sum_{w not in b*} D_w / sum_{w not in b*} n_w,

shows whether the conclusion rests on that block. A sensitivity check, not a
test: it has no interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from framecast.quake.rates import RateForecast
from framecast.quake.scores.bootstrap import block_index
from framecast.quake.scores.likelihood import MAX_MAGNITUDE, window_information_gain
from framecast.quake.scores.moving_blocks import check_differences, check_events, ratio
from framecast.quake.scores.observed import ObservedEvents


@dataclass(frozen=True)
class BusiestBlockRemoved:
    """The gain per earthquake with and without the block holding the most events.

    Attributes
    ----------
    information_gain : float
        Over all windows, nats per earthquake.
    information_gain_without : float
        Over the windows outside the busiest block; NaN when no event is left.
    removed_block : int
        Index of the busiest block (the earliest on a tie).
    removed_windows, removed_events : int
    n_events : int
        All windows.
    block_days : float
    removed_start : str
        ISO start of the removed block's first window ("" from the array function).
    name_a, name_b : str
    """

    information_gain: float
    information_gain_without: float
    removed_block: int
    removed_windows: int
    removed_events: int
    n_events: int
    block_days: float = 30.0
    removed_start: str = ""
    name_a: str = ""
    name_b: str = ""

    @property
    def change(self) -> float:
        """``information_gain_without - information_gain``, nats per earthquake."""
        return self.information_gain_without - self.information_gain

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "change": self.change}


def gain_without_busiest_block(
    difference: np.ndarray, events: np.ndarray, blocks: np.ndarray, *, block_days: float = 30.0
) -> BusiestBlockRemoved:
    """Gain per earthquake with and without the block holding the most events.

    Parameters
    ----------
    difference : numpy.ndarray
        float ``[W]``: log-likelihood difference of A over B in each window, nats.
    events : numpy.ndarray
        ``[W]``: target events of each window.
    blocks : numpy.ndarray
        int ``[W]``: block of each window, >= 0
        (:func:`~framecast.quake.scores.bootstrap.block_index`).
    block_days : float
        Block length, only recorded in the result.

    Returns
    -------
    BusiestBlockRemoved

    Raises
    ------
    ValueError
        Fewer than 2 windows, lengths that differ, non-finite differences,
        negative counts or block indices.
    """
    difference = check_differences(difference, ndim=1)  # [W]
    events = check_events(events, len(difference))  # [W]
    blocks = np.asarray(blocks)
    if blocks.shape != difference.shape or not np.issubdtype(blocks.dtype, np.integer):
        raise ValueError(
            f"blocks must be integers, one per window ({len(difference)}), got "
            f"{blocks.dtype} of shape {blocks.shape}"
        )
    if (blocks < 0).any():
        raise ValueError(f"blocks must be >= 0, got {int(blocks.min())!r}")
    block_events = np.bincount(blocks, weights=events)  # [B]
    busiest = int(np.argmax(block_events))  # first of the largest
    kept = blocks != busiest  # [W]
    return BusiestBlockRemoved(
        information_gain=float(ratio(difference.sum(), events.sum())),
        information_gain_without=float(ratio(difference[kept].sum(), events[kept].sum())),
        removed_block=busiest,
        removed_windows=int(np.count_nonzero(~kept)),
        removed_events=round(float(block_events[busiest])),
        n_events=round(float(events.sum())),
        block_days=float(block_days),
    )


def information_gain_without_busiest_month(
    forecast_a: RateForecast,
    forecast_b: RateForecast,
    observed: ObservedEvents,
    *,
    block_days: float = 30.0,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> BusiestBlockRemoved:
    """Gain per earthquake of A over B with and without its busiest ``block_days`` block.

    :func:`gain_without_busiest_block` of
    :func:`~framecast.quake.scores.likelihood.window_information_gain` (Rhoades
    et al. 2011, eq. 17) with the calendar blocks of
    :func:`~framecast.quake.scores.bootstrap.block_index`.

    Parameters
    ----------
    forecast_a, forecast_b : RateForecast
        Must share grid, windows and mc.
    observed : ObservedEvents
    block_days : float
        The "month": 30 days, counted from the first window start.
    max_magnitude : float
        Left edge of the last magnitude bin.
    floor : float, optional
        Minimum cell rate of both forecasts.
    """
    difference, events = window_information_gain(
        forecast_a, forecast_b, observed, max_magnitude=max_magnitude, floor=floor
    )  # [W], [W]
    result = gain_without_busiest_month(
        difference, events, forecast_a.window_start, block_days=block_days
    )
    return replace(result, name_a=forecast_a.name, name_b=forecast_b.name)


def gain_without_busiest_month(
    difference: np.ndarray,
    events: np.ndarray,
    window_start: np.ndarray,
    *,
    block_days: float = 30.0,
) -> BusiestBlockRemoved:
    """:func:`gain_without_busiest_block` with the calendar blocks of ``window_start``
    ``[W]`` (:func:`~framecast.quake.scores.bootstrap.block_index`), the removed
    block's first window start recorded."""
    blocks = block_index(window_start, block_days)  # [W]
    result = gain_without_busiest_block(difference, events, blocks, block_days=block_days)
    first = np.asarray(window_start)[blocks == result.removed_block].min()
    day = first.astype("datetime64[D]")
    start = str(day) if day == first else np.datetime_as_string(first, unit="s")
    return replace(result, removed_start=start)
