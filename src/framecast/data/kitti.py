"""KITTI driving videos as PredNet uses them: its hickle files, or raw KITTI image folders.

PredNet (Lotter et al. 2017) trains on the KITTI raw recordings (Geiger et
al. 2013) of the categories city, residential and road, camera
``image_03``, every frame resized to height 128 (aspect kept) and
centre-cropped to 128x160. Its ``process_kitti.py`` writes, per split,
``X_<split>.hkl`` (uint8 ``[N, 128, 160, 3]``, the frames of all the split's
recordings one after the other) and ``sources_<split>.hkl`` (N strings,
each frame's recording, ``"city-2011_09_26_drive_0005_sync"``). Its
``SequenceGenerator`` cuts windows of ``nt = 10`` frames that never cross
two recordings; training uses every start (``sequence_start_mode='all'``),
evaluation non-overlapping windows (``'unique'``).

This module offers

- :class:`KittiHkl` (dataset ``"kitti_hkl"``): windows read straight from
  the hkl files, no preparation step;
- :func:`prepare_kitti` (preparer ``"kitti"``): the recordings, from the
  hkl files or from raw KITTI image folders, written to framecast's
  prepared-video cache (one clip per recording), read back by the
  ``"kitti"`` dataset (:func:`kitti_dataset`, PredNet's windows) or the
  generic ``"prepared"`` one.

PredNet's published hkl files were written by hickle 2 under Python 2,
which hickle 3+ refuses to read (coxlab/prednet issues #53 and #88). hkl
files are HDF5, so they are read with h5py only, never with hickle: hickle
unpickles any leaf it cannot map to a type (and the pickled type table of
hickle 5 files), so a crafted file would run code. The frames (one numeric
4-D dataset) and the recording names (a string dataset, or hickle 4/5's
list of string items) are read from the HDF5 nodes; a file holding a
pickled object is refused with a one-line error naming the dataset.
hickle is only needed to write files
(:func:`framecast.data.synthetic_video.write_synthetic_kitti_hkl`).

References
----------
.. [1] W. Lotter, G. Kreiman, D. Cox, "Deep Predictive Coding Networks for
   Video Prediction and Unsupervised Learning", ICLR 2017, Sec. 3.2; code
   coxlab/prednet: ``process_kitti.py`` (``process_im``, the val/test
   recordings), ``data_utils.py`` (``SequenceGenerator``), ``kitti_train.py``.
.. [2] A. Geiger, P. Lenz, C. Stiller, R. Urtasun, "Vision meets Robotics:
   The KITTI Dataset", IJRR 2013.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from framecast.data.cache import CacheWriter, PreparedVideos
from framecast.data.prepare import (
    ClipJob,
    PrepareReport,
    Progress,
    check_on_error,
    write_clips,
)
from framecast.data.splits import SPLITS, split_index
from framecast.data.video_io import VideoDecodeError, check_size, resize_image
from framecast.data.window import check_positive_int, check_window, require_option, split_window

KITTI_SIZE: tuple[int, int] = (128, 160)
"""PredNet's frame size (height, width)."""

KITTI_CATEGORIES: tuple[str, ...] = ("city", "residential", "road", "campus", "person")
"""The KITTI raw-data categories (PredNet uses the first three)."""

PREDNET_VAL_DRIVES: tuple[str, ...] = ("2011_09_26_drive_0005_sync",)
"""PredNet's validation recording (``process_kitti.py``: one city drive)."""

PREDNET_TEST_DRIVES: tuple[str, ...] = (
    "2011_09_26_drive_0104_sync",
    "2011_09_26_drive_0079_sync",
    "2011_09_26_drive_0070_sync",
)
"""PredNet's test recordings (one city, one residential, one road drive)."""

START_MODES: tuple[str, ...] = ("all", "unique")
"""PredNet's ``sequence_start_mode`` values."""

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg")

_CAMERA = re.compile(r"image_\d\d")


# ----------------------------------------------------------------- windows


def source_runs(sources: Sequence[str]) -> list[tuple[str, int, int]]:
    """The runs of equal consecutive names: ``(name, start, stop)`` with ``stop`` exclusive.

    A recording is one run in PredNet's files. A name that comes back after
    another recording gives a second run: windows never join the two.

    Examples
    --------
    >>> source_runs(["a", "a", "b", "a"])
    [('a', 0, 2), ('b', 2, 3), ('a', 3, 4)]
    """
    runs: list[tuple[str, int, int]] = []
    start = 0
    for i in range(1, len(sources) + 1):
        if i == len(sources) or sources[i] != sources[start]:
            runs.append((str(sources[start]), start, i))
            start = i
    return runs


