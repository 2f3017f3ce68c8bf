"""CSEP consistency tests (N, M, S, L and a space-time S-test) of a rate forecast.

A :class:`RateForecast` of W windows is a forecast of W x cells x magnitude
bins of independent Poisson counts. What each test compares over such a
multi-window test period (Zechar et al. 2010, "Likelihood-based tests for
evaluating space-rate-magnitude earthquake forecasts", BSSA 100(3);
Schorlemmer et al. 2007, SRL 78(1)):

* N-test: ``delta1 = P(X >= n_obs)``, ``delta2 = P(X <= n_obs)`` with
  ``X ~ Poisson(N_forecast)``, N_forecast the sum over all windows, computed
  by pyCSEP's ``_number_test_ndarray``; two-sided, passed when both are
  >= alpha / 2. The same as pyCSEP's ``number_test`` on the period-summed
  forecast. :func:`n_test_per_window` tests every window as its own period.
* S-test (zeta): pyCSEP's ``spatial_test`` of the *period-summed* forecast:
  the rates summed over windows and magnitudes, per cell, normalised to the
  observed number of events, against the observed counts per cell summed
  over windows. It tests only where the events fell.
* ST-test (:func:`space_time_test`, zeta_st): the same statistic over
  window x cell bins, i.e. pyCSEP's ``spatial_test`` applied to the stacked
  windows as if they were cells: it tests where *and when*. Not a CSEP
  test; a forecast with the right map but a constant rate in time fails it
  when events cluster in time.
* M-test (kappa): pyCSEP's ``magnitude_test`` of the period-summed forecast
  (magnitude-bin totals over all windows and cells, normalised to the
  observed number). Every window and cell has the same Gutenberg-Richter
  split, so summing first changes nothing: this is the CSEP M-test as is.
* L-test (gamma): the joint log-likelihood over every window x cell x
  magnitude bin with Poisson-distributed catalog sizes: pyCSEP's
  ``likelihood_test`` of the stacked windows as one forecast. Its statistic
  is the sum of the windows' log-likelihoods (the CSEP L-test of a sequence
  of independent forecast periods), not the L-test of the period-summed
  forecast, which would ignore when the events occur.

One-sided simulation tests are passed when the quantile is >= alpha.

The simulations are a re-implementation of pyCSEP 0.8's
``csep.core.poisson_evaluations._poisson_likelihood_test``: with the same seed
they draw the same uniform numbers (``numpy.random.RandomState(seed)`` is the
stream ``numpy.random.seed(seed)`` gives pyCSEP), place them by the same
cumulative rates and score them with pyCSEP's own
``poisson_joint_log_likelihood_ndarray``, so results equal pyCSEP's
``likelihood_test``, ``spatial_test`` and ``magnitude_test`` on the equivalent
single pyCSEP forecast (tested; the only difference is that exact ties count
as ties, see :data:`TIE_TOLERANCE`). pyCSEP's function itself is unusable at
this scale: each of its simulations clears and scans the whole bin array
(about 14 s per test for 730 windows x 2,500 cells, magnitudes summed), and
with 56 magnitude bins it would need several GB and minutes. Here a
simulation touches only the bins its events fall in, and the magnitude split
is sampled in two stages (cell, then magnitude bin within the cell), the same
distribution because every cell has the same Gutenberg-Richter fractions. It
also leaves numpy's global random state alone, which pyCSEP reseeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framecast.quake.defaults import NUM_SIMULATIONS
from framecast.quake.rates import RateForecast
from framecast.quake.scores.likelihood import MAX_MAGNITUDE, magnitude_split
from framecast.quake.scores.observed import ObservedEvents, check_observed, magnitude_bin_index

TIE_TOLERANCE = 1e-9
"""Simulated log-likelihoods within this (relative) of the observed one count as equal.

Different catalogs often have exactly the same log-likelihood: with
Gutenberg-Richter magnitudes ``log f_m`` is linear in the bin index, and a
uniform forecast has one rate everywhere. Rounding then puts such ties on
either side of the observed value at random; counting them as ``<=``, as
mathematically they are, makes the quantile independent of summation order.
"""


def _pycsep() -> Any:
    """pyCSEP's Poisson evaluation and statistics modules, or a clear ImportError."""
    try:
        from csep.core import poisson_evaluations
        from csep.utils import stats
    except ImportError as error:
        raise ImportError(
            "the CSEP consistency tests use pyCSEP; install it with "
            "`pip install 'framecast[quake]'` (package pycsep)"
        ) from error
    return poisson_evaluations, stats


