"""Catalog-based CSEP tests (N, S, M, pseudo-likelihood) of simulation forecasts.

A :class:`~framecast.quake.catalog_forecast.CatalogForecast` describes a window
by S simulated catalogs instead of Poisson rates. The four tests are pyCSEP's
``csep.core.catalog_evaluations`` (Savran et al. 2020, "Pseudoprospective
evaluation of UCERF3-ETAS forecasts during the 2019 Ridgecrest sequence",
BSSA 110(4), section "Evaluation metrics"; Savran et al. 2022, pyCSEP, SRL 93(5)):

* N-test: the observed count among the simulated counts. ``delta1 = P(N_s >= n_obs)``,
  ``delta2 = P(N_s <= n_obs)`` over the empirical distribution of the S catalogs;
  two-sided, passed when both are >= alpha / 2.
* S-test: with the mean spatial rate density ``lambda_c = (1/S) sum_s n_sc`` of all
  simulations, normalised to ``p_c = lambda_c / sum(lambda)``, each catalog's
  statistic is ``sum_c n_c log(p_c) / n`` (the mean log spatial probability of its
  events). ``delta2 = P(S_s <= S_obs)``; one-sided, passed when >= alpha.
* M-test: magnitude histograms (bins of 0.1 from mc, the last open-ended, as
  :func:`~framecast.quake.rates.magnitude_edges`) of each catalog and of the union
  of all catalogs, both scaled to the observed count; the d-statistic is
  ``sum_m (log10(union_m + 1) - log10(catalog_m + 1))^2``.
  ``delta1 = P(D_s >= D_obs)``; one-sided, passed when >= alpha.
* Pseudo-likelihood (PL) test: ``sum_c n_c log(lambda_c) - sum_c lambda_c``
  (Savran et al. 2020, eq. 8, with the unnormalised mean rates).
  ``delta2 = P(PL_s <= PL_obs)``; one-sided, passed when >= alpha.

pyCSEP's special cases are kept: catalogs without events drop out of the S- and
M-test distributions (their statistic is undefined) and score ``-sum(lambda)``
in the PL test; with no observed events the S-, M- and PL-tests are "not-valid";
observed events in cells where no simulation put an event (log 0) are left out
of the observed S and PL statistics, status "undersampled" (the S statistic then
averages over the remaining events, the PL statistic keeps the full expected count).

Quantiles are pyCSEP's ``get_quantiles`` with one deliberate difference: values
within :data:`~framecast.quake.scores.consistency.TIE_TOLERANCE` of the observed
statistic count as ties on both sides (two catalogs with the same cell or
magnitude counts give mathematically equal statistics that rounding can put on
either side). They are computed with numpy rather than pyCSEP's ``get_quantiles``
so that one call scores every window without pyCSEP's per-catalog Python loop.

Multi-window test periods are scored (a) per window, each window one CSEP forecast
period; (b) as a summary of those, the share of windows each test passes; and
(c) over the whole period, where the s-th period catalog is the union of
simulation s of every window (see :func:`catalog_tests`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse

from framecast.quake.catalog.events import days_to_timedelta
from framecast.quake.catalog_forecast import CatalogForecast
from framecast.quake.rates import magnitude_edges
from framecast.quake.scores.consistency import TIE_TOLERANCE, ConsistencyTest
from framecast.quake.scores.likelihood import MAX_MAGNITUDE
from framecast.quake.scores.observed import (
    MAGNITUDE_TOLERANCE,
    ObservedEvents,
    magnitude_bin_index,
)

TEST_NAMES = ("N-test", "S-test", "M-test", "PL-test")
"""The catalog-based tests, in the order results are reported."""

NORMAL, UNDERSAMPLED, NOT_VALID = "normal", "undersampled", "not-valid"
"""pyCSEP's result statuses."""


