"""Block-bootstrap intervals that also fold in training seeds and the baseline's Monte Carlo spread.

A network trained with ``S`` seeds and an ETAS baseline simulated ``M`` times
(each replicate a rate forecast from its own simulated catalogs) give ``S x M``
series of window log-likelihood differences ``D[s, m, w]`` against the same
observed events ``n_w``. One resample of :func:`pooled_block_bootstrap`

1. draws the block starts once, exactly as
   :func:`~framecast.quake.scores.moving_blocks.moving_block_bootstrap` does;
2. draws a seed ``s`` and a replicate ``m``, each uniformly and independently
   (so every one of the ``S x M`` combinations is equally likely);
3. takes the gain ``IG* = sum_{w in blocks} D[s, m, w] / sum_{w in blocks} n_w``.

The percentile interval of IG* therefore spreads with the block resampling of
the test period (Künsch 1989; Politis & Romano 1992) and with the variation
between seeds and between baseline replicates. The reported gain is that of the
mean difference ``mean_{s, m} D[s, m, w]``.

Assumptions, stated so that a reader can judge them:

* the seeds are exchangeable draws of "the network trained this way", and the
  replicates exchangeable draws of "the baseline simulated this way"; each is
  weighted equally, and the combinations form a full cross (every seed scored
  against every replicate);
* training seed and baseline replicate are independent of each other and of
  which blocks of the test period are drawn; they share the one observed
  catalog, so only ``D`` changes with them, never ``n``;
* the interval describes the gain of *one* run (one seed against one baseline
  replicate), a mixture of the per-combination bootstrap distributions. It is
  wider than an interval of the mean over seeds would be (that one would shrink
  as ``1 / sqrt(S)``); with ``S = M = 1`` it is the single-series interval;
* everything :mod:`~framecast.quake.scores.moving_blocks` assumes about the
  blocks (stationarity, dependence shorter than about one block).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from framecast.quake.rates import RateForecast
from framecast.quake.scores.bootstrap import NUM_RESAMPLES
from framecast.quake.scores.likelihood import MAX_MAGNITUDE, floored_rates, target_event_rates
from framecast.quake.scores.moving_blocks import (
    BlockBootstrapInterval,
    BlockMethod,
    resample_runs,
)
from framecast.quake.scores.observed import ObservedEvents, check_compatible


def pooled_block_bootstrap(
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
    """Block-bootstrap interval of the gain, also drawing a seed and a baseline replicate.

    See the module docstring for the resampling and its assumptions.

    Parameters
    ----------
    difference : numpy.ndarray
        float ``[S, M, W]``: log-likelihood difference in each window of the
        network trained with seed ``s`` over baseline replicate ``m``, nats
        (:func:`window_differences` builds it). For a set of runs that is not a
        full cross, pass the ``K`` runs as ``[K, 1, W]``.
    events : numpy.ndarray
        ``[W]``: target events of each window (the same for every run).
    block_length : int
        L, in windows.
    method : {"circular", "moving", "calendar"}
        As :func:`~framecast.quake.scores.moving_blocks.moving_block_bootstrap`.
    num_resamples : int
    alpha : float
        1 - confidence level.
    seed : int
        Seeds ``numpy.random.default_rng`` (blocks, then run, per chunk of resamples).
    window_days : float
        Window length, only for the result's ``block_days``.

    Returns
    -------
    BlockBootstrapInterval
        With ``num_seeds = S`` and ``num_replicates = M``; its gain is
        ``sum_w mean_{s, m} D[s, m, w] / sum_w n_w``.

    Raises
    ------
    ValueError
        ``difference`` not 3-D, fewer than 2 windows, ``events`` of another
        length, non-finite differences, ``block_length`` outside ``1 .. W``.

    References
    ----------
    Künsch (1989), Ann. Stat. 17(3); Politis & Romano (1992); Rhoades et al.
    (2011), Acta Geophys. 59(4), eq. 17.
    """
    return resample_runs(
        difference,
        events,
        block_length=block_length,
        method=method,
        num_resamples=num_resamples,
        alpha=alpha,
        seed=seed,
        window_days=window_days,
    )


def window_differences(
    forecasts_a: Sequence[RateForecast],
    forecasts_b: Sequence[RateForecast],
    observed: ObservedEvents,
    *,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Window log-likelihood differences of every forecast A (seed) over every B (replicate).

    ``D[s, m, w] = S_A[s, w] - S_B[m, w]`` with the window score
    ``S_w = sum_{events i in w} ln lambda(bin of i) - N_w`` over window x cell x
    magnitude bins, so ``D[s, m]`` equals
    :func:`~framecast.quake.scores.likelihood.window_information_gain` of
    ``forecasts_a[s]`` over ``forecasts_b[m]`` (Rhoades et al. 2011, eq. 17),
    at the cost of ``S + M`` scorings instead of ``S x M``.

    Parameters
    ----------
    forecasts_a : sequence of RateForecast
        The network, one forecast per training seed (S).
    forecasts_b : sequence of RateForecast
        The baseline, one forecast per Monte Carlo replicate (M).
    observed : ObservedEvents
    max_magnitude : float
    floor : float, optional
        Minimum cell rate of every forecast.

    Returns
    -------
    difference : numpy.ndarray
        float64 ``[S, M, W]``, nats.
    events : numpy.ndarray
        int64 ``[W]``.

    Raises
    ------
    ValueError
        An empty sequence, or forecasts that differ in grid, windows or mc.
    """
    if len(forecasts_a) == 0 or len(forecasts_b) == 0:
        raise ValueError(
            f"need at least one forecast on each side, got {len(forecasts_a)} and "
            f"{len(forecasts_b)}"
        )
    check_compatible([*forecasts_a, *forecasts_b])
    num_windows = forecasts_a[0].num_windows

    def window_score(forecast: RateForecast) -> np.ndarray:
        rates = target_event_rates(forecast, observed, max_magnitude=max_magnitude, floor=floor)
        with np.errstate(divide="ignore"):
            log_rates = np.log(rates)  # [N]
        at_events = np.bincount(observed.window, weights=log_rates, minlength=num_windows)  # [W]
        return at_events - floored_rates(forecast, floor).sum(axis=(1, 2))  # [W]

    score_a = np.stack([window_score(forecast) for forecast in forecasts_a])  # [S, W]
    score_b = np.stack([window_score(forecast) for forecast in forecasts_b])  # [M, W]
    events = np.bincount(observed.window, minlength=num_windows).astype(np.int64)  # [W]
    return score_a[:, None, :] - score_b[None, :, :], events  # [S, M, W], [W]
