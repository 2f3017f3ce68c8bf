"""Readers of radio recordings: WAV, miniSEED/SAC (ObsPy), CSV/NumPy series.

Each returns a :class:`Recording`: samples on a regular clock from a UTC
start, one column per station or channel, NaN where nothing was recorded
(gaps stay gaps; nothing is zero-filled). A file that cannot be read, or
that is shorter than its header says (a truncated recording), raises
:class:`RadioReadError` naming it, never a series of zeros.
"""

from __future__ import annotations

import re
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framecast.quake.catalog.events import to_datetime64

TIME_IN_NAME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})[T_ -]?(\d{2})-?(\d{2})-?(\d{2})")
"""A UTC time in a file name: ``20140301T000000``, ``2014-03-01_00-00-00``, ..."""

WAVEFORM_SUFFIXES = {".wav": "wav", ".mseed": "obspy", ".miniseed": "obspy", ".sac": "obspy"}
TABLE_SUFFIXES = {".csv": "table", ".npz": "table"}


class RadioReadError(ValueError):
    """A recording that cannot be read as what it claims to be (the message names it)."""


@dataclass
class Recording:
    """A regularly sampled recording.

    Attributes
    ----------
    samples : numpy.ndarray
        float64 ``[N, S]``; NaN in gaps.
    sample_rate : float
        Hz.
    start : numpy.datetime64
        UTC time of sample 0.
    stations : tuple of str
        Name of each column.
    source : str
        The file it came from.
    """

    samples: np.ndarray
    sample_rate: float
    start: np.datetime64
    stations: tuple[str, ...]
    source: str


def time_from_name(path: str | Path) -> np.datetime64:
    """The UTC time written in a file name (:data:`TIME_IN_NAME`).

    Raises
    ------
    RadioReadError
        No such time in the name.
    """
    match = TIME_IN_NAME.search(Path(path).name)
    if match is None:
        raise RadioReadError(
            f"{Path(path).name!r}: no start time in the name (e.g. 20140301T000000); give --start"
        )
    y, mo, d, h, mi, s = match.groups()
    return to_datetime64(f"{y}-{mo}-{d}T{h}:{mi}:{s}")


def read_wav(path: str | Path, *, start: object = None, station: str | None = None) -> Recording:
    """A WAV file (8/16/24/32-bit integer or float, any rate, mono or stereo).

    Parameters
    ----------
    path : path
    start : date-like, optional
        UTC time of the first sample; default: the time in the file name.
    station : str, optional
        Column names ``station`` (mono) or ``station.0``, ``station.1``, ...;
        default the file's stem up to the time.

    Raises
    ------
    RadioReadError
        Not a WAV file, truncated, or no start time.
    """
    from scipy.io import wavfile

    path = Path(path)
    t0 = to_datetime64(start) if start is not None else time_from_name(path)
    try:
        with wave.open(str(path), "rb") as handle:  # the header's own frame count
            declared = handle.getnframes()
    except (wave.Error, EOFError):
        declared = None  # float WAVs: the wave module reads only PCM headers
    except OSError as error:
        raise RadioReadError(f"{path.name!r}: cannot read ({error})") from None
    try:
        with warnings.catch_warnings():  # a short data chunk is refused below, by name
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            rate, data = wavfile.read(path)
    except (ValueError, EOFError, OSError) as error:
        raise RadioReadError(f"{path.name!r}: not a readable WAV file ({error})") from None
    data = data.reshape(len(data), -1)  # (N, channels)
    if declared is not None and len(data) < declared:
        raise RadioReadError(
            f"{path.name!r}: truncated recording, the header declares {declared} frames and "
            f"the file holds {len(data)}"
        )
    if data.dtype.kind == "i":
        scale = float(np.iinfo(data.dtype).max) + 1.0  # 24-bit arrives as int32
        samples = data.astype(np.float64) / scale
    elif data.dtype.kind == "u":
        samples = (data.astype(np.float64) - 128.0) / 128.0
    else:
        samples = data.astype(np.float64)
    name = station or TIME_IN_NAME.split(path.stem)[0].strip("_-") or path.stem
    names = (
        (name,) if samples.shape[1] == 1 else tuple(f"{name}.{i}" for i in range(samples.shape[1]))
    )
    return Recording(samples, float(rate), t0, names, str(path))