@dataclass(frozen=True)
class ConsistencyTest:
    """Result of one CSEP consistency test.

    Attributes
    ----------
    name : str
        "N-test", "M-test", "S-test", "ST-test" or "L-test".
    quantile : tuple of float
        (delta1, delta2) for the N-test; (quantile score,) otherwise: gamma (L),
        zeta (S, ST), kappa (M).
    observed_statistic : float
        The observed number of events (N) or the observed joint log-likelihood
        in nats (L; S, ST and M normalised to the observed number of events).
    passed : bool
        The forecast is consistent with the observations at ``alpha``.
    alpha : float
    rule : str
        The pass rule used.
    expected : float
        Expected number of events of the forecast over the test period.
    n_observed : int
    bins : str
        The Poisson bins the test treats as independent.
    num_simulations : int
        0 for the analytic N-test.
    simulated : numpy.ndarray, optional
        float64 ``[num_simulations]``: the simulated log-likelihoods (for histograms).
    """

    name: str
    quantile: tuple[float, ...]
    observed_statistic: float
    passed: bool
    alpha: float
    rule: str
    expected: float
    n_observed: int
    bins: str
    num_simulations: int = 0
    simulated: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The result without the simulated statistics, as plain Python values."""
        return {
            "name": self.name,
            "quantile": [float(q) for q in self.quantile],
            "observed_statistic": float(self.observed_statistic),
            "passed": bool(self.passed),
            "alpha": float(self.alpha),
            "rule": self.rule,
            "expected": float(self.expected),
            "n_observed": int(self.n_observed),
            "bins": self.bins,
            "num_simulations": int(self.num_simulations),
        }


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")


def _describe_bins(forecast: RateForecast, magnitude_bins: int | None) -> str:
    windows, rows, columns = forecast.rates.shape
    text = f"{windows} windows x {rows * columns} cells"
    return text if magnitude_bins is None else f"{text} x {magnitude_bins} magnitude bins"


# ------------------------------------------------------------------ simulation engine
class _Locator:
    """``searchsorted(cumulative, u, side="right")`` for many ``u``, in two stages.

    A plain binary search over millions of bins misses the cache at every
    step; searching the last value of each block of 32 bins first and then
    counting inside the block gives the same indices (``cumulative`` is
    non-decreasing) in about half the time.
    """

    BLOCK = 32

    def __init__(self, cumulative: np.ndarray) -> None:
        size = len(cumulative)
        num_blocks = size // self.BLOCK + 1  # always one +inf pad: no block index overflows
        padded = np.full(num_blocks * self.BLOCK, np.inf)
        padded[:size] = cumulative
        self.size = size
        self.values = padded  # [B * 32]
        self.blocks = padded.reshape(num_blocks, self.BLOCK)  # [B, 32]
        self.block_last = np.ascontiguousarray(self.blocks[:, -1])  # [B]

    def __call__(self, uniform: np.ndarray) -> np.ndarray:
        """int64 ``[n]``: number of cumulative values <= each u, clipped to the last bin."""
        block = np.searchsorted(self.block_last, uniform, side="right")  # [n]
        inside = (self.blocks[block] <= uniform[:, None]).sum(axis=1)  # [n]
        return np.minimum(block * self.BLOCK + inside, self.size - 1)  # u above a rounded total


def _sample_bins(
    uniform: np.ndarray, cells: _Locator, magnitude_cumulative: np.ndarray
) -> np.ndarray:
    """int64 ``[n]``, sorted: flat bin ``cell * M + m`` holding each uniform number.

    Equivalent to pyCSEP's ``searchsorted(cumsum(rates.ravel()) / sum, u, side="right")``
    on the ``[cells, M]`` rates ``cell_rate * fraction``: first the cell, then
    the position inside the cell's share picks the magnitude bin. The numbers
    are sorted first (only the counts per bin matter), so the bins come out sorted.
    """
    uniform = np.sort(uniform)  # [n]
    cell = cells(uniform)  # [n], non-decreasing
    num_magnitudes = len(magnitude_cumulative)
    if num_magnitudes == 1:
        return cell.astype(np.int64)
    low = np.where(cell > 0, cells.values[cell - 1], 0.0)  # [n]
    width = cells.values[cell] - low  # [n], > 0 for every drawn cell
    within = np.divide(uniform - low, width, out=np.zeros_like(low), where=width > 0)  # [n]
    magnitude = np.searchsorted(magnitude_cumulative, within, side="right")  # [n]
    np.minimum(magnitude, num_magnitudes - 1, out=magnitude)
    return (cell * num_magnitudes + magnitude).astype(np.int64)  # sorted: m rises with u


def _run_lengths(sorted_bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct bins ``[K]``, float64 counts ``[K]``) of a sorted bin array."""
    if len(sorted_bins) == 0:
        return sorted_bins, np.zeros(0)
    starts = np.flatnonzero(np.diff(sorted_bins)) + 1  # [K - 1]
    edges = np.concatenate(([0], starts, [len(sorted_bins)]))  # [K + 1]
    return sorted_bins[edges[:-1]], np.diff(edges).astype(np.float64)


