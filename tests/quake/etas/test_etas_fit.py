"""ETAS maximum-likelihood fit: parameter recovery, errors, and the San Jacinto catalog."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest

from framecast.quake import Catalog, Grid
from framecast.quake.catalog.magnitudes import aki_b_value
from framecast.quake.etas.fit import fit_etas, fit_warnings, standard_errors
from framecast.quake.etas.likelihood import (
    NO_CUTOFFS,
    ETASLikelihood,
    PairCutoffs,
    log_likelihood,
    prepare_data,
    triggering_pairs,
)
from framecast.quake.etas.parameters import FIT_BOUNDS, FREE_PARAMETERS, ETASParameters
from framecast.quake.etas.simulate import simulate_etas

QTM_CSV = Path(__file__).resolve().parents[4] / "shared/data/catalogs/qtm_sanjacinto_m1.csv"
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
    assert fit.parameter_table().count("±") == 9
    assert fit.ok and fit.warnings == () and "\n" not in fit.summary()


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


@pytest.fixture(scope="module")
def three_years() -> Catalog:
    """~500 targets in 2001-2003 with a year of auxiliary events."""
    return simulate_etas(
        TRUTH, BOX, "2001-01-01", "2004-01-01", max_magnitude=6.5, seed=4, include_burn_in=True
    )


def _fit(catalog: Catalog, **options: object) -> object:
    return fit_etas(
        catalog,
        region=BOX,
        mc=3.0,
        start="2001-01-01",
        end="2004-01-01",
        auxiliary_start="2000-01-01",
        b_value=1.0,
        **options,
    )


def test_cutoffs_keep_exactly_the_pairs_within_distance_and_time(three_years: Catalog) -> None:
    data = prepare_data(
        three_years,
        region=BOX,
        mc=3.0,
        start="2001-01-01",
        end="2004-01-01",
        auxiliary_start="2000-01-01",
    )
    cutoffs = PairCutoffs(coppersmith_multiplier=50.0, max_days=200.0)
    target, source, dt, r2 = triggering_pairs(data, cutoffs, block=1000)
    # brute force over the full source x target matrix
    rows = data.target_rows
    all_dt = data.time_days[rows][:, None] - data.time_days[None, :]  # [J, S]
    all_r2 = (data.x_km[rows][:, None] - data.x_km[None, :]) ** 2 + (
        data.y_km[rows][:, None] - data.y_km[None, :]
    ) ** 2  # [J, S]
    radius = 50.0 * 10.0 ** (0.59 * (data.magnitude_excess + 3.0) - 2.44)  # [S] km
    keep = (all_dt > 0) & (all_dt <= 200.0) & (all_r2 <= radius[None, :] ** 2)  # [J, S]
    expected_target, expected_source = np.nonzero(keep)
    assert 0 < len(target) < (all_dt > 0).sum()
    np.testing.assert_array_equal(target, expected_target)
    np.testing.assert_array_equal(source, expected_source)
    np.testing.assert_allclose(dt, all_dt[keep], rtol=1e-12)
    np.testing.assert_allclose(r2, all_r2[keep], rtol=1e-12)
    with pytest.raises(ValueError, match="max_days must be a positive number or None, got -1"):
        PairCutoffs(max_days=-1.0)


def test_generous_cutoffs_give_the_uncut_likelihood(three_years: Catalog) -> None:
    data = prepare_data(
        three_years,
        region=BOX,
        mc=3.0,
        start="2001-01-01",
        end="2004-01-01",
        auxiliary_start="2000-01-01",
    )
    theta = TRUTH.free_vector()
    exact = ETASLikelihood(data, cutoffs=NO_CUTOFFS)
    # 600 rupture lengths (128 km at M3) and 1,200 days (3.8 tau)
    generous = ETASLikelihood(
        data, cutoffs=PairCutoffs(coppersmith_multiplier=600.0, max_days=1200.0)
    )
    assert generous.n_pairs < 0.9 * exact.n_pairs  # pairs are dropped ...
    # ... but only where the kernel is negligible
    assert generous.log_likelihood(theta) == pytest.approx(exact.log_likelihood(theta), rel=2e-6)
    tight = ETASLikelihood(data, cutoffs=PairCutoffs(coppersmith_multiplier=1.0, max_days=1.0))
    assert tight.log_likelihood(theta) < exact.log_likelihood(theta) - 1.0


def test_fixed_parameters_stay_exactly_and_have_no_error(three_years: Catalog) -> None:
    fit = _fit(three_years, fixed={"log10_tau": 2.25, "omega": 0.1}, max_iter=40)
    assert fit.params.log10_tau == 2.25 and fit.params.omega == 0.1
    assert math.isnan(fit.stderr["log10_tau"]) and math.isnan(fit.stderr["omega"])
    assert fit.fixed == {"log10_tau": 2.25, "omega": 0.1}
    assert "log10_tau" not in fit.at_bounds
    assert "(fixed)" in fit.parameter_table()
    with pytest.raises(ValueError, match=r"cannot fix unknown ETAS parameter 'tau'"):
        _fit(three_years, fixed={"tau": 100.0})
    with pytest.raises(
        ValueError, match=r"fixed log10_tau = 6.0 is outside the fit bounds \[0.01, 5\]"
    ):
        _fit(three_years, fixed={"log10_tau": 6.0})


def test_max_branching_ratio_holds_below_the_true_value(
    three_years: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    free_fit = _fit(three_years)
    assert free_fit.branching_ratio > 0.45
    bound = 0.35
    with caplog.at_level(logging.WARNING, logger="framecast.quake.etas.fit"):
        fit = _fit(three_years, max_branching_ratio=bound)
    assert fit.branching_ratio <= bound
    assert fit.branching_ratio == pytest.approx(bound, rel=1e-4)  # the constraint binds
    assert fit.params.branching_ratio() == fit.branching_ratio
    assert fit.log_likelihood < free_fit.log_likelihood
    assert fit.converged and not fit.ok
    assert any("held at the constraint 0.35" in w for w in fit.warnings)
    assert any("held at the constraint" in record.message for record in caplog.records)
    # errors on the constraint surface: finite where not at a bound
    estimated = [n for n in FREE_PARAMETERS if n not in fit.at_bounds]
    assert all(math.isfinite(fit.stderr[n]) for n in estimated)
    with pytest.raises(ValueError, match="max_branching_ratio must be > 0, got 0"):
        _fit(three_years, max_branching_ratio=0)


def test_progress_reports_sizes_then_every_iteration(three_years: Catalog) -> None:
    lines: list[str] = []
    fit = _fit(three_years, max_iter=4, progress=lines.append)
    assert lines[0].startswith(f"fitting ETAS to {fit.n_target_events} targets, ")
    assert f"{fit.n_source_events} sources, {fit.n_pairs} pairs" in lines[0]
    assert len(lines) == 1 + fit.iterations == 5
    assert lines[1].startswith("iteration 1: LL ")
    assert "eta " in lines[4] and "log10_tau=" in lines[4] and "rho=" in lines[4]
    final_ll = float(lines[4].split("LL ")[1].split(",")[0])
    assert final_ll == pytest.approx(fit.log_likelihood, abs=1e-3)
    assert not fit.converged and any(w.startswith("not converged") for w in fit.warnings)


def test_fit_warnings_name_each_problem() -> None:
    supercritical = TRUTH.with_free_vector(TRUTH.free_vector() + np.eye(9)[1] * 1.0)  # k0 x10
    assert supercritical.branching_ratio() > 1
    found = fit_warnings(supercritical, -10.0, (), True, "")
    assert found == (f"supercritical: branching ratio {supercritical.branching_ratio():.3f} >= 1",)
    infinite = ETASParameters(
        a=3.0, gamma=0.5, rho=0.5, mc=3.0, b_value=1.0
    )  # beta < a - gamma*rho
    assert math.isinf(infinite.branching_ratio())
    assert fit_warnings(infinite, -10.0, (), True, "")[0].startswith("branching ratio is inf")
    at_tau_bound = ETASParameters(log10_tau=FIT_BOUNDS["log10_tau"][1], mc=3.0)
    found = fit_warnings(at_tau_bound, math.nan, ("log10_tau",), False, "ABNORMAL")
    assert "log-likelihood is nan" in found
    assert "log10_tau = 5 at its upper bound 5" in found
    assert found[-1] == "not converged: ABNORMAL"


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


def test_san_jacinto_flags_and_constraints(san_jacinto: Catalog) -> None:
    options: dict[str, object] = {
        "region": SAN_JACINTO,
        "mc": 2.0,
        "start": "2009-01-01",
        "end": "2014-01-01",
        "auxiliary_start": "2008-01-01",
    }
    free = fit_etas(san_jacinto, **options)
    # the unconstrained maximum is supercritical with tau at its upper bound: both flagged
    assert free.branching_ratio > 1 and not free.ok
    assert f"supercritical: branching ratio {free.branching_ratio:.3f} >= 1" in free.warnings
    assert "log10_tau = 5 at its upper bound 5" in free.warnings
    assert "supercritical" in free.summary() and "log10_tau" in free.summary()
    held = fit_etas(san_jacinto, **options, fixed={"log10_tau": 3.5}, max_branching_ratio=0.95)
    assert held.params.log10_tau == 3.5 and held.branching_ratio <= 0.95
    assert held.warnings == ("branching ratio 0.950 held at the constraint 0.95",)
    assert held.log_likelihood < free.log_likelihood
