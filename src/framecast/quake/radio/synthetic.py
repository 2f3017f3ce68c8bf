"""A synthetic VLF receiver over a catalog: background, gaps and precursory anomalies.

The background of each station's log power (dB) per hourly slot and
frequency row is a falling spectrum, a diurnal swing (VLF propagation is
stronger at night), a slow seasonal drift and Gaussian noise; outages of
random length remove whole slots (NaN, coverage 0). Before a share
(``probability``) of the events with magnitude >= ``min_magnitude``, the
power in the band ``band_hz`` rises by ``amplitude_db`` for the
``lead_days`` before the event (a band-limited anomaly; overlapping ones
add up to one). ``false_alarms_per_year`` anomalies follow no event.
The defaults (M >= 3, mc + 1 of the demo's frames; 80 %; 1 day; 12 dB)
put a precursor before 80 % of the events of M >= 3 (about 9 % of the
demo's events of M >= 2); only the bins after an anomaly can gain
information from the radio input, and a one-day lead tells which daily bin
the event falls in. On the demo's catalog, an oracle that knows
which bins follow an anomaly and scales the plain network's forecast by the
best constant per kind of bin gains about +0.10 nats/eq
[+0.07, +0.13] (30-day blocks); with the earlier defaults (M >= 3.5, 2 days
ahead) only +0.04 [+0.02, +0.07], too little for a trained network to show.

This is a hypothesis made true by construction: it shows that the
pipeline can find a precursor where there is one, not that there is one
in nature.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from framecast.quake.catalog.events import Catalog, timedelta_to_days, to_datetime64
from framecast.quake.radio.store import RadioSeries


@dataclass
class SyntheticReceiver:
    """Settings of :func:`synthetic_radio` (``framecast quake radio demo`` options)."""

    min_magnitude: float = 3.0
    probability: float = 0.8
    lead_days: float = 1.0
    amplitude_db: float = 12.0
    band_hz: tuple[float, float] = (8000.0, 14000.0)
    false_alarms_per_year: float = 0.0
    stations: int = 1
    frequency_rows: int = 16
    max_frequency_hz: float = 24000.0
    slots_per_bin: int = 24
    diurnal_db: float = 6.0
    noise_db: float = 2.0
    gap_fraction: float = 0.05
    seed: int = 0

    def check(self) -> None:
        """Raise ValueError naming the first setting out of range."""
        if not 0 <= self.probability <= 1:
            raise ValueError(f"probability must be in [0, 1], got {self.probability!r}")
        if not self.lead_days > 0:
            raise ValueError(f"lead_days must be > 0, got {self.lead_days!r}")
        if not 0 <= self.gap_fraction < 1:
            raise ValueError(f"gap_fraction must be in [0, 1), got {self.gap_fraction!r}")
        lo, hi = self.band_hz
        if not 0 <= lo < hi <= self.max_frequency_hz:
            raise ValueError(
                f"band_hz must be (low, high) with 0 <= low < high <= {self.max_frequency_hz:g}, "
                f"got {self.band_hz!r}"
            )
        if self.stations < 1 or self.frequency_rows < 1 or self.slots_per_bin < 1:
            raise ValueError(
                "stations, frequency_rows and slots_per_bin must be >= 1, got "
                f"{self.stations}, {self.frequency_rows}, {self.slots_per_bin}"
            )


def synthetic_radio(
    catalog: Catalog,
    start: object,
    end: object,
    receiver: SyntheticReceiver | None = None,
    *,
    bin_days: float = 1.0,
) -> RadioSeries:
    """Binned spectra of a synthetic receiver from ``start`` to ``end`` (see the module).

    Parameters
    ----------
    catalog : Catalog
        The events that may have precursors.
    start, end : date-like
        Period of the recording, UTC.
    receiver : SyntheticReceiver, optional
    bin_days : float
        Frame bin length; slots are ``bin_days / slots_per_bin`` long.

    Returns
    -------
    RadioSeries
        Its settings name the receiver's options and the anomalies' times.
    """
    receiver = receiver or SyntheticReceiver()
    receiver.check()
    rng = np.random.default_rng(receiver.seed)
    t0, t1 = to_datetime64(start), to_datetime64(end)
    slot_days = bin_days / receiver.slots_per_bin
    n = int(np.floor(float(timedelta_to_days(t1 - t0)) / slot_days + 1e-9))
    s, f = receiver.stations, receiver.frequency_rows
    days = (np.arange(n) + 0.5) * slot_days  # [N] slot centres, days from start
    freqs = (np.arange(f) + 0.5) * receiver.max_frequency_hz / f  # [F]
    spectrum = -10.0 * np.log10(1.0 + freqs / 2000.0)  # [F] falling background, dB
    hour = (days % 1.0) * 24.0
    diurnal = receiver.diurnal_db * np.cos(2 * np.pi * hour / 24.0)  # [N] night maximum at 0 h
    seasonal = 2.0 * np.sin(2 * np.pi * days / 365.25)  # [N]
    power = (
        spectrum[None, None, :]
        + (diurnal + seasonal)[:, None, None]
        + rng.normal(0.0, receiver.noise_db, size=(n, s, f))
    )  # (N, S, F) dB

    # precursors: slots in [t_event - lead, t_event) of chosen events, band rows only
    event_days = timedelta_to_days(catalog.time - t0)  # [E]
    big = (
        (catalog.magnitude >= receiver.min_magnitude)
        & (event_days >= 0)
        & (event_days < n * slot_days)
    )
    chosen = event_days[big][rng.random(int(big.sum())) < receiver.probability]
    years = n * slot_days / 365.25
    false_alarms = rng.uniform(
        0, n * slot_days, rng.poisson(receiver.false_alarms_per_year * years)
    )
    anomaly = np.zeros(n, bool)  # [N]
    for onset in np.concatenate([chosen, false_alarms]):
        lo = np.searchsorted(days, onset - receiver.lead_days)
        hi = np.searchsorted(days, onset)
        anomaly[lo:hi] = True
    band = (freqs >= receiver.band_hz[0]) & (freqs <= receiver.band_hz[1])  # [F]
    power[np.ix_(anomaly, np.ones(s, bool), band)] += receiver.amplitude_db

    # outages: runs of 1 slot to 3 days until gap_fraction of the slots is lost, per station
    coverage = np.ones((n, s), np.float32)
    for station in range(s):
        lost = 0
        while lost < receiver.gap_fraction * n:
            length = int(rng.integers(1, max(2, int(3 / slot_days))))
            first = int(rng.integers(0, max(1, n - length)))
            coverage[first : first + length, station] = 0.0
            lost += length
    power[coverage == 0] = np.nan
    settings = {
        "synthetic": {**asdict(receiver), "band_hz": list(receiver.band_hz)},
        "unit": "dB",
        "anomalies": len(chosen),
        "false_alarms": len(false_alarms),
    }
    return RadioSeries(
        power=power.astype(np.float32),
        coverage=coverage,
        start=t0,
        slot_seconds=slot_days * 86400.0,
        slots_per_bin=receiver.slots_per_bin,
        frequencies=freqs,
        stations=tuple(f"SYN{i}" for i in range(s)),
        settings=settings,
    )