def likelihood_quantile(
    cell_rates: np.ndarray,
    fractions: np.ndarray,
    observed_bins: np.ndarray,
    *,
    num_simulations: int = NUM_SIMULATIONS,
    seed: int = 0,
    use_observed_counts: bool = True,
    normalize_likelihood: bool = False,
) -> tuple[float, float, np.ndarray]:
    """Simulation-based likelihood test of pyCSEP on bins ``cell_rates[:, None] * fractions``.

    The same computation as pyCSEP 0.8's ``_poisson_likelihood_test(forecast_data,
    observed_data, num_simulations, seed=seed, use_observed_counts,
    normalize_likelihood)`` with ``forecast_data = cell_rates[:, None] * fractions``
    (``[cells, M]``) and ``observed_data`` the counts of ``observed_bins``, but
    without building either array: simulated catalogs are sparse. The one
    deliberate difference is :data:`TIE_TOLERANCE`.

    Parameters
    ----------
    cell_rates : numpy.ndarray
        float64 ``[C]`` expected counts per cell (any flattened set of bins).
    fractions : numpy.ndarray
        float64 ``[M]`` split of every cell into magnitude bins; ``[1.0]`` for none.
    observed_bins : numpy.ndarray
        int64 ``[N]``: flat bin ``cell * M + m`` of each observed event.
    num_simulations : int
    seed : int
        Seeds ``numpy.random.RandomState``, the stream pyCSEP gets from ``numpy.random.seed``.
    use_observed_counts : bool
        Simulate catalogs of the observed size (S, M, CL tests) instead of
        Poisson-distributed sizes (L-test).
    normalize_likelihood : bool
        With ``use_observed_counts``: scale the rates to the observed number of
        events (S- and M-tests).

    Returns
    -------
    quantile : float
        Fraction of simulated log-likelihoods <= the observed one, ties within
        :data:`TIE_TOLERANCE` included (pyCSEP leaves those to rounding).
    observed : float
        Observed joint log-likelihood, nats.
    simulated : numpy.ndarray
        float64 ``[num_simulations]``.
    """
    _, stats = _pycsep()
    cell_rates = np.asarray(cell_rates, np.float64)  # [C]
    fractions = np.asarray(fractions, np.float64)  # [M]
    observed_bins = np.asarray(observed_bins, np.int64)  # [N]
    if num_simulations < 1:
        raise ValueError(f"num_simulations must be >= 1, got {num_simulations!r}")
    total = float(np.sum(cell_rates))
    if not total > 0:
        raise ValueError("the forecast expects no events at all; it cannot be simulated")
    num_magnitudes = len(fractions)
    num_bins = len(cell_rates) * num_magnitudes
    if len(observed_bins) and not 0 <= observed_bins.min() <= observed_bins.max() < num_bins:
        raise ValueError(
            f"observed bins must lie in [0, {num_bins}) ({len(cell_rates)} cells x "
            f"{num_magnitudes} magnitude bins), got {observed_bins.min()} to {observed_bins.max()}"
        )
    n_observed = len(observed_bins)
    n_forecast = total * float(np.sum(fractions))
    expected, scale = n_forecast, None
    if use_observed_counts and normalize_likelihood:
        expected, scale = int(n_observed), n_observed / n_forecast

    def log_rate(bins: np.ndarray) -> np.ndarray:  # [K] -> [K]
        cell, magnitude = np.divmod(bins, num_magnitudes)
        rate = cell_rates[cell] * fractions[magnitude]
        with np.errstate(divide="ignore"):
            return np.log(rate if scale is None else rate * scale)

    def joint_log_likelihood(sorted_bins: np.ndarray) -> float:
        occupied, counts = _run_lengths(sorted_bins)  # [K], ascending as pyCSEP's nonzero()
        target = log_rate(occupied) * counts  # [K]
        return float(stats.poisson_joint_log_likelihood_ndarray(target, counts, expected))

    cells = _Locator(np.cumsum(cell_rates) / total)  # pyCSEP's sampling weights, [C]
    magnitude_cumulative = np.cumsum(fractions) / np.sum(fractions)  # [M]
    random = np.random.RandomState(seed)
    simulated = np.empty(num_simulations)  # [S]
    for index in range(num_simulations):
        size = n_observed if use_observed_counts else int(random.poisson(expected))
        sample = _sample_bins(random.rand(size), cells, magnitude_cumulative)  # [size]
        simulated[index] = joint_log_likelihood(sample)
    observed = joint_log_likelihood(np.sort(observed_bins))
    tied = TIE_TOLERANCE * max(1.0, abs(observed)) if np.isfinite(observed) else 0.0
    quantile = float(np.sum(simulated <= observed + tied) / num_simulations)
    return quantile, observed, simulated


