"""ETAS fitting with binned magnitudes: the ``magnitude_bin`` convention of the ``etas`` package."""

from __future__ import annotations

import math

import numpy as np
import pytest

from framecast.quake import Catalog, Grid
from framecast.quake.catalog.magnitudes import aki_b_value, first_bin_edge, round_half_up
from framecast.quake.etas.declustered import background_probabilities
from framecast.quake.etas.fit import fit_etas
from framecast.quake.etas.likelihood import (
    DEFAULT_CUTOFFS,
    ETASLikelihood,
    log_likelihood,
    prepare_data,
)
from framecast.quake.etas.parameters import ETASParameters
from framecast.quake.etas.region import as_region
from framecast.quake.etas.simulate import simulate_etas

BOX = Grid(34.0, 36.0, -118.0, -116.0, 0.1)
# the simulation reaches down to 2.9, so that events rounding below 3.0 exist to be dropped
TRUTH = ETASParameters(
    log10_mu=-5.1,
    log10_k0=-2.4,
    a=1.6,
    log10_c=-2.5,
    omega=0.1,
    log10_tau=2.5,
    log10_d=-0.5,
    gamma=1.2,
    rho=0.9,
    mc=2.9,
)
PERIOD = {"start": "2000-01-01", "end": "2002-01-01", "auxiliary_start": "1999-07-01"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    simulated = simulate_etas(
        TRUTH, BOX, "1999-07-01", "2002-01-01", max_magnitude=6.5, seed=5, include_burn_in=True
    )
    # reported to two decimals, with some magnitudes exactly half a 0.1 bin (x.x5)
    return Catalog(**{**simulated.columns(), "magnitude": np.round(simulated.magnitude, 2)})


def _small_catalog(magnitudes: list[float]) -> Catalog:
    n = len(magnitudes)
    days = np.arange(n) * 10.0
    return Catalog.from_columns(
        time=np.datetime64("2000-01-02", "us") + (days * 86_400e6).astype("timedelta64[us]"),
        latitude=np.full(n, 35.0) + 0.01 * np.arange(n),
        longitude=np.full(n, -117.0),
        magnitude=magnitudes,
    )


def test_binning_keeps_half_bin_events_and_measures_excess_from_the_bin_edge() -> None:
    small = _small_catalog([1.94, 1.95, 2.04, 2.05, 2.3, float("nan")])
    as_reported = prepare_data(small, region=BOX, mc=2.0, start="2000-01-01", end="2001-01-01")
    binned = prepare_data(
        small, region=BOX, mc=2.0, start="2000-01-01", end="2001-01-01", magnitude_bin=0.1
    )
    assert as_reported.mc == 2.0 and as_reported.magnitude_bin is None
    np.testing.assert_allclose(as_reported.magnitude_excess, [0.04, 0.05, 0.3], atol=1e-12)
    # 1.95 rounds half up to 2.0 (1.95 / 0.1 is 19.4999... in binary) and is kept; 1.94 is not;
    # 2.05 goes to 2.1; the excess is measured from 1.95
    assert binned.mc == 1.95 and binned.magnitude_bin == 0.1
    assert binned.n_targets == 4
    np.testing.assert_allclose(binned.magnitude_excess, [0.05, 0.05, 0.15, 0.35], atol=1e-12)
    np.testing.assert_allclose(round_half_up(np.array([1.95, 2.05, 2.25]), 0.1), [2.0, 2.1, 2.3])


def test_aki_b_value_subtracts_the_half_bin_once_when_mc_is_a_bin_edge() -> None:
    rng = np.random.default_rng(3)
    rounded = round_half_up(1.95 + rng.exponential(1 / (1.0 * math.log(10)), 50_000), 0.1)
    by_hand = math.log10(math.e) / (rounded.mean() - 1.95)
    assert first_bin_edge(2.0, 0.1) == pytest.approx(1.95)
    assert first_bin_edge(1.95, 0.1) == pytest.approx(1.95)
    assert aki_b_value(rounded, 2.0) == pytest.approx(by_hand, rel=1e-12)
    assert aki_b_value(rounded, 1.95) == pytest.approx(by_hand, rel=1e-12)
    assert aki_b_value(rounded, 2.0, bin_width=0.1) == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(1.0, rel=0.03)
    # continuous magnitudes: no correction
    continuous = 2.0 + rng.exponential(1 / math.log(10), 1000)
    assert aki_b_value(continuous, 2.0) == pytest.approx(
        math.log10(math.e) / (continuous.mean() - 2.0)
    )


def test_fit_with_magnitude_bin_is_the_fit_to_the_rounded_catalog(catalog: Catalog) -> None:
    fit = fit_etas(catalog, region=BOX, mc=3.0, max_iter=5, magnitude_bin=0.1, **PERIOD)
    assert fit.magnitude_bin == 0.1 and fit.params.mc == 2.95
    data = prepare_data(catalog, region=BOX, mc=3.0, magnitude_bin=0.1, **PERIOD)
    targets = round_half_up(data.magnitude_excess[data.target_rows] + data.mc, 0.1)
    assert targets.min() == 3.0
    assert fit.n_target_events == len(targets)
    # events reported at 2.95-2.99 are targets (rounded to 3.0), those at 2.94 and below are not
    start, end = np.datetime64(PERIOD["start"]), np.datetime64(PERIOD["end"])
    in_period = (catalog.time >= start) & (catalog.time < end)
    assert fit.n_target_events == int((in_period & (catalog.magnitude >= 2.95)).sum())
    assert int((in_period & (catalog.magnitude >= 2.9) & (catalog.magnitude < 2.95)).sum()) > 0
    # one half-bin correction: b from the rounded targets and the edge 2.95
    single = math.log10(math.e) / (targets.mean() - 2.95)
    assert fit.params.b_value == pytest.approx(single, rel=1e-12)
    assert fit.params.b_value != pytest.approx(math.log10(math.e) / (targets.mean() - 2.9))
    # the same as fitting the hand-rounded catalog with mc at the bin edge, where fit_etas's
    # own b-value no longer subtracts the half bin twice
    rounded = Catalog(**{**catalog.columns(), "magnitude": round_half_up(catalog.magnitude, 0.1)})
    by_hand = fit_etas(rounded, region=BOX, mc=2.95, max_iter=5, **PERIOD)
    assert by_hand.params.b_value == pytest.approx(fit.params.b_value, rel=1e-12)
    assert by_hand.n_target_events == fit.n_target_events
    assert by_hand.log_likelihood == pytest.approx(fit.log_likelihood, rel=1e-9)
    # the likelihood of the fitted parameters under the same convention
    assert log_likelihood(
        fit.params, catalog, region=BOX, magnitude_bin=0.1, **PERIOD
    ) == pytest.approx(fit.log_likelihood, rel=1e-10)
    assert "rounded to 0.1" in fit.parameter_table()


def test_default_fit_is_unchanged_by_the_option(catalog: Catalog) -> None:
    fit = fit_etas(catalog, region=BOX, mc=3.0, max_iter=2, **PERIOD)
    assert fit.magnitude_bin is None and fit.params.mc == 3.0
    start, end = np.datetime64(PERIOD["start"]), np.datetime64(PERIOD["end"])
    in_period = (catalog.time >= start) & (catalog.time < end)
    assert fit.n_target_events == int((in_period & (catalog.magnitude >= 3.0)).sum())


def test_declustering_probabilities_use_the_fits_magnitude_convention(catalog: Catalog) -> None:
    fit = fit_etas(catalog, region=BOX, mc=3.0, max_iter=3, magnitude_bin=0.1, **PERIOD)
    area = as_region(BOX)
    _, _, _, phi = background_probabilities(
        fit, catalog, region=area, cutoffs=DEFAULT_CUTOFFS, background=None, **PERIOD
    )
    data = prepare_data(catalog, region=area, mc=3.0, magnitude_bin=0.1, **PERIOD)
    expected = ETASLikelihood(data).background_probabilities(fit.params.free_vector())
    np.testing.assert_allclose(phi, expected, rtol=1e-12)


@pytest.mark.parametrize("bad", [float("nan"), 0.0, -0.1, float("inf"), True, "0.1"])
def test_bad_magnitude_bins_are_refused_in_one_line(catalog: Catalog, bad: object) -> None:
    with pytest.raises(ValueError, match=r"magnitude_bin must be a positive finite") as error:
        fit_etas(catalog, region=BOX, mc=3.0, magnitude_bin=bad, **PERIOD)  # type: ignore[arg-type]
    assert repr(bad) in str(error.value) and "\n" not in str(error.value)


def test_mc_off_the_bin_centres_is_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match=r"mc 2\.97 is not a multiple of magnitude_bin 0\.1"):
        prepare_data(catalog, region=BOX, mc=2.97, magnitude_bin=0.1, **PERIOD)