# ------------------------------------------------------------------ array-level tests
class CatalogStatistic(NamedTuple):
    """Outcome of one catalog-based test on arrays, as pyCSEP's ``Catalog*TestResult``.

    Attributes
    ----------
    delta1 : float
        ``P(X >= observed)`` over ``test_distribution``; NaN when not valid.
    delta2 : float
        ``P(X <= observed)``; NaN when not valid.
    observed_statistic : float
        NaN when not valid.
    test_distribution : numpy.ndarray
        float64 ``[K]``, the statistic of each simulated catalog that has one (``K <= S``).
    status : str
        "normal", "undersampled" or "not-valid".
    """

    delta1: float
    delta2: float
    observed_statistic: float
    test_distribution: np.ndarray
    status: str


CellCounts = np.ndarray | scipy.sparse.sparray | scipy.sparse.spmatrix
"""``[S, C]`` counts per simulated catalog and cell: dense, or any scipy.sparse matrix."""


def _quantiles(distribution: np.ndarray, observed: float) -> tuple[float, float]:
    """(``P(X >= observed)``, ``P(X <= observed)``): pyCSEP's ``get_quantiles``, ties tolerant."""
    if len(distribution) == 0 or not np.isfinite(observed):
        return math.nan, math.nan
    tied = TIE_TOLERANCE * max(1.0, abs(observed))
    delta1 = float(np.mean(distribution >= observed - tied))
    delta2 = float(np.mean(distribution <= observed + tied))
    return delta1, delta2


def _not_valid(distribution: np.ndarray) -> CatalogStatistic:
    return CatalogStatistic(math.nan, math.nan, math.nan, distribution, NOT_VALID)


def _check_counts(
    simulated: CellCounts, observed: np.ndarray, what: str
) -> tuple[CellCounts, np.ndarray]:
    """Validate ``[S, K]`` simulated and ``[K]`` observed counts; dense input becomes float64."""
    if not scipy.sparse.issparse(simulated):
        simulated = np.asarray(simulated, np.float64)
    observed = np.asarray(observed, np.float64)
    if simulated.ndim != 2 or simulated.shape[0] < 1:
        raise ValueError(
            f"simulated {what} counts must be [simulations, {what}s] with at least one "
            f"simulation, got shape {simulated.shape}"
        )
    if observed.shape != (simulated.shape[1],):
        raise ValueError(
            f"observed {what} counts have shape {observed.shape}; expected "
            f"({simulated.shape[1]},) to match the simulated [S, {what}s] {simulated.shape}"
        )
    simulated_min = simulated.min() if simulated.shape[1] else 0.0
    if simulated_min < 0 or (observed < 0).any():
        raise ValueError(f"{what} counts must be >= 0")
    return simulated, observed


def _row_sums(counts: CellCounts) -> np.ndarray:
    """float64 ``[S]``, for dense or sparse ``[S, C]``."""
    return np.asarray(counts.sum(axis=1), np.float64).reshape(-1)


def _mean_rates(counts: CellCounts) -> np.ndarray:
    """float64 ``[C]``: pyCSEP's ``expected_rates.spatial_counts()``, the mean count per cell."""
    return np.asarray(counts.sum(axis=0), np.float64).reshape(-1) / counts.shape[0]


def _log_where_positive(values: np.ndarray) -> np.ndarray:
    """``log(values)`` where positive, 0 elsewhere (such cells hold no simulated event)."""
    return np.log(values, out=np.zeros_like(values), where=values > 0)


def catalog_number_test_ndarray(
    simulated_counts: np.ndarray, observed_count: int
) -> CatalogStatistic:
    """Catalog N-test (pyCSEP ``catalog_evaluations.number_test``; Savran et al. 2020).

    Parameters
    ----------
    simulated_counts : numpy.ndarray
        ``[S]`` number of events of each simulated catalog.
    observed_count : int

    Returns
    -------
    CatalogStatistic
        ``delta1 = P(N_s >= n_obs)``, ``delta2 = P(N_s <= n_obs)``; the test
        distribution is the simulated counts. Always valid, also with zero events.
    """
    counts = np.asarray(simulated_counts, np.float64).reshape(-1)  # [S]
    if len(counts) < 1:
        raise ValueError("the N-test needs at least one simulated catalog, got none")
    if (counts < 0).any() or observed_count < 0:
        raise ValueError(
            f"event counts must be >= 0, got simulated minimum {counts.min():g} and "
            f"observed {observed_count!r}"
        )
    delta1, delta2 = _quantiles(counts, float(observed_count))
    return CatalogStatistic(delta1, delta2, float(observed_count), counts, NORMAL)


