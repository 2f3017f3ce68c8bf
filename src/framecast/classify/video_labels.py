"""Labelled clips of a prepared-video cache: KTH actions, or classes from folder names.

A prepared cache (:mod:`framecast.data.cache`) stores clips with a key and
JSON facts. A clip's class is either a meta field (KTH: ``action``, one of
its six actions, Schuldt et al. 2004) or the first folder of its key (the
``videos`` preparer keys clips by their path under the source folder, so
``walk/clip01.mp4`` is class ``walk``). Each item is a window of
``num_frames`` consecutive frames of one clip, float32 ``(T, C, H, W)`` in
[0, 1], with the clip's label.

Splits: ``"cache"`` keeps the cache's own splits (KTH: the person split,
persons 1-14 train, 15-16 val, 17-25 test, so no person is seen in
training and test); ``"stratified"`` re-splits the clips per class by
fractions (the ``videos`` preparer splits by sorted path, which would put
the last classes only in the test split).

References
----------
C. Schuldt, I. Laptev, B. Caputo, "Recognizing Human Actions: A Local SVM
Approach", ICPR 2004.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from framecast.classify.models import InputSpec
from framecast.classify.text import SPLITS, stratified_split
from framecast.data.cache import read_cache_index
from framecast.data.kth import KTH_ACTIONS

SPLIT_MODES = ("cache", "stratified")


def clip_class(key: str, meta: dict, label_from: str) -> str:
    """The class of one clip: ``meta[label_from]``, or with ``"folder"`` its key's first folder.

    Raises
    ------
    ValueError
        A clip without that meta field, or a key without a folder.
    """
    if label_from == "folder":
        parts = key.replace("\\", "/").split("/")
        if len(parts) < 2:
            raise ValueError(
                f"clip {key!r} lies in no folder, so it has no class; prepare videos laid out "
                "as <class>/<video>"
            )
        return parts[0]
    if label_from not in meta:
        raise ValueError(
            f"clip {key!r} has no {label_from!r} in its facts {sorted(meta)}; "
            "use label_from: folder or another field"
        )
    return str(meta[label_from])


class LabelledClips(Dataset[tuple[Tensor, Tensor]]):
    """Windows of ``num_frames`` frames of the clips of one split, with the clip's class.

    Parameters
    ----------
    split : str
        "train", "val" or "test".
    path : path
        A finished prepared-video cache.
    label_from : str
        A meta field (``"action"``) or ``"folder"``.
    classes : tuple of str, optional
        Class names in label order (default: the classes found, sorted).
    num_frames : int
        Frames per window.
    stride : int
        Distance between window starts in the train split.
    test_stride : int, optional
        Distance between window starts in val and test (default ``num_frames``:
        windows that do not overlap).
    split_mode : {"cache", "stratified"}
        Keep the cache's splits or re-split clips per class.
    val_fraction, test_fraction : float
        Fractions of each class's clips for ``"stratified"``.
    seed : int
        Seed of the ``"stratified"`` split.

    Raises
    ------
    FileNotFoundError
        No cache at ``path``.
    ValueError
        Bad options, fewer than two classes, a clip of a class outside
        ``classes``, or a split without any window.
    """

    def __init__(
        self,
        split: str,
        path: str | os.PathLike[str],
        *,
        label_from: str = "folder",
        classes: tuple[str, ...] | None = None,
        num_frames: int = 16,
        stride: int = 4,
        test_stride: int | None = None,
        split_mode: str = "cache",
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        seed: int = 0,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
        if split_mode not in SPLIT_MODES:
            raise ValueError(f"split_mode must be one of {list(SPLIT_MODES)}, got {split_mode!r}")
        for name, value in (("num_frames", num_frames), ("stride", stride)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        step = stride if split == "train" else (test_stride or num_frames)
        self.path = Path(path).expanduser()
        index = read_cache_index(self.path)
        names = [clip_class(k, m, label_from) for k, m in zip(index.keys, index.meta, strict=True)]
        found = tuple(sorted(set(names)))
        self.class_names = tuple(classes) if classes is not None else found
        unknown = sorted(set(names) - set(self.class_names))
        if unknown:
            raise ValueError(
                f"clips of {str(self.path)!r} have classes {unknown} outside "
                f"{list(self.class_names)}"
            )
        if len(self.class_names) < 2:
            raise ValueError(
                f"cache {str(self.path)!r} holds clips of {len(self.class_names)} class(es) "
                f"({list(self.class_names)}); a classifier needs at least two"
            )
        labels = [self.class_names.index(n) for n in names]
        if split_mode == "cache":
            clips = [k for k, s in enumerate(index.splits) if s == split]
        else:
            clips = stratified_split(labels, (val_fraction, test_fraction), seed)[split]
        windows = [
            (labels[k], start)
            for k in clips
            for start in range(
                int(index.offsets[k]), int(index.offsets[k + 1]) - num_frames + 1, step
            )
        ]
        if not windows:
            raise ValueError(
                f"split {split!r} of cache {str(self.path)!r} has no window of {num_frames} "
                f"frames ({len(clips)} clips); lower num_frames or change the split"
            )
        self.windows = np.asarray(windows, dtype=np.int64).reshape(-1, 2)  # (N, 2): label, start
        self.num_frames = num_frames
        self.spec = InputSpec("frames", self.class_names, frame_shape=index.frame_shape)
        self.skipped: list[str] = []
        self._handle: h5py.File | None = None
        self._pid: int | None = None

    @property
    def labels(self) -> Tensor:
        """int64 ``(N,)``: the label of every window."""
        return torch.from_numpy(self.windows[:, 0].copy())

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_handle": None, "_pid": None}

    def _frames(self) -> h5py.Dataset:
        if self._handle is None or self._pid != os.getpid():  # one handle per process
            self._handle = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._handle["frames"]

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        label, start = (int(v) for v in self.windows[index])
        frames = self._frames()[start : start + self.num_frames]  # (T, C, H, W) uint8
        data = torch.from_numpy(frames.astype(np.float32) * np.float32(1.0 / 255.0))
        return data, torch.tensor(label, dtype=torch.int64)


def kth_actions(
    split: str,
    *,
    vocabulary: object = None,
    path: str | None = None,
    num_frames: int = 16,
    stride: int = 4,
    test_stride: int | None = None,
) -> LabelledClips:
    """KTH's six actions from a cache of ``framecast data prepare kth``, its person split."""
    if path is None:
        raise ValueError(
            "dataset 'kth_actions' needs data.options.path: a cache written by "
            "`framecast data prepare kth --source KTH_FOLDER --out kth.h5`"
        )
    return LabelledClips(
        split,
        path,
        label_from="action",
        classes=KTH_ACTIONS,
        num_frames=num_frames,
        stride=stride,
        test_stride=test_stride,
        split_mode="cache",
    )


def video_folders(
    split: str,
    *,
    vocabulary: object = None,
    path: str | None = None,
    label_from: str = "folder",
    num_frames: int = 16,
    stride: int = 4,
    test_stride: int | None = None,
    split_mode: str = "stratified",
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> LabelledClips:
    """Any prepared-video cache, the class of a clip from its folder (or a meta field)."""
    if path is None:
        raise ValueError(
            "dataset 'video_folders' needs data.options.path: a cache written by "
            "`framecast data prepare videos --source FOLDER_OF_CLASS_FOLDERS --out cache.h5`"
        )
    return LabelledClips(
        split,
        path,
        label_from=label_from,
        num_frames=num_frames,
        stride=stride,
        test_stride=test_stride,
        split_mode=split_mode,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
    )
