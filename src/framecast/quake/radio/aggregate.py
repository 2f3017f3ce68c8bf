"""Spectrogram columns aggregated into fixed time slots (a bin's ``slots_per_bin`` parts).

Slots are counted from 1970-01-01T00:00 UTC, so files processed apart fall
on one clock and a daily bin starting at midnight holds whole slots. A
slot's value is the mean, the maximum or a quantile (``q90``: the 90th
percentile) of the dB power of the columns inside it; its coverage is the
share of the slot those columns span. Slots without columns stay NaN.
"""

from __future__ import annotations

import re

import numpy as np

from framecast.quake.radio.spectrogram import Spectrogram

EPOCH = np.datetime64("1970-01-01T00:00:00", "us")
STATISTICS = ("mean", "max", "qNN (a percentile, e.g. q90)")


def check_statistic(stat: str) -> str:
    """``stat`` if it is mean, max or qNN, else ValueError naming it."""
    if stat in ("mean", "max") or re.fullmatch(r"q(\d{1,2}|100)", stat):
        return stat
    raise ValueError(f"unknown statistic {stat!r}; expected one of {STATISTICS}")


def aggregate_columns(
    spectrogram: Spectrogram, slot_seconds: float, stat: str = "mean"
) -> tuple[int, np.ndarray, np.ndarray]:
    """Slots of one file's spectrogram.

    Returns
    -------
    first_slot : int
        Slot index (from :data:`EPOCH`) of row 0.
    power : numpy.ndarray
        float32 ``[n, S, F]`` dB; NaN where a slot holds no column.
    coverage : numpy.ndarray
        float32 ``[n, S]``: share of each slot covered (0..1).
    """
    check_statistic(stat)
    micro = (spectrogram.times - EPOCH).astype("timedelta64[us]").astype(np.int64)  # [M]
    slot = np.floor(micro / (slot_seconds * 1e6)).astype(np.int64)  # [M]
    if not len(slot):
        return 0, np.zeros((0, *spectrogram.power.shape[1:]), np.float32), np.zeros((0, 0))
    first = int(slot.min())
    n = int(slot.max()) - first + 1
    _, s, f = spectrogram.power.shape
    power = np.full((n, s, f), np.nan)
    coverage = np.zeros((n, s))
    rel = slot - first  # [M]
    for i in np.unique(rel):
        cols = spectrogram.power[rel == i]  # (m_i, S, F)
        valid = np.isfinite(cols).all(axis=2)  # (m_i, S)
        coverage[i] = np.minimum(valid.sum(axis=0) * spectrogram.column_seconds / slot_seconds, 1)
        for station in range(s):
            values = cols[valid[:, station], station]  # (k, F)
            if not len(values):
                continue
            if stat == "mean":
                power[i, station] = values.mean(axis=0)
            elif stat == "max":
                power[i, station] = values.max(axis=0)
            else:
                power[i, station] = np.percentile(values, float(stat[1:]), axis=0)
    return first, power.astype(np.float32), coverage.astype(np.float32)
