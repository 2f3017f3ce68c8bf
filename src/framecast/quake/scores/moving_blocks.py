"""Moving-block and circular-block bootstrap intervals of the information gain per earthquake.

The test period is a series of ``W`` windows (days, for daily forecasts) with
``D_w = log L_A,w - log L_B,w``, the window log-likelihood difference of
forecast A over B, and ``n_w`` target events
(:func:`~framecast.quake.scores.likelihood.window_information_gain`). The
information gain per earthquake (Rhoades et al. 2011, "Efficient testing of
earthquake forecasting models", Acta Geophys. 59(4), eq. 17) is the ratio of sums

    IG = sum_w D_w / sum_w n_w.

Aftershocks make ``D_w`` and ``n_w`` dependent from one window to the next.
A block bootstrap keeps that dependence inside blocks of ``L`` consecutive
windows and resamples the blocks; every resample is a series of ``W`` windows
and gives ``IG* = sum D* / sum n*``. Three ways to cut blocks:

* ``"moving"`` (Künsch 1989, "The jackknife and the bootstrap for general
  stationary observations", Ann. Stat. 17(3), 1217-1241, section 2): the
  ``W - L + 1`` overlapping blocks ``(w, ..., w + L - 1)``; ``ceil(W / L)``
  drawn with replacement, joined and cut to ``W`` windows. Windows near either
  end fall in fewer blocks, so they weigh less.
* ``"circular"`` (Politis & Romano 1992, "A circular block-resampling
  procedure for stationary data", in LePage & Billard (eds.), *Exploring the
  Limits of Bootstrap*, Wiley, 263-270): the series wrapped on a circle,
  ``W`` blocks ``(w, ..., w + L - 1 mod W)``, so every window is equally likely
  and the resampled sums are centred on the observed ones. The default.
* ``"calendar"``: the ``ceil(W / L)`` non-overlapping blocks ``(0..L-1),
  (L..2L-1), ...`` (the last one shorter), as many drawn as there are (Carlstein
  1986): the draws of :func:`~framecast.quake.scores.bootstrap.block_bootstrap`
  with ``blocks = arange(W) // L``, so the same seed gives the same interval.

The interval is the ``alpha / 2`` and ``1 - alpha / 2`` percentiles of IG*
(percentile bootstrap, Efron & Tibshirani 1993, ch. 13); resamples without an
event have no gain and are left out (counted in ``num_undefined``).

Assumptions: the series is stationary, and windows more than about ``L``
apart are nearly independent; with an ``L`` much shorter than the
aftershock sequences the interval is too narrow. :func:`block_length_sensitivity`
shows how it widens with ``L``. Blocks are consecutive *windows*: a test period
with gaps between windows is treated as if they were contiguous.

Each block's sum is a difference of prefix sums, so a resample costs
``ceil(W / L)`` look-ups, not ``W``. No library in the environment offers a
block bootstrap of a ratio of sums (``scipy.stats.bootstrap`` resamples single
observations; ``arch``'s block bootstraps are not a dependency), so it is
written here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from framecast.quake.rates import RateForecast
from framecast.quake.scores.bootstrap import _CHUNK, NUM_RESAMPLES, IntervalMethods
from framecast.quake.scores.likelihood import MAX_MAGNITUDE, window_information_gain
from framecast.quake.scores.observed import ObservedEvents

BlockMethod = Literal["moving", "circular", "calendar"]
BLOCK_METHODS: tuple[str, ...] = ("moving", "circular", "calendar")

SENSITIVITY_BLOCK_LENGTHS: tuple[int, ...] = (1, 7, 30, 90)
"""Block lengths (windows; days for daily windows) of :func:`block_length_sensitivity`."""


@dataclass(frozen=True)
class BlockBootstrapInterval(IntervalMethods):
    """Block-bootstrap percentile interval of the information gain per earthquake.

    Attributes
    ----------
    information_gain : float
        ``sum D / sum n`` of the observed series, nats per earthquake (with
        several seeds or replicates, of their mean difference).
    lower, upper : float
        ``alpha / 2`` and ``1 - alpha / 2`` percentiles of the resampled gains;
        NaN when fewer than two resamples hold an event.
    method : str
        "moving", "circular" or "calendar".
    block_length : int
        L, in windows.
    block_days : float
        ``L * window_days``.
    num_windows, n_events : int
    num_resamples, num_undefined : int
        Resamples drawn, and those without any event (left out).
    alpha : float
    seed : int
    num_seeds, num_replicates : int
        Network seeds and baseline simulation replicates drawn from (1 and 1
        for a single series; see
        :func:`~framecast.quake.scores.seed_pooling.pooled_block_bootstrap`).
    name_a, name_b : str
    """

    information_gain: float
    lower: float
    upper: float
    method: str
    block_length: int
    block_days: float
    num_windows: int
    n_events: int
    num_resamples: int
    num_undefined: int
    alpha: float
    seed: int
    num_seeds: int = 1
    num_replicates: int = 1
    name_a: str = ""
    name_b: str = ""


# ------------------------------------------------------------------ input checks
def check_events(events: np.ndarray, num_windows: int) -> np.ndarray:
    """float64 ``[W]`` event counts, checked: one finite count >= 0 per window."""
    events = np.asarray(events, np.float64)  # [W]
    if events.shape != (num_windows,):
        raise ValueError(
            f"events must have one count per window ({num_windows}), got shape {events.shape}"
        )
    if not (np.isfinite(events).all() and (events >= 0).all()):
        bad = float(events[~(np.isfinite(events) & (events >= 0))][0])
        raise ValueError(f"events must be finite counts >= 0, got {bad!r}")
    return events


def check_differences(difference: np.ndarray, ndim: int) -> np.ndarray:
    """float64 window log-likelihood differences ``[..., W]``, checked: ``ndim`` axes,
    at least 2 windows, all finite."""
    difference = np.asarray(difference, np.float64)
    if difference.ndim != ndim:
        raise ValueError(f"difference must have {ndim} axes, got shape {difference.shape}")
    if difference.shape[-1] < 2:
        raise ValueError(f"need at least 2 windows, got {difference.shape[-1]}")
    if not np.isfinite(difference).all():
        bad = difference[~np.isfinite(difference)]
        raise ValueError(
            f"difference must be finite, got {float(bad[0])!r} in {bad.size} value(s) "
            "(a zero rate at an observed event? score with a floor)"
        )
    return difference


def check_block_length(block_length: int, num_windows: int) -> int:
    """``block_length`` as an int, checked: 1 <= L <= W."""
    if isinstance(block_length, bool) or not isinstance(block_length, int | np.integer):
        raise ValueError(f"block_length must be a whole number of windows, got {block_length!r}")
    if block_length < 1:
        raise ValueError(f"block_length must be >= 1 window, got {block_length!r}")
    if block_length > num_windows:
        raise ValueError(
            f"block_length must be at most the {num_windows} windows, got {block_length!r}"
        )
    return int(block_length)


def check_resampling(method: str, num_resamples: int, alpha: float) -> None:
    """Refuse an unknown method, fewer than 1 resample or alpha outside (0, 1)."""
    if method not in BLOCK_METHODS:
        raise ValueError(f"method must be one of {BLOCK_METHODS}, got {method!r}")
    if num_resamples < 1:
        raise ValueError(f"num_resamples must be >= 1, got {num_resamples!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")


# ------------------------------------------------------------------ resampling
def prefix_sums(values: np.ndarray, block_length: int, method: str) -> np.ndarray:
    """float64 ``[..., W + 1]`` (``[..., W + L]`` circular): ``P[..., j] = sum values[..., :j]``.

    For ``"circular"`` the series is first extended by its first ``L - 1``
    windows, so a block starting at ``w`` sums to ``P[w + L] - P[w]`` for every
    ``w < W``.
    """
    if method == "circular":
        values = np.concatenate([values, values[..., : block_length - 1]], axis=-1)
    zero = np.zeros((*values.shape[:-1], 1))
    return np.concatenate([zero, np.cumsum(values, axis=-1)], axis=-1)


def draw_blocks(
    rng: np.random.Generator, method: str, num_windows: int, block_length: int, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Block starts ``[size, K]`` and lengths (``[K]`` or ``[size, K]``) of ``size`` resamples.

    Moving and circular: ``K = ceil(W / L)`` starts uniform on ``0 .. W - L``
    (moving) or ``0 .. W - 1`` (circular), all of length L but the last, cut
    so the resample has exactly W windows. Calendar: K = ceil(W / L) of the
    non-overlapping blocks ``b L`` (the same draws as
    :func:`~framecast.quake.scores.bootstrap.block_bootstrap`), each its own length.
    """
    count = math.ceil(num_windows / block_length)
    if method == "calendar":
        starts = block_length * rng.integers(0, count, size=(size, count))  # [r, K]
        return starts, np.minimum(block_length, num_windows - starts)  # [r, K], [r, K]
    high = num_windows if method == "circular" else num_windows - block_length + 1
    starts = rng.integers(0, high, size=(size, count))  # [r, K]
    lengths = np.full(count, block_length)  # [K]
    lengths[-1] = num_windows - (count - 1) * block_length
    return starts, lengths


