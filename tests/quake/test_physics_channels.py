"""Physics channels of ``framecast quake grid`` on tiny hand-made catalogs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from framecast.quake import Catalog, Grid
from framecast.quake.frames import check_channels, grid_catalog
from framecast.quake.grid import KM_PER_DEGREE
from framecast.quake.physics_channels import NO_LARGE_EVENT_KM

GRID = Grid.from_region(
    "33,34,-117,-116", 0.5
)  # 2 x 2 cells, centres at 33.25/33.75, -116.75/-116.25


def _catalog(times, lats, lons, mags) -> Catalog:
    return Catalog.from_columns(
        time=times, latitude=lats, longitude=lons, magnitude=mags, depth=[5.0] * len(times)
    )


def _grid(catalog: Catalog, channels: list[str], days: int = 4):
    end = np.datetime64("2020-01-01") + np.timedelta64(days, "D")
    return grid_catalog(
        catalog, GRID, start="2020-01-01", end=str(end), bin_days=1, mc=2.0, channels=channels
    )


def test_magnitude_excess_and_log_energy_by_hand():
    cat = _catalog(
        ["2020-01-01T06:00", "2020-01-01T07:00"], [33.2, 33.3], [-116.8, -116.7], [2.5, 4.0]
    )
    frames = _grid(cat, ["magnitude_excess", "log_energy"])
    assert frames.frames[0, 0, 0, 0] == pytest.approx(2.0)  # 4.0 - mc
    assert frames.frames[0, 1, 0, 0] == pytest.approx(
        math.log10(10 ** (1.5 * 2.5 + 4.8) + 10 ** (1.5 * 4.0 + 4.8)), rel=1e-6
    )
    assert frames.frames[1].sum() == 0 and frames.frames[0, :, 1, 1].sum() == 0


def test_activity_traces_decay_from_each_event_by_hand():
    # one event at noon on day 0 in cell (0, 0), one at 18:00 on day 2 in the same cell
    cat = _catalog(
        ["2020-01-01T12:00", "2020-01-03T18:00"], [33.2, 33.2], [-116.8, -116.8], [2.0, 2.0]
    )
    frames = _grid(cat, ["count", "activity_1d", "activity_10d"])
    a1, a10 = frames.channel("activity_1d")[:, 0, 0], frames.channel("activity_10d")[:, 0, 0]
    # bin ends at 1, 2, 3, 4 days; the events at 0.5 and 2.75 days
    for tau, got in ((1.0, a1), (10.0, a10)):
        want = [
            math.log1p(math.exp(-0.5 / tau)),
            math.log1p(math.exp(-1.5 / tau)),
            math.log1p(math.exp(-2.5 / tau) + math.exp(-0.25 / tau)),
            math.log1p(math.exp(-3.5 / tau) + math.exp(-1.25 / tau)),
        ]
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert frames.channel("activity_1d")[:, 1, 1].sum() == 0  # other cells hold no memory


def test_activity_trace_remembers_events_before_the_frames_start():
    cat = _catalog(
        ["2019-12-31T00:00", "2020-01-02T00:00"], [33.2, 33.2], [-116.8, -116.8], [2.0, 2.0]
    )
    frames = _grid(cat, ["count", "activity_10d"])
    assert frames.channel("count")[:, 0, 0].tolist() == [0, 1, 0, 0]  # only events in the bins
    assert frames.channel("activity_10d")[0, 0, 0] == pytest.approx(math.log1p(math.exp(-0.2)))


def test_large_event_distance_by_hand():
    # an M4.5 (mc + 2.5: large) at the centre of cell (0, 0) on day 1, an M3 (not large) on day 0
    cat = _catalog(
        ["2020-01-01T03:00", "2020-01-02T12:00"], [33.75, 33.25], [-116.25, -116.75], [3.0, 4.5]
    )
    frames = _grid(cat, ["count", "large_event_distance"])
    d = frames.channel("large_event_distance")
    none = math.log10(1 + NO_LARGE_EVENT_KM)
    np.testing.assert_allclose(d[0], none, rtol=1e-6)  # before the large event
    east = 0.5 * KM_PER_DEGREE * math.cos(math.radians(33.5))  # to the next column's centre
    north = 0.5 * KM_PER_DEGREE
    want = np.log10(1 + np.array([[0.0, east], [north, math.hypot(east, north)]]))
    for k in (1, 2, 3):
        np.testing.assert_allclose(d[k], want, rtol=1e-5)


def test_large_event_is_forgotten_after_a_year():
    cat = _catalog(["2020-01-01T12:00"], [33.25], [-116.75], [4.0])
    frames = grid_catalog(
        cat,
        GRID,
        start="2020-01-01",
        end="2021-01-10",
        bin_days=1,
        mc=2.0,
        channels=["count", "large_event_distance"],
    )
    d = frames.channel("large_event_distance")[:, 0, 0]
    # the event at 0.5 days counts for bins whose end lies in (0.5, 365.5]: bins 0..364
    assert (d[:365] == 0).all() and d[365] == pytest.approx(math.log10(1 + NO_LARGE_EVENT_KM))


def test_unknown_channel_is_refused_naming_the_history_channels():
    with pytest.raises(ValueError, match=r"unknown channels \[.activity_2d.\].*activity_1d"):
        check_channels(["count", "activity_2d"])