def catalog_spatial_test_ndarray(
    simulated_cell_counts: CellCounts, observed_cell_counts: np.ndarray
) -> CatalogStatistic:
    """Catalog S-test (pyCSEP ``catalog_evaluations.spatial_test``; Savran et al. 2020, eq. 6-7).

    The statistic of a catalog with counts ``n_c`` (``n`` events) is
    ``sum_c n_c log(p_c) / n`` with ``p_c`` the mean spatial rate density of all
    simulations normalised to sum to one (pyCSEP's ``_compute_likelihood``).

    Parameters
    ----------
    simulated_cell_counts : numpy.ndarray or scipy.sparse matrix
        ``[S, C]`` events of each simulated catalog per cell.
    observed_cell_counts : numpy.ndarray
        ``[C]``.

    Returns
    -------
    CatalogStatistic
        Catalogs without events are left out of the distribution. Not valid
        without observed events, or when every observed event lies in a cell no
        simulation reached; "undersampled" when only some do (those events are
        left out of the observed statistic).
    """
    simulated, observed = _check_counts(simulated_cell_counts, observed_cell_counts, "cell")
    n_simulated = _row_sums(simulated)  # [S]
    rates = _mean_rates(simulated)  # [C]
    total = float(rates.sum())
    n_observed = float(observed.sum())
    has_events = n_simulated > 0  # [S]
    if n_observed == 0 or total == 0:
        return _not_valid(np.zeros(0))
    log_density = _log_where_positive(rates / total)  # [C]
    distribution = (simulated @ log_density)[has_events] / n_simulated[has_events]  # [K]
    sampled = rates > 0  # [C]
    observed_kept = np.where(sampled, observed, 0.0)  # [C], pyCSEP's undersampling rule
    n_kept = float(observed_kept.sum())
    if n_kept == 0:
        return _not_valid(distribution)
    statistic = float(observed_kept @ log_density) / n_kept
    delta1, delta2 = _quantiles(distribution, statistic)
    status = NORMAL if n_kept == n_observed else UNDERSAMPLED
    return CatalogStatistic(delta1, delta2, statistic, distribution, status)


def catalog_pseudolikelihood_test_ndarray(
    simulated_cell_counts: CellCounts, observed_cell_counts: np.ndarray
) -> CatalogStatistic:
    """Catalog pseudo-likelihood test (pyCSEP ``pseudolikelihood_test``; Savran et al. 2020, eq. 8).

    The statistic of a catalog with counts ``n_c`` is
    ``sum_c n_c log(lambda_c) - sum_c lambda_c`` with ``lambda_c`` the mean count
    per cell over all simulations (not normalised).

    Parameters
    ----------
    simulated_cell_counts : numpy.ndarray or scipy.sparse matrix
        ``[S, C]``.
    observed_cell_counts : numpy.ndarray
        ``[C]``.

    Returns
    -------
    CatalogStatistic
        Catalogs without events score ``-sum(lambda)``. Not valid without observed
        events (pyCSEP returns None) or when none lies in a sampled cell;
        "undersampled" when some observed events lie in cells with ``lambda_c = 0``
        (they are left out of the observed sum, ``sum(lambda)`` is kept).
    """
    simulated, observed = _check_counts(simulated_cell_counts, observed_cell_counts, "cell")
    rates = _mean_rates(simulated)  # [C]
    total = float(rates.sum())
    log_rates = _log_where_positive(rates)  # [C]
    distribution = np.asarray(simulated @ log_rates, np.float64) - total  # [S]
    n_observed = float(observed.sum())
    if n_observed == 0:
        return _not_valid(distribution)
    sampled = rates > 0  # [C]
    observed_kept = np.where(sampled, observed, 0.0)  # [C]
    n_kept = float(observed_kept.sum())
    if n_kept == 0:
        return _not_valid(distribution)
    statistic = float(observed_kept @ log_rates) - total
    delta1, delta2 = _quantiles(distribution, statistic)
    status = NORMAL if n_kept == n_observed else UNDERSAMPLED
    return CatalogStatistic(delta1, delta2, statistic, distribution, status)


