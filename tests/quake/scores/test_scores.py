"""Log-likelihood, information gain, binary skill and the score table."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.stats
from scores_testing import GRID, gamma_rates, make_forecast, simulate_events

from framecast.quake.catalog.events import Catalog
from framecast.quake.grid import Grid
from framecast.quake.rates import RateForecast, magnitude_edges
from framecast.quake.scores.registry import FORECAST_SCORES, PAIR_SCORES
from framecast.quake.scores.table import (
    ObservedEvents,
    binary_skill,
    bootstrap_information_gain,
    check_compatible,
    cumulative_information_gain,
    information_gain,
    log_likelihood,
    molchan_curve,
    molchan_diagram,
    observed_from_catalog,
    roc_curve,
    score_forecasts,
    w_test,
)

SHAPE = (4, 10, 10)


# ------------------------------------------------------------------ observed events
def test_observed_from_catalog_keeps_target_events_in_windows_and_cells() -> None:
    forecast = make_forecast(np.ones((2, 10, 10)), window_days=1.0)
    catalog = Catalog.from_columns(
        time=[
            "2020-01-01T05:00",  # window 0
            "2020-01-02T00:00",  # exactly the start of window 1
            "2020-01-03T00:00",  # end of window 1: excluded
            "2020-01-01T06:00",  # below mc
            "2020-01-01T07:00",  # outside the grid
            "2019-12-31T23:00",  # before the first window
        ],
        latitude=[33.05, 33.95, 33.5, 33.5, 35.0, 33.5],
        longitude=[-116.95, -116.05, -116.5, -116.5, -116.5, -116.5],
        magnitude=[3.0, 2.5, 4.0, 2.4, 4.0, 4.0],
    )
    observed = observed_from_catalog(catalog, forecast)
    assert observed.window.tolist() == [0, 1]
    assert observed.row.tolist() == [0, 9]
    assert observed.column.tolist() == [0, 9]
    assert observed.magnitude.tolist() == [3.0, 2.5]
    counts = observed.counts(forecast.rates.shape)
    assert counts.dtype == np.int64 and counts.sum() == 2 and counts[1, 9, 9] == 1


def test_overlapping_windows_count_an_event_in_each() -> None:
    starts = np.datetime64("2020-01-01", "us") + np.arange(3) * np.timedelta64(1, "D")
    forecast = RateForecast("overlap", np.ones((3, 10, 10)), starts, 2.0, GRID, 2.5)
    catalog = Catalog.from_columns(
        time=["2020-01-02T12:00"], latitude=[33.5], longitude=[-116.5], magnitude=[3.0]
    )
    assert observed_from_catalog(catalog, forecast).window.tolist() == [0, 1]


def test_counts_by_magnitude_bins_rounded_magnitudes_and_open_last_bin() -> None:
    edges = magnitude_edges(2.5, 8.0)  # 2.5, 2.6, ..., 8.0; 2.5 + 8 * 0.1 != 3.3 exactly
    observed = ObservedEvents([0, 0, 0], [1, 1, 2], [3, 3, 4], [3.3, 2.5, 9.1])
    counts = observed.counts_by_magnitude(edges, SHAPE)
    assert counts.shape == (*SHAPE, len(edges))
    assert counts[0, 1, 3, 8] == 1  # 3.3 in the bin starting at 3.3
    assert counts[0, 1, 3, 0] == 1
    assert counts[0, 2, 4, -1] == 1  # above 8.0: the open-ended last bin
    assert counts.sum() == 3


def test_observed_events_outside_the_forecast_are_rejected() -> None:
    forecast = make_forecast(np.ones(SHAPE))
    with pytest.raises(ValueError, match="window index 4 is outside"):
        log_likelihood(forecast, ObservedEvents([4], [0], [0], [3.0]))
    with pytest.raises(ValueError, match="below forecast 'model'"):
        log_likelihood(forecast, ObservedEvents([0], [0], [0], [2.0]))
    with pytest.raises(ValueError, match="differ in length"):
        ObservedEvents([0, 1], [0], [0], [3.0])


# ---------------------------------------------------------------- log-likelihood
def test_log_likelihood_per_window_matches_scipy_poisson_logpmf() -> None:
    rates = gamma_rates(SHAPE, seed=1)
    forecast = make_forecast(rates, b_value=0.9)
    observed = simulate_events(rates, seed=2)
    counts = observed.counts(SHAPE)
    expected = scipy.stats.poisson.logpmf(counts, rates).sum(axis=(1, 2))
    np.testing.assert_allclose(log_likelihood(forecast, observed), expected, rtol=1e-12)

    by_magnitude, edges = forecast.by_magnitude()
    counts_m = observed.counts_by_magnitude(edges, SHAPE)
    expected_m = scipy.stats.poisson.logpmf(counts_m, by_magnitude).sum(axis=(1, 2, 3))
    got_m = log_likelihood(forecast, observed, magnitude_bins=True)
    np.testing.assert_allclose(got_m, expected_m, rtol=1e-12)
    assert not np.allclose(got_m, expected)


def test_zero_rate_where_an_event_occurred_is_minus_infinity_unless_floored() -> None:
    rates = np.full(SHAPE, 0.01)
    rates[0, 2, 3] = 0.0
    forecast = make_forecast(rates)
    observed = ObservedEvents([0, 1], [2, 2], [3, 3], [3.0, 3.0])
    scores = log_likelihood(forecast, observed)
    assert scores[0] == -np.inf and np.isfinite(scores[1:]).all()
    floored = log_likelihood(forecast, observed, floor=1e-8)
    assert np.isfinite(floored).all()
    np.testing.assert_allclose(floored[0], np.log(1e-8) - (rates[0].sum() + 1e-8), rtol=1e-12)


# ------------------------------------------------------------- information gain
def test_information_gain_follows_rhoades_equations() -> None:
    rates_a, rates_b = gamma_rates(SHAPE, seed=3), gamma_rates(SHAPE, seed=4)
    forecast_a, forecast_b = make_forecast(rates_a, "A"), make_forecast(rates_b, "B")
    observed = simulate_events(rates_a, seed=5)
    test = information_gain(forecast_a, forecast_b, observed, alpha=0.1)
    flat = observed.flat_index(SHAPE)
    gain = np.log(rates_a.reshape(-1)[flat]) - np.log(rates_b.reshape(-1)[flat])
    n = len(gain)
    expected = gain.mean() - (rates_a.sum() - rates_b.sum()) / n
    half = scipy.stats.t.ppf(0.95, n - 1) * gain.std(ddof=1) / np.sqrt(n)
    assert test.n_events == n and test.n_forecast_a == pytest.approx(rates_a.sum())
    assert test.information_gain == pytest.approx(expected, rel=1e-12)
    assert test.lower == pytest.approx(expected - half, rel=1e-12)
    assert test.upper == pytest.approx(expected + half, rel=1e-12)
    assert test.t_statistic == pytest.approx(expected / (gain.std(ddof=1) / np.sqrt(n)))


def test_information_gain_of_a_forecast_over_itself_is_zero() -> None:
    forecast = make_forecast(gamma_rates(SHAPE, seed=6))
    test = information_gain(forecast, forecast, simulate_events(forecast.rates, seed=7))
    assert test.information_gain == 0.0
    assert test.lower <= 0.0 <= test.upper
    assert not test.significant


def test_more_rate_where_events_occur_gives_significant_positive_gain() -> None:
    truth = gamma_rates((20, 10, 10), seed=8, mean=0.05)
    observed = simulate_events(truth, seed=9)
    uniform = np.full_like(truth, truth.mean())  # same expected number, no spatial skill
    test = information_gain(make_forecast(truth, "truth"), make_forecast(uniform), observed)
    assert test.information_gain > 0.3
    assert test.lower > 0 and test.significant
    reverse = information_gain(make_forecast(uniform), make_forecast(truth, "truth"), observed)
    assert reverse.information_gain == pytest.approx(-test.information_gain)
    assert reverse.upper < 0


def test_information_gain_uses_magnitude_bins_when_b_values_differ() -> None:
    rates = gamma_rates(SHAPE, seed=10)
    observed = simulate_events(rates, seed=11)
    same = information_gain(make_forecast(rates, b_value=0.8), make_forecast(rates), observed)
    # equal cell rates, different magnitude split: only the magnitude bins tell them apart
    assert same.information_gain != pytest.approx(0.0, abs=1e-6)


def test_cumulative_information_gain_ends_at_the_t_test_gain() -> None:
    rates_a, rates_b = gamma_rates(SHAPE, seed=12), gamma_rates(SHAPE, seed=13)
    forecast_a = make_forecast(rates_a, "A", b_value=1.1)
    forecast_b = make_forecast(rates_b, "B")
    observed = simulate_events(rates_a, seed=14)
    observed = observed.select(observed.window > 0)  # no events in window 0
    curve = cumulative_information_gain(forecast_a, forecast_b, observed)
    assert curve.shape == (4,) and np.isnan(curve[0]) and np.isfinite(curve[1:]).all()
    gain = information_gain(forecast_a, forecast_b, observed).information_gain
    assert curve[-1] == pytest.approx(gain, rel=1e-12)
    difference = np.cumsum(
        log_likelihood(forecast_a, observed, magnitude_bins=True)
        - log_likelihood(forecast_b, observed, magnitude_bins=True)
    )
    events = np.cumsum(np.bincount(observed.window, minlength=4))
    np.testing.assert_allclose(curve[1:], difference[1:] / events[1:], rtol=1e-10)


def test_mismatched_forecasts_are_rejected() -> None:
    forecast = make_forecast(np.ones(SHAPE), "A")
    other_grid = Grid(33.0, 34.0, -117.0, -116.0, 0.2)
    cases = {
        "different grids": make_forecast(np.ones((4, 5, 5)), "B", grid=other_grid),
        "different window lengths": make_forecast(np.ones(SHAPE), "B", window_days=1.0),
        "different windows": make_forecast(np.ones((3, 10, 10)), "B"),
        "different magnitudes of completeness": make_forecast(np.ones(SHAPE), "B", mc=3.0),
    }
    observed = ObservedEvents([0], [0], [0], [3.0])
    for message, other in cases.items():
        with pytest.raises(ValueError, match=message):
            check_compatible([forecast, other])
        with pytest.raises(ValueError, match=message):
            information_gain(forecast, other, observed)
        with pytest.raises(ValueError, match=message):
            score_forecasts([forecast, other], observed, reference="A")


# ------------------------------------------------------------------- binary skill
def test_constant_forecast_has_no_skill() -> None:
    forecast = make_forecast(np.full(SHAPE, 0.05))
    observed = simulate_events(gamma_rates(SHAPE, seed=15), seed=16)
    skill = binary_skill(forecast, observed)
    assert skill.roc_auc == pytest.approx(0.5)
    assert skill.area_skill_score == pytest.approx(0.5)
    assert skill.pr_auc == pytest.approx(skill.prevalence, rel=1e-6)
    # one group of ties: the Molchan trajectory is the diagonal from (0, 1) to (1, 0)
    assert skill.molchan.tau.tolist() == [0.0, 1.0]
    assert skill.molchan.nu.tolist() == [1.0, 0.0]


def test_perfect_separation_has_full_roc_area() -> None:
    observed = ObservedEvents([0, 1, 3, 3], [1, 5, 9, 9], [2, 5, 0, 0], [3.0, 2.7, 4.1, 2.5])
    rates = np.full(SHAPE, 0.01)
    rates[observed.window, observed.row, observed.column] = 0.5
    skill = binary_skill(make_forecast(rates), observed)
    assert skill.roc_auc == pytest.approx(1.0)
    assert skill.pr_auc == pytest.approx(1.0)
    assert skill.n_positive == 3 and skill.n_events == 4
    # all events caught once the 3 of 400 bins are alarmed: ASS = 1 - (3/400)/2
    assert skill.area_skill_score == pytest.approx(1 - 3 / 800)
    assert skill.molchan.nu[1] == 0.0 and skill.molchan.tau[1] == pytest.approx(3 / 400)


def test_molchan_curve_ties_enter_together_and_span_zero_to_one() -> None:
    probability = np.array([0.9, 0.5, 0.5, 0.5, 0.1, 0.1])
    events = np.array([1, 0, 2, 0, 1, 0])
    curve = molchan_curve(probability, events)
    np.testing.assert_allclose(curve.tau, [0, 1 / 6, 4 / 6, 1])
    np.testing.assert_allclose(curve.nu, [1, 3 / 4, 1 / 4, 0])
    assert curve.thresholds.tolist() == [np.inf, 0.9, 0.5, 0.1]
    area = np.trapezoid(curve.nu, curve.tau)
    assert curve.area_skill_score == pytest.approx(1 - area)


def test_molchan_with_a_reference_measure_weights_space_time() -> None:
    forecast = make_forecast(np.full(SHAPE, 0.05))
    reference = np.full(SHAPE, 1.0)
    reference[0] = 3.0  # window 0 is half the reference measure
    high = np.full(SHAPE, 0.05)
    high[0] = 0.2
    observed = ObservedEvents([0, 2], [1, 1], [1, 1], [3.0, 3.0])
    curve = molchan_diagram(make_forecast(high), observed, reference=reference)
    np.testing.assert_allclose(curve.tau, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(curve.nu, [1.0, 0.5, 0.0])
    assert curve.area_skill_score == pytest.approx(0.5)
    with pytest.raises(ValueError, match="reference measure has shape"):
        molchan_diagram(forecast, observed, reference=np.ones((4, 5, 5)))


def test_roc_curve_area_matches_torchmetrics_with_ties() -> None:
    rates = np.round(gamma_rates(SHAPE, seed=17), 2) + 0.01  # many ties
    observed = simulate_events(rates, seed=18)
    skill = binary_skill(make_forecast(rates), observed)
    assert skill.roc.area == pytest.approx(skill.roc_auc, abs=1e-6)
    assert 0.6 < skill.roc_auc < 1.0
    curve = roc_curve(np.zeros(4), np.array([True, False, True, False]))
    assert curve.area == pytest.approx(0.5)


def test_binary_skill_for_larger_events_uses_gutenberg_richter_rates() -> None:
    observed = ObservedEvents([0, 0], [1, 2], [1, 2], [2.6, 4.2])
    rates = np.full(SHAPE, 0.01)
    rates[0, 1, 1] = 1.0  # high rate where only the small event occurred
    skill = binary_skill(make_forecast(rates), observed, magnitude=4.0)
    assert skill.n_events == 1 and skill.n_positive == 1
    assert skill.roc_auc < 0.5  # the large event fell in an ordinary bin


# ------------------------------------------------------------------- score table
def test_score_forecasts_builds_a_table_with_markdown_and_json() -> None:
    pytest.importorskip("csep")
    truth = gamma_rates(SHAPE, seed=19)
    observed = simulate_events(truth, seed=20)
    forecasts = {
        "model": make_forecast(truth, "model"),
        "reference": make_forecast(np.full(SHAPE, truth.mean()), "poisson"),
        "ETAS": make_forecast(truth**0.5 * truth.sum() / (truth**0.5).sum(), "etas"),
    }
    table = score_forecasts(
        forecasts, observed, reference="reference", baselines=["ETAS"], num_simulations=100
    )
    assert table.names == ["model", "reference", "ETAS"]
    model = table["model"]
    assert model.log_likelihood == pytest.approx(log_likelihood(forecasts["model"], observed).sum())
    assert model.log_likelihood_per_event == pytest.approx(model.log_likelihood / len(observed))
    tests = (model.n_test, model.m_test, model.s_test, model.st_test, model.l_test)
    assert [t.name for t in tests] == ["N-test", "M-test", "S-test", "ST-test", "L-test"]
    assert model.n_test_windows.num_windows == 4
    pairs = {(t.name_a, t.name_b) for t in table.comparisons}
    assert pairs == {
        ("model", "reference"),
        ("ETAS", "reference"),
        ("model", "ETAS"),
        ("reference", "ETAS"),
    }
    direct = information_gain(forecasts["model"], forecasts["reference"], observed)
    assert table.comparison("model", "reference").information_gain == direct.information_gain
    pair = table.pair("model", "reference")
    assert (
        pair.w_test.p_value == w_test(forecasts["model"], forecasts["reference"], observed).p_value
    )
    days = bootstrap_information_gain(forecasts["model"], forecasts["reference"], observed)
    assert (pair.bootstrap_1d.lower, pair.bootstrap_1d.upper) == (days.lower, days.upper)
    assert pair.bootstrap_1d.name_a == "model"  # the table's key, not the forecast's name
    # four 7-day windows are one 30-day block: no interval decides, so nothing is significant
    assert pair.bootstrap_30d.num_blocks == 1 and np.isnan(pair.bootstrap_30d.lower)
    assert pair.significant is False and direct.significant
    assert table["reference"].binary.roc_auc == pytest.approx(0.5)

    markdown = table.to_markdown()
    assert "| model | reference | 0.813 |" in markdown.replace(" *", "")
    assert (
        "| Forecast | over | gain | T-test (assumes independent events) | "
        "W-test p (median gain; assumes independent events)"
    ) in markdown
    assert "The T- and W-tests assume independent events" in markdown
    assert "rests on the 30-day blocks interval" in markdown
    assert "nats" in markdown and "ROC AUC" in markdown and "Molchan" in markdown
    assert markdown.count("| model | 42.0 |") == 1  # one row in the forecast table
    headline = table.headline()
    # one line per comparison: over the reference, then over the ETAS baseline
    assert len(headline) == len(table.comparisons) == 4
    assert headline[0].startswith("- **model** over reference")
    assert headline[-1].startswith("- **reference** over ETAS")
    assert "no interval: too few blocks with events" in headline[0]
    values = json.loads(json.dumps(table.to_dict(), allow_nan=False))
    assert values["forecasts"]["model"]["n_test"]["name"] == "N-test"
    assert values["forecasts"]["model"]["n_test_windows"]["num_windows"] == 4
    assert values["comparisons"][0]["t_test"]["information_gain"] == direct.information_gain
    assert values["comparisons"][0]["decided_by"] == "bootstrap_30d"
    assert values["test_period"]["n_events"] == len(observed)
    assert values["settings"]["num_resamples"] == 2000

    with pytest.raises(ValueError, match="reference 'nope' is not among"):
        score_forecasts(forecasts, observed, reference="nope")
    with pytest.raises(ValueError, match="two forecasts are named"):
        score_forecasts([forecasts["model"], forecasts["model"]], observed, reference="model")


def test_a_registered_score_reaches_the_table_markdown_and_json() -> None:
    """Adding a score is one decorated function: the table, Markdown and JSON pick it up."""
    from framecast.quake.scores.table import forecast_score, pair_score

    @forecast_score(
        "peak_rate",
        headers=("peak λ",),
        cells=lambda value: (f"{value:.2f}",),
        legend=lambda table: "- **peak λ**: the largest bin rate.",
    )
    def _peak(forecast, observed, settings):
        return float(forecast.rates.max())

    @pair_score("rate_ratio", headers=("rate ratio",), cells=lambda value: (f"{value:.2f}",))
    def _ratio(forecast_a, forecast_b, observed, settings):
        return float(forecast_a.rates.sum() / forecast_b.rates.sum())

    try:
        observed = simulate_events(gamma_rates(SHAPE, seed=22), seed=23)
        forecasts = [make_forecast(np.full(SHAPE, 0.2), "a"), make_forecast(np.ones(SHAPE), "b")]
        table = score_forecasts(
            forecasts,
            observed,
            reference="b",
            forecast_scores=["n_test", "peak_rate"],
            pair_scores=["t_test", "bootstrap_30d", "rate_ratio"],
        )
        assert table["a"].peak_rate == 0.2 and table.pair("a", "b").rate_ratio == 0.2
        markdown = table.to_markdown()
        assert "| Forecast | N-test δ1 / δ2 | peak λ |" in markdown and "| 0.20 |" in markdown
        assert "rate ratio" in markdown and "- **peak λ**: the largest bin rate." in markdown
        values = table.to_dict()
        assert values["forecasts"]["a"]["peak_rate"] == 0.2
        assert values["comparisons"][0]["rate_ratio"] == 0.2
        with pytest.raises(AttributeError, match="no score 'l_test'"):
            _ = table["a"].l_test
        with pytest.raises(ValueError, match="unknown forecast score 'nope'"):
            score_forecasts(forecasts, observed, reference="b", forecast_scores=["nope"])
        with pytest.raises(ValueError, match="decisive score 'bootstrap_30d' is not among"):
            score_forecasts(forecasts, observed, reference="b", pair_scores=["t_test"])
    finally:
        del FORECAST_SCORES["peak_rate"], PAIR_SCORES["rate_ratio"]


def test_no_events_give_nan_scores_not_errors() -> None:
    forecast = make_forecast(gamma_rates(SHAPE, seed=21))
    empty = ObservedEvents.empty()
    np.testing.assert_allclose(log_likelihood(forecast, empty), -forecast.rates.sum(axis=(1, 2)))
    test = information_gain(forecast, make_forecast(np.ones(SHAPE)), empty)
    assert test.n_events == 0 and np.isnan(test.information_gain) and np.isnan(test.lower)
    assert np.isnan(cumulative_information_gain(forecast, forecast, empty)).all()
    assert np.isnan(w_test(forecast, make_forecast(np.ones(SHAPE)), empty).p_value)
    assert np.isnan(bootstrap_information_gain(forecast, forecast, empty).lower)
    skill = binary_skill(forecast, empty)
    assert np.isnan(skill.roc_auc) and np.isnan(skill.area_skill_score) and skill.n_events == 0
