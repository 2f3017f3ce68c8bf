"""Small recordings written by the tests."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def tone(seconds: float, rate: int, hz: float, amplitude: float = 0.5) -> np.ndarray:
    """float64 ``[N]`` sine plus a little noise."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(0).normal(0, 0.01, len(t))
    return amplitude * np.sin(2 * np.pi * hz * t) + noise


def write_pcm_wav(path: Path, samples: np.ndarray, rate: int, bits: int) -> Path:
    """Write ``[N]`` or ``[N, C]`` samples in [-1, 1] as 16- or 24-bit PCM with ``wave``."""
    data = samples.reshape(len(samples), -1)
    scale = 2 ** (bits - 1) - 1
    ints = np.round(data * scale).astype("<i4")  # (N, C)
    raw = ints.view(np.uint8).reshape(len(ints), data.shape[1], 4)[:, :, : bits // 8]
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(data.shape[1])
        handle.setsampwidth(bits // 8)
        handle.setframerate(rate)
        handle.writeframes(raw.tobytes())
    return path


RECEIVER = {
    "min_magnitude": 2.5,
    "frequency_rows": 4,
    "slots_per_bin": 4,
    "lead_days": 7.0,
    "band_hz": [8000.0, 14000.0],
}
"""A small synthetic receiver: side images of 2 x 4 x 4 values (one packed channel on 8 x 8)."""


def tiny_world(folder: Path) -> tuple[Path, Path]:
    """``frames.h5`` (weekly counts, 8 x 8, 2010-2013) and ``radio.h5`` of a synthetic receiver."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from quake_testing import REGION, random_catalog

    from framecast.quake import Grid
    from framecast.quake.frames import grid_catalog
    from framecast.quake.radio.aux_section import receiver_from
    from framecast.quake.radio.synthetic import synthetic_radio

    catalog = random_catalog(400)
    frames = grid_catalog(
        catalog,
        Grid.from_region(REGION, 0.125),
        start="2010-01-01",
        end="2013-01-01",
        bin_days=7,
        mc=2.0,
        channels=("count",),
    )
    frames_path = frames.save(folder / "frames.h5")
    radio = synthetic_radio(
        catalog, "2010-01-01", "2013-01-01", receiver_from(RECEIVER), bin_days=7.0
    )
    return frames_path, radio.save(folder / "radio.h5")
