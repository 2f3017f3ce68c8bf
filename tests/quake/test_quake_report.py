from __future__ import annotations

import numpy as np
import pytest
from quake_testing import REGION, random_catalog

from framecast.quake import Grid
from framecast.quake.frames import grid_catalog
from framecast.quake.rates import RateForecast
from framecast.quake.report import write_quake_report
from framecast.quake.scores import ScoreSettings


def test_report_scores_three_forecasts_and_draws_the_figures(tmp_path):
    grid = Grid.from_region(REGION, 0.25)
    frames = grid_catalog(
        random_catalog(300), grid, start="2010-01-01", end="2013-01-01", bin_days=30, mc=2.0
    )
    first = frames.bin_index("2012-01-01")
    windows = frames.bin_start[first:]
    counts = frames.channel("count")[first:].astype(np.float64)
    uniform = np.full(counts.shape, counts.sum() / counts.size)
    forecasts = {
        "reference": RateForecast("uniform", uniform, windows, 30, grid, 2.0, details="flat"),
        "oracle": RateForecast("oracle", 0.9 * counts + 0.1 * uniform, windows, 30, grid, 2.0),
    }
    report = write_quake_report(
        forecasts,
        frames,
        tmp_path,
        reference="reference",
        score_settings=ScoreSettings(num_simulations=50),
    )
    text = report.read_text()
    assert "**oracle** over uniform: information gain +" in text
    assert "(above zero;" in text
    for figure in ("forecast_maps.png", "rate_series.png", "cumulative_gain.png", "molchan.png"):
        assert (tmp_path / figure).stat().st_size > 1000
        assert f"]({figure})" in text
    assert (tmp_path / "scores.json").is_file()


def test_report_refuses_an_unknown_reference(tmp_path):
    grid = Grid.from_region(REGION, 0.5)
    frames = grid_catalog(
        random_catalog(50), grid, start="2010-01-01", end="2011-01-01", bin_days=30, mc=2.0
    )
    forecast = RateForecast("a", np.ones((2, 2, 2)), frames.bin_start[:2], 30, grid, 2.0)
    with pytest.raises(KeyError, match="etas"):
        write_quake_report({"a": forecast}, frames, tmp_path, reference="a", baselines=["etas"])


def test_report_refuses_a_test_period_without_events(tmp_path):
    grid = Grid.from_region(REGION, 0.5)
    frames = grid_catalog(  # events in 2010-2012 only
        random_catalog(50), grid, start="2010-01-01", end="2015-01-01", bin_days=30, mc=2.0
    )
    first = frames.bin_index("2014-01-01")
    windows = frames.bin_start[first:]
    forecast = RateForecast("a", np.ones((len(windows), 2, 2)), windows, 30, grid, 2.0)
    with pytest.raises(ValueError, match=r"no target event .* in the test period 2014-"):
        write_quake_report({"a": forecast}, frames, tmp_path, reference="a")
    assert not (tmp_path / "report.md").exists()
