from __future__ import annotations

import math

import numpy as np
import pytest
from quake_testing import REGION, random_catalog
from scipy import integrate
from scipy.special import ndtr

from framecast.quake import Catalog, Grid
from framecast.quake.catalog.magnitudes import aki_b_value, magnitude_bin_width
from framecast.quake.reference import (
    MIN_WIDTH_KM,
    adaptive_density,
    adaptive_widths_km,
    choose_smoothing,
    select_smoothing,
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
    assert "held-out training events, log-likelihood" in forecast.details


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


KM_GRID = Grid(33.0, 33.6, -117.0, -116.3, 2.0, "km")  # 34 x 33 cells of 2 km


def _at_km(x_km, y_km, grid: Grid = KM_GRID, seed: int = 0) -> Catalog:
    """Events at the given local km coordinates, in random time order."""
    x_km, y_km = np.asarray(x_km, np.float64), np.asarray(y_km, np.float64)
    lat, lon = grid.unproject(x_km, y_km)
    n = len(x_km)
    order = np.random.default_rng(seed).permutation(n)
    time = np.datetime64("2010-01-01", "us") + (order * 86_400e6).astype("timedelta64[us]")
    return Catalog.from_columns(time=time, latitude=lat, longitude=lon, magnitude=np.full(n, 2.5))


def test_adaptive_widths_are_the_kth_neighbour_distances_by_hand():
    events = _at_km([0.0, 3.0, 0.0, 10.0, 10.0], [0.0, 0.0, 4.0, 0.0, 0.0])
    # distances: (0,0)-(3,0) 3, (0,0)-(0,4) 4, (3,0)-(0,4) 5, (3,0)-(10,0) 7,
    # (0,0)-(10,0) 10, (0,4)-(10,0) sqrt(116); the last two events coincide
    first = adaptive_widths_km(events, KM_GRID, 1)
    np.testing.assert_allclose(first, [3.0, 3.0, 4.0, MIN_WIDTH_KM, MIN_WIDTH_KM], rtol=1e-9)
    second = adaptive_widths_km(events, KM_GRID, 2)
    np.testing.assert_allclose(second, [4.0, 5.0, 5.0, 7.0, 7.0], rtol=1e-9)
    third = adaptive_widths_km(events, KM_GRID, 3, min_width_km=6.0)
    np.testing.assert_allclose(third, [10.0, 7.0, math.sqrt(116), 10.0, 10.0], rtol=1e-9)
    with pytest.raises(ValueError, match=r"neighbours must be an integer from 1 to .* \(4\)"):
        adaptive_widths_km(events, KM_GRID, 5)


def _powerlaw(y: float, x: float, d: float) -> float:
    return d / (2 * math.pi * (x * x + y * y + d * d) ** 1.5)


def test_powerlaw_cell_masses_match_numerical_integrals_and_the_analytic_total():
    events = _at_km([0.0, 8.0], [0.0, 0.0])  # each other's neighbour at 8 km
    mass = adaptive_density(events, KM_GRID, 1, normalise=False)  # [H, W]
    y_edges, x_edges = KM_GRID.edges()
    for row, col in [(17, 16), (20, 10), (0, 0)]:
        expected = sum(
            integrate.dblquad(
                _powerlaw, x_edges[col] - x0, x_edges[col + 1] - x0,
                y_edges[row], y_edges[row + 1], args=(8.0,), epsabs=1e-13,
            )[0]
            for x0 in (0.0, 8.0)
        )  # fmt: skip
        assert mass[row, col] == pytest.approx(expected, rel=1e-7)
    # one event at the centre of a square [-L, L]^2: solid angle of the square from height d
    centred = Grid(33.0, 33.5, -117.0, -116.4, 2.0, "km")
    assert centred.shape == (28, 28)
    half = centred.edges()[1][-1]  # 28 km
    pair = _at_km([0.0, 0.0], [0.0, 0.0], grid=centred)  # at the centre, widths 3 km
    inside = adaptive_density(pair, centred, 1, min_width_km=3.0, normalise=False).sum()
    d = 3.0
    analytic = 4 * math.atan(half**2 / (d * math.sqrt(2 * half**2 + d**2))) / (2 * math.pi)
    assert inside == pytest.approx(2 * analytic, rel=1e-9)
    single = _at_km([0.0, 0.0], [0.0, 0.0])
    gaussian = adaptive_density(single, KM_GRID, 1, kernel="gaussian", normalise=False)
    y_edges, x_edges = KM_GRID.edges()
    in_y = ndtr(y_edges[-1] / MIN_WIDTH_KM) - ndtr(y_edges[0] / MIN_WIDTH_KM)
    in_x = ndtr(x_edges[-1] / MIN_WIDTH_KM) - ndtr(x_edges[0] / MIN_WIDTH_KM)
    assert gaussian.sum() == pytest.approx(2 * in_x * in_y, rel=1e-12)


def test_adaptive_density_sums_to_one_and_drops_only_what_falls_outside():
    events = _at_km([-30.0, -20.0, 0.0, 5.0, 25.0], [30.0, 0.0, 0.0, -5.0, -30.0])
    for kernel in ("powerlaw", "gaussian"):
        density = adaptive_density(events, KM_GRID, 2, kernel=kernel)
        assert density.sum() == pytest.approx(1.0, abs=1e-12)
        assert (density >= 0).all()
        raw = adaptive_density(events, KM_GRID, 2, kernel=kernel, normalise=False)
        assert 0 < raw.sum() < len(events)  # the power law's tails and the edge events leak
        np.testing.assert_allclose(density, raw / raw.sum(), rtol=1e-12)
    with pytest.raises(ValueError, match="kernel must be one of"):
        adaptive_density(events, KM_GRID, 2, kernel="cauchy")


def _mixed_clusters(seed: int = 0) -> Catalog:
    """A tight cluster (sd 0.3 km), a broad one (sd 5 km) and a uniform background."""
    rng = np.random.default_rng(seed)
    xy = np.concatenate(
        [
            rng.normal(0, 0.3, (300, 2)) + np.array([-12, 10]),
            rng.normal(0, 5, (300, 2)) + np.array([10, -8]),
            rng.uniform(-30, 30, (200, 2)),
        ]
    )
    return _at_km(xy[:, 0], xy[:, 1], seed=seed)


@pytest.mark.parametrize("seed", [0, 1])
def test_held_out_selection_prefers_adaptive_kernels_for_mixed_clustering(seed):
    events = _mixed_clusters(seed)
    choice = select_smoothing(events, KM_GRID)
    best_fixed = max(ll for (kernel, _, _), ll in choice.scores.items() if kernel == "gaussian")
    best_adaptive = max(ll for (kernel, _, _), ll in choice.scores.items() if kernel == "adaptive")
    assert choice.kernel == "adaptive"
    assert choice.log_likelihood == best_adaptive > best_fixed + 10
    assert choice.held_out == 160
    # the score is the held-out likelihood of the chosen map, recomputed by hand
    ordered = events.sorted()
    fit, held = ordered.select(np.arange(640)), ordered.select(np.arange(640, 800))
    density = adaptive_density(fit, KM_GRID, int(choice.parameter))
    level = choice.water_level
    mixed = (1 - level) * density + level / density.size  # km cells: equal areas
    rows, cols = KM_GRID.locate(held.latitude, held.longitude)
    assert choice.log_likelihood == pytest.approx(np.log(mixed[rows, cols]).sum(), rel=1e-12)
    # choose_smoothing keeps its fixed-Gaussian answer
    bandwidth, fixed_level = choose_smoothing(events, KM_GRID)
    assert choice.scores[("gaussian", bandwidth, fixed_level)] == best_fixed


def test_forecast_details_name_the_chosen_kernel_and_its_held_out_likelihood():
    events = _mixed_clusters()
    kwargs = {
        "train_start": "2010-01-01",
        "train_end": "2013-01-01",
        "window_start": np.array(["2013-01-01"], dtype="datetime64[us]"),
        "window_days": 30,
        "mc": 2.0,
    }
    forecast = smoothed_seismicity_forecast(events, KM_GRID, **kwargs)
    choice = select_smoothing(events, KM_GRID)
    assert f"k={int(choice.parameter)} nearest neighbour" in forecast.details
    assert f"log-likelihood {choice.log_likelihood:.2f}" in forecast.details
    assert f"water level {choice.water_level:g}" in forecast.details
    spatial = forecast.rates[0] / forecast.rates[0].sum()
    density = adaptive_density(events, KM_GRID, int(choice.parameter))
    expected = (1 - choice.water_level) * density + choice.water_level / density.size
    np.testing.assert_allclose(spatial, expected, rtol=1e-9)
    fixed = smoothed_seismicity_forecast(events, KM_GRID, adaptive=False, **kwargs)
    assert "km Gaussian" in fixed.details and "adaptive" not in fixed.details
    given = smoothed_seismicity_forecast(events, KM_GRID, neighbours=3, water_level=0.1, **kwargs)
    assert "k=3 nearest" in given.details and "water level 0.1 " in given.details
    with pytest.raises(ValueError, match="not both"):
        smoothed_seismicity_forecast(events, KM_GRID, neighbours=3, bandwidth_km=5.0, **kwargs)