def catalog_magnitude_test_ndarray(
    simulated_magnitude_counts: np.ndarray, observed_magnitude_counts: np.ndarray
) -> CatalogStatistic:
    """Catalog M-test (pyCSEP ``catalog_evaluations.magnitude_test``; Savran et al. 2020, eq. 5).

    With ``u_m`` the mean histogram of all simulations and ``n_obs`` the observed
    count, the d-statistic of a histogram ``h`` of ``n`` events is
    ``sum_m (log10(u_m n_obs / sum(u) + 1) - log10(h_m n_obs / n + 1))^2``
    (for the observed catalog ``n = n_obs``).

    Parameters
    ----------
    simulated_magnitude_counts : numpy.ndarray
        ``[S, M]`` events of each simulated catalog per magnitude bin.
    observed_magnitude_counts : numpy.ndarray
        ``[M]``.

    Returns
    -------
    CatalogStatistic
        Catalogs without events are left out of the distribution. Not valid
        without observed events or without any simulated event.
    """
    simulated, observed = _check_counts(
        simulated_magnitude_counts, observed_magnitude_counts, "magnitude bin"
    )
    simulated = simulated.toarray() if scipy.sparse.issparse(simulated) else simulated  # [S, M]
    n_observed = float(observed.sum())
    union = simulated.mean(axis=0)  # [M]
    n_union = float(union.sum())
    if n_observed == 0 or n_union == 0:
        return _not_valid(np.zeros(0))
    log_union = np.log10(union * (n_observed / n_union) + 1.0)  # [M]
    n_simulated = simulated.sum(axis=1)  # [S]
    kept = simulated[n_simulated > 0]  # [K, M]
    scaled = kept * (n_observed / n_simulated[n_simulated > 0])[:, None]  # [K, M]
    distribution = np.sum((log_union - np.log10(scaled + 1.0)) ** 2, axis=1)  # [K]
    statistic = float(np.sum((log_union - np.log10(observed + 1.0)) ** 2))
    delta1, delta2 = _quantiles(distribution, statistic)
    return CatalogStatistic(delta1, delta2, statistic, distribution, NORMAL)


# ------------------------------------------------------------------ result classes
def _format(value: float) -> str:
    """A number for a Markdown cell."""
    if value is None or math.isnan(value):
        return "n/a"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.3f}"


def _plain(value: float) -> float | None:
    """A float for JSON: None for NaN."""
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True)
class CatalogConsistencyTest(ConsistencyTest):
    """A catalog-based test result: :class:`ConsistencyTest` plus pyCSEP's two quantiles and status.

    ``quantile`` follows :class:`ConsistencyTest`: ``(delta1, delta2)`` for the
    N-test, the one quantile the pass rule uses otherwise (``delta2`` for S and
    PL, ``delta1`` for M). ``simulated`` holds the test distribution and
    ``num_simulations`` its length (catalogs without events drop out of the S-
    and M-tests). A "not-valid" test has NaN quantiles and statistic and
    ``passed`` False; count it neither as a pass nor as a failure.

    Attributes
    ----------
    deltas : tuple of float
        pyCSEP's ``(delta1, delta2) = (P(X >= observed), P(X <= observed))``.
    status : str
        "normal", "undersampled" or "not-valid" (pyCSEP's status).
    window : int or None
        The window tested; None for the whole test period.
    """

    deltas: tuple[float, float] = (math.nan, math.nan)
    status: str = NORMAL
    window: int | None = None

    @property
    def valid(self) -> bool:
        return self.status != NOT_VALID

    def to_dict(self) -> dict[str, Any]:
        """The result without the test distribution, as plain Python values (NaN as None)."""
        values = super().to_dict()
        values["quantile"] = [_plain(q) for q in self.quantile]
        values["observed_statistic"] = _plain(self.observed_statistic)
        values["deltas"] = [_plain(q) for q in self.deltas]
        values["status"] = self.status
        values["window"] = self.window
        return values


