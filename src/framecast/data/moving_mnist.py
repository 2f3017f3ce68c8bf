"""Moving MNIST, generated on the fly from MNIST digits.

References
----------
.. [1] N. Srivastava, E. Mansimov and R. Salakhutdinov, "Unsupervised
   Learning of Video Representations using LSTMs", ICML 2015, section 3.
.. [2] Y. Wang, M. Long, J. Wang, Z. Gao and P. S. Yu, "PredRNN: Recurrent
   Neural Networks for Predictive Learning using Spatiotemporal LSTMs",
   NeurIPS 2017, section 4.1.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from torch import Tensor
from torch.utils.data import Dataset

from framecast.data.mnist import find_mnist_dir, load_mnist_digits, mnist_search_dirs
from framecast.data.splits import split_index
from framecast.data.window import check_positive_int, check_window, split_window

DIGIT_SIZE = 28
"""Side of an MNIST digit in pixels."""

SPEED_RANGE: tuple[float, float] = (3.0, 5.0)
"""Speeds are drawn uniformly from [3, 5) pixels per frame."""

VAL_START = 50_000
"""The train split draws MNIST training digits [0, VAL_START), val the rest."""

# (resolved MNIST folder, "train" | "test") -> uint8 [N, 28, 28]
_DIGIT_CACHE: dict[tuple[str, str], np.ndarray] = {}


def generate_moving_digits(
    digits: np.ndarray, length: int, image_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Move ``digits`` across a square canvas, bouncing off its edges [1]_ [2]_.

    Each digit starts at a uniform position that keeps it inside the canvas
    and moves with a constant speed, uniform in [3, 5) pixels per frame, in a
    direction uniform on the circle. When a digit would leave the canvas the
    position is reflected at the edge and that velocity component changes
    sign. Digits are drawn at their rounded positions and combined by the
    pixel-wise maximum.

    Parameters
    ----------
    digits : numpy.ndarray
        ``[K, 28, 28]`` digit images, uint8 in [0, 255].
    length : int
        Number of frames T.
    image_size : int
        Side of the square canvas, >= 28.
    rng : numpy.random.Generator
        Source of the positions and velocities.

    Returns
    -------
    frames : numpy.ndarray
        float32 ``[T, image_size, image_size]`` in [0, 1] (pixel / 255).
    positions : numpy.ndarray
        float64 ``[T, K, 2]``: (row, column) of each digit's top-left corner,
        each in ``[0, image_size - 28]``.

    Raises
    ------
    ValueError
        Bad digit shape, length or image size.
    """
    digits = np.asarray(digits)
    if digits.ndim != 3 or digits.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE):
        raise ValueError(f"digits must have shape [K, 28, 28], got {digits.shape}")
    length = check_positive_int("length", length)
    image_size = check_positive_int("image_size", image_size, minimum=DIGIT_SIZE)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    count = digits.shape[0]
    limit = float(image_size - DIGIT_SIZE)
    position = rng.uniform(0.0, limit, size=(count, 2))  # (K, 2) row, column
    theta = rng.uniform(0.0, 2.0 * np.pi, size=count)
    speed = rng.uniform(*SPEED_RANGE, size=count)
    velocity = speed[:, None] * np.stack([np.sin(theta), np.cos(theta)], axis=1)  # (K, 2)

    frames = np.zeros((length, image_size, image_size), dtype=np.uint8)
    positions = np.empty((length, count, 2), dtype=np.float64)
    for t in range(length):
        positions[t] = position
        corner = np.rint(position).astype(np.int64)
        for k in range(count):
            r, c = corner[k]
            window = frames[t, r : r + DIGIT_SIZE, c : c + DIGIT_SIZE]
            np.maximum(window, digits[k], out=window)
        position = position + velocity
        # bounce: reflect the position at the edge and flip that velocity component
        low, high = position < 0.0, position > limit
        position = np.where(low, -position, np.where(high, 2.0 * limit - position, position))
        velocity = np.where(low | high, -velocity, velocity)
        position = np.clip(position, 0.0, limit)  # a canvas narrower than one step
    return frames.astype(np.float32) / 255.0, positions


def _cached_digits(mnist_dir: Path, mnist_split: str) -> np.ndarray:
    key = (str(mnist_dir.resolve()), mnist_split)
    if key not in _DIGIT_CACHE:
        _DIGIT_CACHE[key] = load_mnist_digits(mnist_dir, mnist_split)
    return _DIGIT_CACHE[key]


