"""Earthquake alarms from seismicity frames, and their comparison with rate forecasts."""

from __future__ import annotations

import numpy as np
import pytest
from classify_testing import write_burst_frames

from framecast.classify.alarms import (
    compare_alarms,
    quake_alarms,
    recent_rate_probability,
    window_events,
)
from framecast.quake.frames import SeismicityFrames

PERIODS = {"val_start": "2011-01-01", "test_start": "2011-07-01"}


@pytest.fixture(scope="module")
def frames_path(tmp_path_factory):
    return write_burst_frames(tmp_path_factory.mktemp("alarms") / "frames.h5")


def test_labels_count_the_big_events_in_each_window(frames_path):
    alarms = quake_alarms(
        "test", path=str(frames_path), magnitude=3.5, n_context=8, window_bins=5, **PERIODS
    )
    frames = SeismicityFrames.load(frames_path)
    big = frames.events.magnitude >= 3.5
    day = np.floor(frames.events.days_since(frames.start)[big]).astype(int)  # daily bins
    for i, k in enumerate(alarms.windows.starts):
        expected = int(((day >= k) & (day < k + 5)).sum())
        assert alarms.windows.events[i] == expected
        assert alarms.windows.labels[i] == int(expected > 0)
    assert alarms.windows.starts.min() >= frames.bin_index("2011-07-01")
    x, y = alarms[0]
    assert x.shape == (8, 2, 4, 4) and int(y) == alarms.windows.labels[0]
    assert alarms.class_names == ("quiet", "M>=3.5")
    assert 0 < alarms.windows.labels.sum() < len(alarms)


def test_window_events_by_cumulative_counts():
    assert window_events(np.array([0, 2, 2, 5]), 6, np.array([0, 1, 2, 3]), 3).tolist() == [
        3,
        2,
        2,
        1,
    ]


def test_recent_rate_forecast_ranks_busy_contexts_higher(frames_path):
    alarms = quake_alarms(
        "train", path=str(frames_path), magnitude=3.5, n_context=3, window_bins=3, **PERIODS
    )
    p = recent_rate_probability(alarms)
    assert p.shape == (len(alarms),) and ((p >= 0) & (p < 1)).all()
    busy = alarms.data[:, 0].sum(axis=(1, 2))  # log1p counts per bin
    context = np.array([busy[k - 3 : k].sum() for k in alarms.windows.starts])
    quiet, loud = context < np.median(context), context > np.percentile(context, 90)
    assert p[loud].mean() > p[quiet].mean()
    skills = compare_alarms({"recent": p}, alarms.windows.labels, alarms.windows.events)
    assert skills[0].roc_auc > 0.6 and skills[0].area_skill_score > 0.6  # bursts announce events
    molchan = skills[0].molchan
    assert (molchan.tau[0], molchan.nu[0], molchan.tau[-1], molchan.nu[-1]) == (0, 1, 1, 0)


def test_bad_alarm_options_fail_in_one_line(frames_path):
    with pytest.raises(ValueError, match=r"magnitude must be at least the frames' mc 2\.0"):
        quake_alarms("train", path=str(frames_path), magnitude=1.5, **PERIODS)
    with pytest.raises(ValueError, match=r"needs data\.options\.magnitude"):
        quake_alarms("train", path=str(frames_path), **PERIODS)
    with pytest.raises(ValueError, match=r"channels \['mean_depth'\] not in"):
        quake_alarms(
            "train", path=str(frames_path), magnitude=3, channels=["mean_depth"], **PERIODS
        )
    with pytest.raises(ValueError, match="alarm score 'x' has 2 values for 3 windows"):
        compare_alarms({"x": np.zeros(2)}, np.zeros(3), np.zeros(3))


def test_a_rate_network_is_scored_on_the_same_windows(frames_path, tmp_path):
    import torch

    from framecast.classify.alarms import forecaster_probability
    from framecast.config import config_from_dict

    # persistence as the rate network: the last bin's counts, every bin of the window
    config = config_from_dict(
        {
            "model": {"name": "persistence", "in_channels": 2},
            "data": {"name": "seismicity", "n_context": 2, "options": {"path": str(frames_path)}},
        }
    )
    checkpoint = tmp_path / "persistence.ckpt"
    torch.save({"hyper_parameters": {"config": config.to_dict()}, "state_dict": {}}, checkpoint)
    alarms = quake_alarms(
        "test", path=str(frames_path), magnitude=3.0, n_context=4, window_bins=3, **PERIODS
    )
    p = forecaster_probability(checkpoint, alarms, b_value=1.0)
    counts = SeismicityFrames.load(frames_path).channel("count").sum(axis=(1, 2))  # [T]
    rate = counts[alarms.windows.starts - 1] * 3 * 10.0 ** -(3.0 - 2.0)
    assert np.allclose(p, -np.expm1(-rate))
    too_long = config_from_dict(
        {**config.to_dict(), "data": {"name": "seismicity", "n_context": 9}}
    )
    torch.save({"hyper_parameters": {"config": too_long.to_dict()}, "state_dict": {}}, checkpoint)
    train = quake_alarms("train", path=str(frames_path), magnitude=3.0, n_context=4, **PERIODS)
    with pytest.raises(ValueError, match="the network needs 9 context bins"):
        forecaster_probability(checkpoint, train)
