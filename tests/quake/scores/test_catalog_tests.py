"""Catalog-based CSEP tests of simulation forecasts, against pyCSEP's catalog_evaluations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scores_testing import GRID, START, gamma_rates, simulate_events

from framecast.quake.catalog_forecast import CatalogForecast
from framecast.quake.grid import Grid
from framecast.quake.scores.catalog_tests import (
    NOT_VALID,
    TEST_NAMES,
    UNDERSAMPLED,
    CatalogConsistencyTest,
    catalog_magnitude_test,
    catalog_magnitude_test_ndarray,
    catalog_number_test,
    catalog_number_test_ndarray,
    catalog_pseudolikelihood_test,
    catalog_spatial_test,
    catalog_spatial_test_ndarray,
    catalog_tests,
)
from framecast.quake.scores.consistency import TIE_TOLERANCE
from framecast.quake.scores.observed import ObservedEvents
from framecast.quake.scores.pycsep_io import csep_region, to_csep_catalog

csep = pytest.importorskip("csep")
evaluations = pytest.importorskip("csep.core.catalog_evaluations")
from csep.core.catalogs import CSEPCatalog  # noqa: E402
from csep.core.forecasts import CatalogForecast as CSEPCatalogForecast  # noqa: E402

MC = 2.5
WINDOW_DAYS = 7.0


def _gr_magnitudes(rng: np.random.Generator, size: int, *, rounded: bool) -> np.ndarray:
    """Gutenberg-Richter (b = 1) magnitudes >= MC; cut down to 0.1 bin edges when ``rounded``."""
    magnitude = MC + rng.exponential(1 / np.log(10), size)
    return np.round(np.floor(magnitude * 10 + 1e-9) / 10, 1) if rounded else magnitude


def make_catalog_forecast(
    rates: np.ndarray,
    num_simulations: int,
    seed: int,
    *,
    name: str = "simulated",
    rounded: bool = True,
    grid: Grid = GRID,
) -> CatalogForecast:
    """S catalogs per window of independent Poisson counts with mean ``rates[w]`` ``[W, H, X]``."""
    rng = np.random.default_rng(seed)
    windows, rows, columns = rates.shape
    counts = rng.poisson(rates[:, None], (windows, num_simulations, rows, columns))  # [W,S,H,X]
    counts = counts.reshape(windows, num_simulations, rows * columns)  # [W, S, C]
    window, simulation, cell = (np.repeat(i, counts[counts > 0]) for i in np.nonzero(counts))
    step = np.timedelta64(round(WINDOW_DAYS * 86_400e6), "us")
    return CatalogForecast(
        name=name,
        grid=grid,
        window_start=START + np.arange(windows) * step,
        window_days=WINDOW_DAYS,
        mc=MC,
        b_value=1.0,
        num_simulations=num_simulations,
        window=window,
        simulation=simulation,
        cell=cell,
        magnitude=_gr_magnitudes(rng, len(cell), rounded=rounded),
    )


def to_csep(
    forecast: CatalogForecast, observed: ObservedEvents, windows: list[int]
) -> tuple[object, object]:
    """pyCSEP (CatalogForecast, observed CSEPCatalog) of the union of ``windows``.

    Catalog s is the union of simulation s of each window, its events placed at
    cell centres by :func:`to_csep_catalog`.
    """
    rates = forecast.expected_rates()
    region = csep_region(rates)
    columns = forecast.grid.shape[1]

    def catalog(events: ObservedEvents) -> np.ndarray:
        parts = [to_csep_catalog(events, rates, w, region=region).catalog for w in windows]
        return np.concatenate(parts)

    catalogs = []
    for s in range(forecast.num_simulations):
        mine = forecast.simulation == s
        row, column = np.divmod(forecast.cell[mine], columns)
        events = ObservedEvents(forecast.window[mine], row, column, forecast.magnitude[mine])
        catalogs.append(CSEPCatalog(data=catalog(events), region=region, name=f"sim {s}"))
    simulated = CSEPCatalogForecast(
        catalogs=catalogs, region=region, n_cat=len(catalogs), name=forecast.name
    )
    return simulated, CSEPCatalog(data=catalog(observed), region=region, name="observed")


def _with_ties(distribution: object, observed: float) -> tuple[float, float]:
    """pyCSEP's (delta1, delta2) with ties within TIE_TOLERANCE counted on both sides."""
    values = np.asarray(distribution, np.float64)
    tied = TIE_TOLERANCE * max(1.0, abs(observed))
    return float(np.mean(values >= observed - tied)), float(np.mean(values <= observed + tied))