def read_obspy(path: str | Path) -> Recording:
    """miniSEED or SAC through ObsPy: one column per trace id, gaps as NaN.

    Raises
    ------
    RadioReadError
        ObsPy missing (``pip install obspy``), an unreadable file, or traces
        with different sampling rates.
    """
    try:
        import obspy
    except ImportError:
        raise RadioReadError(
            "reading miniSEED/SAC needs ObsPy: pip install obspy (or 'framecast[quake]')"
        ) from None
    path = Path(path)
    try:
        stream = obspy.read(str(path))
    except Exception as error:  # ObsPy raises many kinds for a bad file
        raise RadioReadError(f"{path.name!r}: not a readable miniSEED/SAC file ({error})") from None
    if not len(stream):
        raise RadioReadError(f"{path.name!r}: holds no trace")
    rates = {float(tr.stats.sampling_rate) for tr in stream}
    if len(rates) != 1:
        raise RadioReadError(f"{path.name!r}: traces with different sampling rates {sorted(rates)}")
    rate = rates.pop()
    t0 = min(tr.stats.starttime for tr in stream)
    t1 = max(tr.stats.endtime for tr in stream)
    n = round((t1 - t0) * rate) + 1
    ids = sorted({tr.id for tr in stream})
    samples = np.full((n, len(ids)), np.nan)  # gaps stay NaN
    for tr in stream:
        first = round((tr.stats.starttime - t0) * rate)
        data = np.ma.filled(np.ma.asarray(tr.data, dtype=np.float64), np.nan)
        samples[first : first + len(data), ids.index(tr.id)] = data
    start = np.datetime64(t0.datetime.replace(tzinfo=None), "us")
    return Recording(samples, rate, start, tuple(ids), str(path))


def read_table(path: str | Path, *, station: str | None = None) -> Recording:
    """A CSV (``time`` column + value columns) or ``.npz`` (``time``, ``values``) series.

    Times are ISO UTC strings (CSV) or ``datetime64`` (npz). Samples are
    placed on the regular clock of the median step; missing steps become
    NaN (gaps), as do empty cells.

    Raises
    ------
    RadioReadError
        No ``time`` column, unparseable times, or times out of order.
    """
    import pandas as pd

    path = Path(path)
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                times = archive["time"].astype("datetime64[us]")
                values = np.asarray(archive["values"], np.float64).reshape(len(times), -1)
            names = [f"{station or path.stem}.{i}" for i in range(values.shape[1])]
        else:
            table = pd.read_csv(path)
            if "time" not in table.columns:
                raise RadioReadError(f"{path.name!r}: no 'time' column (got {list(table.columns)})")
            times = pd.to_datetime(table["time"], utc=True).dt.tz_localize(None).to_numpy()
            times = times.astype("datetime64[us]")
            value_columns = [c for c in table.columns if c != "time"]
            values = table[value_columns].to_numpy(np.float64)
            names = [str(c) for c in value_columns]
    except RadioReadError:
        raise
    except (ValueError, KeyError, OSError) as error:
        raise RadioReadError(f"{path.name!r}: not a readable time series ({error})") from None
    if len(times) < 2 or not (np.diff(times) > np.timedelta64(0, "us")).all():
        raise RadioReadError(f"{path.name!r}: needs at least 2 samples with increasing times")
    step = np.median(np.diff(times))  # timedelta64[us]
    index = np.rint((times - times[0]) / step).astype(np.int64)  # [N]
    samples = np.full((int(index[-1]) + 1, values.shape[1]), np.nan)
    samples[index] = values
    rate = 1e6 / float(step.astype(np.int64))
    return Recording(samples, rate, times[0], tuple(names), str(path))


def read_recording(path: str | Path, *, start: object = None) -> Recording:
    """Read any supported recording by its suffix (.wav, .mseed/.miniseed/.sac, .csv/.npz).

    Raises
    ------
    RadioReadError
        Unsupported suffix, no finite sample at all (a file of NaN), or the
        reader's own errors.
    """
    path = Path(path)
    kind = {**WAVEFORM_SUFFIXES, **TABLE_SUFFIXES}.get(path.suffix.lower())
    if kind == "wav":
        recording = read_wav(path, start=start)
    elif kind == "obspy":
        recording = read_obspy(path)
    elif kind == "table":
        recording = read_table(path)
    else:
        raise RadioReadError(
            f"{path.name!r}: unsupported suffix {path.suffix!r}; expected one of "
            f"{sorted({**WAVEFORM_SUFFIXES, **TABLE_SUFFIXES})}"
        )
    if not np.isfinite(recording.samples).any():
        raise RadioReadError(
            f"{path.name!r}: holds no finite sample ({recording.samples.size} samples, all NaN "
            "or infinite)"
        )
    return recording
