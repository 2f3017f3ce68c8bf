"""Simulation-based (catalog) ETAS forecasts: cascades, history, guards and the N-test."""

from __future__ import annotations

import math
import time
import tracemalloc

import numpy as np
import pytest
from scipy import stats

from framecast.errors import RunawaySimulationError
from framecast.quake import Catalog, Grid
from framecast.quake.etas import simulated_forecast as module
from framecast.quake.etas.forecast import etas_expected_count, etas_rate_forecast
from framecast.quake.etas.parameters import (
    ETASParameters,
    expected_aftershocks,
    time_kernel_tail,
)
from framecast.quake.etas.region import StudyRegion, as_region
from framecast.quake.etas.simulate import (
    TimeDelaySampler,
    sample_magnitudes,
    sample_offsets,
    simulate_etas,
    simulate_etas_events,
)
from framecast.quake.etas.simulated_forecast import _IntervalDelaySampler, simulated_etas_forecast

GRID = Grid(34.0, 35.0, -118.0, -117.0, 0.1)
DAY = np.timedelta64(1, "D")
START = np.datetime64("2020-01-01", "us")
# η ≈ 0.5 with a short Omori taper and a compact kernel (few children leave the 1° box)
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
# η = 0.6 for GR truncated at 6.5, productivity growing fast with magnitude (a - γρ = 1.5),
# so that one M6.3 has ~5 direct aftershocks in the two days after the first half day
TRIGGERING = ETASParameters(
    log10_mu=-4.3,
    log10_k0=-4.16,
    a=2.0,
    log10_c=-2.5,
    omega=0.1,
    log10_tau=1.5,
    log10_d=-2.0,
    gamma=0.5,
    rho=1.0,
    mc=3.0,
)
DEMO_GRID = Grid(31.0, 35.8, -119.0, -114.2, 0.15)  # quake/demo.py's frames: region, cell
DEMO_PARAMS = ETASParameters(mc=2.0)  # the demo's simulated catalog: default parameters, mc 2


def _one_event(when: np.datetime64, magnitude: float, lat: float = 34.55) -> Catalog:
    return Catalog.from_columns(
        time=[when], latitude=[lat], longitude=[-117.55], magnitude=[magnitude]
    )


def _mean_and_error(counts: np.ndarray) -> tuple[float, float]:
    return float(counts.mean()), float(counts.std(ddof=1) / math.sqrt(counts.size))


# ------------------------------------------------------------------- sampler
@pytest.mark.parametrize(("lower", "upper"), [(0.0, 1.0), (0.3, 1.3), (400.0, 401.0)])
def test_interval_delays_follow_the_restricted_time_kernel(lower: float, upper: float) -> None:
    sampler = _IntervalDelaySampler(SUBCRITICAL)
    n = 20_000
    delays = sampler.sample_between(np.full(n, lower), np.full(n, upper), np.random.default_rng(1))
    assert (delays >= lower).all() and (delays <= upper).all()
    tail_low, tail_high = (float(time_kernel_tail(SUBCRITICAL, v)) for v in (lower, upper))

    def cdf(t: np.ndarray) -> np.ndarray:
        return (tail_low - time_kernel_tail(SUBCRITICAL, t)) / (tail_low - tail_high)

    assert stats.kstest(delays, cdf).pvalue > 1e-3


# ----------------------------------------------------------------- behaviour
def test_same_seed_same_forecast_and_different_seeds_differ() -> None:
    history = _one_event(START - 2 * DAY, 5.5)
    starts = START + np.arange(3) * DAY

    def run(seed: int):
        return simulated_etas_forecast(
            SUBCRITICAL, history, GRID, starts, 1.0, num_simulations=300, seed=seed
        )

    first, again, other = run(7), run(7), run(8)
    for column in ("window", "simulation", "cell", "magnitude"):
        np.testing.assert_array_equal(getattr(first, column), getattr(again, column))
    assert first.num_events != other.num_events or not np.array_equal(
        first.magnitude, other.magnitude
    )
    assert (first.name, first.mc, first.b_value, first.num_simulations) == (
        "ETAS (simulated)",
        3.0,
        1.0,
        300,
    )
    assert first.counts().shape == (3, 300)


def test_without_triggering_the_mean_is_the_background() -> None:
    quiet = ETASParameters(log10_mu=-4.0, log10_k0=-12.0, mc=3.0)
    starts = START + np.arange(10) * 7 * DAY
    forecast = simulated_etas_forecast(
        quiet, Catalog.empty(), GRID, starts, 7.0, num_simulations=500, seed=0
    )
    mean, error = _mean_and_error(forecast.counts())
    expected = quiet.mu * as_region(GRID).area_km2 * 7.0  # ≈ 7.2
    assert abs(mean - expected) < 4 * error
    # Poisson: variance equals the mean
    assert forecast.counts().var() == pytest.approx(expected, rel=0.1)
    # uniform in space: every cell's mean rate is near μ · cell area · Δ
    rates = forecast.expected_rates().rates
    assert rates.mean(axis=0) == pytest.approx(
        quiet.mu * GRID.cell_areas_km2() * 7.0 * as_region(GRID).area_km2 / GRID.area_km2(),
        rel=0.2,
    )


