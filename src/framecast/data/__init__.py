"""Datasets of frame sequences, by name in :data:`DATASETS`, and the cache preparers of
real videos, by name in :data:`PREPARERS` (both read from :mod:`framecast.plugins`).

Every dataset's item is ``(context, target)``: float32 tensors
``[n_context, C, H, W]`` and ``[n_target, C, H, W]`` with values in [0, 1]
(the contract, :mod:`framecast.data.contract`: :class:`FrameDataset`).
"""

from collections.abc import Mapping
from typing import Any

from framecast.data.arrays import ArrayDataset
from framecast.data.cache import (
    CacheInfo,
    CacheWriter,
    PreparedVideos,
    read_cache_index,
    read_cache_info,
)
from framecast.data.contract import DatasetFactory, FrameDataset
from framecast.data.frame_series import prepare_frame_series
from framecast.data.kitti import KittiHkl, prepare_kitti
from framecast.data.kth import prepare_kth
from framecast.data.mnist import download_mnist, find_mnist_dir, load_mnist_digits, read_idx
from framecast.data.mnist_test_file import MovingMNISTFile
from framecast.data.moving_mnist import MovingMNIST, generate_moving_digits
from framecast.data.moving_squares import MovingSquares, generate_squares
from framecast.data.prepare import PREPARERS, PrepareReport, available_preparers, get_preparer
from framecast.data.registry import DATASETS
from framecast.data.splits import SPLITS
from framecast.data.videos import prepare_videos
from framecast.signature import check_options

__all__ = [
    "DATASETS",
    "PREPARERS",
    "SPLITS",
    "ArrayDataset",
    "CacheInfo",
    "CacheWriter",
    "DatasetFactory",
    "FrameDataset",
    "KittiHkl",
    "MovingMNIST",
    "MovingMNISTFile",
    "MovingSquares",
    "PrepareReport",
    "PreparedVideos",
    "available_preparers",
    "build_dataset",
    "download_mnist",
    "find_mnist_dir",
    "generate_moving_digits",
    "generate_squares",
    "get_preparer",
    "load_mnist_digits",
    "prepare_frame_series",
    "prepare_kitti",
    "prepare_kth",
    "prepare_videos",
    "read_cache_index",
    "read_cache_info",
    "read_idx",
]


def build_dataset(
    name: str,
    split: str,
    *,
    n_context: int,
    n_target: int,
    options: Mapping[str, Any] | None = None,
) -> FrameDataset:
    """Build the ``split`` of the dataset registered as ``name``.

    Parameters
    ----------
    name : str
        A name in ``DATASETS.available()`` (case ignored).
    split : str
        "train", "val" or "test".
    n_context, n_target : int
        Frames of context and of target per item.
    options : Mapping[str, Any], optional
        The dataset's own keyword options.

    Raises
    ------
    KeyError
        Unknown dataset name (the message lists the valid ones).
    TypeError
        An option the dataset does not take (the message lists those it takes).
    """
    factory = DATASETS.get(name)
    opts = dict(options or {})
    check_options(factory, opts, f"dataset {name!r}", skip=("split", "n_context", "n_target"))
    return factory(split, n_context=n_context, n_target=n_target, **opts)
