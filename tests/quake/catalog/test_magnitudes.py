from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from framecast.quake.catalog.magnitudes import (
    aki_b_value,
    check_completeness,
    estimate_completeness,
    magnitude_bin_width,
    shi_bolt_uncertainty,
)

TRUE_MC = 2.0


def _tapered_catalog(
    draws: int = 300_000, *, seed: int = 0, rounding: float = 0.1, sigma: float = 0.1
) -> np.ndarray:
    """Gutenberg-Richter (b = 1) magnitudes from 0.5 up, thinned below Mc.

    Each event is detected with probability Phi((M - (Mc - 0.3)) / sigma):
    99.9 % at Mc = 2.0, 84 % at 1.8, 50 % at 1.7, so the catalog is complete
    from about 1.9-2.0 and tapers off below.
    """
    rng = np.random.default_rng(seed)
    magnitudes = 0.5 + rng.exponential(1 / math.log(10), draws)
    detected = rng.random(draws) < ndtr((magnitudes - (TRUE_MC - 0.3)) / sigma)
    magnitudes = magnitudes[detected]
    return np.round(magnitudes / rounding) * rounding if rounding else magnitudes


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_method_recovers_the_known_mc_of_a_rounded_catalog(seed):
    estimate = estimate_completeness(_tapered_catalog(seed=seed))
    assert estimate.bin_width == 0.1
    assert estimate.mc["maxc"] == pytest.approx(TRUE_MC, abs=0.1 + 1e-9)
    assert estimate.mc["mbs"] == pytest.approx(TRUE_MC, abs=0.1 + 1e-9)
    # GFT is known to run low on a gradual taper (Woessner & Wiemer 2005)
    assert estimate.mc["gft"] == pytest.approx(TRUE_MC, abs=0.2 + 1e-9)
    assert estimate.gft_level == 95.0
    for method in estimate.mc:
        assert estimate.b_value[method] == pytest.approx(1.0, abs=0.06)


def test_continuous_magnitudes_are_binned_at_0_1():
    magnitudes = _tapered_catalog(rounding=0.0)
    estimate = estimate_completeness(magnitudes, methods=("maxc", "mbs"))
    assert estimate.bin_width == 0.0
    assert estimate.mc["maxc"] == pytest.approx(TRUE_MC, abs=0.1 + 1e-9)
    assert estimate.mc["mbs"] == pytest.approx(TRUE_MC, abs=0.1 + 1e-9)
    assert "gft" not in estimate.mc


def test_a_sharp_cut_is_found_exactly_by_maxc_without_correction_and_by_gft():
    rng = np.random.default_rng(3)
    magnitudes = np.round(1.95 + rng.exponential(1 / math.log(10), 20_000), 1)  # complete >= 2.0
    estimate = estimate_completeness(magnitudes, maxc_correction=0.0)
    assert estimate.mc["maxc"] == pytest.approx(2.0)
    assert estimate.mc["gft"] == pytest.approx(2.0)
    assert estimate.count["gft"] == len(magnitudes)


def test_reported_b_values_and_errors_are_aki_utsu_and_shi_bolt_above_each_mc():
    magnitudes = _tapered_catalog(100_000, seed=4)
    estimate = estimate_completeness(magnitudes)
    for method, mc in estimate.mc.items():
        above = magnitudes[magnitudes >= mc - 1e-9]
        assert estimate.count[method] == len(above)
        assert estimate.b_value[method] == pytest.approx(aki_b_value(above, mc, 0.1), rel=1e-12)
        assert estimate.b_error[method] == pytest.approx(
            shi_bolt_uncertainty(above, estimate.b_value[method]), rel=1e-12
        )
    line = estimate.summary()
    assert "\n" not in line and "maxc Mc=" in line and "gft95% Mc=" in line
    assert estimate.value == max(estimate.mc.values())


def test_shi_bolt_formula_by_hand():
    magnitudes = np.array([2.0, 2.1, 2.5, 3.0])
    # mean 2.4; squared deviations 0.16 + 0.09 + 0.01 + 0.36 = 0.62; N (N - 1) = 12
    expected = 2.3 * 0.9**2 * math.sqrt(0.62 / 12)
    assert shi_bolt_uncertainty(magnitudes, 0.9) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match=r"at least 2"):
        shi_bolt_uncertainty(np.array([2.0]), 1.0)


def test_bin_width_detection():
    assert magnitude_bin_width(np.array([2.0, 2.1, 3.4])) == 0.1
    assert magnitude_bin_width(np.array([2.01, 2.13, 3.47])) == 0.01
    assert magnitude_bin_width(np.array([2.0123, 2.1])) == 0.0
    rounded_001 = np.round(_tapered_catalog(rounding=0.0), 2)
    estimate = estimate_completeness(rounded_001, methods=("maxc",))
    assert estimate.bin_width == 0.01
    assert estimate.mc["maxc"] == pytest.approx(TRUE_MC, abs=0.1 + 1e-9)


def test_bad_input_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match=r"at least 50 magnitudes.*got 0"):
        estimate_completeness(np.array([]))
    with pytest.raises(ValueError, match=r"at least 50 magnitudes.*got 10"):
        estimate_completeness(np.full(10, 2.0))
    with_nan = np.append(_tapered_catalog(10_000), [np.nan, np.nan])
    with pytest.raises(ValueError, match=r"2 of .* magnitudes are NaN"):
        estimate_completeness(with_nan)
    with pytest.raises(ValueError, match=r"unknown completeness method\(s\) \['bogus'\]"):
        estimate_completeness(_tapered_catalog(10_000), methods=("maxc", "bogus"))


def test_check_completeness_warns_only_below_the_estimate():
    estimate = estimate_completeness(_tapered_catalog())
    highest = estimate.value
    assert check_completeness(highest, estimate) is None
    assert check_completeness(highest + 0.5, estimate) is None
    warning = check_completeness(1.0, estimate)
    assert warning is not None and "1 is below" in warning
    for method in estimate.mc:
        assert method in warning


def test_methods_that_find_nothing_report_nan():
    uniform = np.round(np.random.default_rng(0).uniform(1.0, 3.0, 60), 1)  # no GR at all
    estimate = estimate_completeness(uniform, methods=("gft", "mbs"))
    assert math.isnan(estimate.mc["gft"]) and estimate.gft_level is None
    assert math.isnan(estimate.mc["mbs"]) and math.isnan(estimate.value)
    assert estimate.summary().endswith("gft: none found; mbs: none found")
    assert check_completeness(0.0, estimate) is None
