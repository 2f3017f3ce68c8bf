"""Decode video files into uint8 frames and resize frames: shared by every video preparer.

Decoding uses PyAV (FFmpeg bindings, the ``video`` extra); resizing uses
Pillow. torchvision's ``read_video``/``Resize`` would do the same, but no CPU
build of torchvision matches the CPU torch this project installs, and Pillow
is already a dependency. Pillow's bilinear filter widens its support when it
shrinks an image, so downscaling is antialiased (OpenCV's ``INTER_LINEAR``,
used by PredRNN's loaders, is not; pixel values differ slightly from theirs).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

VIDEO_SUFFIXES: tuple[str, ...] = (
    ".avi",
    ".mp4",
    ".mkv",
    ".mov",
    ".webm",
    ".mpg",
    ".mpeg",
    ".m4v",
    ".ogv",
    ".wmv",
    ".flv",
)
"""File suffixes (lower case) taken for videos when a folder is searched."""


class VideoDecodeError(ValueError):
    """A video that cannot be used: unreadable, without video stream, empty or cut short."""


def check_size(size: object) -> tuple[int, int]:
    """Return ``size`` as ``(height, width)`` after checking it.

    Parameters
    ----------
    size : int or sequence of two ints
        One int gives a square frame.

    Raises
    ------
    ValueError
        If ``size`` is not one or two positive integers.
    """
    values = [size] if isinstance(size, int | np.integer) else size
    if (
        isinstance(values, str | bytes)
        or not isinstance(values, Sequence)
        or len(values) not in (1, 2)
        or any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in values)
        or any(v < 1 for v in values)
    ):
        raise ValueError(f"size must be (height, width) positive integers, got {size!r}")
    height, width = (int(values[0]), int(values[-1]))
    return height, width


def resize_image(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Resize one image ``[H, W]`` or ``[H, W, 3]`` to ``size = (height, width)`` (bilinear).

    uint8 images stay uint8; float32 images (Pillow mode "F", one channel)
    stay float32. ``size`` None or equal to the image's size returns it as is.
    """
    if size is None or tuple(image.shape[:2]) == tuple(size):
        return image
    height, width = size
    resized = Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized)


def decode_video(
    path: str | os.PathLike[str],
    *,
    size: tuple[int, int] | None = None,
    grayscale: bool = True,
    check_length: bool = True,
) -> np.ndarray:
    """Decode every frame of a video file.

    Parameters
    ----------
    path : str or os.PathLike
        A file FFmpeg can read (AVI, MP4, MKV, ...).
    size : (int, int), optional
        ``(height, width)`` of the output frames; None keeps the video's size.
    grayscale : bool
        One luma channel (FFmpeg's "gray" conversion) instead of RGB.
    check_length : bool
        Fail when fewer frames decode than the container's header announces:
        FFmpeg decodes the readable start of a truncated file without error.

    Returns
    -------
    numpy.ndarray
        uint8 ``[T, C, H, W]`` with C = 1 (grayscale) or 3 (RGB).

    Raises
    ------
    VideoDecodeError
        Unreadable or corrupt file (FFmpeg error at open or mid-file), no
        video stream, no decodable frame, or (``check_length``) fewer frames
        than announced. The message names the file.
    ModuleNotFoundError
        If PyAV is not installed.
    """
    try:
        import av
    except ModuleNotFoundError as err:  # pragma: no cover - depends on the environment
        raise ModuleNotFoundError(
            "decoding videos needs PyAV: pip install 'framecast[video]' (or pip install av)"
        ) from err
    name = str(path)
    fmt = "gray" if grayscale else "rgb24"
    frames: list[np.ndarray] = []
    try:
        with av.open(name) as container:
            if not container.streams.video:
                raise VideoDecodeError(f"{name!r} has no video stream")
            announced = int(container.streams.video[0].frames or 0)  # 0: header does not say
            for frame in container.decode(video=0):
                image = frame.to_ndarray(format=fmt)  # (H, W) or (H, W, 3) uint8
                frames.append(resize_image(image, size))
    except VideoDecodeError:
        raise
    except (av.error.FFmpegError, OSError, EOFError) as err:
        done = f" after {len(frames)} frames" if frames else ""
        raise VideoDecodeError(f"cannot decode {name!r}{done}: {err}") from err
    if not frames:
        raise VideoDecodeError(f"{name!r} holds no decodable frame")
    if check_length and announced and len(frames) < announced:
        raise VideoDecodeError(
            f"{name!r} decoded {len(frames)} of the {announced} frames its header announces "
            "(truncated file?); pass check_length=False to keep such videos"
        )
    stack = np.stack(frames)  # (T, H, W) or (T, H, W, 3)
    if stack.ndim == 3:
        return stack[:, None]  # (T, 1, H, W)
    return np.ascontiguousarray(stack.transpose(0, 3, 1, 2))  # (T, 3, H, W)


def find_videos(source: str | os.PathLike[str]) -> list[Path]:
    """Video files under ``source`` (a file, or a folder searched recursively), sorted.

    Raises
    ------
    FileNotFoundError
        If ``source`` does not exist.
    """
    root = Path(source).expanduser()
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"video source not found: {str(root)!r}")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