def resampled_totals(
    prefix_at: Callable[[np.ndarray], np.ndarray], starts: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """float64 ``[r]``: each resample's total, ``sum_k P[s_k + l_k] - P[s_k]``.

    ``prefix_at(index [r, K])`` returns the prefix sums at ``index`` ``[r, K]``.
    """
    return (prefix_at(starts + lengths) - prefix_at(starts)).sum(axis=1)  # [r]


def percentile_interval(resampled: np.ndarray, alpha: float) -> tuple[float, float]:
    """``alpha / 2`` and ``1 - alpha / 2`` percentiles of the finite resamples (NaN if < 2)."""
    defined = resampled[np.isfinite(resampled)]  # [R']
    if len(defined) < 2:
        return float("nan"), float("nan")
    lower, upper = np.percentile(defined, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lower), float(upper)


def ratio(total_difference: np.ndarray, total_events: np.ndarray) -> np.ndarray:
    """``D / n`` where ``n > 0``, else NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total_events > 0, total_difference / total_events, np.nan)


def moving_block_bootstrap(
    difference: np.ndarray,
    events: np.ndarray,
    *,
    block_length: int,
    method: BlockMethod = "circular",
    num_resamples: int = NUM_RESAMPLES,
    alpha: float = 0.05,
    seed: int = 0,
    window_days: float = 1.0,
) -> BlockBootstrapInterval:
    """Block-bootstrap percentile interval of ``IG = sum D / sum n`` (see the module docstring).

    Parameters
    ----------
    difference : numpy.ndarray
        float ``[W]``: log-likelihood difference of A over B in each window,
        nats (:func:`~framecast.quake.scores.likelihood.window_information_gain`).
    events : numpy.ndarray
        ``[W]``: target events of each window.
    block_length : int
        L, in windows (days for daily windows); 1 resamples single windows.
    method : {"circular", "moving", "calendar"}
        Circular blocks (Politis & Romano 1992), moving blocks (Künsch 1989)
        or non-overlapping blocks from the first window.
    num_resamples : int
    alpha : float
        1 - confidence level.
    seed : int
        Seeds ``numpy.random.default_rng``: same seed, same interval.
    window_days : float
        Window length, only for the result's ``block_days``.

    Returns
    -------
    BlockBootstrapInterval

    Raises
    ------
    ValueError
        Fewer than 2 windows, lengths that differ, a non-finite difference,
        negative counts, ``block_length`` outside ``1 .. W``, an unknown method.

    References
    ----------
    Künsch (1989), Ann. Stat. 17(3), 1217-1241; Politis & Romano (1992);
    Rhoades et al. (2011), Acta Geophys. 59(4), eq. 17.
    """
    difference = check_differences(difference, ndim=1)  # [W]
    return resample_runs(
        difference[None, None, :],
        events,
        block_length=block_length,
        method=method,
        num_resamples=num_resamples,
        alpha=alpha,
        seed=seed,
        window_days=window_days,
    )


def resample_runs(
    difference: np.ndarray,
    events: np.ndarray,
    *,
    block_length: int,
    method: BlockMethod,
    num_resamples: int,
    alpha: float,
    seed: int,
    window_days: float,
) -> BlockBootstrapInterval:
    """The block bootstrap of ``difference`` ``[S, M, W]`` (runs of S seeds x M replicates).

    Each resample draws the block starts, then a seed and a replicate
    (only where there are several, so that ``S = M = 1`` draws exactly the
    blocks of a single series); the gain is ``sum D / sum n`` over the blocks.
    :func:`moving_block_bootstrap` and
    :func:`~framecast.quake.scores.seed_pooling.pooled_block_bootstrap` both use it.
    """
    check_resampling(method, num_resamples, alpha)
    difference = check_differences(difference, ndim=3)  # [S, M, W]
    num_seeds, num_replicates, num_windows = difference.shape
    events = check_events(events, num_windows)  # [W]
    block_length = check_block_length(block_length, num_windows)
    prefix_difference = prefix_sums(difference, block_length, method)  # [S, M, P]
    prefix_events = prefix_sums(events, block_length, method)  # [P]
    rng = np.random.default_rng(seed)
    resampled = np.empty(num_resamples)  # [R]
    for start in range(0, num_resamples, _CHUNK):
        size = min(_CHUNK, num_resamples - start)
        starts, lengths = draw_blocks(rng, method, num_windows, block_length, size)  # [r, K]
        run_seed = np.zeros((size, 1), np.int64)  # [r, 1]
        replicate = np.zeros((size, 1), np.int64)  # [r, 1]
        if num_seeds > 1:
            run_seed = rng.integers(0, num_seeds, size=(size, 1))
        if num_replicates > 1:
            replicate = rng.integers(0, num_replicates, size=(size, 1))

        def run_prefix(
            index: np.ndarray, run_seed: np.ndarray = run_seed, replicate: np.ndarray = replicate
        ) -> np.ndarray:
            return prefix_difference[run_seed, replicate, index]  # [r, K]

        total_difference = resampled_totals(run_prefix, starts, lengths)  # [r]
        total_events = resampled_totals(prefix_events.__getitem__, starts, lengths)  # [r]
        resampled[start : start + size] = ratio(total_difference, total_events)
    lower, upper = percentile_interval(resampled, alpha)
    return BlockBootstrapInterval(
        information_gain=float(ratio(difference.mean(axis=(0, 1)).sum(), events.sum())),
        lower=lower,
        upper=upper,
        method=method,
        block_length=block_length,
        block_days=block_length * float(window_days),
        num_windows=num_windows,
        n_events=round(float(events.sum())),
        num_resamples=num_resamples,
        num_undefined=int(np.count_nonzero(~np.isfinite(resampled))),
        alpha=alpha,
        seed=seed,
        num_seeds=num_seeds,
        num_replicates=num_replicates,
    )


def block_length_sensitivity(
    difference: np.ndarray,
    events: np.ndarray,
    *,
    block_lengths: Sequence[int] = SENSITIVITY_BLOCK_LENGTHS,
    method: BlockMethod = "circular",
    num_resamples: int = NUM_RESAMPLES,
    alpha: float = 0.05,
    seed: int = 0,
    window_days: float = 1.0,
) -> tuple[BlockBootstrapInterval, ...]:
    """The interval of :func:`moving_block_bootstrap` at each block length, one row per length.

    With daily windows the default lengths are 1, 7, 30 and 90 days. Every
    row uses the same ``seed``. Under dependence the interval widens as L grows
    towards the reach of the dependence and then levels off (Künsch 1989;
    Lahiri 2003, *Resampling Methods for Dependent Data*, ch. 7); ``row.to_dict()``
    gives a table row.

    Parameters
    ----------
    difference, events : numpy.ndarray
        ``[W]`` each, as :func:`moving_block_bootstrap`.
    block_lengths : sequence of int
        In windows; each must lie in ``1 .. W``.
    method, num_resamples, alpha, seed, window_days
        As :func:`moving_block_bootstrap`.

    Returns
    -------
    tuple of BlockBootstrapInterval
        In the order of ``block_lengths``.

    Raises
    ------
    ValueError
        No block lengths, or any input :func:`moving_block_bootstrap` refuses.
    """
    if len(block_lengths) == 0:
        raise ValueError("block_lengths is empty; give at least one length in windows")
    return tuple(
        moving_block_bootstrap(
            difference,
            events,
            block_length=length,
            method=method,
            num_resamples=num_resamples,
            alpha=alpha,
            seed=seed,
            window_days=window_days,
        )
        for length in block_lengths
    )


def block_length_in_windows(block_days: float, window_days: float) -> int:
    """``block_days / window_days`` as a whole number of windows (ValueError if it is not one)."""
    length = round(block_days / window_days)
    if length < 1 or not math.isclose(length * window_days, block_days, rel_tol=1e-9):
        raise ValueError(
            f"block_days must be a whole number (>= 1) of {window_days:g}-day windows, "
            f"got {block_days!r}"
        )
    return int(length)


def moving_block_information_gain(
    forecast_a: RateForecast,
    forecast_b: RateForecast,
    observed: ObservedEvents,
    *,
    block_days: float = 30.0,
    method: BlockMethod = "circular",
    num_resamples: int = NUM_RESAMPLES,
    alpha: float = 0.05,
    seed: int = 0,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> BlockBootstrapInterval:
    """Information gain per earthquake of A over B with a moving/circular block-bootstrap interval.

    :func:`moving_block_bootstrap` of the window log-likelihood differences
    (:func:`~framecast.quake.scores.likelihood.window_information_gain`, Rhoades
    et al. 2011, eq. 17) with blocks of ``block_days`` (a whole number of windows).

    Parameters
    ----------
    forecast_a, forecast_b : RateForecast
        Must share grid, windows and mc.
    observed : ObservedEvents
    block_days : float
        Block length in days; a whole number of the forecasts' windows.
    method, num_resamples, alpha, seed
        As :func:`moving_block_bootstrap`.
    max_magnitude : float
        Left edge of the last magnitude bin.
    floor : float, optional
        Minimum cell rate of both forecasts.
    """
    difference, events = window_information_gain(
        forecast_a, forecast_b, observed, max_magnitude=max_magnitude, floor=floor
    )  # [W], [W]
    window_days = float(forecast_a.window_days)
    result = moving_block_bootstrap(
        difference,
        events,
        block_length=block_length_in_windows(block_days, window_days),
        method=method,
        num_resamples=num_resamples,
        alpha=alpha,
        seed=seed,
        window_days=window_days,
    )
    return replace(result, name_a=forecast_a.name, name_b=forecast_b.name)
