"""Tiny synthetic AVI files (PyAV) and prepared-video caches for the data tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from framecast.data.cache import CacheWriter

HEIGHT, WIDTH = 24, 32
BLOCK = 40
"""Frame t of clip k of :func:`write_cache` holds ``BLOCK * k + t``."""


def bar_frames(num_frames: int, background: int, height: int = HEIGHT, width: int = WIDTH):
    """uint8 [T, H, W]: a flat ``background`` with a white bar moving right by 1 px a frame.

    The bar never enters the first two columns, so column 0 tells the clip's background.
    """
    frames = np.full((num_frames, height, width), background, np.uint8)
    for t in range(num_frames):
        left = 4 + t % (width - 8)
        frames[t, :, left : left + 3] = 255
    return frames


def write_avi(path: Path, frames: np.ndarray, codec: str = "mpeg4", fps: int = 25) -> Path:
    """Encode grey uint8 frames [T, H, W] as RGB into an AVI with PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.bit_rate = 2_000_000
        for image in frames:
            rgb = np.repeat(image[..., None], 3, axis=-1)  # (H, W, 3)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return path


def write_kth_folder(
    root: Path,
    persons: Iterable[int] = (3, 15, 20),
    actions: Iterable[str] = ("boxing", "running"),
    scenarios: Iterable[str] = ("d1",),
    num_frames: int = 40,
    flat: bool = False,
) -> dict[str, int]:
    """KTH-named AVIs (``{action}/personNN_{action}_dS_uncomp.avi``); key -> background level."""
    backgrounds: dict[str, int] = {}
    for action in actions:
        for person in persons:
            for scenario in scenarios:
                key = f"person{person:02d}_{action}_{scenario}"
                background = 20 + 16 * len(backgrounds)
                folder = root if flat else root / action
                write_avi(folder / f"{key}_uncomp.avi", bar_frames(num_frames, background))
                backgrounds[key] = background
    return backgrounds


def write_cache(
    path: Path,
    clips: Mapping[str, tuple[str, int, Mapping[str, Any]]],
    *,
    dataset: str = "videos",
    frame_shape: tuple[int, int, int] = (1, 6, 5),
) -> Path:
    """A cache whose clip k (in the given order) has frame t filled with ``BLOCK * k + t``.

    ``clips`` maps key -> (split, number of frames < BLOCK, meta); at most 6 clips.
    """
    with CacheWriter(
        path, dataset=dataset, source="synthetic", frame_shape=frame_shape, settings={"n": 1}
    ) as writer:
        for k, (key, (split, count, meta)) in enumerate(clips.items()):
            values = (BLOCK * k + np.arange(count)).astype(np.uint8)
            frames = np.broadcast_to(values[:, None, None, None], (count, *frame_shape))
            writer.add_clip(key, np.ascontiguousarray(frames), split=split, meta=meta)
        return writer.finish()
