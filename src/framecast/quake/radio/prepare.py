"""``framecast quake radio prepare``: many recordings -> one binned ``radio.h5``, resumably.

Every source file is read (:mod:`.readers`), turned into a dB spectrogram
(:mod:`.spectrogram`), or read as one when it is a spectrogram image and
``images`` settings are given (:mod:`.images`), and aggregated into slots
(:mod:`.aggregate`); its
slots are kept in the output under ``files/<name>`` with the file's SHA-256
and the settings' hash. A rerun skips every file already there with the
same hash and settings, so an interrupted run continues where it stopped
(the output is rewritten atomically every ``commit_every`` files). The
combined series (:class:`~.store.RadioSeries`) is rebuilt from the kept
files: stations are the union of the files' columns, and where two files
cover one slot of a station the coverage-weighted mean of their values is
kept (exact for ``mean``, an approximation for ``max`` and quantiles).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from framecast.files import atomic_write
from framecast.h5header import check_header
from framecast.quake.radio.aggregate import EPOCH, aggregate_columns, check_statistic
from framecast.quake.radio.images import (
    IMAGE_SUFFIXES,
    ImageSettings,
    image_start,
    read_image_times,
    read_spectrogram_image,
)
from framecast.quake.radio.readers import (
    TABLE_SUFFIXES,
    WAVEFORM_SUFFIXES,
    RadioReadError,
    Recording,
    read_recording,
)
from framecast.quake.radio.spectrogram import BandError, SpectrogramSettings, log_spectrogram
from framecast.quake.radio.store import FORMAT, RadioSeries, write_series

ON_ERROR = ("skip", "raise")


@dataclass(frozen=True)
class PrepareSettings:
    """Everything that shapes the output; a change invalidates the kept files."""

    spectrogram: SpectrogramSettings
    bin_days: float = 1.0
    slots_per_bin: int = 24
    statistic: str = "mean"
    images: ImageSettings | None = None
    """How to read spectrogram images; None: image files are not sources."""

    @property
    def slot_seconds(self) -> float:
        return self.bin_days * 86400.0 / self.slots_per_bin

    def check(self) -> None:
        self.spectrogram.check()
        check_statistic(self.statistic)
        if self.images is not None:
            self.images.check()
        if not self.bin_days > 0 or self.slots_per_bin < 1:
            raise ValueError(
                f"bin_days must be > 0 and slots_per_bin >= 1, got {self.bin_days!r} and "
                f"{self.slots_per_bin!r}"
            )

    def digest(self) -> str:
        values = asdict(self)
        if values["images"] is None:  # the hash of files prepared before image support
            del values["images"]
        text = json.dumps(values, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class PrepareReport:
    """What one run did."""

    processed: list[str]
    skipped_same: list[str]
    refused: dict[str, str]
    path: Path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_files(source: Path, images: bool = False) -> list[Path]:
    """Supported recordings in a folder (recursively, sorted), or the one file given.

    Spectrogram images count as recordings only with ``images``.
    """
    suffixes = {**WAVEFORM_SUFFIXES, **TABLE_SUFFIXES, **(IMAGE_SUFFIXES if images else {})}
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"source not found: {str(source)!r}")
    found = sorted(p for p in source.rglob("*") if p.is_file())
    files = [p for p in found if p.suffix.lower() in suffixes]
    if not files:
        hint = ""
        if any(p.suffix.lower() in IMAGE_SUFFIXES for p in found):
            hint = "; for spectrogram images give --image-seconds, --image-freq-hz, --image-db"
        raise ValueError(f"no recording in {str(source)!r} (looked for {sorted(suffixes)}){hint}")
    return files


def _read_kept(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    with h5py.File(path, "r") as handle:
        check_header(handle, path, FORMAT, "framecast radio file", "choose another --out")
        kept = {}
        for name, group in handle.get("files", {}).items():
            kept[name] = {
                "meta": json.loads(group.attrs["meta"]),
                "power": group["power"][()],
                "coverage": group["coverage"][()],
            }
        return kept


def combine(kept: dict[str, dict[str, Any]], settings: PrepareSettings) -> RadioSeries:
    """The series of every kept file on one slot clock (see the module)."""
    if not kept:
        raise ValueError("no recording could be read: nothing to combine")
    axes = {tuple(e["meta"]["frequencies"]): name for name, e in kept.items()}
    if len(axes) > 1:
        (a, first), (b, second) = list(axes.items())[:2]
        raise ValueError(
            f"{_display(first)!r} and {_display(second)!r} have different frequency rows "
            f"({a[0]:g}..{a[-1]:g} Hz and {b[0]:g}..{b[-1]:g} Hz); one radio file holds one "
            "frequency axis: prepare them into separate --out files"
        )
    stations = sorted({s for entry in kept.values() for s in entry["meta"]["stations"]})
    first = min(e["meta"]["first_slot"] for e in kept.values())
    stop = max(e["meta"]["first_slot"] + len(e["power"]) for e in kept.values())
    rows = next(iter(kept.values()))["power"].shape[2]
    weighted = np.zeros((stop - first, len(stations), rows))
    weight = np.zeros((stop - first, len(stations)))
    for entry in kept.values():
        lo = entry["meta"]["first_slot"] - first
        for j, station in enumerate(entry["meta"]["stations"]):
            col = stations.index(station)
            cov = entry["coverage"][:, j].astype(np.float64)  # [n]
            values = np.nan_to_num(entry["power"][:, j].astype(np.float64))  # (n, F)
            weighted[lo : lo + len(cov), col] += cov[:, None] * values
            weight[lo : lo + len(cov), col] += cov
    with np.errstate(invalid="ignore", divide="ignore"):
        power = np.where(weight[..., None] > 0, weighted / weight[..., None], np.nan)
    step = np.timedelta64(round(settings.slot_seconds * 1e6), "us")
    return RadioSeries(
        power=power.astype(np.float32),
        coverage=np.minimum(weight, 1.0).astype(np.float32),
        start=EPOCH + step * first,
        slot_seconds=settings.slot_seconds,
        slots_per_bin=settings.slots_per_bin,
        frequencies=np.asarray(next(iter(kept.values()))["meta"]["frequencies"]),
        stations=tuple(stations),
        settings={**asdict(settings), "unit": "dB"},
        sources={name: e["meta"]["source"] for name, e in kept.items()},
    )


def _display(key: str) -> str:
    """The source name of a kept file's key (folders are joined by "|" in the HDF5 names)."""
    return key.replace("|", "/")