def assert_matches_pycsep(ours: CatalogConsistencyTest, theirs: object) -> None:
    """Same statistic, distribution and quantiles as a pyCSEP catalog test result."""
    assert ours.status == theirs.status
    assert ours.observed_statistic == pytest.approx(theirs.observed_statistic, abs=1e-10)
    np.testing.assert_allclose(ours.simulated, theirs.test_distribution, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        ours.deltas, _with_ties(theirs.test_distribution, theirs.observed_statistic), atol=1e-12
    )
    # no near-ties in these cases: pyCSEP's own quantiles agree exactly
    np.testing.assert_allclose(ours.deltas, theirs.quantile, atol=1e-12)


@pytest.fixture(scope="module")
def three_windows() -> tuple[CatalogForecast, ObservedEvents, np.ndarray]:
    """S = 100 catalogs on 10 x 10 cells in 3 windows, and events drawn from the same rates."""
    rates = gamma_rates((3, 10, 10), seed=1, mean=0.12)
    forecast = make_catalog_forecast(rates, 100, seed=3)
    return forecast, simulate_events(rates, seed=4), rates


# ---------------------------------------------------------------- against pyCSEP
@pytest.mark.parametrize("window", [0, 2, None])
def test_all_four_tests_match_pycsep(three_windows, window) -> None:
    forecast, observed, _ = three_windows
    windows = list(range(forecast.num_windows)) if window is None else [window]
    simulated, catalog = to_csep(forecast, observed, windows)
    assert catalog.event_count == sum(int(np.sum(observed.window == w)) for w in windows) > 5

    number = catalog_number_test(forecast, observed, window=window)
    theirs = evaluations.number_test(simulated, catalog)
    assert number.observed_statistic == theirs.observed_statistic == catalog.event_count
    np.testing.assert_array_equal(number.simulated, theirs.test_distribution)
    assert number.deltas == theirs.quantile == number.quantile
    assert number.expected == pytest.approx(np.mean(theirs.test_distribution), rel=1e-14)

    spatial = catalog_spatial_test(forecast, observed, window=window)
    assert_matches_pycsep(spatial, evaluations.spatial_test(simulated, catalog))
    assert spatial.quantile == (spatial.deltas[1],)

    magnitude = catalog_magnitude_test(forecast, observed, window=window)
    assert_matches_pycsep(magnitude, evaluations.magnitude_test(simulated, catalog))
    assert magnitude.quantile == (magnitude.deltas[0],)

    pseudo = catalog_pseudolikelihood_test(forecast, observed, window=window)
    assert_matches_pycsep(pseudo, evaluations.pseudolikelihood_test(simulated, catalog))
    assert pseudo.quantile == (pseudo.deltas[1],)


def test_continuous_magnitudes_and_empty_catalogs_match_pycsep() -> None:
    """Low rates: many simulated catalogs are empty and drop out of the S- and M-tests."""
    rates = gamma_rates((1, 10, 10), seed=5, mean=0.02)
    forecast = make_catalog_forecast(rates, 100, seed=6, rounded=False)
    counts = forecast.counts()[0]  # [S]
    assert (counts == 0).sum() > 5
    observed = ObservedEvents(
        np.zeros(3, np.int64), np.array([1, 5, 5]), np.array([2, 3, 3]), np.array([2.5, 3.17, 4.0])
    )
    # the observed cells must hold simulated events for a "normal" status
    sampled = np.bincount(forecast.cell, minlength=100) > 0
    observed = observed.select(sampled[observed.row * 10 + observed.column])
    assert len(observed) >= 1
    simulated, catalog = to_csep(forecast, observed, [0])
    spatial = catalog_spatial_test(forecast, observed, window=0)
    assert len(spatial.simulated) == spatial.num_simulations == (counts > 0).sum()
    assert_matches_pycsep(spatial, evaluations.spatial_test(simulated, catalog))
    magnitude = catalog_magnitude_test(forecast, observed, window=0)
    assert len(magnitude.simulated) == (counts > 0).sum()
    assert_matches_pycsep(magnitude, evaluations.magnitude_test(simulated, catalog))
    pseudo = catalog_pseudolikelihood_test(forecast, observed, window=0)
    assert len(pseudo.simulated) == 100  # empty catalogs score -sum(rates)
    assert_matches_pycsep(pseudo, evaluations.pseudolikelihood_test(simulated, catalog))