@dataclass(frozen=True)
class CatalogTestSummary:
    """How one test fared over the windows of a test period (per-window results).

    Attributes
    ----------
    name : str
    windows : int
        Windows tested.
    windows_with_events : int
        Windows with at least one observed event.
    valid : int
        Windows where the test is valid (all for the N-test; for the others,
        windows with observed events in cells the simulations reached).
    passed : int
        Valid windows where the test passed.
    """

    name: str
    windows: int
    windows_with_events: int
    valid: int
    passed: int

    @property
    def share_passed(self) -> float:
        """``passed / valid``; NaN when no window is valid."""
        return self.passed / self.valid if self.valid else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "windows": self.windows,
            "windows_with_events": self.windows_with_events,
            "valid": self.valid,
            "passed": self.passed,
            "share_passed": _plain(self.share_passed),
        }


@dataclass(frozen=True)
class CatalogTests:
    """The catalog-based tests of one forecast over a test period (:func:`catalog_tests`).

    Attributes
    ----------
    forecast : str
        The forecast's name.
    alpha : float
    num_simulations : int
        Simulated catalogs per window, S.
    period : dict of str to CatalogConsistencyTest
        The tests over the whole period, keyed by :data:`TEST_NAMES`.
    windows : tuple of dict
        Per window, the four tests keyed by name.
    summary : dict of str to CatalogTestSummary
        Share of windows each test passes.
    """

    forecast: str
    alpha: float
    num_simulations: int
    period: dict[str, CatalogConsistencyTest]
    windows: tuple[dict[str, CatalogConsistencyTest], ...] = field(repr=False)
    summary: dict[str, CatalogTestSummary]

    def to_dict(self, *, per_window: bool = False) -> dict[str, Any]:
        """Period tests and summary as plain values; with ``per_window`` every window's tests."""
        values: dict[str, Any] = {
            "forecast": self.forecast,
            "alpha": float(self.alpha),
            "num_simulations": int(self.num_simulations),
            "period": {name: test.to_dict() for name, test in self.period.items()},
            "summary": {name: summary.to_dict() for name, summary in self.summary.items()},
        }
        if per_window:
            values["windows"] = [
                {name: test.to_dict() for name, test in tests.items()} for tests in self.windows
            ]
        return values

    def to_markdown(self) -> str:
        """A table of the period tests with the share of windows each passes, and a legend."""
        lines = [
            f"{self.num_simulations} simulated catalogs per window; tests as pyCSEP's "
            "catalog-based evaluations (Savran et al. 2020), one-sided at α = "
            f"{self.alpha:g} except the N-test (two-sided, α/2 each side).",
            "",
            "| test | whole period: quantile | observed statistic | passed | windows passing "
            "(of valid) | windows with events |",
            "|---|---:|---:|:-:|---:|---:|",
        ]
        for name in TEST_NAMES:
            test, summary = self.period[name], self.summary[name]
            quantile = " / ".join(_format(q) for q in test.quantile)
            verdict = "—" if not test.valid else ("✓" if test.passed else "✗")
            share = summary.share_passed
            shown = "n/a" if math.isnan(share) else f"{100 * share:.1f} %"
            lines.append(
                f"| {name} | {quantile} | {_format(test.observed_statistic)} | {verdict} | "
                f"{shown} ({summary.passed}/{summary.valid}) | {summary.windows_with_events} |"
            )
        lines += [
            "",
            "The whole period's s-th catalog is the union of simulation s of every window "
            "(windows are simulated independently given the observed past). N: δ1 / δ2 = "
            "P(X ≥ n) / P(X ≤ n); S and PL: δ2; M: δ1. A test without observed events (S, M, "
            "PL) is not valid and counts neither way.",
        ]
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ binning
@dataclass(frozen=True)
class _Binned:
    """Simulated and observed counts of one window (or the whole period) of a forecast."""

    counts: np.ndarray  # [S] events per simulated catalog
    cells: scipy.sparse.csr_array  # [S, C]
    magnitudes: np.ndarray  # [S, M]
    observed_cells: np.ndarray  # [C]
    observed_magnitudes: np.ndarray  # [M]
    bins: str  # what the test's bins are, for reports

    @property
    def n_observed(self) -> int:
        return int(self.observed_cells.sum())

    @property
    def expected(self) -> float:
        """Mean number of events per simulated catalog."""
        return float(self.counts.mean())


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")


