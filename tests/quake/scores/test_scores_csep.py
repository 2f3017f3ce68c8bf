"""The CSEP tests, the T- and W-tests against pyCSEP, and the export to pyCSEP's formats."""

from __future__ import annotations

import numpy as np
import pytest
from scores_testing import GRID, gamma_rates, make_forecast, simulate_events

from framecast.quake.catalog.events import Catalog
from framecast.quake.grid import Grid
from framecast.quake.rates import RateForecast
from framecast.quake.scores.consistency import TIE_TOLERANCE
from framecast.quake.scores.likelihood import magnitude_split
from framecast.quake.scores.pycsep_io import export_csep, to_csep_catalog, to_csep_forecast
from framecast.quake.scores.table import (
    ObservedEvents,
    information_gain,
    l_test,
    likelihood_quantile,
    m_test,
    n_test,
    n_test_per_window,
    observed_from_catalog,
    s_test,
    space_time_test,
    target_event_rates,
    w_test,
)

csep = pytest.importorskip("csep")
poisson = pytest.importorskip("csep.core.poisson_evaluations")

SHAPE = (1, 10, 10)


@pytest.fixture(scope="module")
def single_window() -> tuple[RateForecast, RateForecast, object]:
    """Two one-window forecasts with different b-values and events drawn from the first."""
    rates = gamma_rates(SHAPE, seed=1, mean=0.3)
    forecast = make_forecast(rates, "model", b_value=1.0)
    benchmark = make_forecast(np.full(SHAPE, rates.mean()), "uniform", b_value=0.9)
    return forecast, benchmark, simulate_events(rates, seed=2)


def _pycsep_quantile_with_ties(result: object) -> float:
    """pyCSEP's quantile, with exact ties counted as <= (see TIE_TOLERANCE)."""
    simulated = np.asarray(result.test_distribution)
    observed = result.observed_statistic
    tied = TIE_TOLERANCE * max(1.0, abs(observed))
    return float(np.mean(simulated <= observed + tied))


# ---------------------------------------------------------------- against pyCSEP
def test_information_gain_matches_pycsep_paired_t_test(single_window) -> None:
    forecast, benchmark, observed = single_window
    assert len(observed) > 20
    ours = information_gain(forecast, benchmark, observed, alpha=0.05)
    catalog = to_csep_catalog(observed, forecast, 0)
    theirs = poisson.paired_t_test(
        to_csep_forecast(forecast, 0), to_csep_forecast(benchmark, 0), catalog, alpha=0.05
    )
    t_statistic, t_critical, alpha = theirs.quantile
    assert ours.information_gain == pytest.approx(theirs.observed_statistic, abs=1e-10)
    assert ours.lower == pytest.approx(theirs.test_distribution[0], abs=1e-10)
    assert ours.upper == pytest.approx(theirs.test_distribution[1], abs=1e-10)
    assert ours.t_statistic == pytest.approx(t_statistic, abs=1e-10)
    assert ours.t_critical == pytest.approx(t_critical, abs=1e-12) and alpha == 0.05
    # the events' bin rates are pyCSEP's target event rates (cell x magnitude bin)
    rates, n_forecast = to_csep_forecast(forecast, 0).target_event_rates(catalog)
    np.testing.assert_allclose(target_event_rates(forecast, observed), rates, rtol=1e-14)
    assert ours.n_forecast_a == pytest.approx(n_forecast, rel=1e-14)