def window_starts(
    runs: Iterable[tuple[str, int, int]], length: int, *, mode: str = "all", stride: int = 1
) -> np.ndarray:
    """First frames of the windows of ``length`` frames that stay inside one run.

    ``mode="all"``: every ``stride``-th start of each run (PredNet's
    ``sequence_start_mode='all'`` with ``stride=1``). ``mode="unique"``:
    consecutive non-overlapping windows from each run's first frame, so
    every frame is in at most one window (PredNet's ``'unique'``; its scan
    over the whole file, stepping by one after a window that would cross
    two recordings, lands on the next recording's first frame, giving the
    same windows). Runs shorter than ``length`` give none.

    PredNet's ``'all'`` loop stops one start early (``range(N - nt)``),
    dropping the window that ends on the file's last frame; it is kept here.

    Returns
    -------
    numpy.ndarray
        int64 ``[M]`` window starts, in file order.
    """
    if mode not in START_MODES:
        raise ValueError(f"unknown sequence_start_mode {mode!r}; expected one of {START_MODES}")
    step = length if mode == "unique" else stride
    starts = [s for _, a, b in runs for s in range(a, b - length + 1, step)]
    return np.asarray(starts, dtype=np.int64)


# --------------------------------------------------------------- hkl files


PICKLE_REFUSED = "framecast does not unpickle data files"
"""End of the message refusing a pickled object in an hkl file."""

_TYPES_TABLE = "hickle_types_table"
"""hickle 5's table of pickled Python types: never read (and never unpickled)."""


def _text(value: object) -> str:
    """An HDF5 attribute value (bytes, str or a one-element array of them) as text."""
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else ""
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _hickle_major(handle: h5py.File) -> int:
    """Major version of the hickle that wrote ``handle`` (2 when it does not say)."""
    version = _text(handle.attrs.get("HICKLE_VERSION", handle.attrs.get("VERSION", "2")))
    match = re.match(r"\d+", version)
    return int(match.group()) if match else 2


def hickle_base_type(node: h5py.Group | h5py.Dataset) -> str:
    """The hickle base type of an HDF5 node ("ndarray", "list", "str", "pickle", ...).

    Read from the attributes only; nothing is unpickled. hickle 5 keeps a
    reference to a ``hickle_types_table`` entry whose ``base_type`` names
    it; hickle 4 a ``base_type`` attribute; hickle 2 and 3 a ``type``
    attribute. A hickle 4/5 dataset without a type holds a pickle (or a
    reference to another node, "!node-reference!"). A node without any
    type in a hickle 2 file (PredNet's) is plain data: "".
    """
    type_attr = node.attrs.get("type")
    if isinstance(type_attr, h5py.Reference):  # hickle 5
        try:
            entry = node.file[type_attr]
            base = entry.attrs.get("base_type")
            return node.file[base].name.rsplit("/", 1)[-1] if base is not None else "pickle"
        except (KeyError, ValueError, TypeError):
            return "pickle"  # a broken type: hickle would try to unpickle it
    if "base_type" in node.attrs:  # hickle 4
        return _text(node.attrs["base_type"])
    if type_attr is not None:  # hickle 2 and 3
        return _text(type_attr)
    if isinstance(node, h5py.Dataset):
        if h5py.check_dtype(ref=node.dtype) is not None:
            return "!node-reference!"
        if _hickle_major(node.file) >= 4:
            return "pickle"
    return ""


def _refuse_pickles(handle: h5py.File, name: str) -> None:
    """Raise ValueError naming the first node of ``handle`` that holds a pickled object."""
    found: list[str] = []

    def visit(path: str, node: h5py.Group | h5py.Dataset) -> None:
        if not found and not path.startswith(_TYPES_TABLE) and hickle_base_type(node) == "pickle":
            found.append(path)

    handle.visititems(visit)
    if found:
        raise ValueError(
            f"{name}: dataset {found[0]!r} is a pickled Python object; {PICKLE_REFUSED}"
        )