def test_cascades_without_history_match_simulate_etas_events() -> None:
    """A window with no history is a plain ETAS simulation of its length: compare means."""
    days, simulations = 30.0, 800
    forecast = simulated_etas_forecast(
        TRIGGERING, Catalog.empty(), GRID, np.array([START]), days,
        num_simulations=simulations, seed=3, max_magnitude=6.5,
    )  # fmt: skip
    rng = np.random.default_rng(4)
    # (μ · area · 30 days ≈ 15 background events: simulate_etas_events fails on a draw of 0)
    brute = np.array(
        [
            len(simulate_etas_events(TRIGGERING, GRID, days, max_magnitude=6.5, rng=rng))
            for _ in range(simulations)
        ]
    )
    ours = forecast.counts()[0]
    difference = ours.mean() - brute.mean()
    error = math.sqrt(ours.var() / simulations + brute.var() / simulations)
    assert abs(difference) < 4 * error
    background = TRIGGERING.mu * as_region(GRID).area_km2 * days
    assert ours.mean() > 1.3 * background  # cascades add events (η = 0.6)
    assert ours.mean() < background / (1 - TRIGGERING.branching_ratio(6.5))


def _brute_force_with_history(
    params: ETASParameters,
    area: StudyRegion,
    source: tuple[float, float, float, float],
    days: float,
    simulations: int,
    max_magnitude: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """int64 [S]: window counts by the unrestricted samplers of simulate.py.

    The source (x, y, magnitude, age at the window start) gets all-time
    children, of which those inside the window are kept; each event's
    children over all time follow, those after the window dropped.
    """
    x0, y0, m0, age = source
    sampler = TimeDelaySampler(params)
    n_background = rng.poisson(params.mu * area.area_km2 * days, simulations)
    sim = np.repeat(np.arange(simulations), n_background)
    x, y = area.sample_uniform(len(sim), rng)
    t = rng.uniform(0, days, len(sim))
    n_history = rng.poisson(float(expected_aftershocks(params, m0)), simulations)
    h_sim = np.repeat(np.arange(simulations), n_history)
    h_t = sampler.sample(len(h_sim), rng) - age
    dx, dy = sample_offsets(params, np.full(len(h_sim), m0), rng)
    keep = (h_t >= 0) & (h_t < days) & area.contains_xy(x0 + dx, y0 + dy)
    sim = np.concatenate([sim, h_sim[keep]])
    t = np.concatenate([t, h_t[keep]])
    x, y = np.concatenate([x, (x0 + dx)[keep]]), np.concatenate([y, (y0 + dy)[keep]])
    m = sample_magnitudes(len(t), params.mc, params.beta, max_magnitude, rng)
    all_sims = [sim]
    while len(t):
        parent = np.repeat(np.arange(len(t)), rng.poisson(expected_aftershocks(params, m)))
        child_t = t[parent] + sampler.sample(len(parent), rng)
        dx, dy = sample_offsets(params, m[parent], rng)
        keep = (child_t < days) & area.contains_xy(x[parent] + dx, y[parent] + dy)
        t, x, y = child_t[keep], (x[parent] + dx)[keep], (y[parent] + dy)[keep]
        sim = sim[parent][keep]
        m = sample_magnitudes(len(t), params.mc, params.beta, max_magnitude, rng)
        all_sims.append(sim)
    return np.bincount(np.concatenate(all_sims), minlength=simulations)


def test_history_cascades_match_a_brute_force_simulation_and_exceed_first_order() -> None:
    history = _one_event(START - np.timedelta64(12, "h"), 6.3)
    days, simulations = 2.0, 4000
    forecast = simulated_etas_forecast(
        TRIGGERING, history, GRID, np.array([START]), days,
        num_simulations=simulations, seed=5, max_magnitude=6.5,
    )  # fmt: skip
    area = as_region(GRID)
    x0, y0 = area.project(history.latitude, history.longitude)
    brute = _brute_force_with_history(
        TRIGGERING, area, (x0[0], y0[0], 6.3, 0.5), days, simulations, 6.5,
        np.random.default_rng(6),
    )  # fmt: skip
    ours = forecast.counts()[0]
    error = math.sqrt(ours.var() / simulations + brute.var() / simulations)
    assert abs(ours.mean() - brute.mean()) < 4 * error
    first_order = etas_rate_forecast(TRIGGERING, history, GRID, np.array([START]), days)
    direct = float(expected_aftershocks(TRIGGERING, 6.3, 0.5, 0.5 + days))
    assert direct > 4  # the history matters in this window
    assert ours.mean() > first_order.rates.sum() + 5 * error  # cascades add events
    # aftershocks land near their parent: most of the extra rate is in the 3 x 3 block
    background = TRIGGERING.mu * GRID.cell_areas_km2() * days  # [H, X]
    extra = forecast.expected_rates().rates[0] - background  # [H, X]
    row, col = (int(i[0]) for i in GRID.locate(history.latitude, history.longitude))
    assert np.unravel_index(extra.argmax(), GRID.shape) == (row, col)
    assert extra[row - 1 : row + 2, col - 1 : col + 2].sum() > 0.7 * extra.sum()


def test_only_events_before_each_window_are_history() -> None:
    history = _one_event(START + DAY, 6.3)  # at the second window's start
    starts = START + np.arange(3) * DAY
    forecast = simulated_etas_forecast(
        TRIGGERING, history, GRID, starts, 1.0, num_simulations=400, max_magnitude=6.5
    )
    means = forecast.counts().mean(axis=1)  # [W]
    background = TRIGGERING.mu * as_region(GRID).area_km2  # ≈ 0.5
    assert means[0] < 2 * background and means[1] < 2 * background
    # the day after the M6.3: its direct aftershocks (few leave the box) plus their cascades
    direct = float(expected_aftershocks(TRIGGERING, 6.3, 1.0, 2.0))
    assert means[2] - background > 0.9 * direct


def test_a_polygon_region_confines_the_events() -> None:
    triangle = np.array([[34.0, -118.0], [34.0, -117.0], [35.0, -118.0]])  # the SW half
    quiet = ETASParameters(log10_mu=-4.0, log10_k0=-12.0, mc=3.0)
    forecast = simulated_etas_forecast(
        quiet, Catalog.empty(), GRID, np.array([START]), 7.0, num_simulations=200, region=triangle
    )
    rows, cols = np.divmod(forecast.cell, GRID.shape[1])
    assert (rows + cols <= GRID.shape[0]).all()  # cells touching the triangle only
    expected = quiet.mu * as_region(triangle).area_km2 * 7.0
    mean, error = _mean_and_error(forecast.counts())
    assert abs(mean - expected) < 4 * error


def test_batches_split_by_simulations_and_windows_give_the_same_law(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quiet = ETASParameters(log10_mu=-4.0, log10_k0=-12.0, mc=3.0)
    starts = START + np.arange(8) * DAY
    per = quiet.mu * as_region(GRID).area_km2  # ≈ 1 event per window and simulation
    # a tenth of max_events = 20 expected events per batch: blocks of simulations
    forecast = simulated_etas_forecast(
        quiet, Catalog.empty(), GRID, starts, 1.0, num_simulations=300, max_events=200
    )
    assert set(np.unique(forecast.simulation)) == set(range(300))
    mean, error = _mean_and_error(forecast.counts())
    assert abs(mean - per) < 4 * error
    # batches planned far above max_events overflow and are split and rerun
    monkeypatch.setattr(module, "_BATCH_SHARE", 100.0)
    messages: list[str] = []
    forecast = simulated_etas_forecast(
        quiet, Catalog.empty(), GRID, starts, 1.0, num_simulations=100, max_events=300,
        progress=messages.append,
    )  # fmt: skip
    mean, error = _mean_and_error(forecast.counts())
    assert abs(mean - per) < 4 * error
    assert messages and messages[-1].startswith("simulated ETAS forecast: 8/8 windows")


def test_explosion_guard_stops_early_with_a_clear_message() -> None:
    hot = ETASParameters(log10_k0=-1.0, log10_tau=3.0, mc=3.0)
    assert hot.branching_ratio(8.0) > 1
    with pytest.raises(ValueError, match="supercritical"):
        simulated_etas_forecast(hot, Catalog.empty(), GRID, np.array([START]), 1.0)
    history = _one_event(START - DAY, 7.5)
    tracemalloc.start()
    try:
        with pytest.raises(
            RunawaySimulationError, match=r"window 0 \(2020-01-01.*max_events=100,000"
        ):
            simulated_etas_forecast(
                hot, history, GRID, np.array([START]), 300.0, num_simulations=50,
                max_events=100_000, allow_supercritical=True,
            )  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100e6


def test_bad_settings_are_rejected() -> None:
    one = np.array([START])
    with pytest.raises(ValueError, match="window_days must be > 0"):
        simulated_etas_forecast(SUBCRITICAL, Catalog.empty(), GRID, one, 0.0)
    with pytest.raises(ValueError, match="num_simulations must be an integer >= 1"):
        simulated_etas_forecast(SUBCRITICAL, Catalog.empty(), GRID, one, 1.0, num_simulations=0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        simulated_etas_forecast(SUBCRITICAL, Catalog.empty(), GRID, one[:0], 1.0)
    with pytest.raises(ValueError, match=r"max_magnitude 2\.5 must exceed mc 3\.0"):
        simulated_etas_forecast(SUBCRITICAL, Catalog.empty(), GRID, one, 1.0, max_magnitude=2.5)


# ----------------------------------------------------------- the headline check
def _demo_n_test(windows: int, simulations: int) -> dict[str, float]:
    """Forecast ``windows`` days of 2012 on the demo's catalog with the true parameters."""
    catalog = simulate_etas(
        DEMO_PARAMS, DEMO_GRID, "1990-01-01", "2016-01-01", burn_in_days=3650.0, seed=0,
        include_burn_in=True,
    )  # fmt: skip  # quake/demo.py's catalog
    starts = np.datetime64("2012-01-01", "us") + np.arange(windows) * DAY
    began = time.perf_counter()
    forecast = simulated_etas_forecast(
        DEMO_PARAMS, catalog, DEMO_GRID, starts, 1.0, num_simulations=simulations, seed=0
    )
    seconds = time.perf_counter() - began
    period = catalog.filter(start=starts[0], end=starts[-1] + DAY, min_magnitude=2.0)
    rows, _ = DEMO_GRID.locate(period.latitude, period.longitude)
    totals = forecast.counts().sum(axis=0)  # [S]: simulation s summed over the windows
    low, high = np.quantile(totals, [0.025, 0.975])
    first_order = etas_expected_count(DEMO_PARAMS, catalog, DEMO_GRID, starts, 1.0).sum()
    return {
        "observed": int((rows >= 0).sum()),
        "low": float(low),
        "high": float(high),
        "mean": float(totals.mean()),
        "first_order": float(first_order),
        "seconds": seconds,
    }


def test_true_parameters_pass_the_n_test_on_the_demo_catalog_small() -> None:
    result = _demo_n_test(60, 200)
    assert result["low"] <= result["observed"] <= result["high"]
    assert result["mean"] > 1.15 * result["first_order"]


@pytest.mark.slow
def test_true_parameters_pass_the_n_test_on_the_demo_catalog_one_year() -> None:
    result = _demo_n_test(365, 1000)
    print(result)
    assert result["seconds"] < 180
    assert result["low"] <= result["observed"] <= result["high"]
    # the first-order forecast fails its N-test: the observed count is too many for it
    assert stats.poisson.sf(result["observed"] - 1, result["first_order"]) < 0.025


def test_exact_first_generation_plus_simulated_cascades() -> None:
    """expected_rates(first_order=...): the simulated generation-0 events average to the
    first-order forecast, and the combined rates keep the simulated total but are positive
    in every cell (the plain mean is zero where no simulation had an event)."""
    history = _one_event(START - np.timedelta64(12, "h"), 6.3)
    windows = START + np.arange(3) * DAY
    forecast = simulated_etas_forecast(
        TRIGGERING, history, GRID, windows, 1.0,
        num_simulations=3000, seed=2, max_magnitude=6.5,
    )  # fmt: skip
    first_order = etas_rate_forecast(TRIGGERING, history, GRID, windows, 1.0)
    generation_0 = forecast.generation == 0  # [E]
    simulated_first = np.bincount(forecast.window[generation_0], minlength=3) / 3000  # [W]
    expected_first = first_order.rates.sum(axis=(1, 2))  # [W]
    counts = np.bincount(
        forecast.window[generation_0] * 3000 + forecast.simulation[generation_0],
        minlength=3 * 3000,
    ).reshape(3, 3000)
    error = counts.std(axis=1, ddof=1) / math.sqrt(3000)  # [W]
    assert np.all(np.abs(simulated_first - expected_first) < 4 * error)
    assert (forecast.generation[~generation_0] >= 1).all() and (~generation_0).any()

    plain = forecast.expected_rates().rates  # [W, H, X]
    combined = forecast.expected_rates(first_order=first_order).rates
    few = simulated_etas_forecast(
        TRIGGERING, history, GRID, windows, 1.0, num_simulations=10, seed=3, max_magnitude=6.5
    )
    assert (few.expected_rates().rates == 0).any()
    assert (few.expected_rates(first_order=first_order).rates > 0).all()
    total_error = forecast.counts().std(axis=1, ddof=1) / math.sqrt(3000)  # [W]
    assert np.all(np.abs(combined.sum(axis=(1, 2)) - plain.sum(axis=(1, 2))) < 4 * total_error)
    other = etas_rate_forecast(TRIGGERING, history, GRID, windows[:2], 1.0)
    with pytest.raises(ValueError, match="other windows"):
        forecast.expected_rates(first_order=other)
