"""Reading external gridded forecasts in pyCSEP's ASCII format: import_csep."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scores_testing import gamma_rates, make_forecast

from framecast.quake.grid import Grid
from framecast.quake.rates import RateForecast, gutenberg_richter_fractions
from framecast.quake.scores.pycsep_io import (
    binned_gutenberg_richter_b,
    export_csep,
    import_csep,
)

SMALL = Grid(33.0, 33.5, -117.0, -116.5, 0.1)  # 5 x 5 cells, to keep the files small


def _forecast(windows: int = 3, *, b_value: float = 0.85, grid: Grid = SMALL) -> RateForecast:
    rates = gamma_rates((windows, *grid.shape), seed=5, mean=0.2)
    return make_forecast(rates, "model one", b_value=b_value, mc=2.5, grid=grid)


def _rewrite(path: Path, change) -> None:
    """Apply ``change(list of rows of str fields)`` to a CSEP file in place."""
    rows = [line.split() for line in path.read_text().splitlines()]
    change(rows)
    path.write_text("\n".join(" ".join(row) for row in rows) + "\n")


def test_round_trip_keeps_rates_b_windows_and_grid(tmp_path):
    forecast = _forecast()
    paths = export_csep(forecast, tmp_path)
    back = import_csep(tmp_path, like=forecast)
    np.testing.assert_allclose(back.rates, forecast.rates, rtol=1e-12, atol=0)
    assert back.b_value == pytest.approx(forecast.b_value, rel=1e-10)
    np.testing.assert_array_equal(back.window_start, forecast.window_start)
    assert (back.grid, back.mc, back.window_days) == (SMALL, 2.5, 7.0)
    assert back.name == "model-one"  # the file names' stem
    assert "b 0.85 fitted to the magnitude bins" in back.details
    # nothing given: grid, windows, mc and window length all come from the files
    alone = import_csep(list(reversed(paths)), name="external")
    np.testing.assert_allclose(alone.rates, forecast.rates, rtol=1e-12, atol=0)
    assert alone.grid == SMALL and alone.mc == 2.5 and alone.window_days == 7.0
    np.testing.assert_array_equal(alone.window_start, forecast.window_start)
    assert alone.name == "external"


def test_cell_totals_agree_with_pycsep_reading_the_same_file(tmp_path):
    csep = pytest.importorskip("csep")
    forecast = _forecast(1)
    (path,) = export_csep(forecast, tmp_path)
    theirs = csep.load_gridded_forecast(str(path))
    ours = import_csep(path, like=forecast)
    np.testing.assert_allclose(
        ours.rates[0].reshape(-1), theirs.data.sum(axis=1), rtol=1e-12, atol=0
    )
    np.testing.assert_allclose(theirs.magnitudes[0], 2.5)


def test_binned_b_estimator_recovers_gutenberg_richter_and_matches_a_numerical_optimum():
    edges = 2.0 + 0.1 * np.arange(40)
    for b in (0.7, 1.0, 1.3):
        totals = 123.0 * gutenberg_richter_fractions(edges, b)
        assert binned_gutenberg_richter_b(totals, 0.1) == pytest.approx(b, rel=1e-12)
    # counts that are not GR: the closed form is the maximum of the censored likelihood
    counts = np.array([5.0, 9.0, 4.0, 3.0, 2.0])

    grid_b = np.linspace(0.2, 5.0, 48_001)  # [B]
    edges = 2.0 + 0.1 * np.arange(5)
    survival = 10.0 ** (-grid_b[:, None] * (edges - edges[0]))  # [B, 5]
    fractions = survival - np.append(survival[:, 1:], np.zeros((len(grid_b), 1)), axis=1)
    best = grid_b[np.argmax((counts * np.log(fractions)).sum(axis=1))]
    b_hat = binned_gutenberg_richter_b(counts, 0.1)
    assert b_hat == pytest.approx(best, abs=2e-4)
    with pytest.raises(ValueError, match="at least 2 magnitude bins"):
        binned_gutenberg_richter_b(np.array([3.0]), 0.1)


def test_non_gutenberg_richter_bins_are_fitted_and_reported(tmp_path):
    forecast = _forecast(1)
    (path,) = export_csep(forecast, tmp_path)

    def double_the_first_bin(rows):
        for row in rows:
            if float(row[6]) == 2.5:
                row[8] = repr(2 * float(row[8]))

    _rewrite(path, double_the_first_bin)
    back = import_csep(path, like=forecast)
    assert "deviate from Gutenberg-Richter" in back.details
    assert back.b_value > forecast.b_value  # more small events: a steeper fit
    first = gutenberg_richter_fractions(np.array([2.5, 2.6]), forecast.b_value)[0]
    np.testing.assert_allclose(back.rates, forecast.rates * (1 + first), rtol=1e-12)


def test_mc_above_the_first_bin_drops_the_lower_bins(tmp_path):
    forecast = _forecast(1)
    export_csep(forecast, tmp_path)
    back = import_csep(tmp_path, mc=3.0, window_days=7.0)
    np.testing.assert_allclose(back.rates, forecast.above(3.0), rtol=1e-12)
    assert back.mc == 3.0 and back.b_value == pytest.approx(forecast.b_value, rel=1e-10)
    with pytest.raises(ValueError, match=r"mc 3.05 is not a magnitude bin edge"):
        import_csep(tmp_path, mc=3.05, window_days=7.0)
    with pytest.raises(ValueError, match=r"mc 2 is not a magnitude bin edge"):
        import_csep(tmp_path, mc=2.0, window_days=7.0)


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (Grid(33.0, 33.5, -117.0, -116.5, 0.05), r"cells are 0\.1 x 0\.1 deg .*cells are 0\.05"),
        (Grid(33.05, 33.55, -117.0, -116.5, 0.1), r"not on the grid's 0\.1 deg lattice .*origin"),
        (Grid(33.0, 33.4, -117.0, -116.5, 0.1), r"5 cells \(280 rows\) lie outside the grid"),
        (Grid(33.0, 33.6, -117.0, -116.5, 0.1), r"missing cells: 5 of the grid's 30 cells"),
    ],
)  # fmt: skip
def test_forecasts_on_another_grid_are_refused_naming_the_mismatch(tmp_path, other, message):
    forecast = _forecast(1)
    export_csep(forecast, tmp_path)
    like = RateForecast(
        "target", np.zeros((1, *other.shape)), forecast.window_start, 7.0, other, 2.5
    )
    with pytest.raises(ValueError, match=message):
        import_csep(tmp_path, like=like)
    with pytest.raises(ValueError, match=message):
        import_csep(tmp_path, grid=other, window_days=7.0)


def test_forecasts_for_other_windows_are_refused(tmp_path):
    forecast = _forecast(3)
    export_csep(forecast, tmp_path)
    later = make_forecast(forecast.rates, grid=SMALL, mc=2.5)
    shifted = RateForecast(
        "target", later.rates, later.window_start + np.timedelta64(1, "D"), 7.0, SMALL, 2.5
    )
    with pytest.raises(
        ValueError,
        match=r"is window 0 starting 2020-01-01; 'target' has window 0 starting 2020-01-02",
    ):
        import_csep(tmp_path, like=shifted)
    more = make_forecast(gamma_rates((4, *SMALL.shape), seed=1), grid=SMALL, mc=2.5)
    with pytest.raises(ValueError, match=r"3 forecast files for the 4 windows of 'model'"):
        import_csep(tmp_path, like=more)
    with pytest.raises(ValueError, match="disagree with the file names' dates"):
        import_csep(tmp_path, window_start=shifted.window_start)


def test_bad_tables_are_refused_in_one_line(tmp_path):
    forecast = _forecast(1)
    (path,) = export_csep(forecast, tmp_path / "good")
    cases = {
        "negative": lambda rows: rows[7].__setitem__(8, "-0.5"),
        "nan": lambda rows: rows[3].__setitem__(8, "nan"),
        "columns": lambda rows: [row.pop(4) for row in rows],
        "duplicate": lambda rows: rows.append(list(rows[0])),
    }
    messages = {
        "negative": r"1 rates are negative or not finite \(first on line 8: -0\.5\)",
        "nan": r"1 rates are negative or not finite \(first on line 4: nan\)",
        "columns": r"has 9 columns; a CSEP ASCII gridded forecast has 10",
        "duplicate": r"has 2 rows for magnitude bin 2\.5; expected exactly one",
    }
    for case, change in cases.items():
        bad = tmp_path / case / path.name
        bad.parent.mkdir()
        bad.write_text(path.read_text())
        _rewrite(bad, change)
        with pytest.raises(ValueError, match=messages[case]) as error:
            import_csep(bad, like=forecast)
        assert "\n" not in str(error.value)


def test_masked_cells_are_refused_or_given_zero_rate(tmp_path):
    forecast = _forecast(1)
    (path,) = export_csep(forecast, tmp_path)
    n_bins = len(path.read_text().splitlines()) // 25

    def mask_cell_seven(rows):
        for row in rows[7 * n_bins : 8 * n_bins]:
            row[9] = "0"

    _rewrite(path, mask_cell_seven)
    with pytest.raises(
        ValueError, match=r"1 cells are masked \(flag 0, first at lon -116\.8, lat 33\.1\)"
    ):
        import_csep(path, like=forecast)
    zeroed = import_csep(path, like=forecast, masked="zero")
    assert zeroed.rates[0, 1, 2] == 0.0  # cell 7 = row 1, column 2
    expected = forecast.rates.copy()
    expected[0, 1, 2] = 0.0
    np.testing.assert_allclose(zeroed.rates, expected, rtol=1e-12)


def test_files_without_export_names_need_their_windows(tmp_path):
    forecast = _forecast(2)
    paths = export_csep(forecast, tmp_path / "export")
    renamed = []
    for i, path in enumerate(paths):
        renamed.append(tmp_path / f"theirs-{i}.dat")
        renamed[-1].write_text(path.read_text())
    with pytest.raises(
        ValueError, match=r"cannot tell the windows from file names like 'theirs-0\.dat'"
    ):
        import_csep(renamed)
    back = import_csep(renamed, window_start=forecast.window_start, window_days=7.0)
    np.testing.assert_allclose(back.rates, forecast.rates, rtol=1e-12)
    with pytest.raises(FileNotFoundError, match="not found"):
        import_csep([tmp_path / "nothing.dat"], window_start=forecast.window_start[:1])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no \.dat forecast files in folder"):
        import_csep(tmp_path / "empty")


def test_km_grids_are_refused(tmp_path):
    (path,) = export_csep(_forecast(1), tmp_path)
    km = Grid(33.0, 34.0, -117.0, -116.0, 10.0, "km")
    starts = np.array(["2020-01-01"], "datetime64[us]")
    like = RateForecast("km", np.zeros((1, *km.shape)), starts, 7.0, km, 2.5)
    with pytest.raises(ValueError, match="unit='deg'"):
        import_csep(path, like=like)
    with pytest.raises(ValueError, match="CSEP files hold lon/lat cells"):
        import_csep(path, grid=km)
