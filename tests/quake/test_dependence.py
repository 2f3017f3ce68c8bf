"""Statistics for clustered events: moving/circular block bootstraps, their block-length
sensitivity, seed and Monte Carlo pooling, the Diebold-Mariano test, the busiest month."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from scores_testing import gamma_rates, make_forecast, simulate_events

from framecast.quake.scores.bootstrap import _CHUNK, block_bootstrap
from framecast.quake.scores.busiest_month import (
    gain_without_busiest_block,
    information_gain_without_busiest_month,
)
from framecast.quake.scores.diebold_mariano import (
    default_lag,
    diebold_mariano_information_gain,
    diebold_mariano_test,
    newey_west_variance,
)
from framecast.quake.scores.likelihood import information_gain, window_information_gain
from framecast.quake.scores.moving_blocks import (
    block_length_sensitivity,
    draw_blocks,
    moving_block_bootstrap,
    moving_block_information_gain,
)
from framecast.quake.scores.seed_pooling import pooled_block_bootstrap, window_differences


def _ar1(num: int, phi: float, seed: int) -> np.ndarray:
    """AR(1) series ``x_t = phi x_{t-1} + e_t`` with unit innovations, started stationary."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=num)
    series = np.empty(num)
    series[0] = noise[0] / math.sqrt(1 - phi**2)
    for t in range(1, num):
        series[t] = phi * series[t - 1] + noise[t]
    return series


def _correlated_days(num: int = 1500, phi: float = 0.9, seed: int = 0):
    """Daily differences of gain 0.1 per event plus AR(1) noise, 2 events a day."""
    events = np.full(num, 2)
    return 0.2 + _ar1(num, phi, seed), events


# ------------------------------------------------------------- block bootstrap
def test_correlated_days_widen_the_interval_with_the_block_length() -> None:
    difference, events = _correlated_days()
    single = moving_block_bootstrap(difference, events, block_length=1, method="moving")
    blocks = moving_block_bootstrap(difference, events, block_length=30, method="moving")
    assert (
        blocks.information_gain
        == single.information_gain
        == pytest.approx(difference.sum() / events.sum())
    )
    # the long-run variance of an AR(1) is (1 + phi) / (1 - phi) = 19 times its variance
    assert blocks.width > 2.5 * single.width
    assert blocks.lower < blocks.information_gain < blocks.upper
    rows = block_length_sensitivity(difference, events, num_resamples=1000)
    assert [row.block_length for row in rows] == [1, 7, 30, 90]
    assert [row.block_days for row in rows] == [1.0, 7.0, 30.0, 90.0]
    widths = [row.width for row in rows]
    assert widths[0] < widths[1] < widths[2] and widths[3] > 2.5 * widths[0]
    assert rows[2].to_dict()["method"] == "circular"


def test_independent_days_give_the_normal_width() -> None:
    rng = np.random.default_rng(4)
    difference = rng.normal(0.3, 1.0, 2000)
    events = np.ones(2000)
    result = moving_block_bootstrap(difference, events, block_length=1, num_resamples=4000)
    expected = 2 * 1.96 * difference.std() / math.sqrt(2000)
    assert result.width == pytest.approx(expected, rel=0.1)


@pytest.mark.parametrize("method", ["circular", "moving", "calendar"])
def test_a_constant_gain_per_event_gives_a_degenerate_interval(method: str) -> None:
    events = np.array([0, 3, 1, 0, 5, 2, 2, 0, 1, 4])
    result = moving_block_bootstrap(
        0.25 * events, events, block_length=3, method=method, num_resamples=300
    )
    assert result.lower == pytest.approx(0.25, rel=1e-12)
    assert result.upper == pytest.approx(0.25, rel=1e-12)
    assert result.num_undefined == 0 and result.n_events == 18
    constant = moving_block_bootstrap(np.full(50, -0.5), np.ones(50), block_length=7)
    assert (constant.lower, constant.upper) == pytest.approx((-0.5, -0.5), rel=1e-12)


def test_calendar_blocks_are_the_calendar_bootstrap() -> None:
    difference, events = _correlated_days(num=400, seed=3)
    for length in (1, 30, 7):  # 30 leaves a shorter last block
        new = moving_block_bootstrap(
            difference, events, block_length=length, method="calendar", seed=5, num_resamples=600
        )
        lower, upper, _ = block_bootstrap(
            difference, events, np.arange(400) // length, seed=5, num_resamples=600
        )
        assert (new.lower, new.upper) == pytest.approx((lower, upper), rel=1e-10)