def _resolve_mnist_dir(mnist_dir: str | os.PathLike[str] | None) -> Path:
    if mnist_dir is not None:
        folder = Path(mnist_dir).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"mnist_dir {str(folder)!r} is not a folder")
        return folder
    found = find_mnist_dir()
    if found is None:
        looked = ", ".join(repr(str(d)) for d in mnist_search_dirs())
        raise FileNotFoundError(
            f"MNIST digits not found; looked in {looked}. Pass mnist_dir=..., set "
            "FRAMECAST_MNIST_DIR, or fetch them with framecast.data.download_mnist(dest)."
        )
    return found


class MovingMNIST(Dataset[tuple[Tensor, Tensor]]):
    """Moving MNIST sequences generated on the fly [1]_ [2]_.

    Item ``i`` of a split is generated from
    ``numpy.random.default_rng([seed, split_index, i])``, so it is the same
    whatever the access order or the number of loader workers. The splits
    draw digits from disjoint pools: train from MNIST training digits
    [0, 50000), val from training digits [50000, 60000), test from the
    10,000 t10k digits.

    Parameters
    ----------
    split : str
        "train", "val" or "test".
    n_context, n_target : int
        Frames of context and of target; a sequence has their sum.
    mnist_dir : str or os.PathLike, optional
        Folder of the MNIST IDX files; None searches with
        :func:`framecast.data.find_mnist_dir`.
    num_sequences : int
        Number of items of the split.
    num_digits : int
        Digits per sequence.
    image_size : int
        Side of the square frames, >= 28.
    seed : int
        Base seed of the split's sequences.

    Attributes
    ----------
    channels, height, width : int
        Frame layout: 1, image_size, image_size.
    digits : numpy.ndarray
        The split's digit pool ``[N, 28, 28]`` (a view of the MNIST array).

    Raises
    ------
    FileNotFoundError
        If the MNIST files cannot be found (the message says where it
        looked and suggests :func:`framecast.data.download_mnist`).
    ValueError
        Bad split or option value.
    """

    def __init__(
        self,
        split: str,
        *,
        n_context: int = 10,
        n_target: int = 10,
        mnist_dir: str | os.PathLike[str] | None = None,
        num_sequences: int = 10000,
        num_digits: int = 2,
        image_size: int = 64,
        seed: int = 0,
    ) -> None:
        self.split_index = split_index(split)
        self.split = split
        self.length = check_window(n_context, n_target)
        self.n_context = int(n_context)
        self.num_sequences = check_positive_int("num_sequences", num_sequences)
        self.num_digits = check_positive_int("num_digits", num_digits)
        self.image_size = check_positive_int("image_size", image_size, minimum=DIGIT_SIZE)
        self.seed = check_positive_int("seed", seed, minimum=0)
        folder = _resolve_mnist_dir(mnist_dir)
        if split == "test":
            self.digits = _cached_digits(folder, "test")
        else:
            train = _cached_digits(folder, "train")
            if len(train) <= VAL_START:
                raise ValueError(
                    f"MNIST training file in {str(folder)!r} has {len(train)} digits; "
                    f"the train/val pools need more than {VAL_START}"
                )
            self.digits = train[:VAL_START] if split == "train" else train[VAL_START:]
        self.channels = 1
        self.height = self.image_size
        self.width = self.image_size

    def __len__(self) -> int:
        return self.num_sequences

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        if not -self.num_sequences <= index < self.num_sequences:
            raise IndexError(f"index {index} out of range for {self.num_sequences} sequences")
        index %= self.num_sequences
        rng = np.random.default_rng([self.seed, self.split_index, index])
        chosen = rng.integers(0, len(self.digits), size=self.num_digits)
        frames, _ = generate_moving_digits(self.digits[chosen], self.length, self.image_size, rng)
        return split_window(frames[:, None], self.n_context)  # (T, 1, H, W)


def moving_mnist(
    split: str,
    *,
    n_context: int = 10,
    n_target: int = 10,
    mnist_dir: str | None = None,
    num_sequences: int = 10000,
    num_digits: int = 2,
    image_size: int = 64,
    seed: int = 0,
) -> MovingMNIST:
    """Moving MNIST generated on the fly; see :class:`MovingMNIST`."""
    return MovingMNIST(
        split,
        n_context=n_context,
        n_target=n_target,
        mnist_dir=mnist_dir,
        num_sequences=num_sequences,
        num_digits=num_digits,
        image_size=image_size,
        seed=seed,
    )
