"""The one rule of every quake stage: reuse its file when it is there, else build and write it.

A quake run (``quake run``, ``quake radio compare-aux``) writes each stage's
result to one file under its ``out_dir`` and reads it back on the next run,
so that an interrupted run resumes where it stopped. A file that is there
holds this run's settings: the run's settings file (``experiment.yaml``,
``compare_aux.yaml``) is compared with the run's settings before any stage
runs, a change that invalidates a file deletes it (or the run is refused),
and every file is written whole (:func:`framecast.files.atomic_write`), so
that a killed run leaves no partial file to reuse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from framecast.quake.rates import RateForecast
from framecast.quake.settings import Log

T = TypeVar("T")


def reuse_or_build(
    path: Path,
    label: str,
    log: Log,
    *,
    load: Callable[[Path], T],
    build: Callable[[Path], T],
    note: Callable[[T], str] | None = None,
) -> T:
    """The result of one stage: read from ``path`` when the file is there, else built.

    Parameters
    ----------
    path : Path
        The stage's file under the run's ``out_dir``.
    label : str
        The stage's name in the log (``"frames"``, ``"forecast etas"``, ...).
    log : callable
        Takes one line: ``"<label>: reusing <path>"`` when the file is reused.
    load : callable
        Reads the result from ``path``.
    build : callable
        Computes the result, writes it to ``path`` atomically and logs what
        it wrote; called with ``path`` only when the file is not there.
    note : callable, optional
        A few words on a reused result for its log line, in brackets.

    Returns
    -------
    The stage's result, reused or built.
    """
    if not path.is_file():
        return build(path)
    result = load(path)
    log(f"{label}: reusing {path}" + (f" ({note(result)})" if note is not None else ""))
    return result


def stage_forecast(
    path: Path,
    label: str,
    log: Log,
    build: Callable[[], RateForecast],
    mask: np.ndarray | None = None,
) -> RateForecast:
    """A rate forecast of the test period: ``path`` reused, or ``build()`` saved there.

    ``mask`` (the testing region's cells) zeroes the built forecast outside
    it: nothing is forecast or scored there.
    """

    def write(path: Path) -> RateForecast:
        forecast = build()
        if mask is not None:
            forecast = dataclasses.replace(forecast, rates=forecast.rates * mask)
        forecast.save(path)
        log(f"{label}: {forecast.rates.sum():.1f} events expected -> {path}")
        return forecast

    return reuse_or_build(path, label, log, load=RateForecast.load, build=write)
