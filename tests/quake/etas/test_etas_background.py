"""The spatially variable ETAS background: the map, its likelihood, and its recovery."""

from __future__ import annotations

import numpy as np
import pytest

from framecast.quake.etas.background import (
    FLOORS,
    BackgroundMap,
    choose_smoothing,
    inside_fractions,
    smoothed_map,
)
from framecast.quake.etas.declustered import fit_etas_declustered
from framecast.quake.etas.fit import fit_etas
from framecast.quake.etas.likelihood import ETASLikelihood, prepare_data
from framecast.quake.etas.parameters import ETASParameters
from framecast.quake.etas.region import as_region
from framecast.quake.etas.simulate import simulate_etas
from framecast.quake.grid import Grid

GRID = Grid(33.0, 34.0, -117.0, -116.0, 0.1)
FAULT = slice(4, 6)  # two columns hold most of the background


def _fault_map(weight: float = 30.0) -> BackgroundMap:
    uniform = BackgroundMap.uniform(GRID, GRID)
    p = uniform.probability.copy()
    p[:, FAULT] *= weight
    return BackgroundMap(GRID, uniform.region, p / p.sum(), uniform.inside, "fault")


def test_inside_fractions_of_a_half_plane_polygon():
    # the polygon covers the western half of the grid exactly
    region = as_region(np.array([[33.0, -117.0], [34.0, -117.0], [34.0, -116.5], [33.0, -116.5]]))
    inside = inside_fractions(GRID, region)
    assert inside[:, :5] == pytest.approx(np.ones((10, 5)))
    assert inside[:, 5:] == pytest.approx(np.zeros((10, 5)))
    uniform = BackgroundMap.uniform(GRID, region)
    assert uniform.probability[:, 5:].sum() == 0
    assert uniform.probability.sum() == pytest.approx(1.0)


def test_uniform_map_gives_unit_density_ratio():
    uniform = BackgroundMap.uniform(GRID, GRID)
    lat, lon = GRID.cell_centers()
    ratio = uniform.density_ratio(lat.ravel(), lon.ravel())
    assert ratio == pytest.approx(np.ones(100), rel=2e-3)  # spherical cells vs the plane


def test_sampled_points_follow_the_map():
    truth = _fault_map()
    x, y = truth.sample_xy(20_000, np.random.default_rng(0))
    lat, lon = truth.region.unproject(x, y)
    rows, cols = GRID.locate(lat, lon)
    assert (rows >= 0).all()
    share = np.mean((cols >= 4) & (cols < 6))
    assert share == pytest.approx(truth.probability[:, FAULT].sum(), abs=0.01)


def test_smoothed_map_concentrates_where_the_events_are():
    uniform = BackgroundMap.uniform(GRID, GRID)
    rng = np.random.default_rng(1)
    lat = rng.uniform(33.0, 34.0, 300)
    lon = rng.uniform(-116.6, -116.4, 300)  # the fault columns
    smooth = smoothed_map(lat, lon, np.ones(300), uniform, neighbours=5, floor=0.01)
    assert smooth.probability[:, FAULT].sum() > 0.8
    assert (smooth.probability > 0).all()
    # events confined to the fault: the held-out half wants almost no uniform floor;
    # events spread over the whole grid: it wants the largest floor on offer
    confined = choose_smoothing(lat, lon, np.ones(300), np.arange(300.0), uniform)
    spread_lon = rng.uniform(-117.0, -116.0, 300)
    spread = choose_smoothing(lat, spread_lon, np.ones(300), np.arange(300.0), uniform)
    assert confined.floor == min(FLOORS) and spread.floor == max(FLOORS)


def test_likelihood_with_a_map_scales_the_background_at_targets():
    catalog = simulate_etas(
        ETASParameters(log10_mu=-5.0, log10_k0=-2.9, mc=2.0),
        GRID,
        "2000-01-01",
        "2001-01-01",
        burn_in_days=0,
        seed=3,
    )
    truth = _fault_map()
    plain = prepare_data(catalog, region=GRID, mc=2.0, start="2000-01-01", end="2001-01-01")
    mapped = prepare_data(
        catalog, region=GRID, mc=2.0, start="2000-01-01", end="2001-01-01", background=truth
    )
    expected = truth.density_ratio(
        *as_region(GRID).unproject(plain.x_km[plain.target_rows], plain.y_km[plain.target_rows])
    )
    assert mapped.background_weight == pytest.approx(expected)
    theta = ETASParameters(log10_mu=-5.0, log10_k0=-2.9, mc=2.0).free_vector()
    phi = ETASLikelihood(mapped).background_probabilities(theta)
    assert ((phi > 0) & (phi <= 1)).all()
    # on the fault the background is denser, so its events are more likely background
    on_fault = expected > 1
    assert phi[on_fault].mean() > phi[~on_fault].mean()


def test_bad_maps_are_refused_in_one_line():
    uniform = BackgroundMap.uniform(GRID, GRID)
    with pytest.raises(ValueError, match="sum to 1"):
        BackgroundMap(GRID, uniform.region, uniform.probability * 2, uniform.inside, "")
    with pytest.raises(ValueError, match="does not fit the grid"):
        BackgroundMap(GRID, uniform.region, np.ones((3, 3)) / 9, uniform.inside, "")
    far = as_region(np.array([[10.0, 10.0], [11.0, 10.0], [11.0, 11.0]]))
    with pytest.raises(ValueError, match="outside the grid"):
        BackgroundMap.uniform(GRID, far)
    with pytest.raises(ValueError, match="floor must be in"):
        smoothed_map([33.5], [-116.5], [1.0], uniform, neighbours=1, floor=1.0)


def test_declustered_fit_recovers_a_non_uniform_background():
    """A catalog simulated with 88 % of its background on a two-column fault.

    The uniform-background fit explains the spatial clustering of the background
    by triggering and comes out supercritical; the declustered fit recovers a
    subcritical branching ratio near the truth and most of the fault's share.
    """
    truth = _fault_map()
    params = ETASParameters(log10_mu=-5.0, log10_k0=-2.9, mc=2.0)
    catalog = simulate_etas(
        params,
        truth.region,
        "2000-01-01",
        "2010-01-01",
        burn_in_days=1000,
        seed=1,
        include_burn_in=True,
        background=truth,
    )
    period = {"mc": 2.0, "start": "2000-01-01", "end": "2010-01-01"}
    period["auxiliary_start"] = "1998-01-01"
    uniform_fit = fit_etas(catalog, region=GRID, **period)
    result = fit_etas_declustered(catalog, grid=GRID, region=GRID, **period)
    true_share = truth.probability[:, FAULT].sum()
    recovered = result.background.probability[:, FAULT].sum()
    assert uniform_fit.branching_ratio > 1.0  # the misspecified fit is supercritical
    assert abs(result.fit.branching_ratio - params.branching_ratio()) < 0.15
    assert recovered == pytest.approx(true_share, abs=0.12)
    assert result.fit.log_likelihood > uniform_fit.log_likelihood + 50
    assert list(result.log_likelihoods) == sorted(result.log_likelihoods)
    correlation = np.corrcoef(result.background.probability.ravel(), truth.probability.ravel())
    assert correlation[0, 1] > 0.9
