"""One long series of frames (radar echoes, satellite maps) into a prepared-video cache.

The source is a folder of images in time order (natural order of the file
names: ``f2.png`` before ``f10.png``), or a ``.npy`` / HDF5 array
``[T, H, W]`` or ``[T, C, H, W]``. The series is cut into contiguous time
blocks, train first, then val, then test, each stored as one clip, so a
window (``n_context + n_target`` frames: 10 in and 10 out, say; the
ConvLSTM radar experiment [1]_ used 5 in, 15 out) never spans two splits. The dataset
``"prepared"`` reads the cache, with its ``stride`` option for the
distance between windows.

Intensities are mapped to [0, 1] in this order, then stored as uint8
(``round(255 * x)``):

1. ``clip=(lo, hi)``: values are clipped to [lo, hi];
2. ``log1p``: ``x -> log(1 + x)`` (rain rates, counts);
3. ``scale``: ``"auto"`` maps [lo, hi] of ``clip`` onto [0, 1] when it is
   given, divides uint8 images by 255, and otherwise acts as ``"minmax"``;
   ``"minmax"`` maps the training block's smallest and largest value onto
   0 and 1 (no statistic of val or test leaks; their values beyond are
   clipped); a number divides by it; None takes values already in [0, 1].

NaN or infinite values (no echo) become 0. Examples: radar reflectivity in
dBZ, ``clip=(0, 70)`` (0 and 70 dBZ map to 0 and 1, a step of 0.27 dBZ per
level); the HKO-7 PNGs [2]_ store ``255 * (dBZ + 10) / 70`` already, so
``scale="auto"`` (divide by 255); rain rate in mm/h, ``clip=(0, 100),
log1p=True``. Each clip's meta holds ``offset`` and ``span`` so that the
stored value ``v`` reads back as ``offset + span * v / 255`` (then ``expm1``
when ``log1p``).

References
----------
.. [1] X. Shi, Z. Chen, H. Wang, D.-Y. Yeung, W.-K. Wong and W.-C. Woo,
   "Convolutional LSTM Network: A Machine Learning Approach for
   Precipitation Nowcasting", NeurIPS 2015, section 4.2.
.. [2] X. Shi et al., "Deep Learning for Precipitation Nowcasting: A
   Benchmark and a New Model", NeurIPS 2017 (HKO-7 pixel = 255 * (dBZ + 10) / 70).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from PIL import Image

from framecast.data.arrays import _hdf5_datasets, _pick_key
from framecast.data.cache import CacheWriter
from framecast.data.prepare import ClipJob, PrepareReport, Progress, write_clips
from framecast.data.splits import SPLITS
from framecast.data.video_io import check_size, resize_image
from framecast.data.videos import split_counts

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")
_ONE_CHANNEL_MODES = ("L", "I", "F", "I;16", "I;16L", "I;16B", "I;16N")


def natural_key(name: str) -> list[Any]:
    """Sort key that orders digit runs by value: ``f2`` before ``f10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


