"""Seismicity frames with the radio side image packed beside them (dataset ``seismicity_radio``).

Each frame of bin ``j`` gets the side image of :func:`~.alignment.side_images`
(slots recorded by the end of bin ``j`` minus ``lag_days``), packed into
extra channels (:func:`framecast.models.side_inputs.pack_side`); train it
with the ``side_input`` model and ``train.loss_channels`` naming the frame
channels (``framecast quake compare-aux`` does both).

The plugin table (:mod:`framecast.plugins`) names it; the registry imports
this module when the dataset is first asked for. It imports only what
:mod:`framecast.quake.dataset` already loads (numpy, h5py, torch); the
models package is imported when a dataset is built.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from framecast.quake.dataset import SeismicityDataset
from framecast.quake.frames import SeismicityFrames
from framecast.quake.radio.alignment import normalization, side_images
from framecast.quake.radio.store import RadioSeries


def radio_side_frames(
    frames: SeismicityFrames,
    radio: RadioSeries,
    *,
    train_end: object,
    lag_days: float = 0.0,
    shuffle_seed: int | None = None,
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Packed side channels ``[T, P, H, W]`` of every frame bin, and the side image shape.

    ``shuffle_seed`` permutes the bins' side images in time (the control
    that keeps the radio data's distribution and breaks its timing).
    """
    # imported here: framecast.data imports this module, and the models package is not light
    from framecast.models.side_inputs import pack_side

    scale = normalization(radio, train_end)
    images = side_images(radio, frames.bin_start, frames.bin_days, lag_days=lag_days, scale=scale)
    if shuffle_seed is not None:
        order = np.random.default_rng(shuffle_seed).permutation(len(images))
        images = images[order]  # (T, A, F, K), bins in random order
    h, w = frames.grid.shape
    packed = pack_side(torch.from_numpy(images), h, w).numpy()  # (T, P, H, W)
    return packed, tuple(images.shape[1:])  # type: ignore[return-value]


class RadioSeismicityDataset(SeismicityDataset):
    """:class:`SeismicityDataset` windows whose frames carry packed radio side channels.

    Parameters
    ----------
    split, path, n_context, n_target, val_start, test_start, channels, stride
        As :class:`SeismicityDataset`.
    radio : str or os.PathLike
        A file from ``framecast quake radio prepare`` (or the demo).
    lag_days : float
        Processing delay of the radio data.
    shuffle_seed : int, optional
        Shuffle the side images in time (control).

    Attributes
    ----------
    side_shape : tuple of int
        ``(2 x stations, frequency rows, slots per bin)``.
    side_channels : int
        Packed channels after the frame channels.
    frame_channels : int
    """

    def __init__(
        self,
        split: str,
        path: str | os.PathLike[str],
        *,
        radio: str | os.PathLike[str],
        n_context: int = 10,
        n_target: int = 1,
        val_start: object,
        test_start: object,
        channels: Sequence[str] | None = None,
        stride: int = 1,
        lag_days: float = 0.0,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(
            split,
            path,
            n_context=n_context,
            n_target=n_target,
            val_start=val_start,
            test_start=test_start,
            channels=channels,
            stride=stride,
        )
        frames = SeismicityFrames.load(self.path)
        series = RadioSeries.load(radio)
        packed, self.side_shape = radio_side_frames(
            frames, series, train_end=val_start, lag_days=lag_days, shuffle_seed=shuffle_seed
        )
        self.frame_channels = self.channels
        self.side_channels = int(packed.shape[1])
        self.data = np.ascontiguousarray(np.concatenate([self.data, packed], axis=1))
        self.channels = self.frame_channels + self.side_channels


def seismicity_radio(
    split: str,
    *,
    path: str,
    radio: str,
    val_start: str,
    test_start: str,
    n_context: int = 10,
    n_target: int = 1,
    channels: Sequence[str] | None = None,
    stride: int = 1,
    lag_days: float = 0.0,
    shuffle_seed: int | None = None,
) -> Dataset:
    """Seismicity frames with packed radio side channels (:class:`RadioSeismicityDataset`)."""
    return RadioSeismicityDataset(
        split,
        path,
        radio=radio,
        n_context=n_context,
        n_target=n_target,
        val_start=val_start,
        test_start=test_start,
        channels=channels,
        stride=stride,
        lag_days=lag_days,
        shuffle_seed=shuffle_seed,
    )
