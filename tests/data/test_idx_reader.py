"""The IDX reader and the MNIST loaders."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from framecast.data import find_mnist_dir, load_mnist_digits, read_idx
from framecast.data.mnist import MNIST_DIR_ENV


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_round_trip(tmp_path: Path, write_idx, compress: bool, dtype) -> None:
    rng = np.random.default_rng(1)
    array = (rng.random((3, 5, 4)) * 100).astype(dtype)
    # the name has no .gz: compression must be detected by the magic bytes
    path = write_idx(tmp_path / "data.idx", array, compress)
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype)
    assert result.dtype.isnative
    np.testing.assert_array_equal(result, array)


def test_one_dimensional(tmp_path: Path, write_idx) -> None:
    labels = np.arange(7, dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "l.gz", labels, True)), labels)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.idx"):
        read_idx(tmp_path / "nope.idx")


@pytest.mark.parametrize("header", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01"])
def test_bad_magic(tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "bad.idx"
    path.write_bytes(header + b"\x00\x00\x00\x01" + b"\x05")
    with pytest.raises(ValueError, match="magic"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated(tmp_path: Path, write_idx, compress: bool) -> None:
    array = np.ones((4, 3, 3), dtype=np.uint8)
    path = write_idx(tmp_path / "full.idx", array, False)
    cut = path.read_bytes()[:-5]
    target = tmp_path / "cut.idx"
    target.write_bytes(gzip.compress(cut) if compress else cut)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(target)


def test_truncated_gzip_stream(tmp_path: Path, write_idx) -> None:
    path = write_idx(tmp_path / "a.gz", np.ones((50, 50), dtype=np.uint8), True)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"a\.gz"):
        read_idx(path)


def test_load_digits_prefers_gz_and_reads_raw(fake_mnist_dir: Path) -> None:
    train = load_mnist_digits(fake_mnist_dir, "train")  # only .gz present
    test = load_mnist_digits(fake_mnist_dir, "test")  # only raw present
    assert train.shape == (10, 28, 28) and test.shape == (4, 28, 28)
    assert train.dtype == np.uint8


def test_load_digits_errors(tmp_path: Path, fake_mnist_dir: Path, write_idx) -> None:
    with pytest.raises(ValueError, match="'val'"):
        load_mnist_digits(fake_mnist_dir, "val")
    with pytest.raises(FileNotFoundError, match="download_mnist"):
        load_mnist_digits(tmp_path, "train")
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 5, 5), dtype=np.uint8), False)
    with pytest.raises(ValueError, match=r"\[N, 28, 28\]"):
        load_mnist_digits(tmp_path, "test")


def test_find_mnist_dir_env_first(monkeypatch, fake_mnist_dir: Path, tmp_path: Path) -> None:
    monkeypatch.setenv(MNIST_DIR_ENV, str(fake_mnist_dir))
    assert find_mnist_dir() == fake_mnist_dir
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(MNIST_DIR_ENV, str(empty))
    assert find_mnist_dir() != empty


def test_find_mnist_dir_none(monkeypatch, tmp_path: Path) -> None:
    import framecast.data.mnist as mnist

    monkeypatch.delenv(MNIST_DIR_ENV, raising=False)
    monkeypatch.setattr(mnist, "mnist_search_dirs", lambda: [tmp_path / "a", tmp_path / "b"])
    assert mnist.find_mnist_dir() is None


def test_real_mnist(shared_mnist_dir: Path) -> None:
    train = load_mnist_digits(shared_mnist_dir, "train")
    test = load_mnist_digits(shared_mnist_dir, "test")
    assert train.shape == (60000, 28, 28)
    assert test.shape == (10000, 28, 28)
    assert train.max() == 255 and test.min() == 0
