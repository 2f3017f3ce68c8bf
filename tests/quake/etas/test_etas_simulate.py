"""ETAS simulation: event counts, magnitudes, kernels, regions and the catalog it returns."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy import stats

from framecast.quake import Grid
from framecast.quake.catalog.magnitudes import aki_b_value
from framecast.quake.etas.parameters import (
    ETASParameters,
    spatial_kernel_quantile_r2,
    time_kernel_tail,
)
from framecast.quake.etas.region import as_region
from framecast.quake.etas.simulate import (
    TimeDelaySampler,
    sample_magnitudes,
    sample_offsets,
    simulate_etas,
    simulate_etas_events,
)

BOX = Grid(34.0, 35.0, -118.0, -117.0, 0.1)
# η = 0.5, short Omori taper and a compact kernel: stationary after a short burn-in,
# and few children fall outside the 1° box.
SUBCRITICAL = ETASParameters(
    log10_mu=-5.0,
    log10_k0=-3.85,
    a=1.2,
    log10_c=-2.5,
    omega=0.1,
    log10_tau=1.5,
    log10_d=-2.0,
    gamma=1.0,
    rho=1.0,
    mc=3.0,
)


def test_subcritical_fixture_has_the_intended_branching_ratio() -> None:
    assert SUBCRITICAL.branching_ratio(6.0) == pytest.approx(0.5, abs=0.02)


def test_mean_count_matches_stationary_rate() -> None:
    days, max_magnitude = 2000.0, 6.0
    counts = [
        len(
            simulate_etas(
                SUBCRITICAL,
                BOX,
                "2001-01-01",
                "2006-06-24",
                burn_in_days=500,
                max_magnitude=max_magnitude,
                seed=seed,
            )
        )
        for seed in range(30)
    ]
    area = as_region(BOX).area_km2
    expected = SUBCRITICAL.mu * area * days / (1 - SUBCRITICAL.branching_ratio(max_magnitude))
    standard_error = np.std(counts, ddof=1) / math.sqrt(len(counts))
    assert abs(np.mean(counts) - expected) < 4 * standard_error
    assert np.std(counts) > math.sqrt(expected)  # clustering: over-dispersed vs Poisson


def test_magnitudes_follow_gutenberg_richter() -> None:
    params = ETASParameters(log10_mu=-4.0, log10_k0=-3.0, mc=3.0, b_value=1.2)
    catalog = simulate_etas(params, BOX, "2000-01-01", "2010-01-01", burn_in_days=0, seed=1)
    b = aki_b_value(catalog.magnitude, 3.0, bin_width=0.0)
    assert len(catalog) > 2000
    assert b == pytest.approx(1.2, abs=3 * 1.2 / math.sqrt(len(catalog)))
    assert catalog.magnitude.min() >= 3.0 and catalog.magnitude.max() <= 8.0


def test_truncated_magnitudes_stay_below_the_cap() -> None:
    rng = np.random.default_rng(0)
    magnitudes = sample_magnitudes(50_000, 2.0, math.log(10), 3.0, rng)
    assert magnitudes.min() >= 2.0 and magnitudes.max() <= 3.0
    # truncated exponential: P(M >= 2.5) = (10^-0.5 - 10^-1) / (1 - 10^-1)
    assert np.mean(magnitudes >= 2.5) == pytest.approx((10**-0.5 - 0.1) / 0.9, abs=0.01)


def test_children_offsets_have_the_kernel_median() -> None:
    events = simulate_etas_events(
        SUBCRITICAL, BOX, 20_000.0, max_magnitude=6.0, rng=np.random.default_rng(2)
    )
    children = np.flatnonzero(events.parent >= 0)
    parents = events.parent[children]
    r2 = (events.x_km[children] - events.x_km[parents]) ** 2 + (
        events.y_km[children] - events.y_km[parents]
    ) ** 2
    median_r2 = spatial_kernel_quantile_r2(SUBCRITICAL, events.magnitude[parents], 0.5)
    assert len(children) > 1000
    assert np.mean(r2 <= median_r2) == pytest.approx(0.5, abs=3 * 0.5 / math.sqrt(len(children)))
    assert np.all(events.time_days[children] > events.time_days[parents])
    assert np.all(events.generation[children] == events.generation[parents] + 1)


def test_offset_sampler_matches_the_kernel_cdf() -> None:
    magnitudes = np.full(20_000, 4.0)
    dx, dy = sample_offsets(SUBCRITICAL, magnitudes, np.random.default_rng(3))
    for quantile in (0.1, 0.5, 0.9):
        r2 = spatial_kernel_quantile_r2(SUBCRITICAL, 4.0, quantile)
        assert np.mean(dx**2 + dy**2 <= r2) == pytest.approx(quantile, abs=0.012)
    assert abs(np.mean(np.arctan2(dy, dx))) < 0.05  # isotropic


@pytest.mark.parametrize("omega", [-0.3, 0.0, 0.4])
def test_time_delays_follow_the_normalised_kernel(omega: float) -> None:
    params = ETASParameters(omega=omega, log10_tau=2.0, log10_c=-2.0, mc=3.0)
    delays = TimeDelaySampler(params).sample(5000, np.random.default_rng(4))
    total = float(time_kernel_tail(params, 0.0))

    def cdf(t: np.ndarray) -> np.ndarray:
        return 1.0 - time_kernel_tail(params, np.maximum(t, 0.0)) / total

    assert stats.kstest(delays, cdf).pvalue > 1e-3
    assert delays.min() >= 0


def test_catalog_ids_times_and_region() -> None:
    catalog = simulate_etas(
        SUBCRITICAL, BOX, "2010-01-01", "2012-01-01", burn_in_days=365, seed=5, depth_km=(2, 9)
    )
    full = simulate_etas(
        SUBCRITICAL,
        BOX,
        "2010-01-01",
        "2012-01-01",
        burn_in_days=365,
        seed=5,
        depth_km=(2, 9),
        include_burn_in=True,
    )
    assert len(catalog) > 50
    assert np.all(np.diff(catalog.time.astype(np.int64)) >= 0)
    assert catalog.time.min() >= np.datetime64("2010-01-01") > full.time.min()
    assert catalog.time.max() < np.datetime64("2012-01-01")
    assert full.event_id[0] == "etas-000001"
    assert set(catalog.event_id) < set(full.event_id)
    assert np.all(as_region(BOX).contains(full.latitude, full.longitude))
    assert full.depth.min() >= 2 and full.depth.max() <= 9
    assert (
        catalog.content_hash()
        == simulate_etas(
            SUBCRITICAL, BOX, "2010-01-01", "2012-01-01", burn_in_days=365, seed=5, depth_km=(2, 9)
        ).content_hash()
    )


def test_polygon_region_keeps_events_inside() -> None:
    triangle = np.array([[34.0, -118.0], [34.0, -117.0], [35.0, -117.5]])  # (lat, lon)
    params = ETASParameters(log10_mu=-4.5, log10_k0=-4.0, mc=3.0)  # nearly all background
    catalog = simulate_etas(params, triangle, "2000-01-01", "2010-01-01", burn_in_days=0, seed=6)
    region = as_region(triangle)
    assert region.area_km2 == pytest.approx(0.5 * as_region(BOX).area_km2, rel=5e-3)
    assert np.all(region.contains(catalog.latitude, catalog.longitude))
    expected = params.mu * region.area_km2 * 3652 / (1 - params.branching_ratio(8.0))
    assert len(catalog) == pytest.approx(expected, abs=4 * math.sqrt(expected))


def test_supercritical_and_bad_inputs_are_rejected() -> None:
    critical = ETASParameters(log10_k0=-2.0, mc=3.0)
    with pytest.raises(ValueError, match=r"branching ratio .* >= 1"):
        simulate_etas(critical, BOX, "2000-01-01", "2001-01-01", seed=0)
    with pytest.raises(ValueError, match="must be after start"):
        simulate_etas(SUBCRITICAL, BOX, "2001-01-01", "2000-01-01")
    with pytest.raises(ValueError, match=r"max_magnitude 2\.5 must exceed mc 3"):
        simulate_etas(SUBCRITICAL, BOX, "2000-01-01", "2001-01-01", max_magnitude=2.5)
    with pytest.raises(ValueError, match="at least 3"):
        simulate_etas(SUBCRITICAL, [[34.0, -118.0], [35.0, -117.0]], "2000-01-01", "2001-01-01")


def test_thirty_years_of_ten_thousand_events_take_seconds() -> None:
    params = ETASParameters(log10_mu=-5.2, mc=3.0)  # the California fit, η ≈ 0.91
    began = time.perf_counter()
    catalog = simulate_etas(
        params, Grid(32.0, 36.0, -120.0, -116.0, 0.1), "1990-01-01", "2020-01-01", seed=7
    )
    elapsed = time.perf_counter() - began
    assert len(catalog) > 10_000
    assert elapsed < 10.0


def test_a_short_simulation_with_no_background_event_is_empty_not_an_error():
    from framecast.quake.etas.parameters import ETASParameters
    from framecast.quake.etas.simulate import simulate_etas_events
    from framecast.quake.grid import Grid

    grid = Grid.from_region("33,34,-117,-116", 0.25)
    events = simulate_etas_events(
        ETASParameters(mc=2.0, log10_mu=-12.0), grid, 1e-3, rng=np.random.default_rng(0)
    )
    assert len(events.time_days) == 0