def _check_observed(forecast: CatalogForecast, observed: ObservedEvents) -> None:
    """Raise ValueError unless the observed events were binned on this forecast's windows and grid.

    Only the indices (and times, when known) can be checked: events binned on
    another grid of the same or a smaller size pass unnoticed.
    """
    rows, columns = forecast.grid.shape
    num_windows = len(forecast.window_start)
    observed.check_fits((num_windows, rows, columns))
    if len(observed) and observed.magnitude.min() < forecast.mc - MAGNITUDE_TOLERANCE:
        raise ValueError(
            f"observed magnitude {observed.magnitude.min():g} is below forecast "
            f"{forecast.name!r}'s mc {forecast.mc:g}; select the target events with "
            "observed_from_catalog or ObservedEvents.above(mc)"
        )
    if observed.time is not None and len(observed):
        length = days_to_timedelta(forecast.window_days)
        start = forecast.window_start[observed.window]  # [N]
        outside = (observed.time < start) | (observed.time >= start + length)  # [N]
        if outside.any():
            first = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"observed event at {observed.time[first]} is not inside its window "
                f"{int(observed.window[first])} (from {start[first]}, {forecast.window_days:g} "
                f"days) of forecast {forecast.name!r}; were the events binned on other windows?"
            )


def _check_window(forecast: CatalogForecast, window: int | None) -> int | None:
    num_windows = len(forecast.window_start)
    if window is not None and not 0 <= int(window) < num_windows:
        raise ValueError(
            f"window {window!r} is out of range; forecast {forecast.name!r} has windows "
            f"0 to {num_windows - 1}"
        )
    return None if window is None else int(window)


class _Binner:
    """Bins a forecast's simulated events and the observed events, window by window.

    Events are sorted by window once, so binning one window costs only its own events.
    """

    def __init__(
        self, forecast: CatalogForecast, observed: ObservedEvents, max_magnitude: float
    ) -> None:
        _check_observed(forecast, observed)
        rows, columns = forecast.grid.shape
        self.num_windows = len(forecast.window_start)
        self.num_cells = rows * columns
        self.num_simulations = int(forecast.num_simulations)
        self.edges = magnitude_edges(forecast.mc, max_magnitude)  # [M]
        windows = np.arange(self.num_windows + 1)  # [W + 1]
        window = np.asarray(forecast.window, np.int64)  # [E]
        order = np.argsort(window, kind="stable")  # [E]
        self.sim_bounds = np.searchsorted(window[order], windows)  # [W + 1]
        self.sim_simulation = np.asarray(forecast.simulation, np.int64)[order]  # [E]
        self.sim_cell = np.asarray(forecast.cell, np.int64)[order]  # [E]
        magnitude = np.asarray(forecast.magnitude, np.float64)[order]  # [E]
        self.sim_magnitude = magnitude_bin_index(magnitude, self.edges)  # [E]
        order = np.argsort(observed.window, kind="stable")  # [N]
        self.obs_bounds = np.searchsorted(observed.window[order], windows)  # [W + 1]
        self.obs_cell = (observed.row * columns + observed.column)[order]  # [N]
        self.obs_magnitude = magnitude_bin_index(observed.magnitude[order], self.edges)  # [N]

    def bin(self, window: int | None) -> _Binned:
        """Counts of ``window``, or of the whole period (union of simulation s over windows)."""
        if window is None:
            sim, obs = slice(None), slice(None)
            where = f"{self.num_windows} windows summed"
        else:
            sim = slice(self.sim_bounds[window], self.sim_bounds[window + 1])
            obs = slice(self.obs_bounds[window], self.obs_bounds[window + 1])
            where = f"window {window}"
        S, C, M = self.num_simulations, self.num_cells, len(self.edges)
        simulation = self.sim_simulation[sim]  # [E']
        cells = scipy.sparse.csr_array(
            (np.ones(len(simulation)), (simulation, self.sim_cell[sim])), shape=(S, C)
        )  # [S, C], duplicates summed
        magnitudes = np.bincount(simulation * M + self.sim_magnitude[sim], minlength=S * M)
        observed_cells = np.bincount(self.obs_cell[obs], minlength=C)  # [C]
        observed_magnitudes = np.bincount(self.obs_magnitude[obs], minlength=M)  # [M]
        return _Binned(
            counts=np.bincount(simulation, minlength=S),
            cells=cells,
            magnitudes=magnitudes.reshape(S, M).astype(np.float64),
            observed_cells=observed_cells.astype(np.float64),
            observed_magnitudes=observed_magnitudes.astype(np.float64),
            bins=f"{S} simulated catalogs, {where}, {C} cells x {M} magnitude bins",
        )


