"""ETAS parameters, kernels, branching ratio and likelihood (Mizrahi et al. 2021)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import integrate

from framecast.quake import Catalog, Grid
from framecast.quake.etas.likelihood import (
    NO_CUTOFFS,
    ETASLikelihood,
    log_likelihood,
    prepare_data,
    time_integral_quadrature,
)
from framecast.quake.etas.parameters import (
    FIT_BOUNDS,
    FREE_PARAMETERS,
    ETASParameters,
    branching_ratio,
    expected_aftershocks,
    spatial_kernel_cdf,
    spatial_kernel_quantile_r2,
    time_kernel,
    time_kernel_integral,
    time_kernel_tail,
    triggering_kernel,
    upper_incomplete_gamma,
)
from framecast.quake.etas.region import as_region

CALIFORNIA = ETASParameters(mc=3.0)


def _numeric_time_integral(params: ETASParameters, lower: float, upper: float) -> float:
    """∫ time kernel by adaptive quadrature in u = log(t + c), on panels."""
    u0 = math.log(lower + params.c)
    u1 = math.log(min(upper, lower + 60 * params.tau) + params.c)

    def integrand(u: float) -> float:
        return math.exp(-(math.exp(u) - params.c) / params.tau - params.omega * u)

    edges = np.linspace(u0, u1, 9)
    return sum(
        integrate.quad(integrand, a, b, epsabs=0, epsrel=1e-13, limit=200)[0]
        for a, b in itertools.pairwise(edges)
    )


# ------------------------------------------------------------------ parameters
def test_california_defaults_are_near_critical() -> None:
    assert CALIFORNIA.branching_ratio() == pytest.approx(0.909, abs=0.005)
    assert CALIFORNIA.mu == pytest.approx(10**-6.3)
    assert CALIFORNIA.beta == pytest.approx(math.log(10))


def test_mc_has_no_default() -> None:
    with pytest.raises(TypeError, match="mc"):
        ETASParameters()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rho": 0.0}, "rho must be > 0"),
        ({"omega": -1.0}, "omega must be > -1"),
        ({"a": -0.5}, "a must be >= 0"),
        ({"gamma": -1.0}, "gamma must be >= 0"),
        ({"b_value": 0.0}, "b_value must be > 0"),
        ({"log10_mu": math.nan}, "log10_mu must be finite"),
        ({"log10_tau": "3"}, "log10_tau must be a number"),
    ],
)
def test_bad_parameters_are_rejected(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ETASParameters(**{"mc": 3.0, **change})


def test_dict_and_json_round_trip(tmp_path: Path) -> None:
    params = ETASParameters(log10_k0=-2.2, omega=0.3, mc=2.5, b_value=0.9)
    assert ETASParameters.from_dict(params.to_dict()) == params
    path = params.save(tmp_path / "etas.json")
    assert json.loads(path.read_text())["omega"] == 0.3
    assert ETASParameters.load(path) == params
    vector = params.free_vector()
    assert vector.shape == (9,) and vector[FREE_PARAMETERS.index("omega")] == 0.3
    assert params.with_free_vector(vector) == params


def test_from_dict_and_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown ETAS parameters \\['alpha'\\]"):
        ETASParameters.from_dict({"mc": 3.0, "alpha": 1.0})
    with pytest.raises(ValueError, match="need 'mc'"):
        ETASParameters.from_dict({"a": 1.0})
    other = tmp_path / "other.json"
    other.write_text('{"mc": 3}')
    with pytest.raises(ValueError, match="not a framecast ETAS parameter file"):
        ETASParameters.load(other)
    with pytest.raises(FileNotFoundError):
        ETASParameters.load(tmp_path / "missing.json")


# --------------------------------------------------------------------- kernels
@pytest.mark.parametrize("s", [-0.99, -0.5, -0.06, -1e-3, 0.0, 0.06, 0.5, 1.7])
def test_upper_incomplete_gamma_matches_its_integral(s: float) -> None:
    for x in (1e-6, 3e-3, 0.4, 2.0, 15.0):
        # v = e^w makes the integrand exp(s w - e^w): smooth, no singularity at small v
        numeric = integrate.quad(
            lambda w: math.exp(s * w - math.exp(w)), math.log(x), 5.0, epsabs=0, limit=200
        )[0]
        assert float(upper_incomplete_gamma(s, x)) == pytest.approx(numeric, rel=1e-9)


@pytest.mark.parametrize("omega", [-0.5, -0.06, 0.0, 0.4])
def test_time_kernel_tail_matches_numerical_integral(omega: float) -> None:
    params = ETASParameters(omega=omega, log10_tau=2.0, mc=3.0)
    for lower in (0.0, 0.5, 30.0):
        exact = float(time_kernel_tail(params, lower))
        assert exact == pytest.approx(_numeric_time_integral(params, lower, math.inf), rel=1e-9)
    assert float(time_kernel_integral(params, 2.0, 5.0)) == pytest.approx(
        integrate.quad(lambda t: float(time_kernel(params, t)), 2.0, 5.0)[0], rel=1e-9
    )


def test_expected_aftershocks_and_branching_ratio_match_direct_integrals() -> None:
    params = ETASParameters(omega=0.2, log10_tau=2.5, rho=0.7, mc=3.0)
    magnitude = 4.3
    spatial_scale = params.d * math.exp(params.gamma * (magnitude - params.mc))
    radial = integrate.quad(
        lambda r: 2 * math.pi * r * (r * r + spatial_scale) ** (-1 - params.rho),
        0,
        math.inf,
        limit=500,
    )[0]
    temporal = _numeric_time_integral(params, 0.0, math.inf)
    direct = params.k0 * math.exp(params.a * (magnitude - params.mc)) * radial * temporal
    assert float(expected_aftershocks(params, magnitude)) == pytest.approx(direct, rel=1e-6)

    def over_magnitudes(max_excess: float) -> float:
        mass = 1.0 - math.exp(-params.beta * max_excess)
        value = integrate.quad(
            lambda x: (
                params.beta
                * math.exp(-params.beta * x)
                * float(expected_aftershocks(params, params.mc + x))
            ),
            0,
            max_excess,
            limit=200,
        )[0]
        return value / mass

    assert branching_ratio(params) == pytest.approx(over_magnitudes(60.0), rel=1e-6)
    assert branching_ratio(params, 6.0) == pytest.approx(over_magnitudes(3.0), rel=1e-6)
    assert branching_ratio(params, 6.0) < branching_ratio(params)


def test_branching_ratio_is_infinite_when_productivity_outgrows_gutenberg_richter() -> None:
    params = ETASParameters(a=3.0, gamma=0.5, rho=0.5, mc=3.0)  # a - γρ = 2.75 > β
    assert branching_ratio(params) == math.inf
    assert math.isfinite(branching_ratio(params, 8.0))


def test_spatial_kernel_quantiles_invert_the_cdf() -> None:
    magnitudes = np.array([3.0, 4.0, 6.5])
    r2 = spatial_kernel_quantile_r2(CALIFORNIA, magnitudes, 0.5)
    np.testing.assert_allclose(spatial_kernel_cdf(CALIFORNIA, magnitudes, r2), 0.5)
    assert np.all(np.diff(r2) > 0)  # bigger events spread wider


def test_triggering_kernel_integrates_to_expected_aftershocks() -> None:
    params = ETASParameters(log10_tau=1.5, mc=3.0)
    magnitude = 3.8
    space = integrate.quad(
        lambda r: 2 * math.pi * r * float(triggering_kernel(params, magnitude, 1.0, r * r)),
        0,
        math.inf,
        limit=500,
    )[0]
    per_day = (
        float(expected_aftershocks(params, magnitude))
        * float(time_kernel(params, 1.0))
        / float(time_kernel_tail(params, 0.0))
    )
    assert space == pytest.approx(per_day, rel=1e-6)


# ------------------------------------------------------------------ quadrature
@pytest.mark.parametrize(
    ("name", "low_high"),
    [("log10_c", (-8.0, 0.0)), ("omega", (-0.99, 1.0)), ("log10_tau", (0.01, 5.0))],
)
def test_time_quadrature_matches_incomplete_gamma_across_bounds(name, low_high) -> None:
    lower = np.array([0.0, 0.0, 0.0, 1e-6, 0.5, 10.0, 200.0, 1000.0])
    upper = lower + np.array([1e-3, 1.0, 3650.0, 1.0, 1e-3, 1e5, 365.0, np.inf])
    for value in np.linspace(*low_high, 5):
        params = ETASParameters(**{"mc": 3.0, name: float(value)})
        exact = time_kernel_integral(params, lower, upper)
        quadrature = time_integral_quadrature(
            torch.from_numpy(lower),
            torch.from_numpy(upper),
            torch.tensor(params.c, dtype=torch.float64),
            torch.tensor(params.omega, dtype=torch.float64),
            torch.tensor(params.tau, dtype=torch.float64),
        ).numpy()
        # the closed form subtracts two tails: compare with an absolute floor for its rounding
        floor = 1e-12 * float(time_kernel_tail(params, 0.0))
        np.testing.assert_allclose(quadrature, exact, rtol=1e-9, atol=floor)


def test_fit_bounds_cover_the_defaults() -> None:
    for name in FREE_PARAMETERS:
        low, high = FIT_BOUNDS[name]
        assert low < getattr(CALIFORNIA, name) < high


# ------------------------------------------------------------------ likelihood
def _tiny_catalog() -> Catalog:
    rng = np.random.default_rng(3)
    n = 40
    days = np.sort(rng.uniform(0, 400, n))
    return Catalog.from_columns(
        time=np.datetime64("2019-06-01", "us") + (days * 86_400e6).astype("timedelta64[us]"),
        latitude=rng.uniform(34.0, 34.5, n),
        longitude=rng.uniform(-117.0, -116.5, n),
        magnitude=3.0 + rng.exponential(1 / math.log(10), n) - 0.2,  # some below mc
    )


def test_log_likelihood_equals_brute_force_sum() -> None:
    catalog = _tiny_catalog()
    grid = Grid(34.0, 34.5, -117.0, -116.5, 0.1)
    params = ETASParameters(log10_mu=-4.0, log10_tau=2.0, mc=3.0)
    start, end, aux = "2019-09-01", "2020-07-01", "2019-06-01"
    value = log_likelihood(
        params,
        catalog,
        region=grid,
        start=start,
        end=end,
        auxiliary_start=aux,
        cutoffs=NO_CUTOFFS,
    )

    region = as_region(grid)
    events = catalog.select(catalog.magnitude >= 3.0)
    t = events.days_since(start)
    x, y = region.project(events.latitude, events.longitude)
    duration = (np.datetime64(end) - np.datetime64(start)) / np.timedelta64(1, "D")
    expected = -params.mu * region.area_km2 * duration
    for j in np.flatnonzero(t >= 0):
        earlier = t < t[j]
        r2 = (x[earlier] - x[j]) ** 2 + (y[earlier] - y[j]) ** 2
        g = triggering_kernel(params, events.magnitude[earlier], t[j] - t[earlier], r2)
        expected += math.log(params.mu + g.sum())
    expected -= expected_aftershocks(
        params, events.magnitude, np.maximum(-t, 0.0), duration - t
    ).sum()
    assert value == pytest.approx(expected, rel=1e-10)


def test_likelihood_gradient_and_chunking() -> None:
    catalog = _tiny_catalog()
    grid = Grid(34.0, 34.5, -117.0, -116.5, 0.1)
    data = prepare_data(
        catalog,
        region=grid,
        mc=3.0,
        start="2019-09-01",
        end="2020-07-01",
        auxiliary_start="2019-06-01",
    )
    theta = ETASParameters(log10_mu=-4.0, log10_tau=2.0, mc=3.0).free_vector()
    whole, chunked = ETASLikelihood(data), ETASLikelihood(data, chunk_pairs=7)
    value, gradient = whole.value_and_grad(theta)
    value_chunked, gradient_chunked = chunked.value_and_grad(theta)
    assert value == pytest.approx(-whole.log_likelihood(theta), rel=1e-12)
    assert value_chunked == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(gradient_chunked, gradient, rtol=1e-10)
    step = 1e-6
    for i in range(len(theta)):
        bump = np.zeros_like(theta)
        bump[i] = step
        numeric = whole.value_and_grad(theta + bump)[0] - whole.value_and_grad(theta - bump)[0]
        assert gradient[i] == pytest.approx(numeric / (2 * step), rel=1e-5, abs=1e-6)
    hessian = whole.hessian(theta)
    np.testing.assert_allclose(hessian, chunked.hessian(theta), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-9, atol=1e-9)


def test_likelihood_needs_target_events() -> None:
    catalog = _tiny_catalog()
    empty_box = Grid(40.0, 41.0, 10.0, 11.0, 0.5)
    with pytest.raises(ValueError, match="no events with M >= 3 in the region lat 40"):
        log_likelihood(CALIFORNIA, catalog, region=empty_box, start="2019-06-01", end="2020-07-01")
    with pytest.raises(ValueError, match="must be after start"):
        log_likelihood(CALIFORNIA, catalog, region=empty_box, start="2020-07-01", end="2020-01-01")
