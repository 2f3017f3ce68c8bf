"""Block-bootstrap intervals of the information gain per earthquake.

The paired T-test of Rhoades et al. (2011) treats the N target events as N
independent draws. Aftershock sequences put many events into a few days, and
their log-rate differences move together, so its interval is too narrow for a
clustered test period. The block bootstrap (Carlstein 1986, "The use of
subseries values for estimating the variance of a general statistic from a
stationary sequence", Ann. Stat. 14(3); Künsch 1989, Ann. Stat. 17(3))
resamples whole time blocks instead: events of the same block stay together.

Here the test period is cut into non-overlapping calendar blocks of
``block_days`` (counted from the first window start; a window belongs to the
block holding its start, so windows longer than a block are blocks of their
own). One resample draws as many blocks as there are, with replacement, and its
information gain per earthquake is

    IG* = sum_{b in resample} D_b / sum_{b in resample} n_b,

``D_b`` the block's summed window log-likelihood differences and ``n_b`` its
events, as :func:`~framecast.quake.scores.likelihood.cumulative_information_gain`
computes the gain from window log-likelihoods. The interval is the
``alpha / 2`` and ``1 - alpha / 2`` percentiles of IG* (percentile bootstrap,
Efron & Tibshirani 1993, ch. 13).

With fewer than two blocks holding events there is no interval (NaN); with
few blocks (say under 20) the percentiles are rough.

Assumptions: blocks are independent of each other and identically
distributed (stationarity); the dependence between events reaches no
further than about one block. The T-test assumes independent events
instead. No library offers a block bootstrap of a ratio of block sums
(SciPy's ``scipy.stats.bootstrap`` resamples single observations; the
``arch`` package's block bootstraps are not a dependency), so it is written
here, fully vectorised.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from framecast.quake.catalog.events import timedelta_to_days
from framecast.quake.rates import RateForecast
from framecast.quake.scores.likelihood import MAX_MAGNITUDE, window_information_gain
from framecast.quake.scores.observed import ObservedEvents

NUM_RESAMPLES = 2000

_CHUNK = 256
"""Resamples drawn at once: bounds memory at ``_CHUNK x num_blocks`` indices."""


class IntervalMethods:
    """``width``, ``significant`` and ``to_dict`` of a dataclass with ``lower`` and ``upper``."""

    lower: float
    upper: float

    @property
    def width(self) -> float:
        return self.upper - self.lower

    @property
    def significant(self) -> bool:
        """True when the interval excludes 0 (either direction)."""
        return bool(self.lower > 0 or self.upper < 0)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "width": self.width}  # type: ignore[call-overload]


@dataclass(frozen=True)
class BootstrapInterval(IntervalMethods):
    """Block-bootstrap percentile interval of the information gain per earthquake.

    Attributes
    ----------
    information_gain : float
        Of the whole test period, nats per earthquake (the T-test's gain).
    lower, upper : float
        ``alpha / 2`` and ``1 - alpha / 2`` percentiles of the resampled gains.
    block_days : float
    num_blocks : int
        Blocks holding at least one window.
    blocks_with_events : int
    num_resamples : int
    num_undefined : int
        Resamples without any event (no gain; left out of the percentiles).
    alpha : float
    seed : int
    name_a, name_b : str
    """

    information_gain: float
    lower: float
    upper: float
    block_days: float
    num_blocks: int
    blocks_with_events: int
    num_resamples: int
    num_undefined: int
    alpha: float
    seed: int
    name_a: str = ""
    name_b: str = ""


def block_index(window_start: np.ndarray, block_days: float) -> np.ndarray:
    """int64 ``[W]``: consecutive index of the ``block_days`` block holding each window start.

    Blocks are counted from the earliest start; empty blocks get no index.
    """
    if not block_days > 0:
        raise ValueError(f"block_days must be > 0, got {block_days!r}")
    starts = np.asarray(window_start)  # [W]
    days = timedelta_to_days(starts - starts.min())  # [W]
    calendar_block = np.floor(days / block_days + 1e-9).astype(np.int64)  # [W]
    return np.unique(calendar_block, return_inverse=True)[1].reshape(-1)  # [W]


def block_bootstrap(
    difference: np.ndarray,
    events: np.ndarray,
    blocks: np.ndarray,
    *,
    num_resamples: int = NUM_RESAMPLES,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float, np.ndarray]:
    """Percentile interval of ``sum D / sum n`` over blocks resampled with replacement.

    Parameters
    ----------
    difference : numpy.ndarray
        float64 ``[W]``: log-likelihood difference of each window, nats.
    events : numpy.ndarray
        int ``[W]``: target events of each window.
    blocks : numpy.ndarray
        int64 ``[W]``: block of each window, 0 .. B-1 (:func:`block_index`).
    num_resamples : int
    alpha : float
    seed : int
        Seeds ``numpy.random.default_rng``.

    Returns
    -------
    lower, upper : float
        NaN when fewer than two blocks hold events (every resample would be
        the same gain: no interval) or fewer than two resamples have events.
    resampled : numpy.ndarray
        float64 ``[num_resamples]``: each resample's gain, NaN without events.
    """
    if num_resamples < 1:
        raise ValueError(f"num_resamples must be >= 1, got {num_resamples!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    difference = np.asarray(difference, np.float64)  # [W]
    events = np.asarray(events, np.float64)  # [W]
    blocks = np.asarray(blocks, np.int64)  # [W]
    if not difference.shape == events.shape == blocks.shape:
        raise ValueError(
            f"difference, events and blocks must have one value per window, got shapes "
            f"{difference.shape}, {events.shape} and {blocks.shape}"
        )
    num_blocks = int(blocks.max()) + 1 if len(blocks) else 0
    block_difference = np.bincount(blocks, weights=difference, minlength=num_blocks)  # [B]
    block_events = np.bincount(blocks, weights=events, minlength=num_blocks)  # [B]
    rng = np.random.default_rng(seed)
    resampled = np.full(num_resamples, np.nan)  # [R]
    if np.count_nonzero(block_events) < 2:
        return float("nan"), float("nan"), resampled
    for start in range(0, num_resamples, _CHUNK):
        size = min(_CHUNK, num_resamples - start)
        draw = rng.integers(0, num_blocks, size=(size, num_blocks))  # [r, B]
        total_events = block_events[draw].sum(axis=1)  # [r]
        total_difference = block_difference[draw].sum(axis=1)  # [r]
        with np.errstate(divide="ignore", invalid="ignore"):
            resampled[start : start + size] = np.where(
                total_events > 0, total_difference / total_events, np.nan
            )
    defined = resampled[np.isfinite(resampled)]  # [R']
    if len(defined) < 2:
        return float("nan"), float("nan"), resampled
    lower, upper = np.percentile(defined, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lower), float(upper), resampled


def bootstrap_information_gain(
    forecast_a: RateForecast,
    forecast_b: RateForecast,
    observed: ObservedEvents,
    *,
    block_days: float = 1.0,
    num_resamples: int = NUM_RESAMPLES,
    alpha: float = 0.05,
    seed: int = 0,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> BootstrapInterval:
    """Information gain per earthquake of A over B with a block-bootstrap interval.

    The gain is Rhoades et al. (2011), eq. 17, from the window log-likelihood
    differences (:func:`~framecast.quake.scores.likelihood.window_information_gain`);
    its interval resamples non-overlapping ``block_days`` blocks of windows
    with replacement (see the module docstring), assuming independence between
    blocks and stationarity rather than independent events.

    Parameters
    ----------
    forecast_a, forecast_b : RateForecast
        Must share grid, windows and mc.
    observed : ObservedEvents
    block_days : float
        Block length in days (1: whole days; 30: months).
    num_resamples : int
    alpha : float
        1 - confidence level.
    seed : int
        Same seed, same interval.
    max_magnitude : float
        Left edge of the last magnitude bin.
    floor : float, optional
        Minimum cell rate of both forecasts.
    """
    difference, events = window_information_gain(
        forecast_a, forecast_b, observed, max_magnitude=max_magnitude, floor=floor
    )  # [W], [W]
    blocks = block_index(forecast_a.window_start, block_days)  # [W]
    lower, upper, resampled = block_bootstrap(
        difference, events, blocks, num_resamples=num_resamples, alpha=alpha, seed=seed
    )
    total_events = int(events.sum())
    gain = float(difference.sum() / total_events) if total_events else float("nan")
    block_events = np.bincount(blocks, weights=events)  # [B]
    return BootstrapInterval(
        information_gain=gain,
        lower=lower,
        upper=upper,
        block_days=float(block_days),
        num_blocks=len(block_events),
        blocks_with_events=int(np.count_nonzero(block_events)),
        num_resamples=num_resamples,
        num_undefined=int(np.count_nonzero(~np.isfinite(resampled))),
        alpha=alpha,
        seed=seed,
        name_a=forecast_a.name,
        name_b=forecast_b.name,
    )