def _open_hkl(path: str | os.PathLike[str]) -> h5py.File:
    """``path`` opened read-only with h5py, after refusing any pickled object in it.

    Raises
    ------
    ValueError
        Not an HDF5 file, or a node holding a pickle.
    """
    name = str(path)
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"cannot read {name!r} as an HDF5 (hickle) file: {err}") from None
    try:
        _refuse_pickles(handle, name)
    except Exception:
        handle.close()
        raise
    return handle


def hkl_paths(folder: str | os.PathLike[str], split: str) -> tuple[Path, Path]:
    """``(folder/X_<split>.hkl, folder/sources_<split>.hkl)``, checked to exist.

    Raises
    ------
    FileNotFoundError
        A file is missing (the message lists the hkl files the folder holds).
    """
    split_index(split)
    folder = Path(folder).expanduser()
    paths = (folder / f"X_{split}.hkl", folder / f"sources_{split}.hkl")
    for path in paths:
        if not path.is_file():
            found = sorted(p.name for p in folder.glob("*.hkl")) if folder.is_dir() else []
            raise FileNotFoundError(
                f"PredNet KITTI file {str(path)!r} not found; expected X_<split>.hkl and "
                f"sources_<split>.hkl for split {split!r} (from coxlab/prednet's "
                f"process_kitti.py); the folder holds {found or 'no hkl files'}"
            )
    return paths


def _datasets(handle: h5py.File) -> list[h5py.Dataset]:
    found: list[h5py.Dataset] = []

    def visit(path: str, node: h5py.Group | h5py.Dataset) -> None:
        if isinstance(node, h5py.Dataset) and not path.startswith(_TYPES_TABLE):
            found.append(node)

    handle.visititems(visit)
    return found


def frames_dataset_name(path: str | os.PathLike[str]) -> str | None:
    """HDF5 name of the single 4-D dataset of a hkl file, or None when there is not exactly one.

    hickle 4/5 store an array as ``/data``, hickle 2 (PredNet's files) as ``/data_0``.

    Raises
    ------
    ValueError
        Not an HDF5 file, or a file holding a pickled object (never unpickled).
    """
    with _open_hkl(path) as handle:
        names = [d.name for d in _datasets(handle) if d.ndim == 4]
    return names[0] if len(names) == 1 else None


def _decode(value: object) -> str:
    return bytes(value).decode() if isinstance(value, bytes | np.bytes_) else str(value)


def _hickle_string(node: h5py.Group | h5py.Dataset) -> str | None:
    """The text of a hickle 4/5 ``str``/``bytes`` item (``|S1 [1, n]`` or a scalar), else None."""
    if isinstance(node, h5py.Dataset) and hickle_base_type(node) == "!node-reference!":
        node = node.file[node[()]]  # a repeated item: hickle points at its first copy
    if not isinstance(node, h5py.Dataset) or hickle_base_type(node) not in ("str", "bytes"):
        return None
    value = node[()]
    if isinstance(value, np.ndarray):
        if value.dtype.kind != "S":
            return None
        return b"".join(value.ravel().tolist()).decode("utf-8", "replace")
    return _decode(value)


def _hickle_list_of_strings(group: h5py.Group) -> list[str] | None:
    """The items of a hickle 4/5 list, tuple or string array group, when all are strings."""
    if hickle_base_type(group) not in ("list", "tuple", "ndarray"):
        return None
    items = sorted(group.values(), key=lambda node: int(node.attrs.get("item_index", 0)))
    values = [_hickle_string(node) for node in items]
    return None if any(v is None for v in values) else values  # type: ignore[return-value]


def read_sources(path: str | os.PathLike[str]) -> list[str]:
    """The recording name of each frame from a ``sources_<split>.hkl`` file.

    Read with h5py only, never with pickle: a hickle-2 file (PredNet's)
    holds the names as one 1-D string dataset, a hickle 4/5 file as a
    list group of string items. Any pickled object in the file is refused.

    Raises
    ------
    ValueError
        Not an HDF5 file, a pickled object in it, or no list of strings in it.
    """
    name = str(path)
    with _open_hkl(path) as handle:
        data = handle.get("data")
        if isinstance(data, h5py.Group):
            names = _hickle_list_of_strings(data)
            if names is not None:
                return names
        candidates = [
            d for d in _datasets(handle) if d.ndim == 1 and d.dtype.kind in ("S", "U", "O")
        ]
        if len(candidates) == 1 and h5py.check_dtype(ref=candidates[0].dtype) is None:
            return [_decode(v) for v in candidates[0][()]]
    raise ValueError(
        f"{name!r} should hold a list of recording names (strings, as PredNet's "
        "sources_<split>.hkl); found no such list"
    )


