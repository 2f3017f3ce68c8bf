"""Fixtures shared by the data tests: tiny IDX files and a fake MNIST folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fake_mnist import SHARED_MNIST, TEST_VALUES, TRAIN_VALUES, solid_digits, write_idx_file


@pytest.fixture
def write_idx() -> Callable[[Path, np.ndarray, bool], Path]:
    return write_idx_file


@pytest.fixture
def fake_mnist_dir(tmp_path: Path) -> Path:
    """A folder with 10 solid training digits (gz) and 4 solid t10k digits (raw)."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx_file(folder / "train-images-idx3-ubyte.gz", solid_digits(TRAIN_VALUES), True)
    write_idx_file(folder / "t10k-images-idx3-ubyte", solid_digits(TEST_VALUES), False)
    return folder


@pytest.fixture
def shared_mnist_dir() -> Path:
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found at {SHARED_MNIST}")
    return SHARED_MNIST
