"""ETAS maximum-likelihood fit: parameter recovery, errors, and the San Jacinto catalog."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from framecast.quake import Catalog, Grid
from framecast.quake.catalog.magnitudes import aki_b_value
from framecast.quake.etas.fit import fit_etas, standard_errors
from framecast.quake.etas.likelihood import log_likelihood
from framecast.quake.etas.parameters import FREE_PARAMETERS, ETASParameters
from framecast.quake.etas.simulate import simulate_etas

QTM_CSV = Path(__file__).resolve().parents[3] / "shared/data/catalogs/qtm_sanjacinto_m1.csv"
SAN_JACINTO = Grid(33.0, 34.0, -117.0, -116.0, 0.1)

# η ≈ 0.6 and a kernel compact enough (ρ = 0.9) that the whole-plane integral of
# the likelihood is accurate for a 2° box: ~1,800 targets in 10 years.
TRUTH = ETASParameters(
    log10_mu=-5.3,
    log10_k0=-2.4,
    a=1.6,
    log10_c=-2.5,
    omega=0.1,
    log10_tau=2.5,
    log10_d=-0.5,
    gamma=1.2,
    rho=0.9,
    mc=3.0,
)
BOX = Grid(34.0, 36.0, -118.0, -116.0, 0.1)


def test_fit_recovers_simulated_parameters_within_three_standard_errors() -> None:
    catalog = simulate_etas(
        TRUTH, BOX, "2000-01-01", "2010-01-01", max_magnitude=6.5, seed=2, include_burn_in=True
    )
    fit = fit_etas(
        catalog,
        region=BOX,
        mc=3.0,
        start="2000-01-01",
        end="2010-01-01",
        auxiliary_start="1999-01-01",
        b_value=1.0,
    )
    assert 1500 <= fit.n_target_events <= 3000
    assert fit.n_source_events > fit.n_target_events
    assert fit.converged and fit.iterations > 0 and fit.at_bounds == ()
    for name in FREE_PARAMETERS:
        error = fit.stderr[name]
        assert math.isfinite(error) and error > 0, name
        assert abs(getattr(fit.params, name) - getattr(TRUTH, name)) < 3 * error, name
    assert fit.branching_ratio == pytest.approx(fit.params.branching_ratio())
    assert fit.branching_ratio == pytest.approx(TRUTH.branching_ratio(), abs=0.15)
    # the optimum beats the truth on its own data, and the reported LL is the LL
    at_truth = log_likelihood(
        TRUTH,
        catalog,
        region=BOX,
        start="2000-01-01",
        end="2010-01-01",
        auxiliary_start="1999-01-01",
    )
    assert fit.log_likelihood >= at_truth
    assert fit.log_likelihood == pytest.approx(
        log_likelihood(
            fit.params,
            catalog,
            region=BOX,
            start="2000-01-01",
            end="2010-01-01",
            auxiliary_start="1999-01-01",
        ),
        rel=1e-10,
    )
    assert str(fit.summary()).count("±") == 9


def test_fit_estimates_b_from_the_targets_and_starts_from_initial() -> None:
    catalog = simulate_etas(TRUTH, BOX, "2000-01-01", "2003-01-01", max_magnitude=6.5, seed=4)
    binned = Catalog(**{**catalog.columns(), "magnitude": np.round(catalog.magnitude, 1)})
    fit = fit_etas(
        binned,
        region=BOX,
        mc=3.0,
        start="2000-01-01",
        end="2003-01-01",
        initial=TRUTH,
        max_iter=3,
    )
    targets = binned.magnitude[binned.magnitude >= 3.0]
    assert fit.params.b_value == pytest.approx(aki_b_value(targets, 3.0, bin_width=0.1))
    assert fit.params.b_value != pytest.approx(aki_b_value(targets, 3.0, bin_width=0.0))
    assert fit.iterations <= 3 and fit.params.mc == 3.0


def test_fit_without_events_in_the_region_says_so() -> None:
    catalog = simulate_etas(TRUTH, BOX, "2000-01-01", "2001-01-01", seed=0)
    far = Grid(10.0, 11.0, 10.0, 11.0, 0.5)
    with pytest.raises(ValueError, match="no events with M >= 3 in the region lat 10 to 11"):
        fit_etas(catalog, region=far, mc=3.0, start="2000-01-01", end="2001-01-01")
    with pytest.raises(ValueError, match="no events with M >= 9"):
        fit_etas(catalog, region=BOX, mc=9.0, start="2000-01-01", end="2001-01-01")
    with pytest.raises(ValueError, match=r"auxiliary_start .* must not be after start"):
        fit_etas(
            catalog,
            region=BOX,
            mc=3.0,
            start="2000-01-01",
            end="2001-01-01",
            auxiliary_start="2000-06-01",
        )


def test_standard_errors_are_nan_where_the_hessian_is_not_positive() -> None:
    hessian = np.diag([4.0, 1.0, -1.0])
    np.testing.assert_allclose(standard_errors(hessian)[:2], [0.5, 1.0])
    assert math.isnan(standard_errors(hessian)[2])


# ------------------------------------------------------------------ real data
def _read_qtm(path: Path) -> Catalog:
    table = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")
    times = np.array([t.replace(" ", "T") for t in table["time"]], dtype="datetime64[us]")
    return Catalog.from_columns(
        event_id=table["index"].astype(str),
        time=times,
        latitude=table["latitude"],
        longitude=table["longitude"],
        magnitude=table["magnitude"],
    )


@pytest.fixture(scope="module")
def san_jacinto() -> Catalog:
    if not QTM_CSV.is_file():
        pytest.skip(f"the QTM San Jacinto catalog is not at {QTM_CSV}")
    return _read_qtm(QTM_CSV)


@pytest.mark.parametrize("mc", [2.5, 2.0])
def test_san_jacinto_fit_converges(san_jacinto: Catalog, mc: float) -> None:
    # EarthquakeNPP split: auxiliary 2008, training 2009-2013
    fit = fit_etas(
        san_jacinto,
        region=SAN_JACINTO,
        mc=mc,
        start="2009-01-01",
        end="2014-01-01",
        auxiliary_start="2008-01-01",
    )
    assert fit.n_target_events == {2.5: 339, 2.0: 1000}[mc]
    assert fit.converged
    assert fit.seconds < 60
    assert 0.8 < fit.params.b_value < 1.1
    assert fit.branching_ratio > 0.5
    finite = [name for name in FREE_PARAMETERS if name not in fit.at_bounds]
    assert all(math.isfinite(fit.stderr[name]) and fit.stderr[name] > 0 for name in finite)
    # a fit beats the starting values of the California defaults
    start_ll = log_likelihood(
        ETASParameters(mc=mc, b_value=fit.params.b_value),
        san_jacinto,
        region=SAN_JACINTO,
        start="2009-01-01",
        end="2014-01-01",
        auxiliary_start="2008-01-01",
    )
    assert fit.log_likelihood > start_ll
