"""Poisson log-likelihoods, information gain per earthquake, the paired T- and W-tests.

A :class:`RateForecast` is a set of independent Poisson bins, one per window
and cell (and, split by Gutenberg-Richter, per magnitude bin). Its joint
log-likelihood given the observed counts ``n`` is (Zechar et al. 2010,
"Likelihood-based tests for evaluating space-rate-magnitude earthquake
forecasts", BSSA 100(3), 1184-1195; pyCSEP's ``poisson_joint_log_likelihood_ndarray``)

    log L = sum_bins ( -lambda + n log(lambda) - log(n!) ).

Comparisons of two forecasts use the information gain per earthquake and
its paired T-test (Rhoades et al. 2011, "Efficient testing of earthquake
forecasting models", Acta Geophysica 59(4), 728-747, eq. 17-18), exactly as
pyCSEP's ``csep.core.poisson_evaluations.paired_t_test`` with ``scale=False``,
and the Wilcoxon signed-rank W-test of the same per-event differences
(Rhoades et al. 2011, section 3.2; pyCSEP's ``w_test``).

Both treat the target events as independent draws; for events clustered in
time see :mod:`framecast.quake.scores.bootstrap`,
:mod:`framecast.quake.scores.moving_blocks` and
:mod:`framecast.quake.scores.diebold_mariano`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.special
import scipy.stats

from framecast.quake.rates import RateForecast, gutenberg_richter_fractions, magnitude_edges
from framecast.quake.scores.observed import (
    ObservedEvents,
    check_compatible,
    check_observed,
    magnitude_bin_index,
)

MAX_MAGNITUDE = 8.0
"""Left edge of the last (open-ended) magnitude bin, as :meth:`RateForecast.by_magnitude`."""


def magnitude_split(
    forecast: RateForecast, max_magnitude: float = MAX_MAGNITUDE
) -> tuple[np.ndarray, np.ndarray]:
    """(bin left edges ``[M]``, Gutenberg-Richter fractions ``[M]``) of ``forecast.by_magnitude``.

    ``forecast.rates[..., None] * fractions`` is exactly ``forecast.by_magnitude()[0]``,
    without building the ``[W, H, X, M]`` array.
    """
    edges = magnitude_edges(forecast.mc, max_magnitude)  # [M]
    return edges, gutenberg_richter_fractions(edges, forecast.b_value)


def floored_rates(forecast: RateForecast, floor: float | None) -> np.ndarray:
    """float64 ``[W, H, X]``: the rates, raised to at least ``floor`` when one is given."""
    if floor is None:
        return forecast.rates
    if not floor > 0:
        raise ValueError(f"floor must be a positive rate, got {floor!r}")
    return np.maximum(forecast.rates, floor)


def target_event_rates(
    forecast: RateForecast,
    observed: ObservedEvents,
    *,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> np.ndarray:
    """float64 ``[N]``: the rate of the space-time-magnitude bin holding each observed event.

    ``rates[w, row, column] * fraction[m]`` with the Gutenberg-Richter fraction of
    the event's magnitude bin (width 0.1, last bin open-ended), as pyCSEP's
    ``GriddedForecast.target_event_rates``. ``floor`` applies to the cell rates
    (M >= mc) before the split.
    """
    check_observed(observed, forecast)
    edges, fractions = magnitude_split(forecast, max_magnitude)  # [M], [M]
    rates = floored_rates(forecast, floor).reshape(-1)  # [W*H*X]
    cell_rate = rates[observed.flat_index(forecast.rates.shape)]  # [N]
    return cell_rate * fractions[magnitude_bin_index(observed.magnitude, edges)]  # [N]


def log_likelihood(
    forecast: RateForecast,
    observed: ObservedEvents,
    *,
    magnitude_bins: bool = False,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> np.ndarray:
    """Poisson joint log-likelihood of each window, in nats.

    ``log L_w = sum_bins (-lambda + n log(lambda) - log(n!))`` over the cells of
    window ``w`` (the joint log-likelihood of Zechar et al. 2010), or over
    cells x magnitude bins when ``magnitude_bins`` (pyCSEP's L-test statistic
    for that window).

    Parameters
    ----------
    forecast : RateForecast
    observed : ObservedEvents
        Target events binned on the forecast's windows and cells.
    magnitude_bins : bool
        Also split each cell into magnitude bins (Gutenberg-Richter, width 0.1,
        last bin from ``max_magnitude`` open-ended).
    max_magnitude : float
        Left edge of the last magnitude bin.
    floor : float, optional
        Raise every cell rate to at least this before scoring. Without it a
        zero rate in a bin where an event occurred gives ``-inf`` (the forecast
        declared that event impossible). Forecasts written by framecast are
        positive everywhere, so the floor matters only for imported ones.

    Returns
    -------
    numpy.ndarray
        float64 ``[W]``.
    """
    check_observed(observed, forecast)
    shape = forecast.rates.shape  # (W, H, X)
    rates = floored_rates(forecast, floor)  # [W, H, X]
    expected = rates.sum(axis=(1, 2))  # [W]
    key = observed.flat_index(shape)  # [N] flat (window, cell)
    fractions = np.ones(1)
    if magnitude_bins:
        edges, fractions = magnitude_split(forecast, max_magnitude)  # [M]
        key = key * len(edges) + magnitude_bin_index(observed.magnitude, edges)  # [N]
        expected = expected * fractions.sum()
    bins, counts = np.unique(key, return_counts=True)  # [K] occupied bins
    cell, magnitude = np.divmod(bins, len(fractions))  # [K]
    bin_rate = rates.reshape(-1)[cell] * fractions[magnitude]  # [K]
    with np.errstate(divide="ignore"):
        terms = counts * np.log(bin_rate) - scipy.special.gammaln(counts + 1.0)  # [K]
    window = cell // (shape[1] * shape[2])  # [K]
    return np.bincount(window, weights=terms, minlength=shape[0]) - expected  # [W]


@dataclass(frozen=True)
class PairedTTest:
    """Information gain per earthquake of forecast A over B, with its T-test interval.

    Attributes
    ----------
    information_gain : float
        Nats per target earthquake; > 0 means A forecast the events better.
    lower, upper : float
        The ``1 - alpha`` confidence interval of the information gain; it lies
        above 0 when A is significantly better than B.
    t_statistic : float
        ``information_gain / (s / sqrt(N))``.
    n_events : int
        N, the target events over all windows.
    n_forecast_a, n_forecast_b : float
        Expected numbers of events over all windows.
    t_critical : float
        ``t_{N-1, 1 - alpha/2}``.
    alpha : float
    name_a, name_b : str
        The forecasts compared.
    """

    information_gain: float
    lower: float
    upper: float
    t_statistic: float
    n_events: int
    n_forecast_a: float
    n_forecast_b: float
    t_critical: float = float("nan")
    alpha: float = 0.05
    name_a: str = ""
    name_b: str = ""

    @property
    def significant(self) -> bool:
        """True when the interval excludes 0 (either direction)."""
        return bool(self.lower > 0 or self.upper < 0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def paired_t_test_from_rates(
    rates_a: np.ndarray,
    rates_b: np.ndarray,
    n_forecast_a: float,
    n_forecast_b: float,
    *,
    alpha: float = 0.05,
    name_a: str = "",
    name_b: str = "",
) -> PairedTTest:
    """Rhoades et al. (2011) T-test from the target events' bin rates under A and B.

    With ``I_i = ln rates_a[i] - ln rates_b[i]`` over the N target events,

    * information gain (eq. 17): ``IG = mean(I) - (N_A - N_B) / N``,
    * sample variance (eq. 18): ``s^2 = sum (I_i - mean I)^2 / (N - 1)``,
    * ``T = IG / (s / sqrt(N))`` and interval ``IG -+ t_{N-1, 1-alpha/2} s / sqrt(N)``,

    the same arithmetic as pyCSEP's ``_t_test_ndarray``. With no events every
    statistic is NaN; with one, the spread and so T and the interval are NaN;
    identical rates give ``s = 0``, a zero-width interval and T = NaN (0/0).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    rates_a = np.asarray(rates_a, np.float64)  # [N]
    rates_b = np.asarray(rates_b, np.float64)  # [N]
    n = len(rates_a)
    nan = float("nan")
    if n == 0:
        return PairedTTest(nan, nan, nan, nan, 0, n_forecast_a, n_forecast_b, nan, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.log(rates_a) - np.log(rates_b)  # [N]
        information_gain = float((gain.sum() - (n_forecast_a - n_forecast_b)) / n)
        spread = float(np.sqrt(max(np.var(gain, ddof=1), 0.0))) if n > 1 else nan
        half_width_unit = spread / np.sqrt(n)
        t_statistic = float(np.divide(information_gain, half_width_unit))
    t_critical = float(scipy.stats.t.ppf(1 - alpha / 2, n - 1)) if n > 1 else nan
    return PairedTTest(
        information_gain=information_gain,
        lower=float(information_gain - t_critical * half_width_unit),
        upper=float(information_gain + t_critical * half_width_unit),
        t_statistic=t_statistic,
        n_events=n,
        n_forecast_a=float(n_forecast_a),
        n_forecast_b=float(n_forecast_b),
        t_critical=t_critical,
        alpha=alpha,
        name_a=name_a,
        name_b=name_b,
    )


def information_gain(
    forecast_a: RateForecast,
    forecast_b: RateForecast,
    observed: ObservedEvents,
    *,
    alpha: float = 0.05,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> PairedTTest:
    """Information gain per earthquake of ``forecast_a`` over ``forecast_b`` and its T-test.

    Rhoades et al. (2011), "Efficient testing of earthquake forecasting models",
    Acta Geophys. 59(4), eq. 17-18, over all target events of all windows:
    ``I_i = ln lambda_A(bin of event i) - ln lambda_B(bin of event i)`` with the
    rate of the event's window x cell x magnitude bin (:func:`target_event_rates`),
    ``IG = mean(I_i) - (N_A - N_B) / N`` with N_A, N_B the total expected numbers
    over all windows and N the number of events, ``T = IG / (s / sqrt(N))`` and
    the interval ``IG -+ t_{N-1, 1-alpha/2} s / sqrt(N)``.

    For a single window this equals pyCSEP's ``paired_t_test(a, b, catalog,
    alpha, scale=False)`` (its ``scale=True`` divides the rates by the window
    length in days, which changes only the ``N_A - N_B`` term; Rhoades et al.
    use the expected numbers for the whole test period, as here).

    Parameters
    ----------
    forecast_a, forecast_b : RateForecast
        Must share grid, windows and mc.
    observed : ObservedEvents
    alpha : float
        1 - confidence level of the interval.
    max_magnitude : float
        Left edge of the last magnitude bin.
    floor : float, optional
        Minimum cell rate applied to both forecasts (see :func:`log_likelihood`);
        without it a zero rate at an event gives an infinite gain.

    Raises
    ------
    ValueError
        Incompatible forecasts or events outside their bins.
    """
    check_compatible([forecast_a, forecast_b])
    options: dict[str, Any] = {"max_magnitude": max_magnitude, "floor": floor}
    return paired_t_test_from_rates(
        target_event_rates(forecast_a, observed, **options),
        target_event_rates(forecast_b, observed, **options),
        float(floored_rates(forecast_a, floor).sum()),
        float(floored_rates(forecast_b, floor).sum()),
        alpha=alpha,
        name_a=forecast_a.name,
        name_b=forecast_b.name,
    )


def window_information_gain(
    forecast_a: RateForecast,
    forecast_b: RateForecast,
    observed: ObservedEvents,
    *,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood difference of A over B and number of target events in each window.

    ``D_w = log L_A,w - log L_B,w`` over window x cell x magnitude bins (the
    ``log n!`` terms cancel, leaving ``sum_i (ln lambda_A - ln lambda_B) - (N_A,w - N_B,w)``
    over the window's events), so ``sum_w D_w / sum_w n_w`` is the information
    gain per earthquake of Rhoades et al. (2011), eq. 17.

    Returns
    -------
    difference : numpy.ndarray
        float64 ``[W]``, nats.
    events : numpy.ndarray
        int64 ``[W]``.
    """
    check_compatible([forecast_a, forecast_b])
    options: dict[str, Any] = {"max_magnitude": max_magnitude, "floor": floor}
    num_windows = forecast_a.num_windows
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.log(target_event_rates(forecast_a, observed, **options)) - np.log(
            target_event_rates(forecast_b, observed, **options)
        )  # [N]
    gain_per_window = np.bincount(observed.window, weights=gain, minlength=num_windows)  # [W]
    expected_a = floored_rates(forecast_a, floor).sum(axis=(1, 2))  # [W]
    expected_b = floored_rates(forecast_b, floor).sum(axis=(1, 2))  # [W]
    events = np.bincount(observed.window, minlength=num_windows).astype(np.int64)  # [W]
    return gain_per_window - (expected_a - expected_b), events


def cumulative_information_gain(
    forecast_a: RateForecast,
    forecast_b: RateForecast,
    observed: ObservedEvents,
    *,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> np.ndarray:
    """Information gain per earthquake of A over B accumulated up to each window.

    ``G_w = sum_{v <= w} (log L_A,v - log L_B,v) / sum_{v <= w} N_v`` with the
    window log-likelihoods over window x cell x magnitude bins
    (:func:`window_information_gain`), so ``G_{W-1}`` equals
    :func:`information_gain`'s ``information_gain`` (Rhoades et al. 2011,
    eq. 17, read cumulatively). For plots of skill over the test period.

    Returns
    -------
    numpy.ndarray
        float64 ``[W]``, nats per earthquake; NaN until the first event.
    """
    difference, events = window_information_gain(
        forecast_a, forecast_b, observed, max_magnitude=max_magnitude, floor=floor
    )  # [W], [W]
    total_difference = np.cumsum(difference)  # [W]
    total_events = np.cumsum(events)  # [W]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            total_events > 0, total_difference / np.maximum(total_events, 1), np.nan
        )  # [W]


@dataclass(frozen=True)
class WilcoxonTest:
    """W-test of forecast A against B: Wilcoxon signed-rank test of the per-event gains.

    Attributes
    ----------
    z_statistic : float
        Normal approximation of the signed-rank statistic ``min(R+, R-)``
        (two-sided, so <= 0; pyCSEP's ``observed_statistic``).
    p_value : float
        Two-sided probability of a z at least as extreme if the per-event
        differences ``I_i`` are symmetric about ``(N_A - N_B) / N`` (pyCSEP's ``quantile``).
    median_gain : float
        ``median(I_i) - (N_A - N_B) / N``, nats; its sign says which forecast
        the events favour (> 0: A).
    n_events : int
    n_nonzero : int
        Events with a non-zero centred difference (the ranked sample).
    alpha : float
    name_a, name_b : str
    """

    z_statistic: float
    p_value: float
    median_gain: float
    n_events: int
    n_nonzero: int
    alpha: float = 0.05
    name_a: str = ""
    name_b: str = ""

    @property
    def significant(self) -> bool:
        """True when the p-value is below alpha (either direction)."""
        return bool(self.p_value < self.alpha)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def w_test_from_rates(
    rates_a: np.ndarray,
    rates_b: np.ndarray,
    n_forecast_a: float,
    n_forecast_b: float,
    *,
    alpha: float = 0.05,
    name_a: str = "",
    name_b: str = "",
) -> WilcoxonTest:
    """Rhoades et al. (2011) W-test from the target events' bin rates under A and B.

    The one-sample Wilcoxon signed-rank test of ``d_i = I_i - (N_A - N_B) / N``
    with ``I_i = ln rates_a[i] - ln rates_b[i]`` (Rhoades et al. 2011, "Efficient
    testing of earthquake forecasting models", Acta Geophys. 59(4), section
    3.2): zeros dropped, ranks of ``|d_i|`` with ties averaged,
    ``T = min(R+, R-)``, ``z = (T - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24 - tie term)``
    without continuity correction, ``p = 2 (1 - Phi(|z|))``. That is
    ``scipy.stats.wilcoxon(d, zero_method="wilcox", correction=False,
    method="approx")``, which computes exactly pyCSEP's ``_w_test_ndarray(I,
    (N_A - N_B) / N)``. The normal approximation is poor below about 10 events.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    rates_a = np.asarray(rates_a, np.float64)  # [N]
    rates_b = np.asarray(rates_b, np.float64)  # [N]
    n = len(rates_a)
    nan = float("nan")
    if n == 0:
        return WilcoxonTest(nan, nan, nan, 0, 0, alpha, name_a, name_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = np.log(rates_a) - np.log(rates_b) - (n_forecast_a - n_forecast_b) / n  # [N]
    nonzero = centred[centred != 0]  # [n'], scipy's "wilcox" zero_method drops these too
    median = float(np.median(centred))
    if len(nonzero) == 0 or not np.isfinite(nonzero).all():
        return WilcoxonTest(nan, nan, median, n, len(nonzero), alpha, name_a, name_b)
    result = scipy.stats.wilcoxon(nonzero, zero_method="wilcox", correction=False, method="approx")
    return WilcoxonTest(
        z_statistic=float(result.zstatistic),
        p_value=float(result.pvalue),
        median_gain=median,
        n_events=n,
        n_nonzero=len(nonzero),
        alpha=alpha,
        name_a=name_a,
        name_b=name_b,
    )


def w_test(
    forecast_a: RateForecast,
    forecast_b: RateForecast,
    observed: ObservedEvents,
    *,
    alpha: float = 0.05,
    max_magnitude: float = MAX_MAGNITUDE,
    floor: float | None = None,
) -> WilcoxonTest:
    """W-test of ``forecast_a`` against ``forecast_b`` over all target events of all windows.

    :func:`w_test_from_rates` of the events' window x cell x magnitude bin rates
    (:func:`target_event_rates`) with N_A, N_B the expected numbers over all
    windows; for a single window equal to pyCSEP's ``w_test(a, b, catalog,
    scale=False)``. Like the T-test it assumes independent events.
    """
    check_compatible([forecast_a, forecast_b])
    options: dict[str, Any] = {"max_magnitude": max_magnitude, "floor": floor}
    return w_test_from_rates(
        target_event_rates(forecast_a, observed, **options),
        target_event_rates(forecast_b, observed, **options),
        float(floored_rates(forecast_a, floor).sum()),
        float(floored_rates(forecast_b, floor).sum()),
        alpha=alpha,
        name_a=forecast_a.name,
        name_b=forecast_b.name,
    )
