"""Small labelled data written by the classify tests: text folders, video caches, quake frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from framecast.data.cache import CacheWriter


def write_reviews(root: Path, reviews: dict[str, list[str]]) -> Path:
    """Write ``root/<class>/<n>_<rating>.txt`` files (IMDB's naming) and return ``root``."""
    for name, texts in reviews.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for number, text in enumerate(texts):
            (folder / f"{number}_{7 if name == 'pos' else 2}.txt").write_text(text, "utf-8")
    return root


def moving_dot_clip(direction: int, length: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """uint8 ``[T, 1, size, size]``: a 2x2 dot moving right (+1) or left (-1) a pixel a step.

    One frame does not tell the direction; only the sequence does.
    """
    frames = np.zeros((length, 1, size, size), dtype=np.uint8)
    row = int(rng.integers(0, size - 2))
    col = int(rng.integers(0, size))
    for t in range(length):
        c = (col + direction * t) % (size - 1)
        frames[t, 0, row : row + 2, c : c + 2] = 255
    return frames


def write_dot_cache(
    path: Path, *, clips_per_split: dict[str, int], dataset: str = "videos", length: int = 8
) -> Path:
    """A prepared-video cache of moving-dot clips in folders ``left/`` and ``right/``.

    Clip meta holds ``action`` too (``"left"`` or ``"right"``), as KTH's caches do.
    """
    rng = np.random.default_rng(0)
    with CacheWriter(
        path, dataset=dataset, source="test", frame_shape=(1, 8, 8), settings={"test": 1}
    ) as writer:
        for split, count in clips_per_split.items():
            for number in range(count):
                name = ("left", "right")[number % 2]
                frames = moving_dot_clip(-1 if name == "left" else 1, length, 8, rng)
                key = f"{name}/{split}{number:03d}.avi"
                writer.add_clip(key, frames, split=split, meta={"action": name, "file": key})
        writer.finish()
    return path


def write_burst_frames(path: Path, *, days: int = 730, seed: int = 0) -> Path:
    """Seismicity frames (4x4 cells, daily bins, 2010-2011) of a catalog with foreshock bursts.

    A quiet background of M 2-2.5 events, and 40 bursts: 15 small events over
    the 3 days before an M 4 event. So a busy context announces a big event,
    which both an alarm classifier and the recent-rate forecast can learn.
    """
    from framecast.quake import Catalog, Grid
    from framecast.quake.frames import grid_catalog

    rng = np.random.default_rng(seed)
    times, mags = [rng.uniform(0, days, 200)], [rng.uniform(2.0, 2.5, 200)]
    for big in rng.uniform(10, days - 5, 40):
        times += [big - rng.uniform(0, 3, 15), np.array([big])]
        mags += [rng.uniform(2.0, 2.8, 15), np.array([4.0])]
    t = np.concatenate(times)
    n = len(t)
    catalog = Catalog.from_columns(
        time=np.datetime64("2010-01-01", "us") + (t * 86_400e6).astype("timedelta64[us]"),
        latitude=rng.uniform(33.0, 34.0, n),
        longitude=rng.uniform(-117.0, -116.0, n),
        magnitude=np.concatenate(mags),
        depth=rng.uniform(0, 15, n),
    )
    frames = grid_catalog(
        catalog,
        Grid.from_region("33,34,-117,-116", 0.25),
        start="2010-01-01",
        end="2012-01-01",
        bin_days=1.0,
        mc=2.0,
        channels=("count", "max_magnitude"),
    )
    return frames.save(path)