class FrameSeries:
    """Frames ``[C, H, W]`` of a series read one at a time from images or an array.

    Raises
    ------
    FileNotFoundError
        If ``source`` does not exist.
    ValueError
        No image in the folder, unsupported suffix, array of bad rank or
        dtype, missing or ambiguous HDF5 key.
    """

    def __init__(self, source: str | os.PathLike[str], key: str | None = None) -> None:
        self.source = Path(source).expanduser()
        self._handle: h5py.File | None = None
        self._array: Any = None
        self._files: list[Path] = []
        name = str(self.source)
        suffix = self.source.suffix.lower()
        if self.source.is_dir():
            self._files = sorted(
                (p for p in self.source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                key=lambda p: natural_key(p.name),
            )
            if not self._files:
                raise ValueError(f"no image ({', '.join(IMAGE_SUFFIXES)}) in folder {name!r}")
            first = self._read_image(0)
            self.shape, self.dtype = first.shape, first.dtype
            return
        if not self.source.is_file():
            raise FileNotFoundError(f"frame series not found: {name!r}")
        if suffix == ".npy":
            try:
                self._array = np.load(self.source, mmap_mode="r", allow_pickle=False)
            except (ValueError, OSError, EOFError) as err:
                raise ValueError(f"cannot read {name!r} as a .npy file: {err}") from err
        elif suffix in (".h5", ".hdf5"):
            try:
                self._handle = h5py.File(self.source, "r")
            except OSError as err:
                raise ValueError(f"cannot read {name!r} as an HDF5 file: {err}") from err
            self._array = self._handle[
                _pick_key(self.source, key, _hdf5_datasets(self._handle), "dataset")
            ]
        else:
            raise ValueError(
                f"unsupported frame series {name!r}; expected a folder of images, a .npy or an "
                ".h5/.hdf5 file"
            )
        dtype = np.dtype(self._array.dtype)
        if self._array.ndim not in (3, 4) or not (
            np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)
        ):
            raise ValueError(
                f"{name!r} holds a {dtype} array of shape {tuple(self._array.shape)}; expected "
                "numbers of shape [T, H, W] or [T, C, H, W]"
            )
        shape = tuple(self._array.shape[1:])
        self.shape = (1, *shape) if len(shape) == 2 else shape
        self.dtype = dtype

    def __len__(self) -> int:
        return len(self._files) if self._files else int(self._array.shape[0])

    def name(self, index: int) -> str:
        """The file of frame ``index``, or ``array[index]``."""
        return self._files[index].name if self._files else f"{self.source.name}[{index}]"

    def _read_image(self, index: int) -> np.ndarray:
        file = self._files[index]
        try:
            with Image.open(file) as image:
                mode = image.mode
                if mode not in (*_ONE_CHANNEL_MODES, "RGB"):
                    raise ValueError(
                        f"image {str(file)!r} has mode {mode!r}; expected one channel "
                        f"({', '.join(_ONE_CHANNEL_MODES)}) or RGB (convert palette or alpha "
                        "images to intensities first)"
                    )
                pixels = np.asarray(image)
        except OSError as err:
            raise ValueError(f"cannot read image {str(file)!r}: {err}") from err
        return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)  # (C, H, W)

    def frame(self, index: int) -> np.ndarray:
        """Raw frame ``index`` as ``[C, H, W]`` in the source's dtype.

        Raises
        ------
        ValueError
            An unreadable image or one of another size or dtype than the first.
        """
        if not self._files:
            frame = np.asarray(self._array[index])
            return frame[None] if frame.ndim == 2 else frame
        frame = self._read_image(index)
        if frame.shape != self.shape or frame.dtype != self.dtype:
            raise ValueError(
                f"image {self.name(index)!r} is {frame.dtype} {frame.shape}, but the series "
                f"starts with {self.dtype} {self.shape} ({self.name(0)!r}) [C, H, W]"
            )
        return frame

    def close(self) -> None:
        """Close an HDF5 source."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _check_clip(clip: Sequence[float] | None, log1p: bool) -> tuple[float, float] | None:
    if clip is None:
        return None
    if (
        isinstance(clip, str)
        or not isinstance(clip, Sequence)
        or len(clip) != 2
        or any(isinstance(v, bool) or not isinstance(v, int | float) for v in clip)
        or not clip[0] < clip[1]
    ):
        raise ValueError(f"clip must be (low, high) numbers with low < high, got {clip!r}")
    if log1p and clip[0] <= -1:
        raise ValueError(f"log1p needs values above -1, but clip starts at {clip[0]!r}")
    return float(clip[0]), float(clip[1])


def _transformed(
    raw: np.ndarray, clip: tuple[float, float] | None, log1p: bool, where: str
) -> np.ndarray:
    """Raw values after ``clip`` and ``log1p``, as float64 (NaN kept)."""
    values = raw.astype(np.float64)
    if clip is not None:
        np.clip(values, clip[0], clip[1], out=values)
    if log1p:
        finite = values[np.isfinite(values)]
        if finite.size and finite.min() <= -1:
            raise ValueError(
                f"log1p needs values above -1, but {where} holds {finite.min():g}; pass "
                "clip=(0, high)"
            )
        values = np.log1p(values)
    return values


class _Scaler:
    """Maps raw frames to [0, 1]: clip, log1p, then ``(x - offset) / span``."""

    def __init__(
        self,
        series: FrameSeries,
        train: range,
        scale: str | float | None,
        clip: tuple[float, float] | None,
        log1p: bool,
    ) -> None:
        self.clip, self.log1p = clip, log1p
        self.clip_excess = False
        transform = np.log1p if log1p else float
        if scale == "auto":
            if clip is not None:
                scale = None
                self.offset = float(transform(clip[0]))
                self.span = float(transform(clip[1])) - self.offset
                return
            scale = 255.0 if series.dtype == np.uint8 and not log1p else "minmax"
        if scale == "minmax":
            low, high = np.inf, -np.inf
            for index in train:
                values = _transformed(series.frame(index), clip, log1p, series.name(index))
                finite = values[np.isfinite(values)]
                if finite.size:
                    low, high = min(low, float(finite.min())), max(high, float(finite.max()))
            if not np.isfinite(low):
                raise ValueError(
                    f"the training block of {str(series.source)!r} holds no finite value"
                )
            self.offset, self.span = low, (high - low) or 1.0
            self.clip_excess = True
        elif scale is None:
            self.offset, self.span = 0.0, 1.0
        elif isinstance(scale, int | float) and not isinstance(scale, bool) and scale > 0:
            self.offset, self.span = 0.0, float(scale)
        else:
            raise ValueError(
                f"scale must be 'auto', 'minmax', a positive number or None, got {scale!r}"
            )

    def __call__(self, raw: np.ndarray, where: str) -> np.ndarray:
        """float32 ``[C, H, W]`` in [0, 1]."""
        values = _transformed(raw, self.clip, self.log1p, where)
        bad = ~np.isfinite(values)
        unit = (values - self.offset) / self.span
        unit[bad] = 0.0  # no echo
        if not self.clip_excess and unit.size and (unit.min() < -1e-6 or unit.max() > 1 + 1e-6):
            raise ValueError(
                f"{where}: values span [{values[~bad].min():g}, {values[~bad].max():g}] after "
                f"clip/log1p, which (x - {self.offset:g}) / {self.span:g} maps outside [0, 1]; "
                "pass clip=(low, high), another scale, or scale='minmax'"
            )
        return np.clip(unit, 0.0, 1.0).astype(np.float32)


def _load_block(
    series: FrameSeries, block: range, scaler: _Scaler, size: tuple[int, int] | None
) -> np.ndarray:
    frames = []
    for index in block:
        unit = scaler(series.frame(index), series.name(index))  # (C, H, W) in [0, 1]
        unit = np.stack([resize_image(channel, size) for channel in unit])  # (C, h, w)
        frames.append(np.rint(np.clip(unit, 0.0, 1.0) * 255.0).astype(np.uint8))
    return np.stack(frames)  # (T, C, h, w)


def prepare_frame_series(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: tuple[int, int] | None = None,
    scale: str | float | None = "auto",
    clip: tuple[float, float] | None = None,
    log1p: bool = False,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    key: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> PrepareReport:
    """Store a series of frames as train/val/test time blocks in a cache at ``out``.

    Parameters
    ----------
    source : str or os.PathLike
        A folder of images (PNG, TIFF, JPEG, BMP; one channel or RGB; 8 or
        16 bit), or a ``.npy``/``.h5`` array ``[T, H, W]`` or ``[T, C, H, W]``.
    out : str or os.PathLike
        The cache file (``.h5``).
    size : (int, int), optional
        ``(height, width)`` to resize to (bilinear, on the [0, 1] values);
        None keeps the source's size.
    scale : "auto", "minmax", float or None
        How values map to [0, 1] after ``clip`` and ``log1p`` (see the module
        docstring).
    clip : (float, float), optional
        Bounds the raw values are clipped to first (radar dBZ: (0, 70)).
    log1p : bool
        Apply ``log(1 + x)`` after clipping.
    val_fraction, test_fraction : float
        Fractions of the frames for the val and test blocks (the last ones).
    key : str, optional
        Dataset inside an HDF5 source holding several.
    overwrite : bool
        Replace an existing cache at ``out``.
    progress : callable, optional
        Called with one line per block.

    Returns
    -------
    PrepareReport
        Clip keys are the split names.

    Raises
    ------
    FileNotFoundError
        If ``source`` does not exist.
    ValueError
        Unreadable or inconsistent frames, bad scaling options, values
        mapped outside [0, 1], bad fractions, ``out`` exists, or an
        unfinished ``<out>.partial`` with other settings.

    Notes
    -----
    Each block is built in memory before it is written: the training block
    takes ``T_train * C * H * W`` bytes.
    """
    target = None if size is None else check_size(size)
    clip = _check_clip(clip, log1p)
    series = FrameSeries(source, key)
    try:
        counts = split_counts(len(series), val_fraction, test_fraction)
        bounds = np.cumsum((0, *counts))
        blocks = {
            split: range(int(bounds[i]), int(bounds[i + 1])) for i, split in enumerate(SPLITS)
        }
        scaler = _Scaler(series, blocks["train"], scale, clip, log1p)
        channels, height, width = series.shape
        if target is not None:
            height, width = target
        jobs = []
        for split, block in blocks.items():
            if not block:
                continue
            meta = {
                "first_frame": block.start,
                "num_frames": len(block),
                "first_name": series.name(block.start),
                "last_name": series.name(block.stop - 1),
                "offset": scaler.offset,
                "span": scaler.span,
                "log1p": bool(log1p),
            }
            load = partial(_load_block, series, block, scaler, target)
            jobs.append(ClipJob(split, split, meta, load))
        settings = {
            "size": None if target is None else list(target),
            "scale": scale,
            "clip": None if clip is None else list(clip),
            "log1p": bool(log1p),
            "val_fraction": val_fraction,
            "test_fraction": test_fraction,
            "key": key,
        }
        report = PrepareReport(out=Path(out), dataset="frame_series")
        with CacheWriter(
            out,
            dataset="frame_series",
            source=str(source),
            frame_shape=(channels, height, width),
            settings=settings,
            overwrite=overwrite,
        ) as writer:
            return write_clips(writer, jobs, report, progress=progress)
    finally:
        series.close()
