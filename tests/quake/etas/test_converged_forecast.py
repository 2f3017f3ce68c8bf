"""Simulated ETAS rates in chunks of simulations (issue 21, item 4): the same law as one run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from framecast.quake import Catalog, Grid
from framecast.quake.etas.converged_forecast import (
    mean_forecast,
    replicate_seed,
    simulated_rate_forecast,
)
from framecast.quake.etas.forecast import etas_rate_forecast
from framecast.quake.etas.parameters import ETASParameters
from framecast.quake.etas.simulated_forecast import simulated_etas_forecast

GRID = Grid(34.0, 35.0, -118.0, -117.0, 0.1)
DAY = np.timedelta64(1, "D")
START = np.datetime64("2020-01-01", "us")
# η = 0.6 with truncation at 6.5: one M6.3 half a day before the first window has cascades
PARAMS = ETASParameters(
    log10_mu=-4.3, log10_k0=-4.16, a=2.0, log10_c=-2.5, omega=0.1, log10_tau=1.5,
    log10_d=-2.0, gamma=0.5, rho=1.0, mc=3.0,
)  # fmt: skip
HISTORY = Catalog.from_columns(
    time=[START - np.timedelta64(12, "h")], latitude=[34.55], longitude=[-117.55], magnitude=[6.3]
)
WINDOWS = START + np.arange(3) * DAY


def _first_order():
    return etas_rate_forecast(PARAMS, HISTORY, GRID, WINDOWS, 1.0)


def _chunked(seed, chunk: int, simulations: int = 2000, keep: int = 0):
    return simulated_rate_forecast(
        PARAMS, HISTORY, _first_order(), num_simulations=simulations, seed=seed,
        chunk_simulations=chunk, keep_catalogs=keep, max_magnitude=6.5,
    )  # fmt: skip


def test_chunks_give_the_law_of_one_run_and_seeds_repeat():
    first_order = _first_order()
    one = simulated_etas_forecast(
        PARAMS, HISTORY, GRID, WINDOWS, 1.0, num_simulations=2000, seed=5, max_magnitude=6.5
    )
    whole = one.expected_rates(first_order=first_order).rates.sum(axis=(1, 2))  # [W]
    chunked, _ = _chunked(seed=7, chunk=300)
    totals = chunked.rates.sum(axis=(1, 2))  # [W]
    error = one.counts().std(axis=1, ddof=1) / math.sqrt(2000)  # [W]: one run's MC error
    assert np.all(np.abs(totals - whole) < 4 * math.sqrt(2) * error)
    assert (chunked.rates >= first_order.rates).all()  # cascades only add
    assert (totals > first_order.rates.sum(axis=(1, 2))).any()  # and they do add
    again, _ = _chunked(seed=7, chunk=300)
    assert np.array_equal(again.rates, chunked.rates)
    other, _ = _chunked(seed=replicate_seed(7, 1), chunk=300)
    assert not np.array_equal(other.rates, chunked.rates)


def test_kept_catalogs_are_the_first_simulations():
    _, kept = _chunked(seed=1, chunk=500, keep=40)
    assert kept is not None and kept.num_simulations == 40
    assert kept.simulation.max() < 40 and "40 simulated" in kept.details
    _, none = _chunked(seed=1, chunk=500)
    assert none is None


def test_mean_forecast_averages_rates():
    a, _ = _chunked(seed=1, chunk=500, simulations=500)
    b, _ = _chunked(seed=2, chunk=500, simulations=500)
    mean = mean_forecast([a, b], name="mean", details="two")
    assert np.allclose(mean.rates, (a.rates + b.rates) / 2) and mean.name == "mean"


@pytest.mark.parametrize(
    ("key", "value"), [("num_simulations", 0), ("chunk_simulations", 2.5), ("keep_catalogs", -1)]
)
def test_bad_counts_are_refused(key, value):
    options = {"num_simulations": 10, "chunk_simulations": 5, "keep_catalogs": 0, key: value}
    with pytest.raises(ValueError, match=f"{key} must be an integer >= ., got {value!r}"):
        simulated_rate_forecast(PARAMS, HISTORY, _first_order(), **options)


def test_simulated_channel_adds_the_cascades_to_the_first_order_channel():
    from framecast.quake.etas_channel import etas_channel_forecast, simulated_etas_channel
    from framecast.quake.frames import grid_catalog

    events = Catalog.from_columns(
        time=START + np.array([0, 3, 3, 7]) * DAY + np.timedelta64(6, "h"),
        latitude=[34.55, 34.52, 34.58, 34.4],
        longitude=[-117.55, -117.5, -117.6, -117.3],
        magnitude=[6.3, 4.0, 3.5, 3.2],
    )
    frames = grid_catalog(
        events, GRID, start=START, end=START + 10 * DAY, bin_days=1.0, mc=3.0, channels=("count",)
    )
    first = etas_channel_forecast(PARAMS, events, frames)
    simulated = simulated_etas_channel(first, PARAMS, events, num_simulations=400, seed=1)
    assert simulated.rates.shape == first.rates.shape
    assert (simulated.rates >= first.rates).all()
    busy = simulated.rates.sum(axis=(1, 2)) - first.rates.sum(axis=(1, 2))  # [T]
    assert busy[0] > busy[-1] > 0  # cascades are largest the day after the M6.3


def test_bad_channel_simulations_are_refused():
    from framecast.quake.experiment import load_experiment

    with pytest.raises(ValueError, match=r"etas_input\.num_simulations must be an integer >= 1"):
        load_experiment(None, ["catalog.simulate=true", "etas_input.num_simulations=0"])
