import pytest

from framecast.models import Persistence


def test_repeats_last_observed_frame(frames):
    out = Persistence(1)(frames[:, :3], 4)
    assert out.shape == (2, 4, 1, 8, 8)
    for t in range(4):
        assert (out[:, t] == frames[:, 2]).all()


def test_rollout_predicts_next_frame_as_current(frames):
    out = Persistence(1).rollout(frames[:, :3], 2)
    assert (out[:, 0] == frames[:, 0]).all() and (out[:, 1] == frames[:, 1]).all()
    assert (out[:, 2:] == frames[:, 2:3]).all()


def test_bad_channels():
    with pytest.raises(ValueError, match="in_channels"):
        Persistence(0)
