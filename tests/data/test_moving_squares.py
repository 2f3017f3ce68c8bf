"""Moving squares of the Keras ConvLSTM example."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from framecast.data import MovingSquares, build_dataset, generate_squares


def test_shape_range_and_attributes() -> None:
    dataset = build_dataset("moving_squares", "train", n_context=6, n_target=4)
    assert len(dataset) == 1000
    assert (dataset.channels, dataset.height, dataset.width) == (1, 40, 40)
    context, target = dataset[0]
    assert context.shape == (6, 1, 40, 40) and target.shape == (4, 1, 40, 40)
    assert context.dtype == torch.float32
    for i in range(10):
        frames = torch.cat(dataset[i])
        assert float(frames.min()) >= 0.0 and float(frames.max()) <= 1.0


def test_noise_only_in_context() -> None:
    noisy = MovingSquares("train", n_context=8, n_target=8, num_sequences=20)
    clean = MovingSquares("train", n_context=8, n_target=8, num_sequences=20, noise=False)
    differs = 0
    for i in range(20):
        noisy_context, noisy_target = noisy[i]
        clean_context, clean_target = clean[i]
        torch.testing.assert_close(noisy_target, clean_target, rtol=0, atol=0)
        # clean frames are binary; each of the (at most 7) squares' noise is +-0.1
        assert set(torch.unique(clean_target).tolist()) <= {0.0, 1.0}
        assert set(torch.unique(clean_context).tolist()) <= {0.0, 1.0}
        steps = (noisy_context - clean_context) * 10
        torch.testing.assert_close(steps, steps.round(), rtol=0, atol=1e-4)
        assert float(steps.abs().max()) <= 7 + 1e-4
        differs += int(not torch.equal(noisy_context, clean_context))
    assert differs >= 15


def test_squares_move_one_pixel_per_frame() -> None:
    # a clean movie: each frame is a union of squares shifted by at most 1 pixel per axis,
    # so the lit area of consecutive frames overlaps and the frame changes little
    frames = generate_squares(10, 0, np.random.default_rng(3))
    for t in range(9):
        lit_now, lit_next = frames[t] > 0.5, frames[t + 1] > 0.5
        if lit_now.any() and lit_next.any():
            grown = np.zeros_like(lit_now)
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    grown |= np.roll(np.roll(lit_now, dr, axis=0), dc, axis=1)
            assert (lit_next & ~grown).sum() <= 2 * 40  # only squares entering at the crop edge


def test_reproducible_and_split_dependent() -> None:
    a = MovingSquares("train", n_context=3, n_target=3)
    b = MovingSquares("train", n_context=3, n_target=3)
    assert torch.equal(a[5][0], b[5][0]) and torch.equal(a[5][1], b[5][1])
    assert not torch.equal(a[5][1], a[6][1])
    assert not torch.equal(a[5][1], MovingSquares("test", n_context=3, n_target=3)[5][1])
    assert not torch.equal(a[5][1], MovingSquares("train", n_context=3, n_target=3, seed=1)[5][1])


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="'dev'"):
        MovingSquares("dev")
    with pytest.raises(ValueError, match="n_target"):
        MovingSquares("train", n_target=0)
    with pytest.raises(TypeError, match="noise"):
        MovingSquares("train", noise="yes")  # type: ignore[arg-type]
    with pytest.raises(IndexError):
        MovingSquares("train", num_sequences=3)[3]
