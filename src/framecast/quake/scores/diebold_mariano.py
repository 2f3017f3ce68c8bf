"""Diebold-Mariano test of two rate forecasts on their daily log-likelihood differences.

The loss differential of the Diebold & Mariano (1995) test ("Comparing
predictive accuracy", J. Bus. Econ. Stat. 13(3), 253-263) is here the window
log-likelihood difference ``d_w = D_w = log L_A,w - log L_B,w`` of forecast A over
B (:func:`~framecast.quake.scores.likelihood.window_information_gain`; a
logarithmic score, so > 0 favours A). With ``T`` windows and mean ``d̄``,

    DM = d̄ / sqrt(σ̂² / T),     p = 2 (1 - Φ(|DM|))        (DM 1995, eq. 8)

where ``σ̂²`` estimates the long-run variance ``2π f_d(0) = Σ_k γ_k`` of the
differences. Windows are serially dependent (aftershock sequences span days),
so ``σ̂²`` is the Newey & West (1987, "A simple, positive semi-definite,
heteroskedasticity and autocorrelation consistent covariance matrix",
Econometrica 55(3), 703-708, eq. 2) estimate with the Bartlett kernel,

    σ̂² = γ̂_0 + 2 Σ_{k=1}^{h} (1 - k / (h + 1)) γ̂_k,
    γ̂_k = (1/T) Σ_{t=k}^{T-1} (d_t - d̄)(d_{t-k} - d̄),

always >= 0. The default lag is ``h = floor(4 (T / 100)^(2/9))`` (Newey & West
1994, "Automatic lag selection in covariance matrix estimation", Rev. Econ.
Stud. 61(4), 631-653, the rule of thumb for the Bartlett kernel); with ``h = 0``
the test is the plain z-test of the mean with the (1/T) sample variance.

The gain per earthquake it implies is ``d̄ / n̄ = sum D / sum n`` (Rhoades et
al. 2011, eq. 17), and its interval ``(d̄ ± z_{1-α/2} sqrt(σ̂² / T)) / n̄`` treats
the mean number of events ``n̄`` as fixed: it lies above 0 exactly when DM is
significantly positive.

Written here because no library in the environment provides it: statsmodels
(``cov_hac``) and ``arch`` (``arch.covariance.kernel.Bartlett``) are not
dependencies, and adding one for a dozen lines of arithmetic is not worth it;
:func:`newey_west_variance` is tested against a hand computation.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import scipy.stats

from framecast.quake.rates import RateForecast
from framecast.quake.scores.likelihood import MAX_MAGNITUDE, window_information_gain
from framecast.quake.scores.moving_blocks import check_differences, check_events
from framecast.quake.scores.observed import ObservedEvents


@dataclass(frozen=True)
class DieboldMarianoTest:
    """Diebold-Mariano test of forecast A against B on the window log-likelihood differences.

    Attributes
    ----------
    mean_difference : float
        ``d̄``, nats per window; > 0 favours A.
    long_run_variance : float
        ``σ̂²``, Newey-West (Bartlett) estimate at ``lag``, nats².
    statistic : float
        ``d̄ / sqrt(σ̂² / T)``; NaN when both are 0, ±inf when only σ̂² is.
    p_value : float
        Two-sided, from the standard normal.
    lag : int
        h, the last autocovariance used.
    num_windows : int
        T.
    n_events : int
    information_gain : float
        ``d̄ / n̄``, nats per earthquake (NaN without events).
    lower, upper : float
        ``(d̄ ± z_{1-α/2} sqrt(σ̂² / T)) / n̄`` (n̄ taken as fixed).
    alpha : float
    name_a, name_b : str
    """

    mean_difference: float
    long_run_variance: float
    statistic: float
    p_value: float
    lag: int
    num_windows: int
    n_events: int
    information_gain: float
    lower: float
    upper: float
    alpha: float = 0.05
    name_a: str = ""
    name_b: str = ""

    @property
    def significant(self) -> bool:
        """True when the p-value is below alpha (either direction)."""
        return bool(self.p_value < self.alpha)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_lag(num_windows: int) -> int:
    """``floor(4 (T / 100)^(2/9))``: Newey & West (1994)'s rule-of-thumb Bartlett lag.

    At most T - 1; 1 for 2 windows, 5 for a year of daily windows, 8 for ten years.
    """
    if num_windows < 2:
        raise ValueError(f"num_windows must be >= 2, got {num_windows!r}")
    return min(math.floor(4 * (num_windows / 100) ** (2 / 9)), num_windows - 1)


def newey_west_variance(series: np.ndarray, lag: int) -> float:
    """Newey-West long-run variance of ``series`` with Bartlett weights ``1 - k / (lag + 1)``.

    ``γ̂_0 + 2 Σ_{k=1}^{lag} (1 - k / (lag + 1)) γ̂_k`` with the autocovariances
    ``γ̂_k = (1/T) Σ_t (x_t - x̄)(x_{t-k} - x̄)`` (Newey & West 1987, eq. 2).

    Parameters
    ----------
    series : numpy.ndarray
        float ``[T]``, T >= 2, finite.
    lag : int
        h, 0 <= h < T; 0 gives the (1/T) sample variance.

    Returns
    -------
    float
        >= 0 (up to rounding).

    Raises
    ------
    ValueError
        Fewer than 2 values, non-finite values, or a lag outside ``0 .. T - 1``.
    """
    centred = check_differences(series, ndim=1)  # [T]
    centred = centred - centred.mean()  # [T]
    num = len(centred)
    if isinstance(lag, bool) or not isinstance(lag, int | np.integer) or not 0 <= lag < num:
        raise ValueError(f"lag must be an integer in 0 .. {num - 1} (T - 1), got {lag!r}")
    variance = float(centred @ centred) / num  # γ̂_0
    for k in range(1, int(lag) + 1):
        autocovariance = float(centred[k:] @ centred[:-k]) / num  # γ̂_k
        variance += 2 * (1 - k / (lag + 1)) * autocovariance
    return variance


def diebold_mariano_test(
    difference: np.ndarray,
    events: np.ndarray,
    *,
    lag: int | None = None,
    alpha: float = 0.05,
) -> DieboldMarianoTest:
    """Diebold & Mariano (1995) test on window log-likelihood differences, HAC variance.

    ``DM = d̄ / sqrt(σ̂² / T)`` with the Newey-West (Bartlett) long-run
    variance (:func:`newey_west_variance`), two-sided normal p-value (Diebold &
    Mariano 1995, eq. 8); see the module docstring.

    Parameters
    ----------
    difference : numpy.ndarray
        float ``[T]``: log-likelihood difference of A over B in each window, nats.
    events : numpy.ndarray
        ``[T]``: target events of each window (for the gain per earthquake).
    lag : int, optional
        Bartlett lag h in windows; default :func:`default_lag` of T.
    alpha : float
        Significance level, and 1 - confidence of the gain's interval.

    Returns
    -------
    DieboldMarianoTest

    Raises
    ------
    ValueError
        Fewer than 2 windows, lengths that differ, non-finite differences,
        negative counts, a lag outside ``0 .. T - 1``, alpha outside (0, 1).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    difference = check_differences(difference, ndim=1)  # [T]
    num_windows = len(difference)
    events = check_events(events, num_windows)  # [T]
    lag = default_lag(num_windows) if lag is None else lag
    variance = newey_west_variance(difference, lag)
    mean = float(difference.mean())
    standard_error = math.sqrt(max(variance, 0.0) / num_windows)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = float(np.divide(mean, standard_error))
    p_value = (
        float(2 * scipy.stats.norm.sf(abs(statistic))) if not math.isnan(statistic) else math.nan
    )
    mean_events = float(events.mean())
    nan = float("nan")
    half_width = float(scipy.stats.norm.ppf(1 - alpha / 2)) * standard_error
    return DieboldMarianoTest(
        mean_difference=mean,
        long_run_variance=variance,
        statistic=statistic,
        p_value=p_value,
        lag=int(lag),
        num_windows=num_windows,
        n_events=round(float(events.sum())),
        information_gain=mean / mean_events if mean_events > 0 else nan,
        lower=(mean - half_width) / mean_events if mean_events > 0 else nan,
        upper=(mean + half_width) / mean_events if mean_events > 0 else nan,
        alpha=alpha,
    )


def diebold_mariano_information_gain(
    forecast_a: RateForecast,
    forecast_b: RateForecast,
    observed: ObservedEvents,
    *,
    lag: int | None = None,
    alpha: float = 0.05,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> DieboldMarianoTest:
    """Diebold-Mariano test of ``forecast_a`` against ``forecast_b`` over their windows.

    :func:`diebold_mariano_test` of
    :func:`~framecast.quake.scores.likelihood.window_information_gain`; its
    ``information_gain`` equals the T-test's (Rhoades et al. 2011, eq. 17).

    Parameters
    ----------
    forecast_a, forecast_b : RateForecast
        Must share grid, windows and mc.
    observed : ObservedEvents
    lag : int, optional
        Bartlett lag in windows; default ``floor(4 (T / 100)^(2/9))``.
    alpha : float
    max_magnitude : float
        Left edge of the last magnitude bin.
    floor : float, optional
        Minimum cell rate of both forecasts.
    """
    difference, events = window_information_gain(
        forecast_a, forecast_b, observed, max_magnitude=max_magnitude, floor=floor
    )  # [W], [W]
    result = diebold_mariano_test(difference, events, lag=lag, alpha=alpha)
    return replace(result, name_a=forecast_a.name, name_b=forecast_b.name)
