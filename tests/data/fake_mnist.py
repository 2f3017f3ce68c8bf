"""Fake MNIST files for the data tests: IDX encoding and solid-block digits."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int16): 0x0B, np.dtype(np.float32): 0x0D}

SHARED_MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"
"""The project's real MNIST copy (absent in a user's clone: tests skip)."""

TRAIN_VALUES = [10 * (k + 1) for k in range(10)]  # 10 .. 100
TEST_VALUES = [200 + 10 * k for k in range(4)]  # 200 .. 230


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode ``array`` as an IDX file (big-endian header and payload)."""
    code = IDX_TYPE_CODES[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx_file(path: Path, array: np.ndarray, compress: bool) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``compress``."""
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def solid_digits(values: list[int]) -> np.ndarray:
    """Digits that are solid 28x28 blocks, digit k filled with ``values[k]``."""
    return np.stack([np.full((28, 28), v, dtype=np.uint8) for v in values])