def test_undersampled_observed_events_match_pycsep(three_windows) -> None:
    forecast, _, _ = three_windows
    rates = forecast.expected_rates().rates[1].reshape(-1)  # [C]
    empty = np.flatnonzero(rates == 0)
    sampled = np.flatnonzero(rates > 0)
    assert len(empty) and len(sampled) >= 2
    cells = np.array([empty[0], sampled[0], sampled[1]])
    row, column = np.divmod(cells, 10)
    events = ObservedEvents(np.ones(3, np.int64), row, column, np.array([2.5, 2.8, 3.1]))
    simulated, catalog = to_csep(forecast, events, [1])
    spatial = catalog_spatial_test(forecast, events, window=1)
    assert spatial.status == UNDERSAMPLED and spatial.n_observed == 3
    # the observed statistic averages over the two events in sampled cells
    density = rates / rates.sum()
    assert spatial.observed_statistic == pytest.approx(np.mean(np.log(density[cells[1:]])))
    assert_matches_pycsep(spatial, evaluations.spatial_test(simulated, catalog))
    pseudo = catalog_pseudolikelihood_test(forecast, events, window=1)
    assert pseudo.status == UNDERSAMPLED
    assert pseudo.observed_statistic == pytest.approx(
        np.sum(np.log(rates[cells[1:]])) - rates.sum()
    )
    assert_matches_pycsep(pseudo, evaluations.pseudolikelihood_test(simulated, catalog))


# ---------------------------------------------------------------- zero events
def test_no_observed_events(three_windows) -> None:
    forecast, _, _ = three_windows
    empty = ObservedEvents.empty()
    simulated, catalog = to_csep(forecast, empty, [0])
    counts = forecast.counts()[0]  # [S]
    number = catalog_number_test(forecast, empty, window=0)
    assert number.valid and number.deltas == (1.0, float(np.mean(counts == 0)))
    assert number.deltas == evaluations.number_test(simulated, catalog).quantile
    spatial = catalog_spatial_test(forecast, empty, window=0)
    theirs = evaluations.spatial_test(simulated, catalog)
    assert spatial.status == theirs.status == NOT_VALID and theirs.quantile == (-1, -1)
    assert evaluations.magnitude_test(simulated, catalog).status == NOT_VALID
    assert evaluations.pseudolikelihood_test(simulated, catalog) is None
    for test in (catalog_magnitude_test, catalog_pseudolikelihood_test, catalog_spatial_test):
        result = test(forecast, empty, window=0)
        assert result.status == NOT_VALID and not result.passed and not result.valid
        assert np.isnan(result.observed_statistic) and np.isnan(result.quantile).all()
        assert result.to_dict()["quantile"] == [None] and result.to_dict()["status"] == NOT_VALID


def test_forecast_without_simulated_events() -> None:
    """No simulation has an event: only the N-test is valid, and it fails observed events."""
    rates = np.zeros((2, 10, 10))
    forecast = make_catalog_forecast(rates, 50, seed=0)
    assert forecast.num_events == 0
    observed = ObservedEvents(np.array([1]), np.array([4]), np.array([4]), np.array([3.0]))
    number = catalog_number_test(forecast, observed, window=1)
    assert number.deltas == (0.0, 1.0) and not number.passed
    assert catalog_number_test(forecast, observed, window=0).passed  # 0 events, 0 expected
    for test in (catalog_magnitude_test, catalog_pseudolikelihood_test, catalog_spatial_test):
        assert test(forecast, observed).status == NOT_VALID


def test_ndarray_functions_by_hand() -> None:
    """Two catalogs on 3 cells and 2 magnitude bins, statistics computed by hand."""
    cells = np.array([[2, 0, 0], [1, 1, 0]])  # [S=2, C=3]
    mean = np.array([1.5, 0.5, 0.0])
    density = mean / 2.0
    observed = np.array([0, 1, 1])  # one event where no simulation went
    spatial = catalog_spatial_test_ndarray(cells, observed)
    expected_sim = [np.log(density[0]), (np.log(density[0]) + np.log(density[1])) / 2]
    np.testing.assert_allclose(spatial.test_distribution, expected_sim)
    assert spatial.observed_statistic == pytest.approx(np.log(0.25))
    assert spatial.status == UNDERSAMPLED
    assert (spatial.delta1, spatial.delta2) == (1.0, 0.0)  # log .25 is below both

    magnitudes = np.array([[2, 0], [0, 3]])  # [S=2, M=2]
    union = np.array([1.0, 1.5]) * 2 / 2.5  # scaled to the 2 observed events
    result = catalog_magnitude_test_ndarray(magnitudes, np.array([1, 1]))
    d_obs = np.sum((np.log10(union + 1) - np.log10(2.0)) ** 2)
    d_sim = [
        np.sum((np.log10(union + 1) - np.log10([3.0, 1.0])) ** 2),
        np.sum((np.log10(union + 1) - np.log10([1.0, 3.0])) ** 2),
    ]
    assert result.observed_statistic == pytest.approx(d_obs)
    np.testing.assert_allclose(result.test_distribution, d_sim)
    assert result.delta1 == 1.0  # the observed histogram is closest to the union

    number = catalog_number_test_ndarray(np.array([0, 2, 2, 5]), 2)
    assert (number.delta1, number.delta2) == (0.75, 0.75)


