"""Frame series (radar-like): PNG folders and arrays, time blocks per split, intensity scaling."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from framecast.data import build_dataset
from framecast.data.cache import read_cache_index
from framecast.data.frame_series import natural_key, prepare_frame_series


def cached(path: Path) -> tuple[np.ndarray, list[str], list[dict]]:
    index = read_cache_index(path)
    with h5py.File(path, "r") as handle:
        frames = handle["frames"][()]
    return frames, index.splits, index.meta


def test_png_folder_in_natural_order_with_a_fixed_scale(tmp_path: Path) -> None:
    folder = tmp_path / "radar"
    folder.mkdir()
    for t in range(30):  # f0.png ... f29.png: names sort as f0, f1, f10, ... as text
        Image.fromarray(np.full((6, 8), 100 * t, np.uint16)).save(folder / f"f{t}.png")
    report = prepare_frame_series(
        folder, tmp_path / "r.h5", scale=3000.0, val_fraction=0.2, test_fraction=0.2
    )
    frames, splits, meta = cached(report.out)
    assert splits == ["train", "val", "test"] and report.written == ["train", "val", "test"]
    assert frames.shape == (30, 1, 6, 8)
    expected = np.rint(np.arange(30) * 100 / 3000 * 255).astype(np.uint8)
    assert np.array_equal(frames[:, 0, 0, 0], expected)  # time order kept
    assert meta[1]["first_name"] == "f18.png" and meta[1]["num_frames"] == 6
    assert (meta[0]["offset"], meta[0]["span"]) == (0.0, 3000.0)
    # sliding windows of 4 + 4 frames, stride 2, inside the 18 training frames
    train = build_dataset(
        "prepared", "train", n_context=4, n_target=4, options={"path": report.out, "stride": 2}
    )
    assert len(train) == 6
    with pytest.raises(
        ValueError, match=r"f11.png: values span \[1100, 1100\].*outside \[0, 1\].*clip"
    ):
        prepare_frame_series(folder, tmp_path / "bad.h5", scale=1000.0)


def test_radar_dbz_array_clip_nan_and_resize(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    dbz = rng.uniform(-20, 80, (20, 10, 12)).astype(np.float32)  # [T, H, W]
    dbz[0, 0, 0] = np.nan
    np.save(tmp_path / "dbz.npy", dbz)
    report = prepare_frame_series(
        tmp_path / "dbz.npy", tmp_path / "d.h5", clip=(0, 70), test_fraction=0.25
    )
    frames, splits, meta = cached(report.out)
    assert splits == ["train", "val", "test"] and frames.shape == (20, 1, 10, 12)
    expected = np.rint(np.clip(dbz, 0, 70) / 70 * 255)
    expected[0, 0, 0] = 0  # no echo
    assert np.array_equal(frames[:, 0], expected.astype(np.uint8))
    assert meta[0]["offset"] == 0.0 and meta[0]["span"] == 70.0
    small = prepare_frame_series(tmp_path / "dbz.npy", tmp_path / "s.h5", clip=(0, 70), size=(5, 6))
    assert read_cache_index(small.out).frame_shape == (1, 5, 6)


def test_minmax_uses_the_training_block_and_log1p(tmp_path: Path) -> None:
    series = np.concatenate([np.linspace(0, 10, 8), [20.0, 5.0]]).astype(np.float64)
    stack = np.broadcast_to(series[:, None, None, None], (10, 2, 3, 3)).copy()  # [T, C, H, W]
    np.save(tmp_path / "s.npy", stack)
    report = prepare_frame_series(
        tmp_path / "s.npy", tmp_path / "m.h5", scale="minmax", val_fraction=0.1, test_fraction=0.1
    )
    frames, _, meta = cached(report.out)
    assert frames.shape == (10, 2, 3, 3)
    assert list(frames[:, 0, 0, 0]) == [*np.rint(np.linspace(0, 255, 8)).astype(int), 255, 128]
    assert (meta[0]["offset"], meta[0]["span"]) == (0.0, 10.0)
    logged = prepare_frame_series(tmp_path / "s.npy", tmp_path / "l.h5", clip=(0, 10), log1p=True)
    frames, _, meta = cached(logged.out)
    assert frames[9, 0, 0, 0] == round(np.log1p(5) / np.log1p(10) * 255)
    assert meta[2]["log1p"] is True


def test_hdf5_source_with_key_and_uint8_auto(tmp_path: Path) -> None:
    path = tmp_path / "s.h5"
    data = np.random.default_rng(1).integers(0, 256, (12, 4, 4), dtype=np.uint8)
    with h5py.File(path, "w") as handle:
        handle["a"] = data
        handle["b"] = data
    with pytest.raises(ValueError, match="several datasets"):
        prepare_frame_series(path, tmp_path / "x.h5")
    report = prepare_frame_series(path, tmp_path / "x.h5", key="b", val_fraction=0.0)
    frames, splits, _ = cached(report.out)
    assert splits == ["train", "test"] and np.array_equal(frames[:, 0], data)


def test_bad_inputs(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / "a1.png")
    Image.fromarray(np.zeros((5, 4), np.uint8)).save(folder / "a2.png")
    with pytest.raises(ValueError, match=r"a2.png.*a1.png"):
        prepare_frame_series(folder, tmp_path / "x.h5", val_fraction=0, test_fraction=0)
    Image.fromarray(np.zeros((4, 4, 4), np.uint8), "RGBA").save(folder / "a2.png")
    with pytest.raises(ValueError, match="mode 'RGBA'"):
        prepare_frame_series(folder, tmp_path / "x.h5", val_fraction=0, test_fraction=0)
    with pytest.raises(ValueError, match="scale must be"):
        prepare_frame_series(folder, tmp_path / "x.h5", scale="log")
    with pytest.raises(ValueError, match="clip must be"):
        prepare_frame_series(folder, tmp_path / "x.h5", clip=(5, 1))
    with pytest.raises(FileNotFoundError):
        prepare_frame_series(tmp_path / "none.npy", tmp_path / "x.h5")
    np.save(tmp_path / "flat.npy", np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"\[T, H, W\] or \[T, C, H, W\]"):
        prepare_frame_series(tmp_path / "flat.npy", tmp_path / "x.h5")


def test_natural_key() -> None:
    assert sorted(["f10.png", "f2.png", "F1.png"], key=natural_key) == [
        "F1.png",
        "f2.png",
        "f10.png",
    ]
