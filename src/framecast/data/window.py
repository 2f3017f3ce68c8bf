"""Checks of the context/target lengths and the cut of a sequence into them."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch
from torch import Tensor

T = TypeVar("T")


def check_window(n_context: int, n_target: int) -> int:
    """Return the window length ``n_context + n_target`` after checking both.

    Raises
    ------
    TypeError
        If a length is not an integer.
    ValueError
        If a length is smaller than 1.
    """
    for name, value in (("n_context", n_context), ("n_target", n_target)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value!r}")
    return int(n_context) + int(n_target)


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking it is an integer >= ``minimum``.

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If ``value`` is smaller than ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def require_option(dataset: str, name: str, value: T | None, what: str) -> T:
    """Return ``value``, or raise ValueError saying dataset ``dataset`` needs option ``name``.

    ``what`` describes the expected value (shown in the message).
    """
    if value is None:
        raise ValueError(f"dataset {dataset!r} needs the option {name}=... ({what})")
    return value


def split_window(frames: np.ndarray, n_context: int) -> tuple[Tensor, Tensor]:
    """Cut frames ``[T, C, H, W]`` into float32 ``(context, target)`` tensors.

    The first ``n_context`` frames are the context, the rest the target.
    """
    # a fresh writable copy: ``frames`` may be a read-only memory map
    copy = np.array(frames, dtype=np.float32, order="C", copy=True)  # (T, C, H, W)
    data = torch.from_numpy(copy)
    return data[:n_context], data[n_context:]
