"""Block-bootstrap intervals of the information gain against the T-test and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scores_testing import gamma_rates, make_forecast, simulate_events

from framecast.quake.scores.bootstrap import (
    block_bootstrap,
    block_index,
    bootstrap_information_gain,
)
from framecast.quake.scores.likelihood import information_gain

DAYS = 300


def _pair(truth: np.ndarray, seed: int):
    """Forecast A = the truth, B = its mean everywhere, events drawn from the truth."""
    observed = simulate_events(truth, seed=seed)
    a = make_forecast(truth, "truth", window_days=1.0)
    b = make_forecast(np.full_like(truth, truth.mean()), "uniform", window_days=1.0)
    return a, b, observed


def test_gain_is_the_t_test_gain_and_the_same_seed_gives_the_same_interval() -> None:
    a, b, observed = _pair(gamma_rates((60, 10, 10), seed=1, mean=0.01), seed=2)
    first = bootstrap_information_gain(a, b, observed, num_resamples=500, seed=3)
    again = bootstrap_information_gain(a, b, observed, num_resamples=500, seed=3)
    other = bootstrap_information_gain(a, b, observed, num_resamples=500, seed=4)
    gain = information_gain(a, b, observed).information_gain
    assert first.information_gain == pytest.approx(gain, rel=1e-12)
    assert (first.lower, first.upper) == (again.lower, again.upper)
    assert (first.lower, first.upper) != (other.lower, other.upper)
    assert first.lower < gain < first.upper
    assert first.num_blocks == 60 and first.block_days == 1.0
    assert first.to_dict()["width"] == pytest.approx(first.upper - first.lower)


def test_independent_events_give_about_the_t_test_width() -> None:
    """Events spread evenly over the days: resampling days is resampling events."""
    a, b, observed = _pair(gamma_rates((DAYS, 10, 10), seed=5, mean=0.01), seed=6)
    t_test = information_gain(a, b, observed)
    days = bootstrap_information_gain(a, b, observed, block_days=1.0, seed=0)
    assert len(observed) > 200
    assert days.width / (t_test.upper - t_test.lower) == pytest.approx(1.0, abs=0.2)


def test_events_clustered_in_a_few_days_widen_the_interval() -> None:
    """Most events in three days: the day blocks see 3 draws where the T-test sees hundreds."""
    truth = gamma_rates((DAYS, 10, 10), seed=7, mean=0.002)
    for day, factor in ((40, 150.0), (41, 60.0), (200, 150.0)):
        truth[day] *= factor
    a, b, observed = _pair(truth, seed=8)
    t_test = information_gain(a, b, observed)
    days = bootstrap_information_gain(a, b, observed, block_days=1.0, seed=0)
    months = bootstrap_information_gain(a, b, observed, block_days=30.0, seed=0)
    busy = np.bincount(observed.window, minlength=DAYS)[[40, 41, 200]].sum()
    assert busy > 0.6 * len(observed)
    assert days.width > 1.5 * (t_test.upper - t_test.lower)
    assert months.num_blocks == 10 and months.blocks_with_events == 10


def test_block_index_counts_calendar_blocks_from_the_first_start() -> None:
    starts = np.datetime64("2020-01-01T00", "us") + np.array(
        [0, 6, 23, 24, 30, 96]
    ) * np.timedelta64(1, "h")
    np.testing.assert_array_equal(block_index(starts, 1.0), [0, 0, 0, 1, 1, 2])  # days 2, 3 empty
    np.testing.assert_array_equal(block_index(starts, 2.0), [0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="block_days must be > 0"):
        block_index(starts, 0.0)


def test_two_blocks_resample_to_the_three_possible_gains() -> None:
    """Blocks (D, n) = (2, 1) and (0, 1): gains 2 (twice the first), 1 (one each), 0."""
    lower, upper, resampled = block_bootstrap(
        np.array([2.0, 0.0]), np.array([1, 1]), np.array([0, 1]), num_resamples=4000, seed=1
    )
    values, counts = np.unique(resampled, return_counts=True)
    np.testing.assert_allclose(values, [0.0, 1.0, 2.0])
    np.testing.assert_allclose(counts / 4000, [0.25, 0.5, 0.25], atol=0.03)
    assert (lower, upper) == (0.0, 2.0)


def test_one_block_with_events_has_no_interval() -> None:
    lower, upper, _ = block_bootstrap(
        np.array([2.0, -0.5, -0.5]), np.array([3, 0, 0]), np.array([0, 1, 2]), num_resamples=50
    )
    assert np.isnan(lower) and np.isnan(upper)
    with pytest.raises(ValueError, match="one value per window"):
        block_bootstrap(np.zeros(3), np.zeros(2), np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="num_resamples must be >= 1"):
        block_bootstrap(np.zeros(3), np.zeros(3), np.zeros(3, np.int64), num_resamples=0)
