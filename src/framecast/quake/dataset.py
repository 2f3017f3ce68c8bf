"""Seismicity frames as a framecast dataset (``seismicity`` in the plugin table)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from framecast.data.splits import split_index
from framecast.data.window import check_positive_int, check_window
from framecast.quake.catalog.events import to_datetime64
from framecast.quake.frames import SeismicityFrames


def split_bins(
    frames: SeismicityFrames, val_start: object, test_start: object
) -> dict[str, tuple[int, int]]:
    """Bin ranges ``[first, stop)`` of the train, val and test periods.

    Raises
    ------
    ValueError
        If the dates are out of order or outside the frames' period.
    """
    first, last = frames.bin_start[0], frames.end
    v, t = to_datetime64(val_start), to_datetime64(test_start)
    if not (first < v < t < last):
        raise ValueError(
            f"need {first} < val_start < test_start < {last} (the frames' period); "
            f"got val_start={v}, test_start={t}"
        )
    kv, kt = frames.bin_index(v), frames.bin_index(t)
    return {"train": (0, kv), "val": (kv, kt), "test": (kt, frames.num_bins)}


class SeismicityDataset(Dataset[tuple[Tensor, Tensor]]):
    """Windows of seismicity frames split by time.

    An item's target frames all lie in its split's period; its context is
    the ``n_context`` frames before them, which may reach back into an
    earlier period (that history is known when forecasting). Values are the
    raw channel values (counts are counts, not scaled to [0, 1]): train with
    a rate output (``output_activation: softplus``) and the ``poisson`` loss.

    Parameters
    ----------
    split : str
        "train", "val" or "test".
    path : str or os.PathLike
        A file written by ``framecast quake grid``.
    n_context, n_target : int
        Frames of context and target.
    val_start, test_start : date-like
        First days of the validation and test periods.
    channels : sequence of str, optional
        Channels to use, in order; None uses all the file holds.
    stride : int
        Bins between consecutive windows' starts.
    active_repeat : int
        Sample weighting for rare active bins (issue 13): in the train split,
        each window whose target frames hold at least ``active_events``
        events (channel "count") is listed ``active_repeat`` times, so that an
        epoch sees it as often as that many quiet windows. Validation and
        test windows are never repeated: early stopping and scores see the
        true log-likelihood.
    active_events : float
        The event count that makes a window active.

    Raises
    ------
    ValueError
        Dates out of order, unknown channels, a split too short for one
        window, ``active_repeat`` < 1, or ``active_repeat`` > 1 without a
        "count" channel.
    """

    def __init__(
        self,
        split: str,
        path: str | os.PathLike[str],
        *,
        n_context: int = 10,
        n_target: int = 1,
        val_start: object,
        test_start: object,
        channels: Sequence[str] | None = None,
        stride: int = 1,
        active_repeat: int = 1,
        active_events: float = 1.0,
    ) -> None:
        split_index(split)
        active_repeat = check_positive_int("active_repeat", active_repeat)
        check_window(n_context, n_target)
        stride = check_positive_int("stride", stride)
        self.path = Path(path)
        frames = SeismicityFrames.load(self.path)
        names = list(frames.channels) if channels is None else list(channels)
        missing = [c for c in names if c not in frames.channels]
        if missing or not names:
            raise ValueError(
                f"channels {missing or names} not in {str(self.path)!r}; it holds "
                f"{list(frames.channels)}"
            )
        index = [frames.channels.index(c) for c in names]
        self.channel_names = tuple(names)
        # the layout attributes every framecast dataset has
        self.channels = len(names)
        self.height, self.width = frames.grid.shape
        self.value_range = (0.0, math.inf)  # counts and magnitudes, not scaled to [0, 1]
        self.data = np.ascontiguousarray(frames.frames[:, index])  # (T, C, H, W)
        first, stop = split_bins(frames, val_start, test_start)[split]
        first = max(first, n_context)
        self.starts = np.arange(first, stop - n_target + 1, stride)  # first target bin
        if not len(self.starts):
            raise ValueError(
                f"the {split} period of {str(self.path)!r} (bins {first}..{stop}) is too short "
                f"for one window of {n_context} context + {n_target} target bins"
            )
        self.n_context, self.n_target = int(n_context), int(n_target)
        if active_repeat > 1:
            if "count" not in names:
                raise ValueError(
                    f"active_repeat={active_repeat} weights windows by their event count, but "
                    f"the channels {names} hold no 'count'"
                )
            if split == "train":
                count = self.data[:, names.index("count")].sum(axis=(1, 2))  # (T,)
                cumulative = np.concatenate([[0.0], np.cumsum(count)])  # (T + 1,)
                target = cumulative[self.starts + n_target] - cumulative[self.starts]  # (N,)
                repeats = np.where(target >= active_events, active_repeat, 1)
                self.starts = np.repeat(self.starts, repeats)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, item: int) -> tuple[Tensor, Tensor]:
        k = int(self.starts[item])
        window = torch.from_numpy(self.data[k - self.n_context : k + self.n_target].copy())
        return window[: self.n_context], window[self.n_context :]  # (Tc, C, H, W), (Tt, C, H, W)


def seismicity(
    split: str,
    *,
    path: str,
    val_start: str,
    test_start: str,
    n_context: int = 10,
    n_target: int = 1,
    channels: Sequence[str] | None = None,
    stride: int = 1,
    active_repeat: int = 1,
    active_events: float = 1.0,
) -> Dataset:
    """Seismicity frames from ``framecast quake grid`` (:class:`SeismicityDataset`)."""
    return SeismicityDataset(
        split,
        path,
        n_context=n_context,
        n_target=n_target,
        val_start=val_start,
        test_start=test_start,
        channels=channels,
        stride=stride,
        active_repeat=active_repeat,
        active_events=active_events,
    )
