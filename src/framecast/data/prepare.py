"""The registry of cache preparers and the loop they share: decode, write, skip, report.

A preparer is ``prepare_x(source, out, *, ..., overwrite=False, progress=None)
-> PrepareReport`` registered in :data:`PREPARERS`; ``framecast data prepare
NAME`` looks it up by name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framecast.data.cache import CacheWriter
from framecast.data.splits import SPLITS
from framecast.data.video_io import VideoDecodeError
from framecast.plugins import PLUGINS
from framecast.registry import Registry

PREPARERS: Registry[Callable[..., Any]] = Registry("preparer", PLUGINS["preparer"])
"""Name -> ``prepare_x(source, out, **options)`` writing a prepared-video cache."""

ON_ERROR = ("skip", "raise")

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


def get_preparer(name: str) -> Callable[..., Any]:
    """The preparer called ``name`` (its module is imported on first use).

    Raises
    ------
    KeyError
        Unknown name; the message lists the valid ones.
    """
    return PREPARERS.get(name)


def available_preparers() -> list[str]:
    """Names of the preparers, sorted."""
    return PREPARERS.available()


def check_on_error(on_error: str) -> str:
    """Return ``on_error`` after checking it is "skip" or "raise"."""
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {list(ON_ERROR)}, got {on_error!r}")
    return on_error


@dataclass
class PrepareReport:
    """What a preparation did.

    Attributes
    ----------
    out : pathlib.Path
        The finished cache.
    dataset : str
        Cache dataset name.
    written : list[str]
        Keys of the clips written by this run.
    resumed : list[str]
        Keys found already written in an earlier, interrupted run.
    skipped : dict[str, str]
        Clip key -> why it was skipped (unreadable video, ...).
    ignored : list[str]
        Input files that were not used, with the reason.
    empty_splits : list[str]
        Splits without any clip (each also logged as a warning).
    """

    out: Path
    dataset: str
    written: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    empty_splits: list[str] = field(default_factory=list)

    def format(self) -> str:
        """A printable summary."""
        total = len(self.written) + len(self.resumed)
        lines = [
            f"{self.out}: {self.dataset} cache with {total} clips "
            f"({len(self.written)} written now, {len(self.resumed)} resumed from an earlier "
            f"run), {len(self.skipped)} skipped"
        ]
        lines += [f"  skipped {key}: {reason}" for key, reason in self.skipped.items()]
        if self.ignored:
            lines.append(f"  {len(self.ignored)} input(s) not used:")
            lines += [f"    {item}" for item in self.ignored]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ClipJob:
    """One clip to write: its key, split, meta and a function that loads its frames.

    ``load()`` returns uint8 ``[T, C, H, W]`` or raises
    :class:`~framecast.data.video_io.VideoDecodeError` naming the input.
    """

    key: str
    split: str
    meta: Mapping[str, Any]
    load: Callable[[], np.ndarray]


def write_clips(
    writer: CacheWriter,
    jobs: Iterable[ClipJob],
    report: PrepareReport,
    *,
    on_error: str = "skip",
    progress: Progress | None = None,
    empty_split_hint: str = "",
) -> PrepareReport:
    """Write each job's clip in the given order, skipping keys already in the cache.

    A clip whose ``load()`` raises :class:`VideoDecodeError` is recorded in
    ``report.skipped`` with the reason and logged as a warning
    (``on_error="skip"``), or stops the
    preparation (``on_error="raise"``); it is never written as zeros. The
    writer is finished at the end; each split left without a clip is
    logged as one warning line (ending with ``empty_split_hint``, which
    says how to fill it) and listed in ``report.empty_splits``. When no
    clip at all could be written, the partial file is deleted, so that a
    rerun starts over.

    Raises
    ------
    VideoDecodeError
        With ``on_error="raise"``, for the first unusable input.
    ValueError
        If nothing at all could be written.
    """
    check_on_error(on_error)
    jobs = list(jobs)
    done = writer.done()
    for number, job in enumerate(jobs, start=1):
        step = f"[{number}/{len(jobs)}] {job.key}"
        if job.key in done:
            report.resumed.append(job.key)
            if progress is not None:
                progress(f"{step}: already written (resumed)")
            continue
        try:
            frames = job.load()  # (T, C, H, W) uint8
        except VideoDecodeError as err:
            if on_error == "raise":
                raise
            report.skipped[job.key] = str(err)
            logger.warning("skipped clip %s: %s", job.key, err)
            if progress is not None:
                progress(f"{step}: SKIPPED: {err}")
            continue
        writer.add_clip(job.key, frames, split=job.split, meta=job.meta)
        report.written.append(job.key)
        if progress is not None:
            progress(f"{step}: {frames.shape[0]} frames -> {job.split}")
    done = writer.done()
    if not done:
        writer.discard()  # nothing to resume: a rerun starts over
        reasons = "; ".join(f"{k}: {v}" for k, v in list(report.skipped.items())[:3])
        raise ValueError(
            f"no clip could be written to {str(writer.path)!r}, nothing was kept"
            + (f" (first failures: {reasons})" if reasons else " (no input found)")
        )
    counts = dict.fromkeys(SPLITS, 0)
    for job in jobs:
        if job.key in done:
            counts[job.split] += 1
    report.empty_splits = [split for split, count in counts.items() if not count]
    shown = ", ".join(f"{split}={count}" for split, count in counts.items())
    for split in report.empty_splits:
        logger.warning(
            "%s: split %r has no clip (clips per split: %s)%s",
            writer.path,
            split,
            shown,
            f"; {empty_split_hint}" if empty_split_hint else "",
        )
    report.out = writer.finish()
    return report
