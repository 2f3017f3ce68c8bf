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