def test_w_test_matches_pycsep_w_test(single_window) -> None:
    forecast, benchmark, observed = single_window
    ours = w_test(forecast, benchmark, observed)
    catalog = to_csep_catalog(observed, forecast, 0)
    theirs = poisson.w_test(to_csep_forecast(forecast, 0), to_csep_forecast(benchmark, 0), catalog)
    assert ours.z_statistic == pytest.approx(theirs.observed_statistic, abs=1e-10)
    assert ours.p_value == pytest.approx(theirs.quantile, abs=1e-10)
    assert ours.n_events == len(observed) and ours.significant == (theirs.quantile < 0.05)
    # the N_A - N_B correction: the median of the centred per-event gains, by hand
    rates_a, n_a = to_csep_forecast(forecast, 0).target_event_rates(catalog)
    rates_b, n_b = to_csep_forecast(benchmark, 0).target_event_rates(catalog)
    centred = np.log(rates_a) - np.log(rates_b) - (n_a - n_b) / len(observed)
    assert ours.median_gain == pytest.approx(np.median(centred), abs=1e-12)
    reverse = w_test(benchmark, forecast, observed)
    assert reverse.p_value == pytest.approx(ours.p_value, rel=1e-12)
    assert reverse.median_gain == pytest.approx(-ours.median_gain, abs=1e-12)


def test_n_test_matches_pycsep_number_test(single_window) -> None:
    forecast, _, observed = single_window
    ours = n_test(forecast, observed)
    theirs = poisson.number_test(
        to_csep_forecast(forecast, 0), to_csep_catalog(observed, forecast, 0)
    )
    np.testing.assert_allclose(ours.quantile, theirs.quantile, rtol=1e-10)
    assert ours.observed_statistic == theirs.observed_statistic == len(observed)
    assert ours.passed


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (l_test, "likelihood_test"),
        (s_test, "spatial_test"),
        (space_time_test, "spatial_test"),  # one window: space-time is space
        (m_test, "magnitude_test"),
    ],
)
def test_simulation_tests_match_pycsep_with_the_same_seed(single_window, ours, theirs) -> None:
    forecast, benchmark, observed = single_window
    for model in (forecast, benchmark):  # the uniform benchmark has many exactly tied catalogs
        catalog = to_csep_catalog(observed, model, 0)
        mine = ours(model, observed, num_simulations=300, seed=7)
        reference = getattr(poisson, theirs)(
            to_csep_forecast(model, 0), catalog, num_simulations=300, seed=7
        )
        np.testing.assert_allclose(mine.simulated, reference.test_distribution, rtol=1e-12)
        assert mine.observed_statistic == pytest.approx(reference.observed_statistic, rel=1e-12)
        assert mine.quantile[0] == _pycsep_quantile_with_ties(reference)
        assert abs(mine.quantile[0] - reference.quantile) <= 0.02  # ties only


def _period_summed(forecast: RateForecast, observed: ObservedEvents):
    """The test period as one pyCSEP forecast (rates summed over windows) and its catalog."""
    summed = make_forecast(
        forecast.rates.sum(axis=0, keepdims=True),
        forecast.name,
        b_value=forecast.b_value,
        window_days=forecast.num_windows * forecast.window_days,
    )
    events = ObservedEvents(
        np.zeros(len(observed), np.int64), observed.row, observed.column, observed.magnitude
    )
    return to_csep_forecast(summed, 0), to_csep_catalog(events, summed, 0)


@pytest.mark.parametrize(("ours", "theirs"), [(s_test, "spatial_test"), (m_test, "magnitude_test")])
def test_s_and_m_tests_are_pycsep_tests_of_the_period_summed_forecast(ours, theirs) -> None:
    """Over many windows the S- and M-tests equal pyCSEP's on the forecast of the whole period."""
    rates = gamma_rates((6, 10, 10), seed=13, mean=0.03)
    forecast = make_forecast(rates, b_value=1.1)
    observed = simulate_events(rates[::-1], seed=14, b_value=1.1)  # not the forecast's windows
    csep_forecast, catalog = _period_summed(forecast, observed)
    mine = ours(forecast, observed, num_simulations=300, seed=5)
    reference = getattr(poisson, theirs)(csep_forecast, catalog, num_simulations=300, seed=5)
    np.testing.assert_allclose(mine.simulated, reference.test_distribution, rtol=1e-10)
    assert mine.observed_statistic == pytest.approx(reference.observed_statistic, rel=1e-10)
    assert mine.quantile[0] == _pycsep_quantile_with_ties(reference)


