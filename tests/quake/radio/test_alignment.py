"""Side images per frame bin: slots recorded before the window only (lag included)."""

from __future__ import annotations

import numpy as np
import pytest

from framecast.quake.radio.alignment import normalization, side_images
from framecast.quake.radio.store import RadioSeries

START = np.datetime64("2014-01-01T00:00:00", "us")


def _series(days: int = 30, slots: int = 4, seed: int = 0) -> RadioSeries:
    rng = np.random.default_rng(seed)
    n = days * slots
    return RadioSeries(
        power=rng.normal(size=(n, 2, 3)).astype(np.float32),
        coverage=np.ones((n, 2), np.float32),
        start=START,
        slot_seconds=86400.0 / slots,
        slots_per_bin=slots,
        frequencies=np.array([1.0, 2.0, 3.0]),
        stations=("A", "B"),
    )


def _window_input(series, k, n_context, lag, scale, bins):
    images = side_images(series, bins, 1.0, lag_days=lag, scale=scale)
    return images[k - n_context : k]  # what window k's context frames carry


@pytest.mark.parametrize("lag", [0.0, 0.5, 2.0])
def test_window_k_ignores_samples_at_or_after_its_start(lag):
    series = _series()
    bins = START + np.arange(30) * np.timedelta64(1, "D")
    scale = normalization(series, START + np.timedelta64(10, "D"))
    k, n_context = 20, 5
    before = _window_input(series, k, n_context, lag, scale, bins)
    changed = _series()
    window_start = bins[k] - np.timedelta64(int(lag * 86400), "s")
    late = changed.slot_start + np.timedelta64(6, "h") > window_start  # slots not ended by then
    changed.power[late] += 100.0
    changed.coverage[late] = 0.5
    after = _window_input(changed, k, n_context, lag, scale, bins)
    assert np.array_equal(before, after)
    # and the slot ending right at the visible edge does reach it (no over-cautious shift)
    last = ~late & (changed.slot_start + np.timedelta64(12, "h") > window_start)
    changed.power[last] -= 100.0
    assert not np.array_equal(before, _window_input(changed, k, n_context, lag, scale, bins))


def test_layout_mask_and_gaps():
    series = _series(days=3)
    series.power[5] = np.nan
    series.coverage[5] = 0.0
    bins = START + np.arange(-1, 4) * np.timedelta64(1, "D")  # a bin before the recording
    images = side_images(series, bins, 1.0, scale=normalization(series, START + 3 * 86400_000_000))
    assert images.shape == (5, 4, 3, 4)  # (T, 2 stations x power/mask, F, K)
    assert (images[0] == 0).all()  # before the recording: missing, mask 0
    assert (images[2, 2:, :, 1] == 0).all() and (images[2, :2, :, 1] == 0).all()  # slot 5
    assert (images[1, 2:] == 1).all()
    assert (images[4] == 0).all()  # after the recording


def test_bin_length_mismatch_refused():
    series = _series()
    with pytest.raises(ValueError, match="bins of 1 days and the frames 2 days"):
        side_images(
            series, np.array([START]), 2.0, scale=normalization(series, START + 86400_000_000)
        )
