"""Errors of a job the user asked for that the command line reports in one line.

Bad input is a ``ValueError`` (exit status 2); a :class:`FramecastError` is a
job that started and cannot finish as asked (a runaway ETAS cascade, say):
the command line prints its message and exits with status 1, no traceback.
"""

from __future__ import annotations


class FramecastError(RuntimeError):
    """A job that cannot finish as asked; the message says why and what to change."""


class RunawaySimulationError(FramecastError):
    """An ETAS simulation passed its event limit: the cascade runs away (or is too large)."""
