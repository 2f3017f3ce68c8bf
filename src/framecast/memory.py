"""Sizes checked against memory before a large allocation, with the estimate in the message.

A grid of a millionth of a degree or a forecast horizon of a hundred
thousand frames asks numpy or torch for terabytes: it fails with a
traceback after minutes, or swaps the machine. Commands that allocate in
proportion to a user's setting estimate the bytes first and refuse, in one
line, what does not fit in the memory available now.
"""

from __future__ import annotations

import os
from pathlib import Path

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def format_bytes(count: float) -> str:
    """``5.45 TiB``: a byte count in binary units with three significant digits.

    Parameters
    ----------
    count : float
        Bytes.

    Returns
    -------
    str
    """
    value = float(count)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now, or None where it cannot be told.

    Linux: ``MemAvailable`` of ``/proc/meminfo`` (free memory plus what the
    kernel can reclaim); elsewhere the free pages ``os.sysconf`` reports.

    Returns
    -------
    int or None
    """
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def check_memory(needed: float, what: str, advice: str) -> None:
    """Refuse an allocation of about ``needed`` bytes that exceeds the memory available.

    Parameters
    ----------
    needed : float
        Estimated peak bytes of the job.
    what : str
        What would be allocated, for the message ("frames of 52 bins on a
        100000x100000 grid").
    advice : str
        What to change ("use a larger --cell").

    Raises
    ------
    ValueError
        One line with the estimate, the memory available and ``advice``.
    """
    available = available_memory()
    if available is None or needed <= available:
        return
    raise ValueError(
        f"{what} would need about {format_bytes(needed)} of memory, more than the "
        f"{format_bytes(available)} available; {advice}"
    )