def _result(
    name: str,
    statistic: CatalogStatistic,
    binned: _Binned,
    *,
    alpha: float,
    window: int | None,
) -> CatalogConsistencyTest:
    """Apply the pass rule of test ``name`` (pyCSEP's plotting conventions)."""
    deltas = (statistic.delta1, statistic.delta2)
    valid = statistic.status != NOT_VALID
    if name == "N-test":
        quantile: tuple[float, ...] = deltas
        passed = valid and min(deltas) >= alpha / 2
        rule = "two-sided: delta1 and delta2 >= alpha / 2"
    elif name == "M-test":
        quantile = (statistic.delta1,)
        passed = valid and statistic.delta1 >= alpha
        rule = "one-sided: delta1 = P(D_sim >= D_obs) >= alpha"
    else:
        quantile = (statistic.delta2,)
        passed = valid and statistic.delta2 >= alpha
        rule = f"one-sided: delta2 = P({name[:-5]}_sim <= {name[:-5]}_obs) >= alpha"
    if not valid:
        rule = "not valid: no observed events in cells the simulations reached"
    return CatalogConsistencyTest(
        name=name,
        quantile=quantile,
        observed_statistic=statistic.observed_statistic,
        passed=bool(passed),
        alpha=alpha,
        rule=rule,
        expected=binned.expected,
        n_observed=binned.n_observed,
        bins=binned.bins,
        num_simulations=len(statistic.test_distribution),
        simulated=statistic.test_distribution,
        deltas=deltas,
        status=statistic.status,
        window=window,
    )


def _run(name: str, binned: _Binned, *, alpha: float, window: int | None) -> CatalogConsistencyTest:
    if name == "N-test":
        statistic = catalog_number_test_ndarray(binned.counts, binned.n_observed)
    elif name == "S-test":
        statistic = catalog_spatial_test_ndarray(binned.cells, binned.observed_cells)
    elif name == "M-test":
        statistic = catalog_magnitude_test_ndarray(binned.magnitudes, binned.observed_magnitudes)
    elif name == "PL-test":
        statistic = catalog_pseudolikelihood_test_ndarray(binned.cells, binned.observed_cells)
    else:
        raise ValueError(f"unknown catalog test {name!r}; expected one of {list(TEST_NAMES)}")
    return _result(name, statistic, binned, alpha=alpha, window=window)


def _single_test(
    name: str,
    forecast: CatalogForecast,
    observed: ObservedEvents,
    window: int | None,
    alpha: float,
    max_magnitude: float,
) -> CatalogConsistencyTest:
    _check_alpha(alpha)
    window = _check_window(forecast, window)
    binned = _Binner(forecast, observed, max_magnitude).bin(window)
    return _run(name, binned, alpha=alpha, window=window)


# ------------------------------------------------------------------ forecast-level tests
def catalog_number_test(
    forecast: CatalogForecast,
    observed: ObservedEvents,
    *,
    window: int | None = None,
    alpha: float = 0.05,
) -> CatalogConsistencyTest:
    """Catalog N-test of one window, or of the whole period with ``window=None``.

    See :func:`catalog_number_test_ndarray` and :func:`catalog_tests` for the period.
    """
    return _single_test("N-test", forecast, observed, window, alpha, MAX_MAGNITUDE)


