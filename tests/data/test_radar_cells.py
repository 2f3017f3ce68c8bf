"""The radar-like generator: units, determinism, motion with the steering flow, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from framecast.data import build_dataset
from framecast.data.radar_cells import (
    DBZ_MAX,
    MIN_RAIN_RATE,
    SPEED_MIN,
    RadarCells,
    dbz_to_rain_rate,
    generate_rain_cells,
    rain_rate_to_dbz,
)


def test_marshall_palmer_units() -> None:
    # Z = 200 R^1.6: 1 mm/h is 23.0 dBZ, 10 mm/h 39.0 dBZ, below 0.1 mm/h no echo
    dbz = rain_rate_to_dbz(np.array([0.0, 0.05, 1.0, 10.0, 100.0]))
    np.testing.assert_allclose(dbz, [0.0, 0.0, 23.0103, 39.0103, 55.0103], atol=1e-3)
    rates = np.array([MIN_RAIN_RATE, 0.5, 3.0, 60.0])
    np.testing.assert_allclose(dbz_to_rain_rate(rain_rate_to_dbz(rates)), rates, rtol=1e-12)
    assert dbz_to_rain_rate(np.array([0.0]))[0] == 0.0


def test_items_are_seeded_reflectivity_frames_in_unit_range() -> None:
    data = RadarCells("train", n_context=4, n_target=6, num_sequences=5, image_size=40)
    context, target = data[3]
    assert context.shape == (4, 1, 40, 40) and target.shape == (6, 1, 40, 40)
    assert context.dtype == torch.float32
    frames = torch.cat([context, target])
    assert float(frames.min()) >= 0.0 and float(frames.max()) <= 1.0
    assert float(frames.max()) > 20 / DBZ_MAX  # some echo of 20 dBZ or more
    again = RadarCells("train", n_context=4, n_target=6, num_sequences=5, image_size=40)[3]
    assert torch.equal(again[0], context) and torch.equal(again[1], target)
    other = RadarCells("test", n_context=4, n_target=6, num_sequences=5, image_size=40)[3]
    assert not torch.equal(other[0], context)  # the splits draw different sequences
    assert data.dbz_max == DBZ_MAX and (data.channels, data.height, data.width) == (1, 40, 40)


def test_cells_move_with_the_steering_flow() -> None:
    """Shifting a frame by the sequence's steering velocity predicts a later frame better than
    leaving it in place (persistence), summed over sequences: the field is advected."""
    moved_error, still_error = 0.0, 0.0
    for seed in range(12):
        rate = generate_rain_cells(10, 100, np.random.default_rng(seed), max_speed=3.0)
        rng = np.random.default_rng(seed)  # the steering flow is the generator's first draw
        speed, angle = rng.uniform(SPEED_MIN, 3.0), rng.uniform(0.0, 2.0 * np.pi)
        shift = np.round(6 * speed * np.array([np.sin(angle), np.cos(angle)])).astype(int)
        moved = np.roll(rate[2], tuple(shift), axis=(0, 1))
        moved_error += float(((rate[8] - moved) ** 2).sum())
        still_error += float(((rate[8] - rate[2]) ** 2).sum())
    assert moved_error < 0.8 * still_error


def test_cells_grow_and_decay() -> None:
    """The field is not only moved: the total rain changes from frame to frame."""
    rate = generate_rain_cells(20, 100, np.random.default_rng(3))
    totals = rate.sum(axis=(1, 2))
    assert np.abs(np.diff(totals)).max() > 0.02 * totals.mean()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mean_cells": 0}, r"mean_cells must be a finite number > 0, got 0"),
        ({"mean_cells": float("nan")}, r"mean_cells .* got nan"),
        ({"max_speed": 0.1}, r"max_speed must be >= 0\.5 pixels per frame, got 0\.1"),
        ({"image_size": 4}, r"image_size must be >= 8, got 4"),
        ({"num_sequences": 0}, r"num_sequences must be >= 1, got 0"),
    ],
)
def test_bad_options_are_one_line_errors(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        build_dataset("radar_cells", "train", n_context=2, n_target=2, options=options)
    assert "\n" not in str(error.value)
