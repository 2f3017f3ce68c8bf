from __future__ import annotations

import pytest
import torch
from quake_testing import REGION, random_catalog

from framecast.data import build_dataset
from framecast.quake import Grid
from framecast.quake.frames import grid_catalog


@pytest.fixture
def frames_file(tmp_path):
    frames = grid_catalog(
        random_catalog(500),
        Grid.from_region(REGION, 0.125),
        start="2010-01-01",
        end="2013-01-01",
        bin_days=7,
        mc=2.0,
        channels=("count", "max_magnitude"),
    )
    return frames, frames.save(tmp_path / "frames.h5")


def _build(split, path, **extra):
    options = dict(path=str(path), val_start="2012-01-01", test_start="2012-07-01", **extra)
    return build_dataset("seismicity", split, n_context=6, n_target=1, options=options)


def test_windows_stay_in_their_period_and_match_the_frames(frames_file):
    frames, path = frames_file
    val_bin, test_bin = frames.bin_index("2012-01-01"), frames.bin_index("2012-07-01")
    train, val, test = (_build(s, path, channels=["count"]) for s in ("train", "val", "test"))
    assert train.starts.min() == 6 and train.starts.max() == val_bin - 1
    assert val.starts.min() == val_bin and val.starts.max() == test_bin - 1
    assert test.starts.max() == frames.num_bins - 1
    context, target = test[3]
    k = int(test.starts[3])
    assert context.shape == (6, 1, 8, 8) and target.shape == (1, 1, 8, 8)
    assert torch.equal(target[0, 0], torch.from_numpy(frames.channel("count")[k]))
    assert torch.equal(context[-1, 0], torch.from_numpy(frames.channel("count")[k - 1]))


def test_channel_selection_and_errors(frames_file):
    _, path = frames_file
    ds = _build("train", path, channels=["max_magnitude", "count"])
    assert ds[0][0].shape[1] == 2
    with pytest.raises(ValueError, match="not in"):
        _build("train", path, channels=["mean_depth"])
    with pytest.raises(ValueError, match="val_start < test_start"):
        build_dataset(
            "seismicity",
            "train",
            n_context=6,
            n_target=1,
            options={"path": str(path), "val_start": "2012-07-01", "test_start": "2012-01-01"},
        )
    with pytest.raises(TypeError):
        _build("train", path, bogus=1)