def catalog_spatial_test(
    forecast: CatalogForecast,
    observed: ObservedEvents,
    *,
    window: int | None = None,
    alpha: float = 0.05,
) -> CatalogConsistencyTest:
    """Catalog S-test of one window, or of the whole period with ``window=None``.

    See :func:`catalog_spatial_test_ndarray`.
    """
    return _single_test("S-test", forecast, observed, window, alpha, MAX_MAGNITUDE)


def catalog_magnitude_test(
    forecast: CatalogForecast,
    observed: ObservedEvents,
    *,
    window: int | None = None,
    alpha: float = 0.05,
    max_magnitude: float = MAX_MAGNITUDE,
) -> CatalogConsistencyTest:
    """Catalog M-test of one window, or of the whole period with ``window=None``.

    Magnitude bins of 0.1 from the forecast's mc, the last (from ``max_magnitude``)
    open-ended; see :func:`catalog_magnitude_test_ndarray`.
    """
    return _single_test("M-test", forecast, observed, window, alpha, max_magnitude)


def catalog_pseudolikelihood_test(
    forecast: CatalogForecast,
    observed: ObservedEvents,
    *,
    window: int | None = None,
    alpha: float = 0.05,
) -> CatalogConsistencyTest:
    """Catalog pseudo-likelihood test of one window, or of the whole period with ``window=None``.

    See :func:`catalog_pseudolikelihood_test_ndarray`.
    """
    return _single_test("PL-test", forecast, observed, window, alpha, MAX_MAGNITUDE)


def catalog_tests(
    forecast: CatalogForecast,
    observed: ObservedEvents,
    *,
    alpha: float = 0.05,
    max_magnitude: float = MAX_MAGNITUDE,
) -> CatalogTests:
    """The four catalog-based tests per window, summarised, and over the whole period.

    (a) Per window: each window is one CSEP forecast period scored with its own S
    catalogs. (b) Summary: per test, the number of windows where it is valid and
    the share of those it passes. (c) Whole period: the s-th period catalog is
    the union of simulation s of every window. The windows are simulated
    independently given the observed past, so pairing simulation s of every
    window draws one period total from the product of the per-window forecasts:
    the N-test then tests the sum of the one-window-ahead counts, and the S-,
    M- and PL-tests use the period's mean cell and magnitude counts.

    Parameters
    ----------
    forecast : CatalogForecast
    observed : ObservedEvents
        Binned on the forecast's windows and grid, e.g.
        ``observed_from_catalog(catalog, forecast.expected_rates())``.
    alpha : float
        Significance level of every test.
    max_magnitude : float
        Left edge of the last, open-ended magnitude bin of the M-test.

    Returns
    -------
    CatalogTests

    Raises
    ------
    ValueError
        ``alpha`` outside (0, 1), or observed events outside the forecast's
        windows or grid, below its mc, or (when times are known) outside their window.
    """
    _check_alpha(alpha)
    binner = _Binner(forecast, observed, max_magnitude)
    num_windows = len(forecast.window_start)
    per_window = []
    for window in range(num_windows):
        binned = binner.bin(window)
        per_window.append(
            {name: _run(name, binned, alpha=alpha, window=window) for name in TEST_NAMES}
        )
    period_binned = binner.bin(None)
    period = {name: _run(name, period_binned, alpha=alpha, window=None) for name in TEST_NAMES}
    with_events = sum(tests["N-test"].n_observed > 0 for tests in per_window)
    summary = {
        name: CatalogTestSummary(
            name=name,
            windows=num_windows,
            windows_with_events=with_events,
            valid=sum(tests[name].valid for tests in per_window),
            passed=sum(tests[name].passed for tests in per_window),
        )
        for name in TEST_NAMES
    }
    return CatalogTests(
        forecast=forecast.name,
        alpha=alpha,
        num_simulations=int(forecast.num_simulations),
        period=period,
        windows=tuple(per_window),
        summary=summary,
    )