def test_s_test_ignores_time_and_the_space_time_test_does_not() -> None:
    """The review's case: the right map with a constant rate, events clustered in a few windows.

    The ST statistic sees the clustering through bins holding several events
    (aftershock sequences); the S-test of the period-summed map cannot.
    """
    windows = 60
    spatial = gamma_rates((1, 10, 10), seed=15, mean=0.02)[0]  # [H, X]
    truth = np.repeat(spatial[None] * 0.05, windows, axis=0)  # [W, H, X] quiet background
    truth[[10, 40]] *= 2000  # two sequences: several events per busy cell
    observed = simulate_events(truth, seed=16)
    constant = make_forecast(np.repeat(truth.mean(axis=0, keepdims=True), windows, axis=0))
    options = {"num_simulations": 300, "seed": 0}
    assert s_test(constant, observed, **options).passed
    assert not space_time_test(constant, observed, **options).passed
    assert s_test(constant, observed, **options).bins == "100 cells (summed over 60 windows)"


def test_n_test_per_window_is_pycsep_number_test_of_each_window() -> None:
    rates = gamma_rates((8, 10, 10), seed=17, mean=0.02)
    rates[3] *= 20  # one window with far more events than its forecast
    observed = simulate_events(rates, seed=18)
    forecast = make_forecast(gamma_rates((8, 10, 10), seed=17, mean=0.02))
    tests = n_test_per_window(forecast, observed)
    counts = np.bincount(observed.window, minlength=8)
    for window in range(8):
        theirs = poisson.number_test(
            to_csep_forecast(forecast, window), to_csep_catalog(observed, forecast, window)
        )
        np.testing.assert_allclose(tests.quantile[window], theirs.quantile, rtol=1e-10)
        assert tests.passed[window] == (min(theirs.quantile) >= 0.025)
    assert not tests.passed[3]
    assert tests.num_windows == 8 and tests.windows_with_events == np.count_nonzero(counts)
    assert tests.share_passed == pytest.approx(np.mean(tests.passed))
    summary = tests.to_dict()
    assert summary["num_passed"] == np.count_nonzero(tests.passed)
    assert summary["failed_too_many"] >= 1


@pytest.mark.parametrize(
    ("use_observed_counts", "normalize_likelihood"), [(False, False), (True, True), (True, False)]
)
def test_likelihood_engine_matches_pycsep_on_flattened_windows(
    use_observed_counts: bool, normalize_likelihood: bool
) -> None:
    """Several windows flattened to [window x cell, magnitude] bins, as the tests score them."""
    rates = gamma_rates((5, 10, 10), seed=3, mean=0.05)
    forecast = make_forecast(rates, b_value=1.2)
    observed = simulate_events(rates, seed=4, b_value=1.2)
    by_magnitude, edges = forecast.by_magnitude()
    data = by_magnitude.reshape(-1, len(edges))  # [W*H*X, M]
    counts = observed.counts_by_magnitude(edges, forecast.rates.shape).reshape(data.shape)
    options = {"num_simulations": 200, "seed": 11}
    state = np.random.get_state()
    theirs = poisson._poisson_likelihood_test(
        data,
        counts.astype(float),
        use_observed_counts=use_observed_counts,
        normalize_likelihood=normalize_likelihood,
        **options,
    )
    np.random.set_state(state)
    flat_bins = np.repeat(np.arange(counts.size), counts.reshape(-1))  # [N] bin of each event
    ours = likelihood_quantile(
        rates.reshape(-1),
        magnitude_split(forecast)[1],
        flat_bins,
        use_observed_counts=use_observed_counts,
        normalize_likelihood=normalize_likelihood,
        **options,
    )
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)
    assert ours[1] == pytest.approx(theirs[1], rel=1e-12)
    assert abs(ours[0] - theirs[0]) <= 0.02
    if not use_observed_counts:  # the L-test over all windows is this computation
        test = l_test(forecast, observed, **options)
        assert test.quantile[0] == ours[0]
        assert test.observed_statistic == pytest.approx(ours[1], rel=1e-12)


