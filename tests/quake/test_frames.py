from __future__ import annotations

import numpy as np
import pytest
from quake_testing import REGION, random_catalog

from framecast.quake import Catalog, Grid
from framecast.quake.frames import SeismicityFrames, grid_catalog

ALL = ("count", "log_energy", "max_magnitude", "mean_depth")


def _two_events() -> Catalog:
    return Catalog.from_columns(
        time=["2020-01-01T06:00:00", "2020-01-01T18:00:00", "2020-01-03T00:00:00"],
        latitude=[33.05, 33.06, 33.95],
        longitude=[-116.95, -116.94, -116.05],
        magnitude=[2.0, 3.0, 1.0],
        depth=[4.0, np.nan, 8.0],
    )


def test_channels_of_hand_made_events():
    grid = Grid.from_region(REGION, 0.5)
    frames = grid_catalog(
        _two_events(), grid, start="2020-01-01", end="2020-01-04", bin_days=1, mc=1.5, channels=ALL
    )
    assert frames.frames.shape == (3, 4, 2, 2)
    count, energy, mmax, depth = (frames.frames[0, c, 0, 0] for c in range(4))
    assert count == 2
    assert energy == pytest.approx(
        np.log10(10 ** (1.5 * 2 + 4.8) + 10 ** (1.5 * 3 + 4.8)), rel=1e-6
    )
    assert mmax == 3.0
    assert depth == 4.0  # the unknown depth is left out of the mean
    excess = grid_catalog(
        _two_events(),
        grid,
        start="2020-01-01",
        end="2020-01-04",
        bin_days=1,
        mc=1.5,
        channels=["magnitude_excess"],
    )
    assert excess.frames[0, 0, 0, 0] == pytest.approx(1.5)
    assert frames.frames[2].sum() == 0  # the M1.0 event is below mc
    assert len(frames.events) == 2


def test_deterministic_and_counts_every_event():
    cat = random_catalog(300)
    grid = Grid.from_region(REGION, 0.125)
    a = grid_catalog(cat, grid, start="2010-01-01", end="2013-01-01", bin_days=7, mc=2.0)
    b = grid_catalog(
        cat.select(np.arange(299, -1, -1)),
        grid,
        start="2010-01-01",
        end="2013-01-01",
        bin_days=7,
        mc=2.0,
    )
    np.testing.assert_array_equal(a.frames, b.frames)
    assert a.catalog_hash == b.catalog_hash
    assert a.frames.sum() == len(a.events)
    assert (
        a.num_bins == (np.datetime64("2013-01-01") - np.datetime64("2010-01-01")).astype(int) // 7
    )


def test_save_load_round_trip(tmp_path):
    frames = grid_catalog(
        random_catalog(100),
        Grid.from_region(REGION, 0.25),
        start="2010-01-01",
        end="2011-01-01",
        bin_days=7,
        mc=2.0,
        channels=ALL,
    )
    path = frames.save(tmp_path / "f.h5")
    back = SeismicityFrames.load(path)
    np.testing.assert_array_equal(back.frames, frames.frames)
    assert back.grid == frames.grid and back.channels == frames.channels
    assert back.events.content_hash() == frames.events.content_hash()
    np.testing.assert_array_equal(back.bin_start, frames.bin_start)
    assert not list(tmp_path.glob("*.partial"))


def test_no_events_in_region_is_a_clear_error_and_writes_nothing(tmp_path):
    grid = Grid.from_region("40,41,10,11", 0.5)
    with pytest.raises(ValueError, match=r"0 inside the region lat 40.0..41.0"):
        grid_catalog(
            random_catalog(50), grid, start="2010-01-01", end="2011-01-01", bin_days=7, mc=2.0
        )


def test_bad_settings():
    grid = Grid.from_region(REGION, 0.5)
    cat = random_catalog(50)
    with pytest.raises(ValueError, match="unknown channels"):
        grid_catalog(
            cat, grid, start="2010-01-01", end="2011-01-01", bin_days=7, mc=2, channels=["counts"]
        )
    with pytest.raises(ValueError, match="no whole bin"):
        grid_catalog(cat, grid, start="2010-01-01", end="2010-01-03", bin_days=7, mc=2)
    with pytest.raises(ValueError, match="bin_days"):
        grid_catalog(cat, grid, start="2010-01-01", end="2011-01-01", bin_days=0, mc=2)


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    grid = Grid.from_region(REGION, 0.5)
    frames = grid_catalog(
        random_catalog(50), grid, start="2010-01-01", end="2011-01-01", bin_days=7, mc=2
    )
    path = frames.save(tmp_path / "f.h5")
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("framecast.files.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        frames.save(path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.partial"))
