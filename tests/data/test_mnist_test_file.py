"""The 'mmnist_file' dataset: the time-major Moving MNIST test file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from framecast.data import MovingMNISTFile, build_dataset


@pytest.fixture
def seq_file(tmp_path: Path) -> tuple[Path, np.ndarray]:
    data = np.random.default_rng(0).integers(0, 256, size=(20, 30, 8, 8), dtype=np.uint8)
    path = tmp_path / "mnist_test_seq.npy"
    np.save(path, data)
    return path, data


def test_items_are_time_major_sequences(seq_file) -> None:
    path, data = seq_file
    dataset = build_dataset(
        "mmnist_file", "val", n_context=12, n_target=8, options={"path": str(path)}
    )
    assert (dataset.channels, dataset.height, dataset.width) == (1, 8, 8)
    assert len(dataset) == 3
    context, target = dataset[1]
    assert context.shape == (12, 1, 8, 8) and target.shape == (8, 1, 8, 8)
    expected = torch.from_numpy(data[:, 25].astype(np.float32) / 255)[:, None]  # val: 24, 25, 26
    torch.testing.assert_close(torch.cat([context, target]), expected)


def test_split_sizes(seq_file) -> None:
    path, _ = seq_file
    sizes = [
        len(MovingMNISTFile(s, path, n_context=5, n_target=5, val_fraction=0.2, test_fraction=0.1))
        for s in ("train", "val", "test")
    ]
    assert sizes == [21, 6, 3]
    first_test = MovingMNISTFile("test", path, n_context=5, n_target=5).indices[0]
    assert first_test == 27


def test_errors(tmp_path: Path, seq_file) -> None:
    path, data = seq_file
    with pytest.raises(ValueError, match="<= 20"):
        MovingMNISTFile("train", path, n_context=15, n_target=6)
    with pytest.raises(FileNotFoundError, match="absent"):
        MovingMNISTFile("train", tmp_path / "absent.npy")
    with pytest.raises(ValueError, match="path"):
        build_dataset("mmnist_file", "train", n_context=10, n_target=10)
    wrong_dtype = tmp_path / "f.npy"
    np.save(wrong_dtype, data.astype(np.float32))
    with pytest.raises(ValueError, match="float32"):
        MovingMNISTFile("train", wrong_dtype)
    wrong_layout = tmp_path / "nt.npy"
    np.save(wrong_layout, data.transpose(1, 0, 2, 3))  # batch-major (30, 20, 8, 8)
    with pytest.raises(ValueError, match=r"\(30, 20, 8, 8\)"):
        MovingMNISTFile("train", wrong_layout)
    with pytest.raises(ValueError, match="'train2'"):
        MovingMNISTFile("train2", path)