# ------------------------------------------------------------------------------ tests
def n_test(
    forecast: RateForecast, observed: ObservedEvents, *, alpha: float = 0.05
) -> ConsistencyTest:
    """Poisson N-test over the whole test period (Zechar et al. 2010, section "N-test").

    ``delta1 = P(X >= n_obs)`` and ``delta2 = P(X <= n_obs)`` for
    ``X ~ Poisson(N_forecast)``, ``N_forecast`` the sum of all windows' rates,
    from pyCSEP's ``_number_test_ndarray``. Two-sided: passed when both are
    >= ``alpha / 2`` (too few events fail on delta2, too many on delta1).
    """
    _check_alpha(alpha)
    check_observed(observed, forecast)
    poisson_evaluations, _ = _pycsep()
    expected = float(forecast.rates.sum())
    delta1, delta2 = poisson_evaluations._number_test_ndarray(expected, len(observed))
    return ConsistencyTest(
        name="N-test",
        quantile=(float(delta1), float(delta2)),
        observed_statistic=float(len(observed)),
        passed=bool(delta1 >= alpha / 2 and delta2 >= alpha / 2),
        alpha=alpha,
        rule="two-sided: delta1 >= alpha/2 and delta2 >= alpha/2",
        expected=expected,
        n_observed=len(observed),
        bins=_describe_bins(forecast, None),
    )


def _simulation_test(
    name: str,
    forecast: RateForecast,
    observed: ObservedEvents,
    cell_rates: np.ndarray,
    fractions: np.ndarray,
    observed_bins: np.ndarray,
    bins: str,
    *,
    alpha: float,
    num_simulations: int,
    seed: int,
    use_observed_counts: bool,
    normalize_likelihood: bool,
) -> ConsistencyTest:
    _check_alpha(alpha)
    quantile, statistic, simulated = likelihood_quantile(
        cell_rates,
        fractions,
        observed_bins,
        num_simulations=num_simulations,
        seed=seed,
        use_observed_counts=use_observed_counts,
        normalize_likelihood=normalize_likelihood,
    )
    return ConsistencyTest(
        name=name,
        quantile=(quantile,),
        observed_statistic=statistic,
        passed=bool(quantile >= alpha),
        alpha=alpha,
        rule="one-sided: quantile >= alpha",
        expected=float(forecast.rates.sum()),
        n_observed=len(observed),
        bins=bins,
        num_simulations=num_simulations,
        simulated=simulated,
    )


