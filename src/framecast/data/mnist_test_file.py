"""The standard Moving MNIST test file ``mnist_test_seq.npy``.

References
----------
.. [1] N. Srivastava, E. Mansimov and R. Salakhutdinov, "Unsupervised
   Learning of Video Representations using LSTMs", ICML 2015: the 10,000
   sequences of 20 frames, 64x64, stored time-major as (20, N, 64, 64).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from torch import Tensor
from torch.utils.data import Dataset

from framecast.data.splits import split_index, split_range
from framecast.data.window import check_window, require_option, split_window

FILE_FRAMES = 20
"""Frames per sequence in the standard file."""


class MovingMNISTFile(Dataset[tuple[Tensor, Tensor]]):
    """Sequences of the fixed Moving MNIST file, split by sequence index [1]_.

    The file is memory-mapped, not read whole. Sequences are split
    deterministically: the first block is train, then val, then test.

    Parameters
    ----------
    split : str
        "train", "val" or "test".
    path : str or os.PathLike
        The ``.npy`` file: uint8 ``(20, N, H, W)``, time first.
    n_context, n_target : int
        Frames of context and target; their sum must be <= 20.
    val_fraction, test_fraction : float
        Fractions of the sequences for validation and test.

    Attributes
    ----------
    channels, height, width : int
        1 and the frame size of the file.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        A file that is not a uint8 ``(20, N, H, W)`` array, a window longer
        than 20 frames, bad fractions, or an empty split.
    """

    def __init__(
        self,
        split: str,
        path: str | os.PathLike[str],
        *,
        n_context: int = 10,
        n_target: int = 10,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
    ) -> None:
        split_index(split)
        self.length = check_window(n_context, n_target)
        if self.length > FILE_FRAMES:
            raise ValueError(
                f"n_context + n_target must be <= {FILE_FRAMES} for the Moving MNIST file, "
                f"got {n_context} + {n_target} = {self.length}"
            )
        self.n_context = int(n_context)
        file = Path(path).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"Moving MNIST file not found: {str(file)!r}")
        try:
            data = np.load(file, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise ValueError(f"cannot read {str(file)!r} as a .npy file: {err}") from err
        if not isinstance(data, np.ndarray):
            raise ValueError(f"{str(file)!r} is not a single .npy array")
        if data.dtype != np.uint8 or data.ndim != 4 or data.shape[0] != FILE_FRAMES:
            raise ValueError(
                f"{str(file)!r} holds a {data.dtype} array of shape {data.shape}; expected uint8 "
                f"({FILE_FRAMES}, N, H, W), time first. For other layouts use the 'array' dataset."
            )
        self.data = data  # (20, N, H, W), memory-mapped
        self.indices = split_range(data.shape[1], split, val_fraction, test_fraction)
        self.split = split
        self.channels = 1
        self.height = int(data.shape[2])
        self.width = int(data.shape[3])

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        sequence = self.indices[index]  # raises IndexError when out of range
        frames = self.data[: self.length, sequence].astype(np.float32) / 255.0  # (T, H, W)
        return split_window(frames[:, None], self.n_context)


def mmnist_file(
    split: str,
    *,
    n_context: int = 10,
    n_target: int = 10,
    path: str | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> MovingMNISTFile:
    """The standard Moving MNIST test file; see :class:`MovingMNISTFile`.

    Raises
    ------
    ValueError
        If ``path`` is not given.
    """
    path = require_option(
        "mmnist_file",
        "path",
        path,
        "the standard Moving MNIST file mnist_test_seq.npy, shape (20, N, 64, 64) uint8",
    )
    return MovingMNISTFile(
        split,
        path,
        n_context=n_context,
        n_target=n_target,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
    )
