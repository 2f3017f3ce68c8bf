"""The contract every registered dataset keeps (:data:`framecast.data.DATASETS`).

A dataset factory (:class:`DatasetFactory`) is called as
``factory(split, *, n_context, n_target, **options)`` with ``split`` one of
"train", "val" and "test"; it refuses another split and an option it does
not take. What it returns is a :class:`FrameDataset`: sized, indexable, with
``channels``, ``height`` and ``width`` as ints, each item a pair
``(context, target)`` of float32 tensors ``[n_context, C, H, W]`` and
``[n_target, C, H, W]``.

Frame values lie in [0, 1] unless the dataset states another
``value_range`` (seismicity frames hold raw counts: ``(0, inf)``). A
dataset that packs side inputs after its frame channels (the radio
spectrograms of ``seismicity_radio``) states how many channels are frames
as ``frame_channels``; the range holds for those only. Both attributes are
optional: :func:`value_range` and :func:`frame_channels` read them with
their defaults, and :func:`check_item` checks one item against all of it.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

DEFAULT_VALUE_RANGE = (0.0, 1.0)
"""The range of frame values of a dataset that states no ``value_range``."""


@runtime_checkable
class FrameDataset(Protocol):
    """A split of a dataset of frame sequences: ``(context, target)`` items.

    Attributes
    ----------
    channels, height, width : int
        The shape ``C, H, W`` of every frame of every item.
    """

    channels: int
    height: int
    width: int

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]: ...


class DatasetFactory(Protocol):
    """What :data:`framecast.data.DATASETS` holds: a class or function building one split."""

    def __call__(
        self, split: str, *, n_context: int = ..., n_target: int = ..., **options: Any
    ) -> FrameDataset: ...


def value_range(dataset: FrameDataset) -> tuple[float, float]:
    """The stated ``(low, high)`` range of frame values, else :data:`DEFAULT_VALUE_RANGE`."""
    low, high = getattr(dataset, "value_range", DEFAULT_VALUE_RANGE)
    return float(low), float(high)


def frame_channels(dataset: FrameDataset) -> int:
    """How many of the dataset's channels are frames (the rest: side inputs packed after them)."""
    return int(getattr(dataset, "frame_channels", dataset.channels))


def check_item(dataset: Any, index: int, n_context: int, n_target: int) -> None:
    """Refuse a dataset, or its item ``index``, that breaks the contract (module docstring).

    Parameters
    ----------
    dataset : object
        What a factory returned.
    index : int
        The item to read.
    n_context, n_target : int
        The frames of context and of target the factory was asked for.

    Raises
    ------
    TypeError
        Not a :class:`FrameDataset` (a missing attribute or method), a shape
        attribute that is not an int, or an item that is not a pair of
        float32 tensors.
    ValueError
        An item of another shape, or frame values outside the dataset's range.
    """
    if not isinstance(dataset, FrameDataset):
        missing = [
            name
            for name in ("channels", "height", "width", "__len__", "__getitem__")
            if not hasattr(dataset, name)
        ]
        raise TypeError(f"{type(dataset).__name__} is not a FrameDataset: it lacks {missing}")
    shape = (dataset.channels, dataset.height, dataset.width)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in shape):
        raise TypeError(f"channels, height and width must be ints, got {shape!r}")
    item = dataset[index]
    if not (isinstance(item, tuple) and len(item) == 2):
        raise TypeError(f"item {index} must be a pair (context, target), got {type(item).__name__}")
    low, high = value_range(dataset)
    frames = frame_channels(dataset)
    for name, tensor, steps in (("context", item[0], n_context), ("target", item[1], n_target)):
        if not isinstance(tensor, Tensor) or tensor.dtype != torch.float32:
            found = getattr(tensor, "dtype", type(tensor).__name__)
            raise TypeError(f"item {index}: {name} must be a float32 tensor, got {found}")
        if tuple(tensor.shape) != (steps, *shape):
            raise ValueError(
                f"item {index}: {name} has shape {tuple(tensor.shape)}, expected {(steps, *shape)}"
            )
        values = tensor[:, :frames]
        if float(values.min()) < low or float(values.max()) > high:
            raise ValueError(
                f"item {index}: {name} frame values span [{float(values.min()):g}, "
                f"{float(values.max()):g}], outside the dataset's range [{low:g}, {high:g}]"
            )