def l_test(
    forecast: RateForecast,
    observed: ObservedEvents,
    *,
    alpha: float = 0.05,
    num_simulations: int = NUM_SIMULATIONS,
    seed: int = 0,
    magnitude_bins: bool = True,
    max_magnitude: float = MAX_MAGNITUDE,
) -> ConsistencyTest:
    """Poisson L-test (Zechar et al. 2010, "L-test"; pyCSEP ``likelihood_test``).

    gamma = fraction of catalogs simulated from the forecast (Poisson total
    number, events placed by rate) whose joint log-likelihood is <= the
    observed one. One-sided: passed when gamma >= ``alpha``.

    Parameters
    ----------
    magnitude_bins : bool
        Bins are window x cell x magnitude bin (Gutenberg-Richter split, width
        0.1, last from ``max_magnitude`` open-ended) as in pyCSEP; False scores
        window x cell bins (M >= mc) only.
    """
    check_observed(observed, forecast)
    flat = observed.flat_index(forecast.rates.shape)  # [N]
    fractions = np.ones(1)
    if magnitude_bins:
        edges, fractions = magnitude_split(forecast, max_magnitude)  # [M]
        flat = flat * len(edges) + magnitude_bin_index(observed.magnitude, edges)  # [N]
    return _simulation_test(
        "L-test",
        forecast,
        observed,
        forecast.rates.reshape(-1),
        fractions,
        flat,
        _describe_bins(forecast, len(fractions) if magnitude_bins else None),
        alpha=alpha,
        num_simulations=num_simulations,
        seed=seed,
        use_observed_counts=False,
        normalize_likelihood=False,
    )


def s_test(
    forecast: RateForecast,
    observed: ObservedEvents,
    *,
    alpha: float = 0.05,
    num_simulations: int = NUM_SIMULATIONS,
    seed: int = 0,
) -> ConsistencyTest:
    """Poisson S-test of the period-summed forecast (Zechar et al. 2010, "S-test").

    pyCSEP's ``spatial_test`` on one forecast of the whole test period: the
    rates summed over windows (and magnitudes) per cell, ``[H * X]``, against
    the observed counts per cell summed over windows. zeta = fraction of
    catalogs of the observed size simulated from those rates, normalised to the
    observed number of events, whose joint log-likelihood is <= the observed
    one. Only where the events fell matters, not when (see
    :func:`space_time_test`). One-sided: passed when zeta >= ``alpha``.
    """
    check_observed(observed, forecast)
    windows, rows, columns = forecast.rates.shape
    cell_rates = forecast.rates.sum(axis=0).reshape(-1)  # [H*X], summed over windows
    return _simulation_test(
        "S-test",
        forecast,
        observed,
        cell_rates,
        np.ones(1),
        observed.row * columns + observed.column,  # [N] cell of each event, any window
        f"{rows * columns} cells (summed over {windows} windows)",
        alpha=alpha,
        num_simulations=num_simulations,
        seed=seed,
        use_observed_counts=True,
        normalize_likelihood=True,
    )


def space_time_test(
    forecast: RateForecast,
    observed: ObservedEvents,
    *,
    alpha: float = 0.05,
    num_simulations: int = NUM_SIMULATIONS,
    seed: int = 0,
) -> ConsistencyTest:
    """Space-time S-test ("ST-test"): the S-test statistic over window x cell bins.

    pyCSEP's ``spatial_test`` with the stacked windows' cells as its cells:
    zeta_st = quantile of the observed log-likelihood of the (window, cell)
    rates summed over magnitudes and scaled to the observed number of events,
    among catalogs of the observed size simulated from the forecast. It tests
    where *and when* the forecast puts its events, so a forecast with the right
    map but a constant rate fails it when events cluster in time. Not one of
    the CSEP tests of Zechar et al. (2010); one-sided: passed when zeta_st >= ``alpha``.
    """
    check_observed(observed, forecast)
    return _simulation_test(
        "ST-test",
        forecast,
        observed,
        forecast.rates.reshape(-1),
        np.ones(1),
        observed.flat_index(forecast.rates.shape),
        _describe_bins(forecast, None),
        alpha=alpha,
        num_simulations=num_simulations,
        seed=seed,
        use_observed_counts=True,
        normalize_likelihood=True,
    )