def test_circular_blocks_cover_every_window_equally_and_moving_blocks_miss_the_ends() -> None:
    num, length = 20, 5
    rng = np.random.default_rng(0)
    cover = {}
    for method in ("circular", "moving"):
        starts, lengths = draw_blocks(rng, method, num, length, 20_000)  # [r, K], [K]
        assert lengths.sum() == num  # every resample is W windows
        windows = (starts[:, :, None] + np.arange(length)) % num  # [r, K, L]
        cover[method] = np.bincount(windows.reshape(-1), minlength=num) / windows.size
    np.testing.assert_allclose(cover["circular"], 1 / num, rtol=0.05)
    assert cover["moving"][0] < 0.5 * cover["moving"][num // 2]
    assert cover["moving"][-1] < 0.5 * cover["moving"][num // 2]


def test_the_same_seed_gives_the_same_interval() -> None:
    difference, events = _correlated_days(num=300, seed=1)
    first = moving_block_bootstrap(difference, events, block_length=7, seed=2)
    again = moving_block_bootstrap(difference, events, block_length=7, seed=2)
    other = moving_block_bootstrap(difference, events, block_length=7, seed=3)
    assert first == again and (first.lower, first.upper) != (other.lower, other.upper)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"block_length": 0}, "block_length must be >= 1 window, got 0"),
        ({"block_length": 11}, "block_length must be at most the 10 windows, got 11"),
        ({"block_length": 2.5}, "block_length must be a whole number of windows, got 2.5"),
        ({"block_length": 2, "method": "stationary"}, "method must be one of"),
        ({"block_length": 2, "num_resamples": 0}, "num_resamples must be >= 1, got 0"),
        ({"block_length": 2, "alpha": 1.0}, r"alpha must be in \(0, 1\), got 1.0"),
    ],
)
def test_bad_block_settings_are_refused(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        moving_block_bootstrap(np.zeros(10), np.ones(10), **arguments)
    assert "\n" not in str(error.value)


def test_bad_series_are_refused() -> None:
    with pytest.raises(ValueError, match=r"one count per window \(10\), got shape \(9,\)"):
        moving_block_bootstrap(np.zeros(10), np.ones(9), block_length=2)
    with pytest.raises(ValueError, match="need at least 2 windows, got 1"):
        moving_block_bootstrap(np.zeros(1), np.ones(1), block_length=1)
    with pytest.raises(ValueError, match="difference must be finite, got -inf"):
        moving_block_bootstrap(np.array([0.0, -np.inf, 1.0]), np.ones(3), block_length=1)
    with pytest.raises(ValueError, match=r"events must be finite counts >= 0, got -1\.0"):
        moving_block_bootstrap(np.zeros(3), np.array([1, -1, 0]), block_length=1)
    with pytest.raises(ValueError, match="block_lengths is empty"):
        block_length_sensitivity(np.zeros(3), np.ones(3), block_lengths=())


def _pair(truth: np.ndarray, seed: int):
    observed = simulate_events(truth, seed=seed)
    a = make_forecast(truth, "truth", window_days=1.0)
    b = make_forecast(np.full_like(truth, truth.mean()), "uniform", window_days=1.0)
    return a, b, observed


def test_forecast_wrappers_give_the_t_test_gain() -> None:
    a, b, observed = _pair(gamma_rates((90, 10, 10), seed=1, mean=0.01), seed=2)
    gain = information_gain(a, b, observed).information_gain
    blocks = moving_block_information_gain(a, b, observed, block_days=7, num_resamples=300)
    assert blocks.information_gain == pytest.approx(gain, rel=1e-12)
    assert blocks.block_length == 7 and (blocks.name_a, blocks.name_b) == ("truth", "uniform")
    assert blocks.lower < gain < blocks.upper
    with pytest.raises(ValueError, match=r"whole number \(>= 1\) of 1-day windows, got 2\.5"):
        moving_block_information_gain(a, b, observed, block_days=2.5)
    test = diebold_mariano_information_gain(a, b, observed)
    assert test.information_gain == pytest.approx(gain, rel=1e-12)
    assert test.lag == default_lag(90) and test.name_a == "truth"


# ------------------------------------------------------------- seeds and replicates
def test_one_seed_and_one_replicate_is_the_single_series_interval() -> None:
    difference, events = _correlated_days(num=200, seed=6)
    assert _CHUNK >= 200  # one chunk: the block draws come first in both
    single = moving_block_bootstrap(difference, events, block_length=7, num_resamples=200)
    pooled = pooled_block_bootstrap(
        difference[None, None], events, block_length=7, num_resamples=200
    )
    assert (pooled.lower, pooled.upper) == pytest.approx((single.lower, single.upper), rel=1e-12)
    assert (pooled.num_seeds, pooled.num_replicates) == (1, 1)


def test_spread_between_seeds_and_replicates_widens_the_interval() -> None:
    difference, events = _correlated_days(num=600, seed=7)
    seed_shift = np.array([-0.3, 0.0, 0.3])[:, None, None]  # nats per event, by seed
    replicate_shift = np.array([-0.2, 0.2])[None, :, None]  # by baseline replicate
    runs = difference + 2 * (seed_shift + replicate_shift)  # [3, 2, W], 2 events a day
    pooled = pooled_block_bootstrap(runs, events, block_length=30)
    single = moving_block_bootstrap(difference, events, block_length=30)
    assert (pooled.num_seeds, pooled.num_replicates) == (3, 2)
    assert pooled.information_gain == pytest.approx(single.information_gain, rel=1e-12)
    assert pooled.lower < single.lower - 0.3 and pooled.upper > single.upper + 0.3
    with pytest.raises(ValueError, match=r"difference must have 3 axes, got shape \(600,\)"):
        pooled_block_bootstrap(difference, events, block_length=30)


def test_window_differences_cross_every_seed_with_every_replicate() -> None:
    truth = gamma_rates((40, 10, 10), seed=8, mean=0.02)
    observed = simulate_events(truth, seed=9)
    seeds = [make_forecast(truth * f, f"net{f}", window_days=1.0) for f in (0.8, 1.0, 1.3)]
    replicates = [make_forecast(gamma_rates((40, 10, 10), s, 0.02), f"etas{s}") for s in (1, 2)]
    replicates = [make_forecast(r.rates, r.name, window_days=1.0) for r in replicates]
    difference, events = window_differences(seeds, replicates, observed)
    assert difference.shape == (3, 2, 40) and events.sum() == len(observed)
    for s, m in ((0, 0), (2, 1), (1, 0)):
        expected, _ = window_information_gain(seeds[s], replicates[m], observed)
        np.testing.assert_allclose(difference[s, m], expected, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="at least one forecast on each side, got 0 and 2"):
        window_differences([], replicates, observed)


# ------------------------------------------------------------- Diebold-Mariano
def test_newey_west_matches_a_hand_computation() -> None:
    """x = 1, 2, 3, 4: deviations -1.5, -0.5, 0.5, 1.5; gamma_0 = 5/4, gamma_1 = 5/16,
    gamma_2 = -3/8; Bartlett weights 1/2 (h = 1) and 2/3, 1/3 (h = 2)."""
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert newey_west_variance(x, 0) == pytest.approx(5 / 4)
    assert newey_west_variance(x, 1) == pytest.approx(5 / 4 + 2 * (1 / 2) * (5 / 16))  # 25/16
    assert newey_west_variance(x, 2) == pytest.approx(5 / 4 + 2 * (2 / 3 * 5 / 16 - 1 / 3 * 3 / 8))
    assert newey_west_variance(x, 2) == pytest.approx(17 / 12)
    for lag in (-1, 4, 1.5):
        with pytest.raises(
            ValueError, match=rf"lag must be an integer in 0 \.\. 3 \(T - 1\), got {lag}"
        ):
            newey_west_variance(x, lag)


def test_diebold_mariano_with_lag_zero_is_the_z_test() -> None:
    rng = np.random.default_rng(11)
    difference = rng.normal(0.05, 1.0, 500)
    events = rng.poisson(1.5, 500)
    test = diebold_mariano_test(difference, events, lag=0)
    z = difference.mean() / (difference.std() / math.sqrt(500))
    assert test.statistic == pytest.approx(z, rel=1e-12)
    assert test.p_value == pytest.approx(2 * scipy.stats.norm.sf(abs(z)), rel=1e-12)
    assert test.information_gain == pytest.approx(difference.sum() / events.sum(), rel=1e-12)
    half = 1.959964 * difference.std() / math.sqrt(500) / events.mean()
    assert (test.lower, test.upper) == pytest.approx(
        (test.information_gain - half, test.information_gain + half), rel=1e-5
    )


def test_diebold_mariano_allows_for_correlated_days() -> None:
    difference, events = _correlated_days(num=1500, phi=0.9, seed=12)
    naive = diebold_mariano_test(difference, events, lag=0)
    hac = diebold_mariano_test(difference, events, lag=30)
    default = diebold_mariano_test(difference, events)
    assert default.lag == default_lag(1500) == 7
    assert hac.long_run_variance > 5 * naive.long_run_variance
    assert abs(hac.statistic) < abs(naive.statistic) / 2
    assert hac.p_value > naive.p_value
    for test in (naive, hac, default):
        z = scipy.stats.norm.ppf(0.975)
        assert test.significant == (abs(test.statistic) > z) == (test.lower > 0 or test.upper < 0)


def test_diebold_mariano_defaults_and_refusals() -> None:
    assert (default_lag(2), default_lag(365), default_lag(3650)) == (1, 5, 8)
    constant = diebold_mariano_test(np.full(10, 0.5), np.ones(10), lag=2)
    assert constant.long_run_variance == pytest.approx(0.0, abs=1e-20)
    assert constant.statistic == math.inf and constant.p_value == 0.0
    no_events = diebold_mariano_test(np.array([0.1, -0.2, 0.3]), np.zeros(3), lag=1)
    assert math.isnan(no_events.information_gain) and math.isfinite(no_events.statistic)
    with pytest.raises(ValueError, match="need at least 2 windows, got 1"):
        diebold_mariano_test(np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match=r"one count per window \(3\), got shape \(2,\)"):
        diebold_mariano_test(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match=r"lag must be an integer in 0 \.\. 2"):
        diebold_mariano_test(np.ones(3), np.ones(3), lag=3)


# ------------------------------------------------------------- busiest month
def test_the_busiest_block_is_left_out() -> None:
    difference = np.array([1.0, 0.0, 5.0, 4.0, -1.0, 0.5])
    events = np.array([1, 0, 6, 3, 1, 1])
    blocks = np.array([0, 0, 1, 1, 2, 2])
    result = gain_without_busiest_block(difference, events, blocks)
    assert result.information_gain == pytest.approx(9.5 / 12)
    assert result.information_gain_without == pytest.approx(0.5 / 3)
    assert (result.removed_block, result.removed_windows, result.removed_events) == (1, 2, 9)
    assert result.change == pytest.approx(0.5 / 3 - 9.5 / 12)
    tie = gain_without_busiest_block(difference, np.array([2, 0, 1, 1, 1, 1]), blocks)
    assert tie.removed_block == 0  # the earliest of the busiest
    with pytest.raises(ValueError, match="blocks must be integers, one per window"):
        gain_without_busiest_block(difference, events, blocks[:5])
    with pytest.raises(ValueError, match="blocks must be >= 0, got -1"):
        gain_without_busiest_block(difference, events, blocks - 1)


def test_the_busiest_month_of_a_forecast_pair() -> None:
    truth = gamma_rates((120, 10, 10), seed=13, mean=0.003)
    truth[70] *= 200.0  # an aftershock day in the third month (days 60-89)
    a, b, observed = _pair(truth, seed=14)
    result = information_gain_without_busiest_month(a, b, observed)
    difference, events = window_information_gain(a, b, observed)
    assert result.removed_block == 2 and result.removed_start == "2020-03-01"
    assert result.information_gain == pytest.approx(
        information_gain(a, b, observed).information_gain
    )
    kept = np.r_[0:60, 90:120]
    assert result.information_gain_without == pytest.approx(
        difference[kept].sum() / events[kept].sum(), rel=1e-12
    )
    assert result.removed_events == events[60:90].sum() and result.name_b == "uniform"


def test_identical_forecasts_get_no_diebold_mariano_statistic() -> None:
    from framecast.quake.report_dependence import dependence_rows

    rates = gamma_rates((60, 10, 10), seed=5)
    forecast = make_forecast(rates, "same", window_days=1.0)
    observed = simulate_events(rates, seed=6)
    row = dependence_rows(forecast, forecast, observed)[0]
    assert "n/a (the forecasts are identical)" in row and "nan" not in row
    other = make_forecast(rates * 1.1, "other", window_days=1.0)
    assert "identical" not in dependence_rows(other, forecast, observed)[0]
