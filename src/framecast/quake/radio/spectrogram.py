"""Log-power spectrograms of recordings (SciPy's short-time Fourier transform).

Each gap-free stretch of a recording is transformed on its own
(``scipy.signal.periodogram`` of Hann-windowed segments every ``step_seconds``), so
no segment spans a gap and no gap is filled. The frequency axis is cut to
a band and averaged into equal-width rows; power is returned in dB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framecast.quake.radio.readers import Recording


@dataclass(frozen=True)
class SpectrogramSettings:
    """STFT settings (``framecast quake radio prepare`` options).

    Attributes
    ----------
    band_hz : (float, float or None)
        Frequencies kept, Hz. A high end of None is the Nyquist frequency of
        each recording; a high end above a recording's Nyquist frequency is
        refused (:class:`BandError`), never silently narrowed.
    rows : int
        Equal-width frequency rows over the band.
    window_seconds : float
        STFT segment length (frequency resolution ~ 1 / window_seconds).
    step_seconds : float
        Time between segments.
    """

    band_hz: tuple[float, float | None] = (0.0, None)
    rows: int = 16
    window_seconds: float = 1.0
    step_seconds: float = 60.0

    def check(self) -> None:
        """Raise ValueError for settings no recording can use."""
        lo, hi = self.band_hz
        if not 0 <= lo < (math.inf if hi is None else hi):
            raise ValueError(f"band must be low,high with 0 <= low < high, got {self.band_hz!r}")
        if self.rows < 1 or not self.window_seconds > 0 or not self.step_seconds > 0:
            raise ValueError(
                "rows must be >= 1 and window/step seconds > 0, got "
                f"{self.rows}, {self.window_seconds}, {self.step_seconds}"
            )


class BandError(ValueError):
    """Settings that do not fit a recording (a band above its Nyquist frequency).

    Not a bad file: ``radio prepare`` stops on it instead of skipping the file.
    """


@dataclass
class Spectrogram:
    """Columns of log power.

    Attributes
    ----------
    times : numpy.ndarray
        ``datetime64[us]`` ``[M]``: start of each column's segment.
    power : numpy.ndarray
        float64 ``[M, S, F]`` dB; NaN for a station without data there.
    frequencies : numpy.ndarray
        ``[F]`` row centres, Hz.
    column_seconds : float
        Time each column stands for (the step).
    stations : tuple of str
    """

    times: np.ndarray
    power: np.ndarray
    frequencies: np.ndarray
    column_seconds: float
    stations: tuple[str, ...]


def _runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """``[first, stop)`` of each run of True in a boolean vector."""
    edges = np.diff(np.concatenate([[0], valid.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def log_spectrogram(recording: Recording, settings: SpectrogramSettings) -> Spectrogram:
    """Band-limited dB spectrogram of every station of ``recording`` (see the module).

    Raises
    ------
    BandError
        The band reaches above the Nyquist frequency of the recording.
    ValueError
        The window is shorter than 2 samples.
    """
    from scipy.signal import periodogram

    settings.check()
    rate = recording.sample_rate
    nperseg = round(settings.window_seconds * rate)
    step = max(round(settings.step_seconds * rate), 1)
    if nperseg < 2:
        raise ValueError(
            f"window_seconds={settings.window_seconds} is under 2 samples at {rate:g} Hz"
        )
    nyquist = rate / 2
    lo, hi = settings.band_hz[0], settings.band_hz[1]
    if hi is None:
        hi = nyquist
        if lo >= hi:
            raise BandError(
                f"{Path(recording.source).name!r}: the band's low end {lo:g} Hz is not below the "
                f"Nyquist frequency {nyquist:g} Hz of this recording ({rate:g} Hz samples)"
            )
    elif hi > nyquist:
        raise BandError(
            f"{Path(recording.source).name!r}: the band {lo:g}-{hi:g} Hz reaches above the "
            f"Nyquist frequency {nyquist:g} Hz of this recording ({rate:g} Hz samples); "
            f"give --band {lo:g},{nyquist:g} or lower"
        )
    edges = np.linspace(lo, hi, settings.rows + 1)
    n, s = recording.samples.shape
    starts = np.arange(0, max(n - nperseg + 1, 0), step)  # [M] segment starts on one clock
    power = np.full((len(starts), s, settings.rows), np.nan)
    for station in range(s):
        x = recording.samples[:, station]
        for first, stop in _runs(np.isfinite(x)):
            cols = np.flatnonzero((starts >= first) & (starts + nperseg <= stop))
            if not len(cols):
                continue
            segments = x[starts[cols][:, None] + np.arange(nperseg)[None, :]]  # (m, nperseg)
            freqs, pxx = periodogram(segments, fs=rate, window="hann", axis=-1)  # (m, nfreq)
            sxx = pxx.T  # (nfreq, m)
            row = np.digitize(freqs, edges) - 1  # [nfreq]
            keep = (row >= 0) & (row < settings.rows)
            sums = np.zeros((settings.rows, sxx.shape[1]))
            np.add.at(sums, row[keep], sxx[keep])
            counts = np.bincount(row[keep], minlength=settings.rows)[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)  # (F, m)
            power[cols, station] = 10 * np.log10(np.maximum(mean.T[: len(cols)], 1e-30))
    step_us = np.timedelta64(round(step / rate * 1e6), "us")
    return Spectrogram(
        times=recording.start + step_us * np.arange(len(starts)),
        power=power,
        frequencies=(edges[:-1] + edges[1:]) / 2,
        column_seconds=step / rate,
        stations=recording.stations,
    )