def _skip_reason(error: Exception, path: Path) -> str:
    """The error's text without the ``'name': `` its readers start with (the line names it)."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text.removeprefix(f"{path.name!r}: ")


class MixedRatesError(ValueError):
    """Recordings at different sample rates in one prepared file (refused, not skipped)."""


def _check_rate(
    rate: float, name: str, rates: dict[str, float], kept: dict[str, dict[str, Any]]
) -> None:
    """Refuse a recording sampled at another rate than those prepared into this file.

    Raises
    ------
    MixedRatesError
        Naming both files and both rates.
    """
    known = {
        _display(k): e["meta"]["sample_rate"] for k, e in kept.items() if "sample_rate" in e["meta"]
    }
    known.update(rates)
    others = {other: r for other, r in known.items() if other != name and r != rate}
    if others:
        other, other_rate = next(iter(others.items()))
        raise MixedRatesError(
            f"{name!r} is sampled at {rate:g} Hz but {other!r} at {other_rate:g} Hz; their "
            "spectra would share one frequency axis: resample the recordings to one rate, or "
            "prepare each rate into its own --out file"
        )
    rates[name] = rate


def _write(path: Path, kept: dict[str, dict[str, Any]], settings: PrepareSettings) -> None:
    with atomic_write(path) as partial, h5py.File(partial, "w") as handle:
        write_series(handle, combine(kept, settings))
        files = handle.create_group("files")
        for name, entry in kept.items():
            group = files.create_group(name)
            group.attrs["meta"] = json.dumps(entry["meta"])
            group.create_dataset("power", data=entry["power"], compression="gzip")
            group.create_dataset("coverage", data=entry["coverage"])


def prepare_radio(
    source: Path,
    out: Path,
    settings: PrepareSettings,
    *,
    start: object = None,
    on_error: str = "skip",
    commit_every: int = 20,
    log: Callable[[str], None] = print,
    progress_seconds: float = 10.0,
) -> PrepareReport:
    """Process every recording under ``source`` into ``out`` (see the module).

    Parameters
    ----------
    start : date-like, optional
        UTC start of WAV files whose names hold no time (one file only).
    on_error : {"skip", "raise"}
        A file that cannot be read: reported once by name and skipped, or
        raised as :class:`RadioReadError` (the output keeps the files done).

    A file that cannot be read, or holds no finite sample (a WAV of NaN),
    is skipped with one line naming it (``on_error="skip"``) and counted as
    unreadable, not processed.

    Raises
    ------
    RadioReadError
        With ``on_error="raise"``, the first unreadable file.
    ValueError
        Bad settings, no readable file at all, recordings sampled at
        different rates (their spectra would share one frequency axis), or a
        band above a recording's Nyquist frequency
        (:class:`~.spectrogram.BandError`); these stop the run whatever
        ``on_error`` says.
    """
    settings.check()
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    files = source_files(Path(source), images=settings.images is not None)
    images = settings.images
    times = read_image_times(images.times_csv) if images and images.times_csv else None
    kept = _read_kept(out)
    digest = settings.digest()
    report = PrepareReport([], [], {}, out)
    rates: dict[str, float] = {}
    dirty = 0
    last_line = time.monotonic()
    for i, path in enumerate(files):
        name = str(path.relative_to(source)) if path != source else path.name
        key = name.replace("/", "|")
        sha = file_sha256(path)
        meta = kept.get(key, {}).get("meta", {})
        recording: Recording | None = None
        try:
            if images is not None and path.suffix.lower() in IMAGE_SUFFIXES:
                t0, station = image_start(path, images, times)
                identity = {"sha256": sha, "name": name, "start": str(t0)}
            else:
                identity = {"sha256": sha, "name": name}
            if meta.get("source") == identity and meta.get("settings") == digest:
                report.skipped_same.append(name)
                continue
            if images is not None and path.suffix.lower() in IMAGE_SUFFIXES:
                spec = read_spectrogram_image(
                    path, images, settings.spectrogram, start=t0, station=station
                )
            else:
                recording = read_recording(path, start=start)
                _check_rate(recording.sample_rate, name, rates, kept)
                spec = log_spectrogram(recording, settings.spectrogram)
        except (BandError, MixedRatesError):
            raise  # the settings or the folder, not this file: no later file would do better
        except RadioReadError as error:
            if on_error == "raise":
                if dirty:
                    _write(out, kept, settings)
                raise RadioReadError(str(error).splitlines()[0]) from None
            report.refused[name] = str(error)
            log(f"radio prepare: skipped {name}: {_skip_reason(error, path)}")
            continue
        except ValueError as error:
            if on_error == "raise":
                if dirty:
                    _write(out, kept, settings)
                raise RadioReadError(f"{name}: {_skip_reason(error, path)}") from None
            report.refused[name] = str(error)
            log(f"radio prepare: skipped {name}: {_skip_reason(error, path)}")
            continue
        first, power, coverage = aggregate_columns(spec, settings.slot_seconds, settings.statistic)
        kept[key] = {
            "meta": {
                "first_slot": first,
                "stations": list(spec.stations),
                "frequencies": spec.frequencies.tolist(),
                **({} if recording is None else {"sample_rate": recording.sample_rate}),
                "settings": digest,
                "source": identity,
            },
            "power": power,
            "coverage": coverage,
        }
        report.processed.append(name)
        dirty += 1
        if dirty >= commit_every:
            _write(out, kept, settings)
            dirty = 0
        if time.monotonic() - last_line > progress_seconds:
            log(f"radio prepare: {i + 1}/{len(files)} files ({len(report.refused)} skipped)")
            last_line = time.monotonic()
    if dirty or not out.is_file():
        _write(out, kept, settings)
    log(
        f"radio prepare: {len(report.processed)} processed, {len(report.skipped_same)} already "
        f"done, {len(report.refused)} unreadable -> {out}"
    )
    return report
