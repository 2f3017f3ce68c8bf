from __future__ import annotations

import numpy as np
import pytest
from quake_testing import REGION, random_catalog

from framecast.quake import Catalog, Grid
from framecast.quake.catalog.magnitudes import aki_b_value, magnitude_bin_width
from framecast.quake.reference import (
    choose_smoothing,
    smoothed_density,
    smoothed_seismicity_forecast,
)


def _clustered(n: int = 300, seed: int = 0) -> Catalog:
    rng = np.random.default_rng(seed)
    base = random_catalog(n, seed=seed)
    lat = np.where(rng.random(n) < 0.8, 33.25 + rng.normal(0, 0.02, n), base.latitude)
    lon = np.where(rng.random(n) < 0.8, -116.75 + rng.normal(0, 0.02, n), base.longitude)
    return Catalog.from_columns(
        time=base.time,
        latitude=np.clip(lat, 33, 34),
        longitude=np.clip(lon, -117, -116),
        magnitude=base.magnitude,
    )


def test_density_is_normalised_and_peaks_at_the_cluster():
    grid = Grid.from_region(REGION, 0.1)
    density = smoothed_density(_clustered(), grid, bandwidth_km=3.0)
    assert density.sum() == pytest.approx(1.0)
    row, col = np.unravel_index(density.argmax(), density.shape)
    assert (row, col) == (2, 2)  # the cell of (33.25, -116.75)


def test_wider_kernels_are_flatter():
    grid = Grid.from_region(REGION, 0.1)
    narrow = smoothed_density(_clustered(), grid, 2.0)
    wide = smoothed_density(_clustered(), grid, 50.0)
    assert narrow.max() > 3 * wide.max()


def test_smoothing_choice_prefers_narrow_kernels_for_clustered_events():
    grid = Grid.from_region(REGION, 0.05)
    bandwidth, _ = choose_smoothing(_clustered(600), grid)
    assert bandwidth <= 5.0
    bandwidth_uniform, level_uniform = choose_smoothing(random_catalog(600), grid)
    assert bandwidth_uniform >= 20.0 or level_uniform >= 0.2


def test_forecast_total_is_the_training_rate():
    cat = random_catalog(365 * 3, days=3 * 365)  # one event a day
    grid = Grid.from_region(REGION, 0.25)
    windows = np.array(["2013-01-01", "2013-01-08"], dtype="datetime64[us]")
    forecast = smoothed_seismicity_forecast(
        cat,
        grid,
        train_start="2010-01-01",
        train_end="2013-01-01",
        window_start=windows,
        window_days=7,
        mc=2.0,
    )
    np.testing.assert_allclose(forecast.rates.sum(axis=(1, 2)), 7.0 * len(cat) / 1096, rtol=1e-9)
    assert (forecast.rates > 0).all()
    np.testing.assert_array_equal(forecast.rates[0], forecast.rates[1])
    assert "Gaussian" in forecast.details


def test_forecast_without_training_events_is_an_error():
    grid = Grid.from_region("40,41,10,11", 0.5)
    with pytest.raises(ValueError, match=r"no events with M >= 2\.0 inside the grid"):
        smoothed_seismicity_forecast(
            random_catalog(20),
            grid,
            train_start="2010-01-01",
            train_end="2011-01-01",
            window_start=np.array(["2011-01-01"], dtype="datetime64[us]"),
            window_days=1,
            mc=2.0,
        )


def test_aki_b_value_recovers_b_for_continuous_and_binned_magnitudes():
    rng = np.random.default_rng(0)
    continuous = 2.0 + rng.exponential(1 / (1.2 * np.log(10)), 200_000)
    assert aki_b_value(continuous, 2.0) == pytest.approx(1.2, rel=0.02)
    binned = np.round(1.95 + rng.exponential(1 / (0.8 * np.log(10)), 200_000), 1)
    binned = binned[binned >= 2.0 - 1e-9]
    assert magnitude_bin_width(binned) == 0.1
    assert aki_b_value(binned, 2.0) == pytest.approx(0.8, rel=0.03)
    with pytest.raises(ValueError, match="at least 2"):
        aki_b_value(np.array([1.0]), 2.0)