# --------------------------------------------------------------- behaviour of the tests
def test_consistency_tests_flag_wrong_forecasts() -> None:
    truth = gamma_rates((30, 10, 10), seed=5, mean=0.03)
    observed = simulate_events(truth, seed=6)
    good = make_forecast(truth)
    options = {"num_simulations": 200, "seed": 0}
    assert n_test(good, observed).passed
    assert s_test(good, observed, **options).passed
    assert l_test(good, observed, **options).passed
    assert m_test(good, observed, **options).passed

    too_many = n_test(make_forecast(truth * 2), observed)
    assert not too_many.passed and too_many.quantile[1] < 0.025
    misplaced = make_forecast(truth[:, ::-1])  # the same rates in the wrong cells
    assert s_test(misplaced, observed, **options).quantile[0] < 0.05
    assert space_time_test(misplaced, observed, **options).quantile[0] < 0.05
    too_few = make_forecast(truth / 3)  # the L-test is sensitive to the number too
    assert not l_test(too_few, observed, **options).passed
    wrong_b = make_forecast(truth, b_value=2.0)  # far too few large events
    assert not m_test(wrong_b, observed, **options).passed


def test_simulation_tests_are_seeded_and_leave_numpy_global_state_alone() -> None:
    rates = gamma_rates((50, 10, 10), seed=7, mean=0.02)
    forecast, observed = make_forecast(rates), simulate_events(rates, seed=8)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = l_test(forecast, observed, num_simulations=100, seed=3)
    assert np.array_equal(np.random.get_state()[1], before)
    again = l_test(forecast, observed, num_simulations=100, seed=3)
    other = l_test(forecast, observed, num_simulations=100, seed=4)
    np.testing.assert_array_equal(first.simulated, again.simulated)
    assert not np.array_equal(first.simulated, other.simulated)
    assert first.bins == "50 windows x 100 cells x 56 magnitude bins"
    spatial = l_test(forecast, observed, num_simulations=100, magnitude_bins=False)
    assert spatial.bins == "50 windows x 100 cells"


# ----------------------------------------------------------------------- export
def test_export_round_trips_through_load_gridded_forecast(tmp_path) -> None:
    rates = gamma_rates((2, 10, 10), seed=9)
    forecast = make_forecast(rates, "my model", b_value=0.95)
    paths = export_csep(forecast, tmp_path / "csep")
    assert [p.name for p in paths] == [
        "my-model_w0000_2020-01-01.dat",
        "my-model_w0001_2020-01-08.dat",
    ]
    expected, edges = forecast.by_magnitude()
    for window, path in enumerate(paths):
        loaded = csep.load_gridded_forecast(str(path), name="loaded")
        assert loaded.data.shape == (100, len(edges))
        np.testing.assert_array_equal(loaded.data, expected[window].reshape(100, -1))
        np.testing.assert_allclose(loaded.magnitudes, edges, atol=1e-9)
        # pyCSEP cell i is framecast (row, column) = divmod(i, 10): check by location
        latitude, longitude = GRID.cell_centers()
        index = loaded.region.get_index_of(longitude.reshape(-1), latitude.reshape(-1))
        np.testing.assert_array_equal(index, np.arange(100))
        np.testing.assert_array_equal(
            loaded.spatial_counts(cartesian=True), expected[window].sum(axis=-1)
        )
    first = paths[0].read_text().splitlines()[0].split()
    assert len(first) == 10 and first[:4] == ["-117.0", "-116.9", "33.0", "33.1"]
    assert first[6:8] == ["2.5", "2.6"] and first[-1] == "1"
    last = paths[0].read_text().splitlines()[-1].split()
    assert last[6:8] == ["8.0", "10.0"]