def _check_frames_shape(shape: tuple[int, ...], dtype: np.dtype, name: str) -> None:
    if len(shape) != 4 or shape[-1] != 3 or dtype != np.uint8:
        raise ValueError(
            f"frames in {name!r} have shape {shape} and dtype {dtype}; expected uint8 "
            "[N, H, W, 3] (PredNet's X_<split>.hkl: [N, 128, 160, 3])"
        )


class _HklFrames:
    """The frames of an ``X_<split>.hkl`` file (its one 4-D dataset), read lazily with h5py.

    Survives pickling (worker processes reopen the file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key = frames_dataset_name(path)
        self._handle: h5py.File | None = None
        self._pid: int | None = None
        if self.key is None:
            with _open_hkl(path) as handle:
                found = {d.name: d.shape for d in _datasets(handle)}
            raise ValueError(
                f"{str(path)!r} holds no single 4-D frames array (datasets: {found}); expected "
                "uint8 [N, H, W, 3] (PredNet's X_<split>.hkl: [N, 128, 160, 3])"
            )
        source = self.source()
        self.shape = tuple(int(v) for v in source.shape)
        _check_frames_shape(self.shape, np.dtype(source.dtype), str(path))
        self.close()

    def source(self) -> Any:
        # h5py handles do not survive fork: each loader worker opens its own
        if self._handle is None or self._pid != os.getpid():
            self._handle = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._handle[self.key]

    def read(self, start: int, stop: int) -> np.ndarray:
        """uint8 ``[stop - start, H, W, 3]``."""
        return np.asarray(self.source()[start:stop])

    def close(self) -> None:
        if self._handle is not None and self._pid == os.getpid():
            self._handle.close()
        self._handle = None
        self._pid = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handle"] = None  # reopened lazily by the process that unpickles
        state["_pid"] = None
        return state


def read_kitti_hkl(
    folder: str | os.PathLike[str], split: str
) -> tuple[_HklFrames, list[str], list[tuple[str, int, int]]]:
    """Open a split's PredNet files: frames (lazy), per-frame names and the recording runs.

    Raises
    ------
    FileNotFoundError
        A file of the pair is missing.
    ValueError
        Unreadable files, frames that are not uint8 ``[N, H, W, 3]``, or a
        names list whose length differs from the number of frames.
    """
    x_path, s_path = hkl_paths(folder, split)
    frames = _HklFrames(x_path)
    sources = read_sources(s_path)
    if len(sources) != frames.shape[0]:
        raise ValueError(
            f"{str(s_path)!r} names {len(sources)} frames but {str(x_path)!r} holds "
            f"{frames.shape[0]}; the two files of a split must match frame for frame"
        )
    return frames, sources, source_runs(sources)


class KittiHkl(Dataset[tuple[Tensor, Tensor]]):
    """Windows of PredNet's KITTI frames, read straight from its hkl files.

    Windows of ``n_context + n_target`` frames (PredNet: ``nt = 10``) never
    cross two recordings. Frames are scaled to [0, 1] (PredNet's
    ``X / 255``) and returned as float32 ``[T, 3, H, W]``.

    Parameters
    ----------
    split : str
        "train", "val" or "test": the files ``X_<split>.hkl`` and ``sources_<split>.hkl``.
    folder : str or os.PathLike
        Folder of the hkl files (PredNet's ``DATA_DIR``).
    n_context, n_target : int
        Frames of context and target.
    sequence_start_mode : {"all", "unique"}, optional
        PredNet's window starts: ``"all"``, every ``stride``-th frame;
        ``"unique"``, non-overlapping windows (every frame at most once).
        Default: ``"unique"`` for test (PredNet's ``kitti_evaluate.py``),
        ``"all"`` otherwise (``kitti_train.py``).
    stride : int, optional
        Frames between window starts in ``"all"`` mode (default 1).
    max_windows : int, optional
        Keep the first windows only (PredNet's ``N_seq``: 100 validation
        sequences in ``kitti_train.py``).

    Attributes
    ----------
    channels, height, width : int
        3 and the stored frame size (128 x 160 for PredNet's files).
    windows : numpy.ndarray
        int64 ``[M]`` first frame of each item in the file.
    runs : list of (str, int, int)
        (recording, start, stop) of each run of frames.

    Raises
    ------
    FileNotFoundError
        Missing hkl file.
    ValueError
        Bad split, mode, stride or files; no window fits the split.
    """

    def __init__(
        self,
        split: str,
        folder: str | os.PathLike[str],
        *,
        n_context: int = 10,
        n_target: int = 10,
        sequence_start_mode: str | None = None,
        stride: int | None = None,
        max_windows: int | None = None,
    ) -> None:
        split_index(split)
        self.split = split
        self.length = check_window(n_context, n_target)
        self.n_context = int(n_context)
        mode = sequence_start_mode or ("unique" if split == "test" else "all")
        if mode not in START_MODES:
            raise ValueError(f"unknown sequence_start_mode {mode!r}; expected one of {START_MODES}")
        if mode == "unique" and stride is not None:
            raise ValueError(
                f"stride={stride!r} applies to sequence_start_mode='all'; 'unique' windows "
                "follow each other without overlap"
            )
        step = 1 if stride is None else check_positive_int("stride", stride)
        if max_windows is not None:
            max_windows = check_positive_int("max_windows", max_windows)
        self.sequence_start_mode = mode
        self.folder = Path(folder).expanduser()
        self._frames, _, self.runs = read_kitti_hkl(self.folder, split)
        _, self.height, self.width, self.channels = self._frames.shape
        windows = window_starts(self.runs, self.length, mode=mode, stride=step)
        if max_windows is not None:
            windows = windows[:max_windows]
        if len(windows) == 0:
            longest = max((b - a for _, a, b in self.runs), default=0)
            raise ValueError(
                f"no window of n_context + n_target = {self.length} frames fits split {split!r} "
                f"of {str(self.folder)!r}: its {len(self.runs)} recordings have at most "
                f"{longest} frames"
            )
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        start = int(self.windows[index])
        frames = self._frames.read(start, start + self.length)  # (T, H, W, 3) uint8
        frames = frames.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0)
        return split_window(frames, self.n_context)  # (Tc, 3, H, W), (Tt, 3, H, W)


def kitti_hkl_dataset(
    split: str,
    *,
    n_context: int = 10,
    n_target: int = 10,
    folder: str | None = None,
    sequence_start_mode: str | None = None,
    stride: int | None = None,
    max_windows: int | None = None,
) -> KittiHkl:
    """PredNet's KITTI hkl files; see :class:`KittiHkl`.

    Raises
    ------
    ValueError
        If ``folder`` is not given.
    """
    folder = require_option(
        "kitti_hkl",
        "folder",
        folder,
        "the folder of PredNet's X_<split>.hkl and sources_<split>.hkl files",
    )
    return KittiHkl(
        split,
        folder,
        n_context=n_context,
        n_target=n_target,
        sequence_start_mode=sequence_start_mode,
        stride=stride,
        max_windows=max_windows,
    )


def kitti_dataset(
    split: str,
    *,
    n_context: int = 10,
    n_target: int = 10,
    path: str | None = None,
    stride: int = 1,
    test_stride: int | None = None,
) -> PreparedVideos:
    """KITTI recordings from a cache written by :func:`prepare_kitti`, PredNet's windows.

    Train windows start every ``stride`` frames (PredNet: every frame);
    val and test windows every ``test_stride`` frames, by default the
    window length, so that they do not overlap (PredNet's
    ``sequence_start_mode='unique'``). Windows never cross two recordings.

    Raises
    ------
    ValueError
        If ``path`` is not given or is not a KITTI cache.
    """
    path = require_option(
        "kitti",
        "path",
        path,
        "a cache written by `framecast data prepare kitti --source FOLDER --out kitti.h5`",
    )
    length = check_window(n_context, n_target)
    dataset = PreparedVideos(
        split,
        path,
        n_context=n_context,
        n_target=n_target,
        stride=stride,
        test_stride=length if test_stride is None else test_stride,
    )
    if dataset.dataset_name != "kitti":
        raise ValueError(
            f"{str(path)!r} is a {dataset.dataset_name!r} cache, not a KITTI one; read it with "
            "the 'prepared' dataset"
        )
    return dataset


# ------------------------------------------------------------ raw frames


def process_im(image: np.ndarray, size: Sequence[int] = KITTI_SIZE) -> np.ndarray:
    """PredNet's ``process_im``: resize to height ``size[0]`` keeping the aspect, centre-crop.

    The width becomes ``round(w * size[0] / h)`` (bilinear, with Pillow, as
    ``scipy.misc.imresize`` did), then columns ``d .. d + size[1]`` are kept
    with ``d = int((new_width - size[1]) / 2)``. A KITTI frame of 375x1242
    becomes 128x424, cropped at columns 132..291.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 ``[h, w, 3]`` (or ``[h, w]``).
    size : (int, int)
        (height, width) wanted.

    Returns
    -------
    numpy.ndarray
        uint8 ``[size[0], size[1], 3]`` (or ``[size[0], size[1]]``).

    Raises
    ------
    ValueError
        A size that would need a crop wider than the resized frame.
    """
    height, width = check_size(size)
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(
            f"image must be uint8 [h, w, 3] or [h, w], got {image.dtype} {image.shape}"
        )
    h, w = image.shape[:2]
    new_width = int(np.round(height / h * w))
    if new_width < width:
        raise ValueError(
            f"a {h}x{w} frame resized to height {height} is {new_width} wide, narrower than the "
            f"crop width {width}; choose a size with width <= {new_width}"
        )
    image = resize_image(image, (height, new_width))  # (height, new_width[, 3]), bilinear
    d = int((new_width - width) / 2)
    return np.ascontiguousarray(image[:, d : d + width])


@dataclass(frozen=True)
class RawDrive:
    """One recording of a raw KITTI folder: its image folder and names."""

    drive: str
    """Drive folder name, e.g. ``2011_09_26_drive_0005_sync``."""
    key: str
    """Clip key: ``<category>-<drive>`` as PredNet's sources when the category is known."""
    category: str | None
    folder: Path
    files: tuple[Path, ...]


def find_raw_drives(root: str | os.PathLike[str], *, camera: str = "image_03") -> list[RawDrive]:
    """The recordings of a raw KITTI tree: every folder that holds images.

    In KITTI's layout (``<date>/<date>_drive_NNNN_sync/image_0X/data/*.png``)
    only the camera ``camera`` is kept (PredNet: ``image_03``, the right
    colour camera) and a recording is named by its ``*_sync`` folder; any
    other folder of images is a recording named by its path. A leading
    category folder (``city/...``, PredNet's download layout) prefixes the
    key, as in PredNet's source names.

    Raises
    ------
    FileNotFoundError
        ``root`` is not a folder.
    ValueError
        No image folder under ``root``, or two folders that give the same key.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"raw KITTI folder {str(root)!r} not found")
    by_folder: dict[Path, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            by_folder.setdefault(path.parent, []).append(path)
    drives: list[RawDrive] = []
    for folder, files in sorted(by_folder.items()):
        parts = folder.relative_to(root).parts
        cameras = [p for p in parts if _CAMERA.fullmatch(p)]
        if cameras and cameras[-1] != camera:
            continue
        syncs = [p for p in parts if p.endswith("_sync")]
        drive = syncs[-1] if syncs else "-".join(parts) or root.name
        category = parts[0] if parts and parts[0] in KITTI_CATEGORIES else None
        key = f"{category}-{drive}" if category else drive
        drives.append(RawDrive(drive, key, category, folder, tuple(sorted(files))))
    if not drives:
        raise ValueError(
            f"no image folder under {str(root)!r} (looked for {IMAGE_SUFFIXES} files; in KITTI's "
            f"layout only camera {camera!r} is read)"
        )
    keys = [d.key for d in drives]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        folders = [str(d.folder) for d in drives if d.key in duplicated]
        raise ValueError(
            f"several image folders give the recording name(s) {duplicated}: {folders}"
        )
    return drives


def read_drive(
    drive: RawDrive, size: Sequence[int] = KITTI_SIZE, grayscale: bool = False
) -> np.ndarray:
    """A raw recording's frames, processed as PredNet does: uint8 ``[T, 3, H, W]``.

    With ``grayscale``, Pillow's luminance (ITU-R 601-2): ``[T, 1, H, W]``.

    Raises
    ------
    VideoDecodeError
        An image that cannot be decoded (the message names the file), or
        frames of different sizes within the recording.
    """
    frames = []
    first_shape: tuple[int, ...] | None = None
    for path in drive.files:
        try:
            with Image.open(path) as pil:
                image = np.asarray(pil.convert("L" if grayscale else "RGB"))  # (h, w[, 3])
        # Pillow's decoders raise many kinds (OSError, SyntaxError for a bad
        # PNG chunk, struct.error, zlib.error, ...): any of them means unreadable
        except Exception as err:
            raise VideoDecodeError(f"cannot read image {str(path)!r}: {err}") from err
        if first_shape is None:
            first_shape = image.shape
        elif image.shape != first_shape:
            raise VideoDecodeError(
                f"image {str(path)!r} is {image.shape[1]}x{image.shape[0]}, unlike the "
                f"{first_shape[1]}x{first_shape[0]} of the recording's first frame"
            )
        frames.append(_channels_first(process_im(image, size)))  # (C, H, W)
    return np.stack(frames)  # (T, C, H, W)


def _channels_first(image: np.ndarray) -> np.ndarray:
    """``[H, W, 3] -> [3, H, W]``, ``[H, W] -> [1, H, W]``."""
    return image[None] if image.ndim == 2 else image.transpose(2, 0, 1)


def _match_drives(
    names: Sequence[str] | None, default: Sequence[str], drives: list[RawDrive], what: str
) -> set[str]:
    """Keys of the drives ``names`` designates (drive name, key, or drive without ``_sync``)."""
    if isinstance(names, str):
        raise TypeError(f"{what} must be a list of drive names, got the string {names!r}")
    given = names is not None
    wanted = list(default if names is None else names)
    keys: set[str] = set()
    unknown = []
    for name in wanted:
        hits = {d.key for d in drives if name in (d.drive, d.key, d.drive.removesuffix("_sync"))}
        if not hits:
            unknown.append(name)
        keys |= hits
    if given and unknown:
        raise ValueError(
            f"{what} {unknown} match no recording; found {sorted(d.drive for d in drives)}"
        )
    return keys


def _hkl_jobs(
    source: Path, split: str, size: tuple[int, int], grayscale: bool, seen: dict[str, int]
) -> tuple[list[ClipJob], _HklFrames]:
    """One job per recording run of a split's hkl files; also the open frames (to close).

    ``seen`` counts the runs of each name met so far (in earlier splits too),
    so that keys stay unique.
    """
    frames, _, runs = read_kitti_hkl(source, split)
    jobs: list[ClipJob] = []
    for name, start, stop in runs:
        index = seen.get(name, 0)
        seen[name] = index + 1

        def load(start: int = start, stop: int = stop) -> np.ndarray:
            clip = frames.read(start, stop)  # (T, h, w, 3)
            if grayscale:
                clip = np.stack([np.asarray(Image.fromarray(im).convert("L")) for im in clip])
            if clip.shape[1:3] != size:
                clip = np.stack([process_im(image, size) for image in clip])
            return np.stack([_channels_first(im) for im in clip])  # (T, C, H, W)

        meta = {"source": name, "run": index, "first_frame": start, "frames": stop - start}
        jobs.append(ClipJob(f"{name}#{index}", split, meta, load))
    return jobs, frames


def prepare_kitti(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: int | Sequence[int] = KITTI_SIZE,
    grayscale: bool = False,
    val_drives: Sequence[str] | None = None,
    test_drives: Sequence[str] | None = None,
    camera: str = "image_03",
    on_error: str = "skip",
    overwrite: bool = False,
    progress: Progress | None = None,
) -> PrepareReport:
    """Write KITTI recordings to a prepared-video cache, one clip per recording.

    Two inputs are understood:

    - a folder with PredNet's ``X_<split>.hkl`` / ``sources_<split>.hkl``
      files: each run of a recording's frames becomes a clip of the file's
      split (key ``<source name>#<run index>``, ``#0`` unless a name comes
      back after another recording or in another split), resized with :func:`process_im` when
      ``size`` differs from the stored frames;
    - a raw KITTI tree (see :func:`find_raw_drives`): each recording's
      images (sorted by file name, as PredNet) become a clip, resized to
      height ``size[0]`` and centre-cropped to width ``size[1]`` by
      :func:`process_im`. Recordings named in ``val_drives`` /
      ``test_drives`` go to those splits, the rest to train.

    Read back with the ``"kitti"`` dataset (PredNet's windows) or the
    ``"prepared"`` one; windows never cross two recordings. The cache is
    resumable: run the same call again after an interruption and the clips
    already written are skipped.

    Parameters
    ----------
    source : str or os.PathLike
        The hkl folder or the raw KITTI folder.
    out : str or os.PathLike
        Cache file to write (``.h5``).
    size : int or (int, int)
        Frame (height, width); PredNet's is (128, 160).
    grayscale : bool
        Store one luminance channel instead of RGB (PredNet: RGB).
    val_drives, test_drives : sequence of str, optional
        Raw input only: drive names (``2011_09_26_drive_0005_sync``, with
        or without ``_sync``, or PredNet's ``city-...`` names). Default:
        PredNet's choice (:data:`PREDNET_VAL_DRIVES`, :data:`PREDNET_TEST_DRIVES`)
        where those drives are present; an empty list puts no drive there.
        Names given that match no recording are an error.
    camera : str
        Raw input only: the ``image_0X`` folder read (PredNet: ``image_03``).
    on_error : {"skip", "raise"}
        Raw input: a recording with an unreadable image is skipped, and
        the report names the file ("skip"), or the preparation stops
        ("raise"). Never filled with zeros.
    overwrite : bool
        Replace an existing finished cache at ``out``.
    progress : callable, optional
        Receives one line per clip (e.g. ``print``).

    Returns
    -------
    PrepareReport
        The cache path, the clips written, resumed and skipped (with why).

    Raises
    ------
    FileNotFoundError
        ``source`` does not exist.
    ValueError
        Bad options, no recording found, unknown drive names, an existing
        ``out`` without ``overwrite``, or nothing written.
    VideoDecodeError
        An unreadable image with ``on_error="raise"`` (names the file).
    """
    height, width = check_size(size)
    check_on_error(on_error)
    source = Path(source).expanduser()
    if not source.is_dir():
        raise FileNotFoundError(f"KITTI source folder {str(source)!r} not found")
    hkl_splits = [s for s in SPLITS if (source / f"X_{s}.hkl").is_file()]
    if hkl_splits:
        if val_drives is not None or test_drives is not None:
            raise ValueError(
                f"{str(source)!r} holds PredNet hkl files, whose splits are fixed by the file "
                "names; val_drives and test_drives apply to raw KITTI folders only"
            )
        settings: dict[str, Any] = {
            "input": "prednet_hkl",
            "size": [height, width],
            "grayscale": bool(grayscale),
            "splits": hkl_splits,
        }
        jobs: list[ClipJob] = []
        opened = []
        seen: dict[str, int] = {}
        for split in hkl_splits:
            split_jobs, frames = _hkl_jobs(source, split, (height, width), grayscale, seen)
            jobs += split_jobs
            opened.append(frames)
    else:
        drives = find_raw_drives(source, camera=camera)
        val_keys = _match_drives(val_drives, PREDNET_VAL_DRIVES, drives, "val_drives")
        test_keys = _match_drives(test_drives, PREDNET_TEST_DRIVES, drives, "test_drives")
        both = sorted(val_keys & test_keys)
        if both:
            raise ValueError(f"recordings {both} are listed both in val_drives and test_drives")
        settings = {
            "input": "kitti_raw",
            "size": [height, width],
            "grayscale": bool(grayscale),
            "camera": camera,
            "val_drives": sorted(val_keys),
            "test_drives": sorted(test_keys),
            "resize": "PredNet process_im: bilinear to the height, centre crop of the width",
        }
        jobs = [
            ClipJob(
                drive.key,
                "val" if drive.key in val_keys else "test" if drive.key in test_keys else "train",
                {
                    "drive": drive.drive,
                    "category": drive.category or "",
                    "folder": drive.folder.relative_to(source).as_posix(),
                    "frames": len(drive.files),
                },
                partial(read_drive, drive, (height, width), grayscale),
            )
            for drive in drives
        ]
        opened = []
    report = PrepareReport(out=Path(out).expanduser(), dataset="kitti")
    try:
        with CacheWriter(
            out,
            dataset="kitti",
            source=str(source),
            frame_shape=(1 if grayscale else 3, height, width),
            settings=settings,
            overwrite=overwrite,
        ) as writer:
            hint = (
                "the splits are PredNet's X_<split>.hkl files found"
                if hkl_splits
                else "name recordings for them with val_drives=[...] / test_drives=[...]"
            )
            return write_clips(
                writer, jobs, report, on_error=on_error, progress=progress, empty_split_hint=hint
            )
    finally:
        for frames in opened:
            frames.close()
