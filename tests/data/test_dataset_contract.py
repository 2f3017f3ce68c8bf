"""Every registered dataset honours the common contract (:mod:`framecast.data.contract`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import framecast.data.moving_mnist as moving_mnist
from framecast.data import DATASETS, build_dataset
from framecast.data.contract import FrameDataset, check_item


def _array_options(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "a.npy"
    np.save(path, np.random.default_rng(0).random((10, 7, 2, 9, 8)).astype(np.float32))
    return {"path": str(path)}


def _file_options(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "f.npy"
    np.save(path, np.random.default_rng(0).integers(0, 256, (20, 10, 9, 8), dtype=np.uint8))
    return {"path": str(path)}


def _mnist_options(tmp_path: Path) -> dict[str, Any]:
    from fake_mnist import TEST_VALUES, TRAIN_VALUES, solid_digits, write_idx_file

    write_idx_file(tmp_path / "train-images-idx3-ubyte.gz", solid_digits(TRAIN_VALUES), True)
    write_idx_file(tmp_path / "t10k-images-idx3-ubyte.gz", solid_digits(TEST_VALUES), True)
    return {"mnist_dir": str(tmp_path), "num_sequences": 4, "image_size": 32}


def _seismicity_options(tmp_path: Path) -> dict[str, Any]:
    from framecast.quake import Catalog, Grid, grid_catalog

    rng = np.random.default_rng(0)
    days = np.sort(rng.uniform(0, 120, 300))
    catalog = Catalog.from_columns(
        time=np.datetime64("2020-01-01", "us") + (days * 86_400e6).astype("timedelta64[us]"),
        latitude=rng.uniform(0, 1, 300),
        longitude=rng.uniform(0, 1, 300),
        magnitude=2 + rng.exponential(0.43, 300),
    )
    frames = grid_catalog(
        catalog,
        Grid(0, 1, 0, 1, 0.125),
        start="2020-01-01",
        end="2020-04-30",
        bin_days=1,
        mc=2.0,
        channels=["count", "max_magnitude"],
    )
    path = frames.save(tmp_path / "frames.h5")
    return {"path": str(path), "val_start": "2020-03-01", "test_start": "2020-04-01"}


def _prepared_options(tmp_path: Path) -> dict[str, Any]:
    from fake_video import write_cache

    clips = {"a": ("train", 9, {}), "b": ("val", 8, {}), "c": ("test", 7, {})}
    return {"path": str(write_cache(tmp_path / "videos.h5", clips, frame_shape=(3, 6, 5)))}


def _kth_options(tmp_path: Path) -> dict[str, Any]:
    from fake_video import write_cache

    clips = {
        f"person{p:02d}_running_d1": (split, 12, {"person": p, "action": "running"})
        for p, split in ((1, "train"), (15, "val"), (20, "test"))
    }
    path = write_cache(tmp_path / "kth.h5", clips, dataset="kth", frame_shape=(1, 8, 8))
    return {"path": str(path)}


def _kitti_cache_options(tmp_path: Path) -> dict[str, Any]:
    from test_kitti import kitti_cache_contract_options

    return kitti_cache_contract_options(tmp_path)


def _kitti_hkl_options(tmp_path: Path) -> dict[str, Any]:
    from test_kitti import kitti_hkl_contract_options

    return kitti_hkl_contract_options(tmp_path)


def _seismicity_radio_options(tmp_path: Path) -> dict[str, Any]:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "quake" / "radio"))
    from radio_testing import tiny_world

    frames, radio = tiny_world(tmp_path)
    return {
        "path": str(frames),
        "radio": str(radio),
        "val_start": "2012-01-01",
        "test_start": "2012-07-01",
        "channels": ["count"],
    }


OPTIONS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "array": _array_options,
    "kitti": _kitti_cache_options,
    "kitti_hkl": _kitti_hkl_options,
    "kth": _kth_options,
    "mmnist_file": _file_options,
    "moving_mnist": _mnist_options,
    "moving_squares": lambda _: {"num_sequences": 4},
    "prepared": _prepared_options,
    "radar_cells": lambda _: {"num_sequences": 4, "image_size": 16},
    "seismicity": _seismicity_options,
    "seismicity_radio": _seismicity_radio_options,
}


def test_every_dataset_is_covered() -> None:
    assert set(DATASETS.available()) == set(OPTIONS)


@pytest.mark.parametrize("name", sorted(OPTIONS))
@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_contract(name: str, split: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(moving_mnist, "VAL_START", 6)
    dataset = build_dataset(name, split, n_context=3, n_target=4, options=OPTIONS[name](tmp_path))
    assert isinstance(dataset, FrameDataset)
    assert len(dataset) >= 1
    # shapes, dtypes and the value range of the frame channels (counts are not scaled; side
    # inputs packed after the frames, seismicity_radio's spectrograms, are not frames)
    check_item(dataset, len(dataset) - 1, n_context=3, n_target=4)
    shape = (dataset.channels, dataset.height, dataset.width)
    batch = next(iter(torch.utils.data.DataLoader(dataset, batch_size=2)))
    assert batch[0].shape[1:] == (3, *shape)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_bad_split_and_unknown_option(name: str, tmp_path: Path) -> None:
    options = OPTIONS[name](tmp_path)
    with pytest.raises(ValueError, match="'training'"):
        build_dataset(name, "training", n_context=2, n_target=2, options=options)
    with pytest.raises(TypeError, match="colour"):
        build_dataset(name, "train", n_context=2, n_target=2, options={**options, "colour": 1})


def test_unknown_name_lists_valid() -> None:
    with pytest.raises(KeyError, match="moving_squares"):
        build_dataset("no_such_dataset", "train", n_context=2, n_target=2)


class _Clip:
    """A dataset breaking the contract in one way at a time."""

    channels, height, width = 1, 2, 2

    def __init__(self, context: torch.Tensor, target: torch.Tensor) -> None:
        self.item = (context, target)

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.item


@pytest.mark.parametrize(
    ("context", "target", "error", "message"),
    [
        (torch.zeros(3, 1, 2, 2), torch.zeros(4, 1, 2, 2), None, ""),
        (torch.zeros(3, 1, 2, 2), torch.zeros(4, 1, 2, 3), ValueError, r"target has shape"),
        (torch.zeros(3, 1, 2, 2).double(), torch.zeros(4, 1, 2, 2), TypeError, "float32"),
        (torch.full((3, 1, 2, 2), 2.0), torch.zeros(4, 1, 2, 2), ValueError, r"range \[0, 1\]"),
    ],
)
def test_the_contract_refuses_each_breach(context, target, error, message) -> None:
    clip = _Clip(context, target)
    if error is None:
        check_item(clip, 0, n_context=3, n_target=4)
        return
    with pytest.raises(error, match=message):
        check_item(clip, 0, n_context=3, n_target=4)


def test_an_object_without_the_shape_attributes_is_not_a_frame_dataset() -> None:
    with pytest.raises(TypeError, match=r"lacks \['channels', 'height', 'width'\]"):
        check_item([(torch.zeros(1), torch.zeros(1))], 0, n_context=1, n_target=1)
