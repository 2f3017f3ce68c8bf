"""First-order ETAS rate forecasts on a grid."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy import stats

from framecast.quake import Catalog, Grid
from framecast.quake.etas.forecast import (
    etas_expected_count,
    etas_rate_forecast,
    spatial_fractions,
    window_time_weights,
)
from framecast.quake.etas.parameters import (
    ETASParameters,
    expected_aftershocks,
    spatial_kernel_cdf,
    time_kernel_integral,
)
from framecast.quake.etas.region import as_region
from framecast.quake.etas.simulate import sample_offsets, simulate_etas

PARAMS = ETASParameters(
    log10_mu=-5.0,
    log10_k0=-2.4,
    a=1.6,
    log10_c=-2.5,
    omega=0.1,
    log10_tau=2.5,
    log10_d=-0.5,
    gamma=1.2,
    rho=0.9,
    mc=3.0,
)  # η ≈ 0.6
GRID = Grid(34.0, 35.0, -118.0, -117.0, 0.1)
DAY = np.timedelta64(1, "D")


def _one_event(when: str, magnitude: float, lat: float = 34.55, lon: float = -117.55) -> Catalog:
    return Catalog.from_columns(
        time=[np.datetime64(when, "us")], latitude=[lat], longitude=[lon], magnitude=[magnitude]
    )


def test_no_history_gives_the_background_rate_exactly() -> None:
    starts = np.datetime64("2020-01-01", "us") + np.arange(5) * 7 * DAY
    forecast = etas_rate_forecast(PARAMS, Catalog.empty(), GRID, starts, 7.0)
    assert forecast.rates.shape == (5, *GRID.shape)
    expected = PARAMS.mu * GRID.cell_areas_km2() * 7.0
    np.testing.assert_allclose(forecast.rates, np.broadcast_to(expected, forecast.rates.shape))
    assert forecast.rates[0].sum() == pytest.approx(PARAMS.mu * GRID.area_km2() * 7.0, rel=1e-12)
    assert (forecast.name, forecast.mc, forecast.b_value) == ("ETAS", 3.0, 1.0)


def test_one_big_event_adds_its_aftershocks_near_it() -> None:
    event = _one_event("2019-12-31T12:00", 6.0)
    starts = np.array([np.datetime64("2020-01-01", "us"), np.datetime64("2020-02-01", "us")])
    forecast = etas_rate_forecast(PARAMS, event, GRID, starts, 10.0)
    extra = forecast.rates - PARAMS.mu * GRID.cell_areas_km2() * 10.0  # [W, H, X]
    row, col = (int(i[0]) for i in GRID.locate(event.latitude, event.longitude))
    assert np.unravel_index(extra[0].argmax(), GRID.shape) == (row, col)
    near = extra[0, row - 1 : row + 2, col - 1 : col + 2].sum()
    assert near > 0.8 * extra[0].sum()
    # totals: the whole-plane expectation times the share of the kernel on the grid
    for w, begin in enumerate((0.5, 31.5)):
        whole_plane = float(expected_aftershocks(PARAMS, 6.0, begin, begin + 10.0))
        x, y = as_region(GRID).project(event.latitude, event.longitude)
        x_min, x_max, y_min, y_max = as_region(GRID).bounds_km
        nearest = min(x[0] - x_min, x_max - x[0], y[0] - y_min, y_max - y[0])
        farthest = math.hypot(max(x[0] - x_min, x_max - x[0]), max(y[0] - y_min, y_max - y[0]))
        inside_low = float(spatial_kernel_cdf(PARAMS, 6.0, nearest**2))
        inside_high = float(spatial_kernel_cdf(PARAMS, 6.0, farthest**2))
        share = extra[w].sum() / whole_plane
        assert inside_low - 0.01 <= share <= inside_high + 0.01
        assert share < 1.0
    assert extra[1].sum() < extra[0].sum()  # Omori decay
    counts = etas_expected_count(PARAMS, event, GRID, starts, 10.0)
    assert counts[0] == pytest.approx(
        PARAMS.mu * as_region(GRID).area_km2 * 10 + expected_aftershocks(PARAMS, 6.0, 0.5, 10.5)
    )


def test_events_at_or_after_the_window_start_are_not_history() -> None:
    event = _one_event("2020-01-01", 6.0)
    starts = np.array([np.datetime64("2020-01-01", "us"), np.datetime64("2020-01-02", "us")])
    forecast = etas_rate_forecast(PARAMS, event, GRID, starts, 1.0)
    background = PARAMS.mu * GRID.cell_areas_km2()
    np.testing.assert_allclose(forecast.rates[0], background)
    extra = forecast.rates[1].sum() - background.sum()
    assert 0.8 < extra / float(expected_aftershocks(PARAMS, 6.0, 1.0, 2.0)) < 1.0


def test_window_time_weights_are_kernel_integrals() -> None:
    sources = np.array([0.0, 5.0, 12.0])
    weights = window_time_weights(PARAMS, sources, np.array([10.0, 11.0]), 1.0)  # [W=2, N=3]
    assert weights.shape == (2, 3)
    assert weights[0, 0] == pytest.approx(float(time_kernel_integral(PARAMS, 10.0, 11.0)))
    assert weights[1, 1] == pytest.approx(float(time_kernel_integral(PARAMS, 6.0, 7.0)))
    assert weights[0, 2] == 0.0 and weights[1, 2] == 0.0


def test_spatial_fractions_sum_to_the_kernel_share_on_the_grid() -> None:
    x, y = GRID.project(np.array([34.5, 34.5]), np.array([-117.5, -117.0]))
    fractions = spatial_fractions(PARAMS, GRID, x, y, np.array([3.0, 3.0]))
    center_share = float(spatial_kernel_cdf(PARAMS, 3.0, 45.0**2))
    assert fractions[0].sum() == pytest.approx(1.0, abs=1.5 * (1 - center_share) + 2e-3)
    assert fractions[1].sum() == pytest.approx(0.5, abs=0.02)  # an event on the eastern edge
    assert (fractions >= 0).all()


@pytest.mark.parametrize(("magnitude", "rho", "cell"), [(3.0, 0.5, 0.1), (5.5, 1.0, 0.02)])
def test_spatial_fractions_match_monte_carlo(magnitude: float, rho: float, cell: float) -> None:
    params = ETASParameters(rho=rho, log10_d=-0.5, mc=3.0)
    grid = Grid(34.0, 35.0, -118.0, -117.0, cell)
    lat, lon = np.array([34.503]), np.array([-117.498])  # near a cell corner
    x, y = grid.project(lat, lon)
    fractions = spatial_fractions(params, grid, x, y, np.array([magnitude]))[0]  # [C]
    draws = 1_000_000
    dx, dy = sample_offsets(params, np.full(draws, magnitude), np.random.default_rng(0))
    rows, cols = grid.locate(*grid.unproject(x + dx, y + dy))
    on_grid = rows >= 0
    counts = np.bincount(rows[on_grid] * grid.shape[1] + cols[on_grid], minlength=fractions.size)
    share = counts / draws
    tolerance = 5 * np.sqrt(share * (1 - share) / draws) + 2e-5
    assert np.all(np.abs(fractions - share) <= tolerance)
    assert fractions.sum() == pytest.approx(share.sum(), abs=5e-4)


def test_true_model_beats_a_uniform_forecast_on_simulated_data() -> None:
    catalog = simulate_etas(
        PARAMS,
        GRID,
        "2010-01-01",
        "2014-01-01",
        burn_in_days=1000,
        max_magnitude=6.5,
        seed=11,
        include_burn_in=True,
    )
    starts = np.datetime64("2012-01-01", "us") + np.arange(730) * DAY  # daily windows
    forecast = etas_rate_forecast(PARAMS, catalog, GRID, starts, 1.0)
    observed = np.zeros_like(forecast.rates)
    for w, begin in enumerate(starts):
        window = catalog.filter(start=begin, end=begin + DAY, min_magnitude=3.0)
        rows, cols = GRID.locate(window.latitude, window.longitude)
        np.add.at(observed[w], (rows, cols), 1)
    assert observed.sum() > 100
    uniform = np.full_like(forecast.rates, forecast.rates.sum() / forecast.rates.size)
    etas_ll = stats.poisson.logpmf(observed, forecast.rates).sum()
    uniform_ll = stats.poisson.logpmf(observed, uniform).sum()
    assert etas_ll > uniform_ll + 50


def test_bad_windows_are_rejected() -> None:
    with pytest.raises(ValueError, match="window_days must be > 0"):
        etas_rate_forecast(PARAMS, Catalog.empty(), GRID, np.array(["2020-01-01"], "M8[us]"), 0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        etas_rate_forecast(PARAMS, Catalog.empty(), GRID, np.array([], "M8[us]"), 1.0)


def test_five_thousand_sources_two_years_of_days_on_2500_cells() -> None:
    grid = Grid(33.0, 38.0, -120.0, -115.0, 0.1)  # 50 x 50 cells
    rng = np.random.default_rng(0)
    n = 5000
    history = Catalog.from_columns(
        time=np.datetime64("2010-01-01", "us")
        + np.sort(rng.uniform(0, 2000 * 86_400e6, n)).astype("timedelta64[us]"),
        latitude=rng.uniform(33, 38, n),
        longitude=rng.uniform(-120, -115, n),
        magnitude=3.0 + rng.exponential(1 / math.log(10), n),
    )
    starts = np.datetime64("2016-01-01", "us") + np.arange(730) * DAY
    began = time.perf_counter()
    forecast = etas_rate_forecast(PARAMS, history, grid, starts, 1.0)
    assert time.perf_counter() - began < 30
    assert forecast.rates.shape == (730, 50, 50)
    assert np.all(np.diff(forecast.rates.sum(axis=(1, 2))[-200:]) < 0)  # decay after the history
