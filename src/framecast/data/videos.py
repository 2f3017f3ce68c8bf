"""Any videos FFmpeg reads (a file or a folder of files) into a prepared-video cache.

Each video is one clip; whole videos go to one split (train first, then
val, then test, in sorted order of their paths), so no scene appears in two
splits. The dataset ``"prepared"`` reads the cache
(``data.name: prepared``, ``data.options.path: videos.h5``).
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from framecast.data.cache import CacheWriter
from framecast.data.prepare import (
    ClipJob,
    PrepareReport,
    Progress,
    check_on_error,
    write_clips,
)
from framecast.data.video_io import VIDEO_SUFFIXES, check_size, decode_video, find_videos


def split_counts(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """Items of (train, val, test) among ``n``: val and test get ``round(n * fraction)``.

    Raises
    ------
    TypeError, ValueError
        Fractions that are not numbers in [0, 1) with a sum below 1, or no
        item left for train.
    """
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number, got {value!r}")
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1, got {val_fraction!r} + {test_fraction!r}"
        )
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    n_train = n - n_val - n_test
    if n_train < 1:
        raise ValueError(
            f"{n} inputs leave none for train with val_fraction={val_fraction!r} and "
            f"test_fraction={test_fraction!r}"
        )
    return n_train, n_val, n_test


def prepare_videos(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: tuple[int, int] = (64, 64),
    grayscale: bool = True,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    check_length: bool = True,
    on_error: str = "skip",
    overwrite: bool = False,
    progress: Progress | None = None,
) -> PrepareReport:
    """Decode every video under ``source`` into a cache at ``out`` (resumable).

    Parameters
    ----------
    source : str or os.PathLike
        A video file, or a folder searched recursively for the suffixes in
        :data:`~framecast.data.video_io.VIDEO_SUFFIXES`.
    out : str or os.PathLike
        The cache file (``.h5``).
    size : (int, int)
        ``(height, width)`` of the frames.
    grayscale : bool
        One luma channel instead of RGB.
    val_fraction, test_fraction : float
        Fractions of the videos (whole videos, by sorted path) for val and
        test; the splits are decided before decoding, so a video that fails
        does not move the others to another split. A split left empty
        (too few videos) is logged as a warning.
    check_length : bool
        Skip videos that decode fewer frames than their header announces.
    on_error : {"skip", "raise"}
        Skip an unreadable video (reported by name) or stop.
    overwrite : bool
        Replace an existing cache at ``out``.
    progress : callable, optional
        Called with one line per video.

    Returns
    -------
    PrepareReport
        Clip keys are the paths relative to ``source`` ("walk/clip01.mp4").

    Raises
    ------
    FileNotFoundError
        If ``source`` does not exist.
    ValueError
        Bad size or fractions, no video found, ``out`` exists, an unfinished
        ``<out>.partial`` with other settings.
    VideoDecodeError
        A corrupt video with ``on_error="raise"``.
    """
    height, width = check_size(size)
    check_on_error(on_error)
    root = Path(source).expanduser()
    files = find_videos(root)
    if not files:
        raise ValueError(f"no video ({', '.join(VIDEO_SUFFIXES)}) found under {str(root)!r}")
    keys = [f.name if root.is_file() else f.relative_to(root).as_posix() for f in files]
    n_train, n_val, _ = split_counts(len(files), val_fraction, test_fraction)
    jobs = []
    for number, (key, file) in enumerate(zip(keys, files, strict=True)):
        split = "train" if number < n_train else "val" if number < n_train + n_val else "test"
        load = partial(
            decode_video, file, size=(height, width), grayscale=grayscale, check_length=check_length
        )
        jobs.append(ClipJob(key, split, {"file": key}, load))
    settings = {
        "size": [height, width],
        "grayscale": bool(grayscale),
        "check_length": bool(check_length),
        "val_fraction": val_fraction,
        "test_fraction": test_fraction,
        "resize": "pillow-bilinear",
    }
    report = PrepareReport(out=Path(out), dataset="videos")
    with CacheWriter(
        out,
        dataset="videos",
        source=str(source),
        frame_shape=(1 if grayscale else 3, height, width),
        settings=settings,
        overwrite=overwrite,
    ) as writer:
        hint = (
            f"val and test get round({len(files)} videos x --val-fraction / --test-fraction "
            f"({val_fraction:g} / {test_fraction:g})); raise the fractions or add videos"
        )
        return write_clips(
            writer, jobs, report, on_error=on_error, progress=progress, empty_split_hint=hint
        )