def test_to_csep_catalog_bins_events_as_framecast(single_window) -> None:
    forecast = single_window[0]
    lat_edges, lon_edges = GRID.edges()
    rng = np.random.default_rng(10)
    # events on internal cell edges, where binning rules could disagree, plus random ones
    catalog = Catalog.from_columns(
        time=np.datetime64("2020-01-02", "us") + np.arange(40) * np.timedelta64(1, "h"),
        latitude=np.concatenate([lat_edges[1:6], rng.uniform(33, 34, 35)]),
        longitude=np.concatenate([lon_edges[2:7], rng.uniform(-117, -116, 35)]),
        magnitude=np.round(rng.uniform(2.5, 5.0, 40), 1),
    )
    binned = observed_from_catalog(catalog, forecast)
    csep_catalog = to_csep_catalog(catalog, forecast, 0)
    assert csep_catalog.event_count == len(binned) == 40
    np.testing.assert_array_equal(
        csep_catalog.spatial_counts(), binned.counts(forecast.rates.shape)[0].reshape(-1)
    )
    times = csep_catalog.get_epoch_times()
    assert times[0] == np.datetime64("2020-01-02", "ms").astype(np.int64)


def test_km_grids_cannot_go_to_pycsep(tmp_path) -> None:
    km = make_forecast(np.ones((1, 4, 4)), grid=Grid(33.0, 34.0, -117.0, -116.0, 30.0, "km"))
    for call in (
        lambda: to_csep_forecast(km, 0),
        lambda: export_csep(km, tmp_path),
        lambda: to_csep_catalog(simulate_events(km.rates, seed=0), km, 0),
    ):
        with pytest.raises(ValueError, match="pyCSEP's CartesianGrid2D needs a lon/lat grid"):
            call()
    with pytest.raises(ValueError, match="window 3 is out of range"):
        to_csep_forecast(make_forecast(np.ones(SHAPE)), 3)


def test_zero_rate_at_an_observed_event_fails_the_likelihood_tests() -> None:
    rates = np.full((2, 10, 10), 0.05)
    rates[1, 4, 4] = 0.0
    forecast = make_forecast(rates)
    observed = simulate_events(np.full((2, 10, 10), 0.05), seed=12)
    observed = ObservedEvents(
        np.append(observed.window, 1),
        np.append(observed.row, 4),
        np.append(observed.column, 4),
        np.append(observed.magnitude, 3.0),
    )
    for test in (l_test, space_time_test):
        result = test(forecast, observed, num_simulations=50)
        assert result.observed_statistic == -np.inf
        assert result.quantile == (0.0,) and not result.passed


def test_the_pycsep_region_comes_from_the_testing_mask(tmp_path) -> None:
    from framecast.quake.scores.pycsep_io import csep_region, import_csep, testing_mask

    rates = gamma_rates((2, 10, 10), seed=4)
    rates[:, :, 6:] = 0.0  # the run masked the eastern 4 columns
    forecast = make_forecast(rates, "masked")
    mask = testing_mask(forecast)
    assert mask.sum() == 60 and not mask[:, 6:].any()
    region = csep_region(forecast, mask=mask)
    assert region.num_nodes == 60
    latitude, longitude = GRID.cell_centers()
    inside = region.get_index_of(longitude[:, :6].reshape(-1), latitude[:, :6].reshape(-1))
    np.testing.assert_array_equal(np.sort(inside), np.arange(60))
    with pytest.raises(ValueError):  # pyCSEP: a point in a masked cell is outside the region
        region.get_index_of(longitude[:1, 7], latitude[:1, 7])
    gridded = to_csep_forecast(forecast, 1, mask=mask)
    expected, _ = forecast.by_magnitude()
    np.testing.assert_array_equal(gridded.data, expected[1][:, :6].reshape(60, -1))
    paths = export_csep(forecast, tmp_path / "csep", mask=mask)
    flags = np.array([line.split()[-1] for line in paths[0].read_text().splitlines()])
    columns = np.repeat(np.tile(np.arange(10), 10), len(expected[0][0, 0]))  # cell column
    assert (flags[columns >= 6] == "0").all() and (flags[columns < 6] == "1").all()
    back = import_csep(tmp_path / "csep", like=forecast, masked="zero")
    np.testing.assert_allclose(back.rates, forecast.rates, rtol=1e-12)
    with pytest.raises(ValueError, match="mask must be a boolean array of the grid's shape"):
        csep_region(forecast, mask=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="mask holds no cell"):
        export_csep(forecast, tmp_path / "none", mask=np.zeros((10, 10), bool))
