"""The prepared-video cache: one HDF5 file of uint8 frames cut into clips, and its dataset.

Every video preparer (KTH, KITTI, any video, frame series) writes this
layout through :class:`CacheWriter`; :class:`PreparedVideos` (dataset
``"prepared"``) reads it.

Layout
------
``frames``
    uint8 ``[N, C, H, W]``: the frames of all clips, one after the other
    (chunks of one frame, gzip).
``clip_offsets``
    int64 ``[K + 1]``: clip ``k`` holds frames ``offsets[k]:offsets[k + 1]``.
``clip_keys``, ``clip_split``, ``clip_meta``
    str ``[K]``: a unique key per clip ("person01_boxing_d1"), its split
    ("train", "val" or "test") and a JSON object of facts about it
    (``{"person": 1, "action": "boxing", "scenario": "d1"}``).
attributes
    ``format`` (:data:`CACHE_FORMAT`), ``dataset``, ``source``,
    ``frame_shape`` ``[C, H, W]``, ``settings`` (JSON of the preparation
    settings), and once finished ``value_min``, ``value_max``,
    ``num_clips``, ``num_frames``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np
from torch import Tensor
from torch.utils.data import Dataset

from framecast.data.splits import SPLITS, split_index
from framecast.data.window import check_positive_int, check_window, require_option, split_window
from framecast.h5header import check_header, write_header
from framecast.runfolder import ProcessLock, same_file

CACHE_FORMAT = "framecast video cache 1"
"""Value of the ``format`` attribute; bumped when the layout changes."""

PARTIAL_SUFFIX = ".partial"
"""A cache is written to ``<path>.partial`` and renamed when finished."""

_SCAN_BYTES = 1 << 26  # read at most ~64 MiB of frames at a time when scanning


class EmptySplitError(ValueError):
    """A split of a cache without any clip, or without any window of the asked length."""


def partial_path(path: str | os.PathLike[str]) -> Path:
    """The unfinished file ``<path>.partial`` that :class:`CacheWriter` works in."""
    path = Path(path).expanduser()
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _canonical_json(value: Mapping[str, Any], what: str) -> str:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a mapping, got {value!r}")
    try:
        return json.dumps(dict(value), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be JSON-serialisable, got {value!r}: {err}") from err


def _check_frame_shape(frame_shape: object) -> tuple[int, int, int]:
    if (
        not isinstance(frame_shape, tuple | list)
        or len(frame_shape) != 3
        or any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in frame_shape)
        or any(v < 1 for v in frame_shape)
    ):
        raise ValueError(f"frame_shape must be three positive ints (C, H, W), got {frame_shape!r}")
    return tuple(int(v) for v in frame_shape)  # type: ignore[return-value]


def _strings(dataset: h5py.Dataset) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in dataset[()]]


def _check_format(handle: h5py.File, name: str) -> None:
    """Refuse a file that is not a video cache (:func:`framecast.h5header.check_header`)."""
    check_header(
        handle,
        name,
        CACHE_FORMAT,
        "framecast video cache",
        "create one with `framecast data prepare`",
    )


class CacheWriter:
    """Write clips into a cache, resumably; use as a context manager.

    Work happens in ``<path>.partial``. Each :meth:`add_clip` writes and
    flushes the frames first and records the clip's key last, so a crash
    mid-clip leaves at most an unrecorded tail, which the next writer on the
    same partial file cuts off. Re-running with the same dataset, frame
    shape and settings continues the partial file (skip the keys in
    :meth:`done`); :meth:`finish` renames it to ``path`` (``os.replace``,
    atomic). Clips written in a deterministic order (sorted keys) give a
    resumed preparation the same arrays, in the same order, as an
    uninterrupted one.

    Parameters
    ----------
    path : str or os.PathLike
        The finished cache file (``.h5``).
    dataset : str
        Name of the data ("kth", "kitti", "videos", "frame_series").
    source : str
        Where the data came from (stored for information; not compared on resume).
    frame_shape : (int, int, int)
        ``(C, H, W)`` of every frame.
    settings : Mapping[str, Any]
        The preparation settings (JSON-serialisable): size, grayscale, splits, ...
    overwrite : bool
        Replace an existing finished cache at ``path`` when finishing.

    Raises
    ------
    ValueError
        ``path`` exists and ``overwrite`` is false; ``path`` is the source
        (refused even with ``overwrite``); bad frame shape or settings; a
        partial file that is not a cache, cannot be opened, or was started
        with another dataset, frame shape or settings.
    RunInUseError
        Another process writes the same cache (``<path>.lock``, a
        ValueError naming its PID); the lock is held until
        :meth:`finish`, :meth:`discard` or :meth:`close`.

    Examples
    --------
    >>> with CacheWriter("kth.h5", dataset="kth", source="/data/kth", frame_shape=(1, 64, 64),
    ...                  settings={"size": [64, 64]}) as writer:  # doctest: +SKIP
    ...     for key in sorted(videos):
    ...         if key not in writer.done():
    ...             writer.add_clip(key, frames, split="train", meta={"person": 1})
    ...     writer.finish()
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        dataset: str,
        source: str,
        frame_shape: tuple[int, int, int],
        settings: Mapping[str, Any],
        overwrite: bool = False,
    ) -> None:
        if not isinstance(dataset, str) or not dataset:
            raise ValueError(f"dataset must be a non-empty string, got {dataset!r}")
        self.path = Path(path).expanduser()
        self.partial = partial_path(self.path)
        self.dataset = dataset
        self.source = str(source)
        self.frame_shape = _check_frame_shape(frame_shape)
        self._settings_json = _canonical_json(settings, "settings")
        self.settings = json.loads(self._settings_json)  # as stored: tuples become lists
        if same_file(self.source, self.path) or same_file(self.source, self.partial):
            raise ValueError(
                f"the output cache {str(self.path)!r} is the source {self.source!r}; framecast "
                "never writes over its own input (not even with --overwrite): choose another --out"
            )
        if self.path.exists() and not overwrite:
            raise ValueError(
                f"cache {str(self.path)!r} already exists; delete it, choose another output, "
                "or pass overwrite=True (--overwrite)"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._keys: list[str] = []
        self._finished = False
        # one writer per cache: a second `data prepare` on the same --out is refused
        self._lock = ProcessLock(
            self.path.with_name(self.path.name + ".lock"), f"cache {str(self.path)!r}"
        ).acquire()
        try:
            if self.partial.exists():
                self._file = self._reopen()
            else:
                self._file = self._create()
        except BaseException:
            self._lock.release()
            raise
        self.resumed = len(self._keys)
        """Number of clips found in the partial file when the writer opened."""

    # -- opening -------------------------------------------------------------------------------

    def _create(self) -> h5py.File:
        # the empty cache is built beside the partial file and renamed over it once whole: a
        # kill while HDF5 wrote it left a `.partial` without its format attribute, which every
        # rerun then refused as "not a framecast video cache" (found by the kill loop, issue 23)
        fresh = self.partial.with_name(self.partial.name + ".new")
        handle = h5py.File(fresh, "w")
        channels, height, width = self.frame_shape
        write_header(handle, CACHE_FORMAT)
        handle.attrs["dataset"] = self.dataset
        handle.attrs["source"] = self.source
        handle.attrs["frame_shape"] = np.array(self.frame_shape, dtype=np.int64)
        handle.attrs["settings"] = self._settings_json
        handle.create_dataset(
            "frames",
            shape=(0, channels, height, width),
            maxshape=(None, channels, height, width),
            dtype=np.uint8,
            chunks=(1, channels, height, width),  # one frame: windows read any frame range
            compression="gzip",
            compression_opts=4,
        )
        handle.create_dataset("clip_offsets", data=np.zeros(1, np.int64), maxshape=(None,))
        text = h5py.string_dtype()
        for name in ("clip_keys", "clip_split", "clip_meta"):
            handle.create_dataset(name, shape=(0,), maxshape=(None,), dtype=text, chunks=(256,))
        handle.close()
        os.replace(fresh, self.partial)
        return h5py.File(self.partial, "r+")

    def _reopen(self) -> h5py.File:
        name = str(self.partial)
        try:
            handle = h5py.File(self.partial, "r+")
        except OSError as err:
            raise ValueError(
                f"cannot open the unfinished cache {name!r} ({err}); it was probably cut off "
                "mid-write: delete it to start the preparation over"
            ) from err
        try:
            _check_format(handle, name)
            stored = {
                "dataset": str(handle.attrs["dataset"]),
                "frame_shape": tuple(int(v) for v in handle.attrs["frame_shape"]),
                "settings": json.loads(handle.attrs["settings"]),
            }
            wanted = {
                "dataset": self.dataset,
                "frame_shape": self.frame_shape,
                "settings": self.settings,
            }
            for item, value in stored.items():
                if value != wanted[item]:
                    raise ValueError(
                        f"the unfinished cache {name!r} was started with {item} {value!r}, not "
                        f"{wanted[item]!r}; delete it to start over, or rerun with the same "
                        "settings to continue it"
                    )
            started_from = str(handle.attrs.get("source", ""))
            if not same_file(started_from, self.source):
                raise ValueError(
                    f"the unfinished cache {name!r} was started from source {started_from!r}, "
                    f"not {self.source!r}; delete it to start over, or rerun with that source "
                    "to continue it"
                )
            self._truncate(handle)
        except Exception:
            handle.close()
            raise
        # nothing is rewritten in the header: a kill while HDF5 rewrote the variable-length
        # `source` attribute left a dangling heap pointer (found by the kill loop)
        return handle

    def _truncate(self, handle: h5py.File) -> None:
        """Cut off what an interrupted :meth:`add_clip` left after the last recorded key."""
        keys = _strings(handle["clip_keys"])
        while keys and not keys[-1]:  # resized, but the key itself never written
            keys.pop()
        count = len(keys)
        offsets = handle["clip_offsets"]
        if len(offsets) < count + 1:
            raise ValueError(
                f"the unfinished cache {str(self.partial)!r} records {count} clips but "
                f"{len(offsets) - 1} offsets; delete it to start over"
            )
        end = int(offsets[count])
        offsets.resize((count + 1,))
        for name in ("clip_keys", "clip_split", "clip_meta"):
            handle[name].resize((count,))
        handle["frames"].resize(end, axis=0)
        handle.flush()
        self._keys = keys

    # -- writing -------------------------------------------------------------------------------

    def done(self) -> set[str]:
        """Keys of the clips already in the cache (finished clips of an earlier run included)."""
        return set(self._keys)

    def add_clip(
        self, key: str, frames: np.ndarray, *, split: str, meta: Mapping[str, Any]
    ) -> None:
        """Append one clip.

        Parameters
        ----------
        key : str
            Unique, non-empty name of the clip.
        frames : numpy.ndarray
            uint8 ``[T, C, H, W]`` with ``(C, H, W) == frame_shape`` and T >= 1.
        split : str
            "train", "val" or "test".
        meta : Mapping[str, Any]
            JSON-serialisable facts about the clip (person, action, source, ...).

        Raises
        ------
        ValueError
            Bad or duplicate key, bad split, frames of another dtype or
            shape (the message names the clip), meta not JSON-serialisable,
            or a finished writer.
        """
        if self._finished:
            raise ValueError(f"cache {str(self.path)!r} is already finished; cannot add {key!r}")
        if not isinstance(key, str) or not key:
            raise ValueError(f"clip key must be a non-empty string, got {key!r}")
        if key in self._keys:
            raise ValueError(f"clip {key!r} is already in the cache {str(self.partial)!r}")
        if split not in SPLITS:
            raise ValueError(f"split of clip {key!r} must be one of {list(SPLITS)}, got {split!r}")
        meta_json = _canonical_json(meta, f"meta of clip {key!r}")
        if (
            not isinstance(frames, np.ndarray)
            or frames.dtype != np.uint8
            or frames.ndim != 4
            or tuple(frames.shape[1:]) != self.frame_shape
            or frames.shape[0] < 1
        ):
            found = (
                f"{frames.dtype} {tuple(frames.shape)}"
                if isinstance(frames, np.ndarray)
                else type(frames).__name__
            )
            raise ValueError(
                f"frames of clip {key!r} are {found}; expected uint8 [T >= 1, "
                f"{', '.join(map(str, self.frame_shape))}]"
            )
        handle = self._file
        start = int(handle["clip_offsets"][-1])
        end = start + frames.shape[0]
        handle["frames"].resize(end, axis=0)
        handle["frames"][start:end] = frames  # (T, C, H, W)
        handle.flush()
        count = len(self._keys)
        for name, value in (("clip_split", split), ("clip_meta", meta_json)):
            handle[name].resize((count + 1,))
            handle[name][count] = value
        handle["clip_offsets"].resize((count + 2,))
        handle["clip_offsets"][count + 1] = end
        handle.flush()
        handle["clip_keys"].resize((count + 1,))  # the key last: it commits the clip
        handle["clip_keys"][count] = key
        handle.flush()
        self._keys.append(key)

    def finish(self) -> Path:
        """Store the value range and counts, close, and rename the partial file to ``path``.

        Returns
        -------
        pathlib.Path
            The finished cache.

        Raises
        ------
        ValueError
            If no clip was written (the partial file is kept).
        """
        if self._finished:
            return self.path
        if not self._keys:
            raise ValueError(
                f"no clip was written to {str(self.partial)!r}; nothing to finish (every "
                "input was skipped or none was found)"
            )
        handle = self._file
        frames = handle["frames"]
        block = max(1, _SCAN_BYTES // max(1, math.prod(self.frame_shape)))
        low, high = 255, 0
        for first in range(0, frames.shape[0], block):
            chunk = frames[first : first + block]  # (B, C, H, W)
            low, high = min(low, int(chunk.min())), max(high, int(chunk.max()))
        handle.attrs["value_min"] = low
        handle.attrs["value_max"] = high
        handle.attrs["num_clips"] = len(self._keys)
        handle.attrs["num_frames"] = int(frames.shape[0])
        handle.close()
        os.replace(self.partial, self.path)
        self._finished = True
        self._lock.release()
        return self.path

    def discard(self) -> None:
        """Close and delete the partial file (a later writer starts from nothing)."""
        if not self._finished and self._file.id.valid:
            self._file.close()
        if not self._finished:
            self.partial.unlink(missing_ok=True)
        self._lock.release()

    def close(self) -> None:
        """Close the partial file without finishing it (a later writer continues it)."""
        if not self._finished and self._file.id.valid:
            self._file.close()
        self._lock.release()

    def __enter__(self) -> CacheWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, ValueError) and not self._finished and self.resumed == 0:
            # refused input: a partial file this writer started would only block the
            # corrected rerun (other settings); one that an earlier run filled is kept
            self.discard()
            return
        self.close()


# -- reading ------------------------------------------------------------------------------------


def _existing_cache(path: str | os.PathLike[str]) -> Path:
    file = Path(path).expanduser()
    if file.is_file():
        return file
    partial = partial_path(file)
    if partial.is_file():
        raise FileNotFoundError(f"cache {str(file)!r} not found: {unfinished_note(partial)}")
    raise FileNotFoundError(f"cache not found: {str(file)!r}")


def unfinished_note(partial: str | os.PathLike[str]) -> str:
    """What an unfinished ``<cache>.partial`` holds, and how to continue it or start over."""
    name = str(partial)
    try:
        with h5py.File(partial, "r") as handle:
            _check_format(handle, name)
            count = sum(1 for key in _strings(handle["clip_keys"]) if key)
    except (OSError, KeyError, ValueError):
        return (
            f"the unfinished {name!r} cannot be read (cut off mid-write?); delete it and rerun "
            "the `framecast data prepare` command to start over"
        )
    return (
        f"the unfinished {name!r} holds {count} clip(s) of an interrupted preparation; rerun "
        "the same `framecast data prepare` command to continue it, or delete it to start over"
    )


def _open_cache(file: Path) -> h5py.File:
    try:
        handle = h5py.File(file, "r")
    except OSError as err:
        raise ValueError(f"cannot read {str(file)!r} as an HDF5 file: {err}") from err
    try:
        _check_format(handle, str(file))
    except ValueError:
        handle.close()
        raise
    return handle


@dataclass(frozen=True)
class CacheIndex:
    """The clip table of a cache: per clip its key, split, JSON meta and frame range."""

    dataset: str
    source: str
    frame_shape: tuple[int, int, int]
    settings: dict[str, Any]
    keys: list[str]
    splits: list[str]
    meta: list[dict[str, Any]]
    offsets: np.ndarray  # int64 [K + 1]
    value_range: tuple[int, int]


def read_cache_index(path: str | os.PathLike[str]) -> CacheIndex:
    """Read the clip table and attributes of a finished cache (not its frames).

    Raises
    ------
    FileNotFoundError
        If the cache does not exist (the message says when only its
        unfinished ``.partial`` file does).
    ValueError
        A file that is not a framecast video cache.
    """
    file = _existing_cache(path)
    with _open_cache(file) as handle:
        attrs = handle.attrs
        keys = _strings(handle["clip_keys"])
        count = len(keys)
        return CacheIndex(
            dataset=str(attrs["dataset"]),
            source=str(attrs["source"]),
            frame_shape=tuple(int(v) for v in attrs["frame_shape"]),  # type: ignore[arg-type]
            settings=json.loads(attrs["settings"]),
            keys=keys,
            splits=_strings(handle["clip_split"])[:count],
            meta=[json.loads(m) for m in _strings(handle["clip_meta"])[:count]],
            offsets=np.asarray(handle["clip_offsets"][: count + 1], dtype=np.int64),
            value_range=(int(attrs.get("value_min", 0)), int(attrs.get("value_max", 255))),
        )


@dataclass(frozen=True)
class CacheInfo:
    """Summary of a cache, for ``framecast data info``.

    Attributes
    ----------
    path : pathlib.Path
    dataset, source : str
    frame_shape : (int, int, int)
        ``(C, H, W)``.
    clips, frames : dict[str, int]
        Clips and frames per split.
    clip_lengths : dict[str, tuple[int, ...]]
        Frames of each clip, per split.
    value_range : (int, int)
        Smallest and largest stored uint8 value (read as value / 255).
    settings : dict[str, Any]
        The preparation settings.
    """

    path: Path
    dataset: str
    source: str
    frame_shape: tuple[int, int, int]
    clips: dict[str, int]
    frames: dict[str, int]
    clip_lengths: dict[str, tuple[int, ...]]
    value_range: tuple[int, int]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        """Frames in all splits."""
        return sum(self.frames.values())

    def windows(self, length: int, stride: int = 1) -> dict[str, int]:
        """Windows of ``length`` frames per split when every clip uses one ``stride``."""
        return {
            split: sum(max(0, (n - length) // stride + 1) for n in lengths)
            for split, lengths in self.clip_lengths.items()
        }

    def format(self, windows: Mapping[str, int] | None = None, window_note: str = "") -> str:
        """A printable summary; ``windows`` adds a column of windows per split."""
        channels, height, width = self.frame_shape
        low, high = self.value_range
        lines = [
            f"cache:    {self.path}",
            f"dataset:  {self.dataset}  (source: {self.source})",
            f"frames:   uint8 [{self.num_frames}, {channels}, {height}, {width}]  "
            f"values {low}..{high} (read as value / 255: {low / 255:.3f}..{high / 255:.3f})",
            f"settings: {json.dumps(self.settings, sort_keys=True)}",
            "",
        ]
        header = f"{'split':<6} {'clips':>6} {'frames':>9}"
        if windows is not None:
            header += f" {'windows':>9}  {window_note}".rstrip()
        lines.append(header)
        for split in (*SPLITS, "total"):
            if split == "total":
                clips, frames = sum(self.clips.values()), self.num_frames
                count = sum(windows.values()) if windows is not None else None
            else:
                clips, frames = self.clips[split], self.frames[split]
                count = windows.get(split, 0) if windows is not None else None
            row = f"{split:<6} {clips:>6} {frames:>9}"
            if count is not None:
                row += f" {count:>9}"
            lines.append(row)
        return "\n".join(lines) + "\n"


def read_cache_info(path: str | os.PathLike[str]) -> CacheInfo:
    """Shapes, value range, settings and clips/frames per split of a finished cache.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`read_cache_index`.
    """
    index = read_cache_index(path)
    lengths = np.diff(index.offsets)  # (K,)
    per_split = {
        split: tuple(int(n) for n, s in zip(lengths, index.splits, strict=True) if s == split)
        for split in SPLITS
    }
    return CacheInfo(
        path=Path(path).expanduser(),
        dataset=index.dataset,
        source=index.source,
        frame_shape=index.frame_shape,
        clips={split: len(per_split[split]) for split in SPLITS},
        frames={split: sum(per_split[split]) for split in SPLITS},
        clip_lengths=per_split,
        value_range=index.value_range,
        settings=index.settings,
    )


def _check_strides_by_meta(
    strides_by_meta: Mapping[str, Mapping[str, int]] | None,
) -> dict[str, dict[str, int]]:
    if strides_by_meta is None:
        return {}
    if not isinstance(strides_by_meta, Mapping):
        raise TypeError(
            "strides_by_meta must map a meta field to {value: stride}, e.g. "
            f"{{'action': {{'running': 3}}}}, got {strides_by_meta!r}"
        )
    checked: dict[str, dict[str, int]] = {}
    for name, table in strides_by_meta.items():
        if not isinstance(table, Mapping):
            raise TypeError(f"strides_by_meta[{name!r}] must map values to strides, got {table!r}")
        checked[str(name)] = {
            str(value): check_positive_int(f"strides_by_meta[{name!r}][{value!r}]", stride)
            for value, stride in table.items()
        }
    return checked


def _meta_stride(
    meta: Mapping[str, Any], by_meta: Mapping[str, Mapping[str, int]], default: int
) -> int:
    """The stride of the first ``{field: {value: stride}}`` entry matching ``meta``."""
    for name, table in by_meta.items():
        if name in meta and str(meta[name]) in table:
            return table[str(meta[name])]
    return default


class PreparedVideos(Dataset[tuple[Tensor, Tensor]]):
    """Windows of frames inside the clips of one split of a prepared-video cache.

    A window holds ``n_context + n_target`` consecutive frames of one clip
    and never spans two clips. Windows start every ``stride`` frames from a
    clip's first frame in the train split; the evaluation splits (val and
    test) use ``test_stride``, or for clips whose meta matches
    ``strides_by_meta`` the stride given there (PredRNN's KTH protocol:
    stride 3 for running and jogging, 20 for the other actions). The HDF5
    file is opened lazily, once per process, so DataLoader workers each get
    their own handle. Frames are returned as float32 value / 255.

    Parameters
    ----------
    split : str
        "train", "val" or "test".
    path : str or os.PathLike
        A finished cache (see :class:`CacheWriter`).
    n_context, n_target : int
        Frames of context and target.
    stride : int
        Distance between window starts in the train split.
    test_stride : int, optional
        Distance between window starts in the val and test splits
        (default: ``stride``).
    strides_by_meta : Mapping[str, Mapping[str, int]], optional
        ``{field: {value: stride}}`` overriding ``test_stride`` in the val
        and test splits for clips whose ``meta[field]`` (as a string) is
        ``value``, e.g. ``{"action": {"running": 3, "jogging": 3}}``.
    n_target_test : int, optional
        Target frames in the test split (e.g. 20 while training on 10);
        default ``n_target``.

    Attributes
    ----------
    channels, height, width : int
        Frame layout.
    dataset_name : str
        The cache's ``dataset`` attribute ("kth", "videos", ...).
    clip_keys : list[str]
        Keys of the split's clips, in cache order.
    windows : numpy.ndarray
        int64 ``[M, 2]``: (clip index in the cache, index of the window's
        first frame in ``frames``) of each item.

    Raises
    ------
    FileNotFoundError
        If the cache does not exist.
    ValueError
        Bad split, lengths or strides; a file that is not a cache; a split
        without clips or without a window of the asked length
        (:class:`EmptySplitError`).
    """

    def __init__(
        self,
        split: str,
        path: str | os.PathLike[str],
        *,
        n_context: int = 10,
        n_target: int = 10,
        stride: int = 1,
        test_stride: int | None = None,
        strides_by_meta: Mapping[str, Mapping[str, int]] | None = None,
        n_target_test: int | None = None,
    ) -> None:
        split_index(split)
        self.split = split
        if n_target_test is not None and split == "test":
            n_target = n_target_test
        self.length = check_window(n_context, n_target)
        self.n_context = int(n_context)
        self.n_target = int(n_target)
        stride = check_positive_int("stride", stride)
        test_stride = (
            stride if test_stride is None else check_positive_int("test_stride", test_stride)
        )
        by_meta = _check_strides_by_meta(strides_by_meta)
        self.path = _existing_cache(path)
        index = read_cache_index(self.path)
        self.dataset_name = index.dataset
        self.channels, self.height, self.width = index.frame_shape
        clips = [k for k, s in enumerate(index.splits) if s == split]
        if not clips:
            counts = {s: index.splits.count(s) for s in SPLITS}
            raise EmptySplitError(
                f"cache {str(self.path)!r} has no clip in split {split!r} (clips per split: "
                f"{counts})"
            )
        self.clip_keys = [index.keys[k] for k in clips]
        self._clip_position = {clip: i for i, clip in enumerate(clips)}
        windows: list[tuple[int, int]] = []
        for clip in clips:
            if split == "train":
                step = stride
            else:
                step = _meta_stride(index.meta[clip], by_meta, test_stride)
            first, end = int(index.offsets[clip]), int(index.offsets[clip + 1])
            windows += [(clip, start) for start in range(first, end - self.length + 1, step)]
        if not windows:
            longest = int(max(np.diff(index.offsets)[clips]))
            raise EmptySplitError(
                f"split {split!r} of cache {str(self.path)!r} has no window of n_context + "
                f"n_target = {self.length} frames (its longest clip has {longest} frames)"
            )
        self.windows = np.array(windows, dtype=np.int64).reshape(-1, 2)  # (M, 2)
        self._handle: h5py.File | None = None
        self._pid: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handle"] = None  # reopened lazily by the process that unpickles
        state["_pid"] = None
        return state

    def _frames(self) -> h5py.Dataset:
        # h5py handles do not survive fork: each loader worker opens its own
        if self._handle is None or self._pid != os.getpid():
            self._handle = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._handle["frames"]

    def window_key(self, index: int) -> str:
        """Key of the clip that item ``index`` comes from."""
        clip = int(self.windows[index, 0])
        return self.clip_keys[self._clip_position[clip]]

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        _, start = (int(v) for v in self.windows[index])  # raises IndexError when out of range
        frames = self._frames()[start : start + self.length]  # (T, C, H, W) uint8
        scaled = frames.astype(np.float32) * np.float32(1.0 / 255.0)
        return split_window(scaled, self.n_context)


def prepared_videos(
    split: str,
    *,
    n_context: int = 10,
    n_target: int = 10,
    path: str | None = None,
    stride: int = 1,
    test_stride: int | None = None,
    strides_by_meta: Mapping[str, Mapping[str, int]] | None = None,
    n_target_test: int | None = None,
) -> PreparedVideos:
    """A prepared-video cache (videos, frame series, ...); see :class:`PreparedVideos`.

    Raises
    ------
    ValueError
        If ``path`` is not given.
    """
    path = require_option(
        "prepared",
        "path",
        path,
        "a cache written by `framecast data prepare NAME --source ... --out cache.h5`",
    )
    return PreparedVideos(
        split,
        path,
        n_context=n_context,
        n_target=n_target,
        stride=stride,
        test_stride=test_stride,
        strides_by_meta=strides_by_meta,
        n_target_test=n_target_test,
    )
