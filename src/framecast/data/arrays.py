"""A user's array of sequences from a ``.npy``, ``.npz`` or HDF5 file."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from torch import Tensor
from torch.utils.data import Dataset

from framecast.data.splits import split_index, split_range
from framecast.data.window import check_positive_int, check_window, require_option, split_window

NPY_SUFFIXES = (".npy",)
NPZ_SUFFIXES = (".npz",)
HDF5_SUFFIXES = (".h5", ".hdf5")

_SCAN_BYTES = 1 << 26  # read at most ~64 MiB at a time when scanning the value range


def _hdf5_datasets(handle: h5py.File) -> list[str]:
    names: list[str] = []

    def visit(name: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset):
            names.append(name)

    handle.visititems(visit)
    return names


def _pick_key(file: Path, key: str | None, keys: list[str], what: str) -> str:
    if key is not None:
        if key not in keys:
            raise ValueError(f"key {key!r} not found in {str(file)!r}; its {what}s are {keys}")
        return key
    if len(keys) == 1:
        return keys[0]
    if not keys:
        raise ValueError(f"{str(file)!r} holds no {what}")
    raise ValueError(
        f"{str(file)!r} holds several {what}s {keys}; choose one with the 'key' option"
    )


def check_scale_option(scale: Any, name: str = "scale") -> float | None:
    """Refuse a scale that is not a positive finite number (None passes).

    Raises
    ------
    ValueError
        Zero, negative, NaN, infinite or not a number.
    """
    if scale is None:
        return None
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale < np.inf:
        raise ValueError(f"{name} must be a positive finite number or None, got {scale!r}")
    return float(scale)


def check_array_layout(shape: tuple[int, ...], dtype: np.dtype, name: str) -> None:
    """Refuse arrays that are not real numbers, or that hold no frame or no pixel.

    Raises
    ------
    ValueError
        Complex, boolean, string or object dtype; a zero-length axis.
    """
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise ValueError(
            f"array in {name!r} has dtype {dtype}; expected real numbers (integers or floats)"
        )
    if 0 in shape:
        raise ValueError(
            f"array in {name!r} has shape {shape}: no sequences, frames or pixels along an "
            "axis of length 0"
        )


def value_range(source: Any, name: str) -> tuple[float, float]:
    """Minimum and maximum of an array or h5py dataset, read in blocks of sequences.

    Raises
    ------
    ValueError
        NaN or infinite values, no data, or a block that cannot be read
        (a corrupt HDF5 file).
    """
    per_sequence = max(
        int(np.prod(source.shape[1:], dtype=np.int64)) * np.dtype(source.dtype).itemsize, 1
    )
    block = max(1, _SCAN_BYTES // per_sequence)
    low, high = np.inf, -np.inf
    for first in range(0, source.shape[0], block):
        try:
            chunk = np.asarray(source[first : first + block])
        except OSError as err:
            raise ValueError(f"cannot read the values of {name!r} (corrupt file?): {err}") from None
        if chunk.size == 0:
            continue
        if not np.isfinite(chunk).all():
            bad = int(np.size(chunk) - np.count_nonzero(np.isfinite(chunk)))
            raise ValueError(
                f"array in {name!r} holds NaN or infinite values ({bad} in sequences "
                f"{first}-{first + len(chunk) - 1}); expected finite frames"
            )
        low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"array in {name!r} holds no data")
    return low, high


def checked_scale(
    low: float, high: float, dtype: np.dtype, scale: float | None, name: str, hint: str
) -> float:
    """The factor that maps stored values into [0, 1], checked against their range.

    None divides uint8 by 255, other integers by the maximum, and leaves
    floats as they are.

    Raises
    ------
    ValueError
        The scaled values leave [0, 1]; the message names the range and ``hint``.
    """
    if scale is None:
        if dtype == np.uint8:
            scale = 1.0 / 255.0
        elif np.issubdtype(dtype, np.integer):
            scale = 1.0 / high if high > 0 else 1.0
        else:
            scale = 1.0
    scale = float(scale)
    if low * scale < 0.0 or high * scale > 1.0 + 1e-6:
        raise ValueError(
            f"values of {name!r} span [{low:g}, {high:g}], which scale={scale:g} "
            f"maps outside [0, 1]; {hint} so that frames lie in [0, 1]"
        )
    return scale


LAYOUTS = ("auto", "THW", "TCHW", "NTHW", "NTCHW")


def read_frames(
    path: str | os.PathLike[str],
    *,
    layout: str = "auto",
    in_channels: int = 1,
    divide_by: float | None = None,
    key: str | None = None,
) -> np.ndarray:
    """Read a whole array file as float32 ``(N, T, C, H, W)`` frames in [0, 1].

    The checks are those of :class:`ArrayDataset`: real numbers only, no
    empty axis, no NaN or infinite value, and values that the scaling maps
    into [0, 1].

    Parameters
    ----------
    path : path
        A ``.npy``, ``.npz``, ``.h5`` or ``.hdf5`` file.
    layout : str
        Axis order: ``THW``, ``TCHW``, ``NTHW``, ``NTCHW`` or ``auto`` (3-D:
        THW, 5-D: NTCHW, 4-D: NTHW for 1-channel models, TCHW otherwise).
    in_channels : int
        Channels the model takes (decides ``auto`` for 4-D arrays).
    divide_by : float, optional
        Divide the stored values by this (None: 255 for uint8, the maximum
        for other integers, 1 for floats).
    key : str, optional
        Array name in an ``.npz`` or dataset path in an HDF5 file holding several.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        Unreadable file, a shape that does not fit ``layout``, or values
        that fail the checks above.
    """
    divide_by = check_scale_option(divide_by, "--scale")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")
    path = Path(path).expanduser()
    name = str(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file {name!r} does not exist")
    arr = _read_whole(path, key)
    check_array_layout(tuple(arr.shape), arr.dtype, name)
    if layout == "auto":
        layout = {3: "THW", 5: "NTCHW"}.get(arr.ndim, "NTHW" if in_channels == 1 else "TCHW")
    if arr.ndim != len(layout):
        raise ValueError(
            f"input array {name!r} has shape {arr.shape} ({arr.ndim} dimensions), "
            f"layout {layout} needs {len(layout)}"
        )
    low, high = value_range(arr, name)
    scale = checked_scale(
        low, high, arr.dtype, None if divide_by is None else 1.0 / divide_by, name, "pass --scale"
    )
    if "N" not in layout:
        arr = arr[None]
    if "C" not in layout:
        arr = arr[:, :, None]
    frames = arr.astype(np.float32) * np.float32(scale)  # (N, T, C, H, W)
    np.clip(frames, 0.0, 1.0, out=frames)  # only rounding excess: the range was checked
    return frames


def _read_whole(path: Path, key: str | None) -> np.ndarray:
    """The array of a .npy, .npz or HDF5 file, read into memory (never unpickled)."""
    suffix = path.suffix.lower()
    name = str(path)
    try:
        if suffix in NPY_SUFFIXES:
            return np.asarray(np.load(path, allow_pickle=False))
        if suffix in NPZ_SUFFIXES:
            with np.load(path, allow_pickle=False) as archive:
                return np.asarray(archive[_pick_key(path, key, list(archive.files), "array")])
        if suffix in HDF5_SUFFIXES:
            with h5py.File(path, "r") as handle:
                dataset = handle[_pick_key(path, key, _hdf5_datasets(handle), "dataset")]
                return np.asarray(dataset[()])
    except (OSError, EOFError, zipfile.BadZipFile, AttributeError) as err:
        raise ValueError(f"cannot read input file {name!r}: {err}") from None
    except ValueError as err:
        if "not found in" in str(err) or "holds" in str(err):
            raise
        raise ValueError(f"cannot read input file {name!r}: {err}") from None
    supported = [*NPY_SUFFIXES, *NPZ_SUFFIXES, *HDF5_SUFFIXES]
    raise ValueError(f"unsupported input file {name!r}; expected a suffix in {supported}")


class ArrayDataset(Dataset[tuple[Tensor, Tensor]]):
    """Windows of frames cut from an array of sequences stored in a file.

    The array has shape ``[N, T, H, W]`` (one channel) or ``[N, T, C, H, W]``:
    N sequences of T frames. The sequences are split into contiguous blocks
    (train first, then val, then test), and windows of
    ``n_context + n_target`` frames are cut inside each sequence, never across
    two. ``.npy`` files are memory-mapped and HDF5 datasets read lazily, so
    files larger than memory are fine; an ``.npz`` member is read whole
    (numpy cannot map it).

    Parameters
    ----------
    split : str
        "train", "val" or "test".
    path : str or os.PathLike
        A ``.npy``, ``.npz``, ``.h5`` or ``.hdf5`` file.
    n_context, n_target : int
        Frames of context and target.
    key : str, optional
        Array name inside an ``.npz`` or HDF5 dataset path; needed only when
        the file holds more than one.
    stride : int, optional
        Distance in frames between window starts within a sequence. None
        takes one window per sequence, starting at its first frame.
    val_fraction, test_fraction : float
        Fractions of the sequences for validation and test.
    scale : float, optional
        Factor that maps the stored values into [0, 1]. None divides uint8
        by 255, other integers by the array's maximum, and leaves floats
        as they are.

    Attributes
    ----------
    channels, height, width : int
        Frame layout.
    windows : numpy.ndarray
        int64 ``[M, 2]``: (sequence, first frame) of each item.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Unsupported suffix, unreadable file, missing or ambiguous key, bad
        rank, sequences shorter than a window, values outside [0, 1] after
        scaling, bad fractions or an empty split.
    """

    def __init__(
        self,
        split: str,
        path: str | os.PathLike[str],
        *,
        n_context: int = 10,
        n_target: int = 10,
        key: str | None = None,
        stride: int | None = None,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        scale: float | None = None,
    ) -> None:
        split_index(split)
        self.split = split
        self.length = check_window(n_context, n_target)
        self.n_context = int(n_context)
        if stride is not None:
            stride = check_positive_int("stride", stride)
        scale = check_scale_option(scale)
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise FileNotFoundError(f"array file not found: {str(self.path)!r}")
        self._handle: h5py.File | None = None
        self._pid: int | None = None
        self._array: np.ndarray | None = None
        self.key: str | None = None
        self._open(key)
        source = self._source()
        shape, dtype = tuple(source.shape), np.dtype(source.dtype)
        if len(shape) not in (4, 5):
            raise ValueError(
                f"array in {str(self.path)!r} has shape {shape}; expected [N, T, H, W] "
                "or [N, T, C, H, W]"
            )
        check_array_layout(shape, dtype, str(self.path))
        num_sequences, num_frames = shape[0], shape[1]
        if num_frames < self.length:
            raise ValueError(
                f"sequences in {str(self.path)!r} have {num_frames} frames, fewer than a window "
                f"of n_context + n_target = {self.length}"
            )
        self.channels = 1 if len(shape) == 4 else int(shape[2])
        self.height, self.width = int(shape[-2]), int(shape[-1])
        self.scale = self._check_range(source, dtype, scale)
        sequences = split_range(num_sequences, split, val_fraction, test_fraction)
        starts = [0] if stride is None else list(range(0, num_frames - self.length + 1, stride))
        self.windows = np.array([(s, t) for s in sequences for t in starts], dtype=np.int64)
        self._close()

    def _open(self, key: str | None) -> None:
        """Open the file and set ``self.key``; an npz member is read into memory."""
        suffix = self.path.suffix.lower()
        name = str(self.path)
        if suffix in NPY_SUFFIXES:
            if key is not None:
                raise ValueError(f"option key={key!r} applies to .npz and HDF5 files, not {name!r}")
            try:
                self._array = np.load(self.path, mmap_mode="r", allow_pickle=False)
            except (ValueError, OSError, EOFError) as err:
                raise ValueError(f"cannot read {name!r} as a .npy file: {err}") from err
        elif suffix in NPZ_SUFFIXES:
            try:
                archive = np.load(self.path, allow_pickle=False)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
                raise ValueError(f"cannot read {name!r} as a .npz file: {err}") from err
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError(f"{name!r} is not a .npz archive (it holds a single array)")
            with archive:
                self.key = _pick_key(self.path, key, list(archive.files), "array")
                try:
                    self._array = archive[self.key]
                except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
                    raise ValueError(f"cannot read {self.key!r} from {name!r}: {err}") from err
        elif suffix in HDF5_SUFFIXES:
            try:
                self._handle = h5py.File(self.path, "r")
            except OSError as err:
                raise ValueError(f"cannot read {name!r} as an HDF5 file: {err}") from err
            self._pid = os.getpid()
            try:
                self.key = _pick_key(self.path, key, _hdf5_datasets(self._handle), "dataset")
            except ValueError:
                self._close()
                raise
        else:
            supported = [*NPY_SUFFIXES, *NPZ_SUFFIXES, *HDF5_SUFFIXES]
            raise ValueError(f"unsupported array file {name!r}; expected a suffix in {supported}")

    def _source(self) -> Any:
        """The stored array: a numpy (memory-mapped) array or an h5py dataset."""
        if self._array is not None:
            return self._array
        # h5py handles do not survive fork: each loader worker opens its own
        if self._handle is None or self._pid != os.getpid():
            self._handle = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._handle[self.key]

    def _close(self) -> None:
        if self._handle is not None and self._pid == os.getpid():
            self._handle.close()
        self._handle = None
        self._pid = None

    def _check_range(self, source: Any, dtype: np.dtype, scale: float | None) -> float:
        """Scan the array in blocks; return the scale and check the scaled range."""
        low, high = value_range(source, str(self.path))
        return checked_scale(
            low, high, dtype, scale, str(self.path), "pass the 'scale' option (or rescale the data)"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handle"] = None  # reopened lazily by the process that unpickles
        state["_pid"] = None
        return state

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        sequence, start = (int(v) for v in self.windows[index])
        frames = np.asarray(self._source()[sequence, start : start + self.length])
        frames = frames.astype(np.float32) * np.float32(self.scale)
        # the range was checked at construction; this only removes rounding excess
        np.clip(frames, 0.0, 1.0, out=frames)
        if frames.ndim == 3:
            frames = frames[:, None]  # (T, 1, H, W)
        return split_window(frames, self.n_context)


def array_dataset(
    split: str,
    *,
    n_context: int = 10,
    n_target: int = 10,
    path: str | None = None,
    key: str | None = None,
    stride: int | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    scale: float | None = None,
) -> ArrayDataset:
    """A user's array file of sequences; see :class:`ArrayDataset`.

    Raises
    ------
    ValueError
        If ``path`` is not given.
    """
    path = require_option(
        "array",
        "path",
        path,
        "a .npy, .npz, .h5 or .hdf5 file of shape [N, T, H, W] or [N, T, C, H, W]",
    )
    return ArrayDataset(
        split,
        path,
        n_context=n_context,
        n_target=n_target,
        key=key,
        stride=stride,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        scale=scale,
    )