def m_test(
    forecast: RateForecast,
    observed: ObservedEvents,
    *,
    alpha: float = 0.05,
    num_simulations: int = NUM_SIMULATIONS,
    seed: int = 0,
    max_magnitude: float = MAX_MAGNITUDE,
) -> ConsistencyTest:
    """Poisson M-test (Zechar et al. 2010, "M-test"; pyCSEP ``magnitude_test``).

    kappa = quantile of the observed log-likelihood of the magnitude-bin totals
    (all windows and cells, Gutenberg-Richter split, width 0.1, last bin from
    ``max_magnitude`` open-ended) scaled to the observed number of events, among
    catalogs of the observed size simulated from the forecast. One-sided:
    passed when kappa >= ``alpha``.
    """
    check_observed(observed, forecast)
    edges, fractions = magnitude_split(forecast, max_magnitude)  # [M]
    return _simulation_test(
        "M-test",
        forecast,
        observed,
        fractions * forecast.rates.sum(),  # [M] totals per magnitude bin
        np.ones(1),
        magnitude_bin_index(observed.magnitude, edges),
        f"{len(edges)} magnitude bins (all windows and cells)",
        alpha=alpha,
        num_simulations=num_simulations,
        seed=seed,
        use_observed_counts=True,
        normalize_likelihood=True,
    )


@dataclass(frozen=True)
class WindowTests:
    """A consistency test applied to every window as its own forecast period.

    Attributes
    ----------
    name : str
        "N-test per window".
    quantile : numpy.ndarray
        float64 ``[W, 2]``: (delta1, delta2) of each window.
    passed : numpy.ndarray
        bool ``[W]``.
    expected : numpy.ndarray
        float64 ``[W]``: expected number of events of each window.
    observed : numpy.ndarray
        int64 ``[W]``: observed number of events of each window.
    alpha : float
    """

    name: str
    quantile: np.ndarray = field(repr=False)
    passed: np.ndarray = field(repr=False)
    expected: np.ndarray = field(repr=False)
    observed: np.ndarray = field(repr=False)
    alpha: float = 0.05

    @property
    def num_windows(self) -> int:
        return len(self.passed)

    @property
    def share_passed(self) -> float:
        """Fraction of all windows that pass."""
        return float(np.mean(self.passed)) if len(self.passed) else float("nan")

    @property
    def windows_with_events(self) -> int:
        """Number of windows with at least one observed event."""
        return int(np.count_nonzero(self.observed))

    @property
    def share_passed_with_events(self) -> float:
        """Fraction of the windows with at least one event that pass."""
        busy = self.observed > 0  # [W]
        return float(np.mean(self.passed[busy])) if busy.any() else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Summary counts only (the per-window arrays stay out of JSON)."""
        return {
            "name": self.name,
            "alpha": float(self.alpha),
            "num_windows": self.num_windows,
            "num_passed": int(np.count_nonzero(self.passed)),
            "share_passed": self.share_passed,
            "windows_with_events": self.windows_with_events,
            "share_passed_with_events": self.share_passed_with_events,
            "failed_too_many": int(np.count_nonzero(self.quantile[:, 0] < self.alpha / 2)),
            "failed_too_few": int(np.count_nonzero(self.quantile[:, 1] < self.alpha / 2)),
        }


def n_test_per_window(
    forecast: RateForecast, observed: ObservedEvents, *, alpha: float = 0.05
) -> WindowTests:
    """The Poisson N-test of every window as its own forecast period.

    For window w, ``delta1_w = P(X_w >= n_w)`` and ``delta2_w = P(X_w <= n_w)``
    with ``X_w ~ Poisson(N_w)``, N_w the window's expected number: pyCSEP's
    ``_number_test_ndarray`` (Zechar et al. 2010, "N-test"), vectorised over the
    windows. Passed when both are >= ``alpha / 2``. With small rates a window
    without events nearly always passes, so also read
    :attr:`WindowTests.share_passed_with_events`.
    """
    _check_alpha(alpha)
    check_observed(observed, forecast)
    poisson_evaluations, _ = _pycsep()
    expected = forecast.rates.sum(axis=(1, 2))  # [W]
    counts = np.bincount(observed.window, minlength=forecast.num_windows)  # [W]
    delta1, delta2 = poisson_evaluations._number_test_ndarray(expected, counts)  # [W], [W]
    quantile = np.stack([delta1, delta2], axis=1).astype(np.float64)  # [W, 2]
    return WindowTests(
        name="N-test per window",
        quantile=quantile,
        passed=np.all(quantile >= alpha / 2, axis=1),
        expected=expected,
        observed=counts.astype(np.int64),
        alpha=alpha,
    )
