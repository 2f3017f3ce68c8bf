"""The 'array' dataset: a user's .npy/.npz/HDF5 file of sequences."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from framecast.data import ArrayDataset, build_dataset


def _sequences(shape: tuple[int, ...], dtype=np.uint8) -> np.ndarray:
    """Frames whose value encodes (sequence, frame): easy to trace in a window."""
    n, t = shape[:2]
    base = (np.arange(n)[:, None] * 10 + np.arange(t)[None, :]).astype(np.float64)
    values = np.broadcast_to(base.reshape(n, t, *([1] * (len(shape) - 2))), shape)
    return np.ascontiguousarray(values).astype(dtype)


def _save(path: Path, array: np.ndarray, key: str = "frames") -> Path:
    if path.suffix == ".npy":
        np.save(path, array)
    elif path.suffix == ".npz":
        np.savez(path, **{key: array})
    else:
        with h5py.File(path, "w") as handle:
            handle.create_dataset(key, data=array)
    return path


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".h5", ".hdf5"])
@pytest.mark.parametrize("shape", [(10, 8, 6, 5), (10, 8, 3, 6, 5)])
def test_formats_and_ranks(tmp_path: Path, suffix: str, shape: tuple[int, ...]) -> None:
    array = _sequences(shape)
    path = _save(tmp_path / f"data{suffix}", array)
    dataset = build_dataset("array", "train", n_context=3, n_target=2, options={"path": str(path)})
    channels = 1 if len(shape) == 4 else shape[2]
    assert (dataset.channels, dataset.height, dataset.width) == (channels, 6, 5)
    assert len(dataset) == 8  # 10 sequences, 1 val, 1 test, one window each
    context, target = dataset[2]
    assert context.shape == (3, channels, 6, 5) and target.shape == (2, channels, 6, 5)
    assert context.dtype == torch.float32
    expected = torch.from_numpy(array[2, :5].astype(np.float32) / 255).reshape(5, channels, 6, 5)
    torch.testing.assert_close(torch.cat([context, target]), expected)


def test_windows_with_stride_stay_in_sequence(tmp_path: Path) -> None:
    array = _sequences((5, 11, 2, 2))
    path = _save(tmp_path / "d.npy", array)
    dataset = ArrayDataset(
        "train", path, n_context=2, n_target=2, stride=3, val_fraction=0.2, test_fraction=0.2
    )
    # 3 train sequences, window starts 0, 3, 6 (9 + 4 > 11)
    assert dataset.windows.tolist() == [[s, t] for s in range(3) for t in (0, 3, 6)]
    assert len(dataset) == 9
    for i in range(len(dataset)):
        frames = torch.cat(dataset[i])[:, 0, 0, 0] * 255
        codes = frames.round().int().tolist()
        assert len({c // 10 for c in codes}) == 1  # one sequence
        assert np.all(np.diff(codes) == 1)  # consecutive frames


def test_split_sizes_and_disjoint(tmp_path: Path) -> None:
    path = _save(tmp_path / "d.npy", _sequences((20, 4, 2, 2)))
    seen: dict[str, set[int]] = {}
    for split in ("train", "val", "test"):
        dataset = ArrayDataset(
            split, path, n_context=2, n_target=2, val_fraction=0.25, test_fraction=0.1
        )
        seen[split] = {int(s) for s in dataset.windows[:, 0]}
    assert [len(seen[s]) for s in ("train", "val", "test")] == [13, 5, 2]
    assert max(seen["train"]) < min(seen["val"]) and max(seen["val"]) < min(seen["test"])


def test_empty_split_and_bad_fractions(tmp_path: Path) -> None:
    path = _save(tmp_path / "d.npy", _sequences((3, 4, 2, 2)))
    with pytest.raises(ValueError, match="'val' is empty"):
        ArrayDataset("val", path, n_context=2, n_target=2)
    with pytest.raises(ValueError, match="val_fraction"):
        ArrayDataset("train", path, n_context=2, n_target=2, val_fraction=1.5)
    with pytest.raises(ValueError, match="< 1"):
        ArrayDataset("train", path, n_context=2, n_target=2, val_fraction=0.5, test_fraction=0.5)


@pytest.mark.parametrize(
    ("dtype", "scale", "divisor"),
    [
        (np.uint8, None, 255.0),
        (np.uint16, None, 49.0),
        (np.int32, None, 49.0),
        (np.float32, None, 1.0 / 49.0),
        (np.float64, 0.01, 100.0),
    ],
)
def test_scaling(tmp_path: Path, dtype, scale, divisor: float) -> None:
    array = _sequences((5, 10, 2, 2), dtype)  # max value 49
    if np.issubdtype(dtype, np.floating) and scale is None:
        array = array / 49.0
    path = _save(tmp_path / "d.npy", array.astype(dtype))
    dataset = ArrayDataset(
        "train", path, n_context=5, n_target=5, val_fraction=0.2, test_fraction=0.0, scale=scale
    )
    context, target = dataset[3]
    expected = _sequences((5, 10, 2, 2), np.float64)[3] / (49.0 if divisor < 1 else divisor)
    got = torch.cat([context, target])[:, 0].double().numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize(("values", "scale"), [(2.0, None), (-0.5, None), (300.0, 0.01)])
def test_out_of_range_names_scale(tmp_path: Path, values: float, scale) -> None:
    path = _save(tmp_path / "d.npy", np.full((3, 4, 2, 2), values))
    with pytest.raises(ValueError, match="'scale'"):
        ArrayDataset(
            "train", path, n_context=2, n_target=2, test_fraction=0.0, val_fraction=0.0, scale=scale
        )


def test_nan_rejected(tmp_path: Path) -> None:
    array = np.zeros((3, 4, 2, 2))
    array[1, 2, 0, 0] = np.nan
    path = _save(tmp_path / "d.npy", array)
    with pytest.raises(ValueError, match="NaN"):
        ArrayDataset("train", path, n_context=2, n_target=2, val_fraction=0.0, test_fraction=0.0)


def test_npz_and_h5_keys(tmp_path: Path) -> None:
    a, b = _sequences((4, 4, 2, 2)), _sequences((4, 4, 3, 2, 2))
    npz = tmp_path / "two.npz"
    np.savez(npz, a=a, b=b)
    h5 = tmp_path / "two.h5"
    with h5py.File(h5, "w") as handle:
        handle.create_dataset("a", data=a)
        handle.create_group("g").create_dataset("b", data=b)
    for path, second in ((npz, "b"), (h5, "g/b")):
        with pytest.raises(ValueError, match=r"several .*'a'"):
            ArrayDataset("train", path, n_context=2, n_target=2)
        with pytest.raises(ValueError, match="'nope'"):
            ArrayDataset("train", path, n_context=2, n_target=2, key="nope")
        dataset = ArrayDataset(
            "train", path, n_context=2, n_target=2, key=second, val_fraction=0.0, test_fraction=0.0
        )
        assert dataset.channels == 3


def test_h5_dataset_is_picklable_and_reopens(tmp_path: Path) -> None:
    import pickle

    path = _save(tmp_path / "d.h5", _sequences((4, 4, 2, 2)))
    dataset = ArrayDataset(
        "train", path, n_context=2, n_target=2, val_fraction=0.0, test_fraction=0.0
    )
    first = dataset[1]
    copy = pickle.loads(pickle.dumps(dataset))
    torch.testing.assert_close(copy[1], first)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.npy"):
        ArrayDataset("train", tmp_path / "missing.npy")
    for suffix in (".npy", ".npz", ".h5"):
        bad = tmp_path / f"corrupt{suffix}"
        bad.write_bytes(b"this is not an array file at all")
        with pytest.raises(ValueError, match=f"corrupt\\{suffix}"):
            ArrayDataset("train", bad, n_context=2, n_target=2)
    other = tmp_path / "data.csv"
    other.write_text("1,2\n")
    with pytest.raises(ValueError, match=r"\.npy"):
        ArrayDataset("train", other)
    with pytest.raises(ValueError, match="path"):
        build_dataset("array", "train", n_context=2, n_target=2)


def test_shape_errors(tmp_path: Path) -> None:
    path = _save(tmp_path / "d.npy", np.zeros((3, 4, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"\(3, 4, 2\).*\[N, T, H, W\]"):
        ArrayDataset("train", path, n_context=2, n_target=2)
    short = _save(tmp_path / "s.npy", np.zeros((3, 4, 2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="4 frames"):
        ArrayDataset("train", short, n_context=3, n_target=2)
    with pytest.raises(ValueError, match="key"):
        ArrayDataset("train", short, n_context=2, n_target=2, key="x")
    with pytest.raises(ValueError, match="stride"):
        ArrayDataset("train", short, n_context=2, n_target=2, stride=0)
    with pytest.raises(ValueError, match="'all'"):
        ArrayDataset("all", short, n_context=2, n_target=2)