# ---------------------------------------------------------------- behaviour
def test_right_forecast_passes_most_windows() -> None:
    rates = gamma_rates((20, 10, 10), seed=7, mean=0.15)
    forecast = make_catalog_forecast(rates, 200, seed=8)
    observed = simulate_events(rates, seed=9)
    result = catalog_tests(forecast, observed)
    assert len(result.windows) == 20
    for name in TEST_NAMES:
        summary = result.summary[name]
        assert summary.windows == 20 and summary.valid >= 18
        assert summary.share_passed >= 0.8, (name, summary)
        assert result.period[name].passed, result.period[name]
    assert result.summary["N-test"].valid == 20
    assert result.summary["N-test"].windows_with_events == sum(
        int(np.any(observed.window == w)) for w in range(20)
    )
    # the per-window results are the single-window tests
    single = catalog_spatial_test(forecast, observed, window=4)
    assert result.windows[4]["S-test"].deltas == single.deltas
    assert result.period["PL-test"].to_dict() == (
        catalog_pseudolikelihood_test(forecast, observed).to_dict()
    )
    json.dumps(result.to_dict(per_window=True), allow_nan=False)


def test_wrong_spatial_map_fails_the_spatial_test() -> None:
    rates = gamma_rates((10, 10, 10), seed=10, mean=0.2)
    observed = simulate_events(rates, seed=11)
    flipped = rates[:, ::-1, ::-1].copy()  # same totals, events expected elsewhere
    forecast = make_catalog_forecast(flipped, 200, seed=12)
    result = catalog_tests(forecast, observed)
    assert not result.period["S-test"].passed
    assert result.period["S-test"].quantile[0] < 0.01
    assert result.summary["S-test"].share_passed < 0.5
    assert result.period["N-test"].passed and result.period["M-test"].passed


# ---------------------------------------------------------------- errors
def test_mismatched_observed_events_are_rejected(three_windows) -> None:
    forecast, observed, _ = three_windows
    wider = ObservedEvents(np.array([0]), np.array([3]), np.array([12]), np.array([3.0]))
    with pytest.raises(ValueError, match="column index 12 is outside"):
        catalog_tests(forecast, wider)
    later = ObservedEvents(np.array([3]), np.array([3]), np.array([2]), np.array([3.0]))
    with pytest.raises(ValueError, match="window index 3 is outside"):
        catalog_number_test(forecast, later)
    small = ObservedEvents(np.array([0]), np.array([3]), np.array([2]), np.array([2.0]))
    with pytest.raises(ValueError, match="below forecast 'simulated'"):
        catalog_spatial_test(forecast, small)
    # events binned on windows shifted by a day: their times lie outside the forecast's
    shifted = START + np.timedelta64(8, "D")
    timed = ObservedEvents(np.array([0]), np.array([3]), np.array([2]), np.array([3.0]), [shifted])
    with pytest.raises(ValueError, match="other windows"):
        catalog_tests(forecast, timed)
    with pytest.raises(ValueError, match="window 3 is out of range"):
        catalog_magnitude_test(forecast, observed, window=3)
    with pytest.raises(ValueError, match="alpha must be in"):
        catalog_tests(forecast, observed, alpha=1.5)


def test_ndarray_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"expected \(3,\)"):
        catalog_spatial_test_ndarray(np.ones((4, 3)), np.ones(5))
    with pytest.raises(ValueError, match="at least one simulation"):
        catalog_spatial_test_ndarray(np.ones((0, 3)), np.ones(3))
    with pytest.raises(ValueError, match="must be >= 0"):
        catalog_magnitude_test_ndarray(-np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="at least one simulated catalog"):
        catalog_number_test_ndarray(np.zeros(0), 1)
