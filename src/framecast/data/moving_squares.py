"""Moving squares: the synthetic movies of the Keras ConvLSTM example.

References
----------
.. [1] F. Chollet et al., Keras example "Next-frame prediction with
   Conv-LSTM" (``conv_lstm.py``), function ``generate_movies``.
.. [2] X. Shi et al., "Convolutional LSTM Network: A Machine Learning
   Approach for Precipitation Nowcasting", NeurIPS 2015.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor
from torch.utils.data import Dataset

from framecast.data.splits import split_index
from framecast.data.window import check_positive_int, check_window, split_window

CANVAS_SIZE = 80
"""Side of the canvas the squares move on."""

CROP: tuple[int, int] = (20, 60)
"""Rows and columns [20, 60) of the canvas are kept: 40x40 frames."""

NOISE_AMPLITUDE = 0.1
"""Each noisy square gets +-0.1 over its 1-pixel-larger box."""


def _add_box(canvas: np.ndarray, row: int, col: int, half: int, value: float) -> None:
    """Add ``value`` to ``canvas[row-half:row+half, col-half:col+half]``, clipped to the canvas."""
    size = canvas.shape[0]
    r0, r1 = max(row - half, 0), min(row + half, size)
    c0, c1 = max(col - half, 0), min(col + half, size)
    if r0 < r1 and c0 < c1:
        canvas[r0:r1, c0:c1] += value


def generate_squares(
    length: int, n_noisy: int, rng: np.random.Generator, noise: bool = True
) -> np.ndarray:
    """One movie of moving squares, as Keras' ``generate_movies`` draws it [1]_.

    3 to 7 squares start at a position uniform in [20, 60) per axis, move by
    -1, 0 or +1 pixel per frame per axis and have half-width 2 or 3. Overlaps
    saturate at 1. In the first ``n_noisy`` frames each square, with
    probability 1/2 per frame, gets +0.1 or -0.1 (equally likely) added over
    its box enlarged by one pixel on every side. The 80x80 canvas is
    cropped to [20:60, 20:60] and clipped to [0, 1].

    The geometry is drawn before the noise, so the same ``rng`` state gives
    the same clean movie whatever ``n_noisy`` and ``noise`` are.

    Parameters
    ----------
    length : int
        Number of frames T.
    n_noisy : int
        Number of leading frames that get noise (0 to T).
    rng : numpy.random.Generator
        Source of the squares and the noise.
    noise : bool
        False leaves every frame clean.

    Returns
    -------
    numpy.ndarray
        float32 ``[T, 40, 40]`` in [0, 1].
    """
    length = check_positive_int("length", length)
    if not 0 <= n_noisy <= length:
        raise ValueError(f"n_noisy must be in [0, {length}], got {n_noisy!r}")
    count = int(rng.integers(3, 8))
    start = rng.integers(20, 60, size=(count, 2))  # (n, 2) row, column
    direction = rng.integers(0, 3, size=(count, 2)) - 1  # (n, 2) in {-1, 0, 1}
    half = rng.integers(2, 4, size=count)  # (n,) in {2, 3}
    noisy = rng.integers(0, 2, size=(count, length)).astype(bool)  # (n, T)
    sign = np.where(rng.integers(0, 2, size=(count, length)) == 1, -1.0, 1.0)  # (n, T)

    canvas = np.zeros((length, CANVAS_SIZE, CANVAS_SIZE), dtype=np.float64)
    for j in range(count):
        for t in range(length):
            row, col = start[j] + direction[j] * t
            _add_box(canvas[t], int(row), int(col), int(half[j]), 1.0)
            if noise and t < n_noisy and noisy[j, t]:
                _add_box(
                    canvas[t], int(row), int(col), int(half[j]) + 1, sign[j, t] * NOISE_AMPLITUDE
                )
    low, high = CROP
    return np.clip(canvas[:, low:high, low:high], 0.0, 1.0).astype(np.float32)


class MovingSquares(Dataset[tuple[Tensor, Tensor]]):
    """Moving squares of the Keras ConvLSTM example, noise on the context only [1]_.

    Item ``i`` of a split is generated from
    ``numpy.random.default_rng([seed, split_index, i])``.

    Parameters
    ----------
    split : str
        "train", "val" or "test".
    n_context, n_target : int
        Frames of context (noisy) and of target (clean).
    num_sequences : int
        Number of items of the split.
    seed : int
        Base seed.
    noise : bool
        Add the Keras example's noise to the context frames.

    Attributes
    ----------
    channels, height, width : int
        1, 40, 40.
    """

    def __init__(
        self,
        split: str,
        *,
        n_context: int = 10,
        n_target: int = 10,
        num_sequences: int = 1000,
        seed: int = 0,
        noise: bool = True,
    ) -> None:
        self.split_index = split_index(split)
        self.split = split
        self.length = check_window(n_context, n_target)
        self.n_context = int(n_context)
        self.num_sequences = check_positive_int("num_sequences", num_sequences)
        self.seed = check_positive_int("seed", seed, minimum=0)
        if not isinstance(noise, bool):
            raise TypeError(f"noise must be True or False, got {noise!r}")
        self.noise = noise
        self.channels = 1
        self.height = CROP[1] - CROP[0]
        self.width = CROP[1] - CROP[0]

    def __len__(self) -> int:
        return self.num_sequences

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        if not -self.num_sequences <= index < self.num_sequences:
            raise IndexError(f"index {index} out of range for {self.num_sequences} sequences")
        index %= self.num_sequences
        rng = np.random.default_rng([self.seed, self.split_index, index])
        frames = generate_squares(self.length, self.n_context, rng, noise=self.noise)
        return split_window(frames[:, None], self.n_context)  # (T, 1, 40, 40)


def moving_squares(
    split: str,
    *,
    n_context: int = 10,
    n_target: int = 10,
    num_sequences: int = 1000,
    seed: int = 0,
    noise: bool = True,
) -> MovingSquares:
    """Moving squares of the Keras ConvLSTM example; see :class:`MovingSquares`."""
    return MovingSquares(
        split,
        n_context=n_context,
        n_target=n_target,
        num_sequences=num_sequences,
        seed=seed,
        noise=noise,
    )
