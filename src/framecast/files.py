"""Writes that never leave a half-written file behind.

Every file framecast writes whole (catalog stores, frames, forecasts, pyCSEP
forecast files) goes through :func:`atomic_write`: the content is written to
``<name>.partial`` beside the target (the same filesystem, so the final
rename is atomic rather than a copy), fsynced, renamed over the target, and
the rename itself is made durable by fsyncing the folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


def fsync_directory(directory: str | os.PathLike[str]) -> None:
    """Make a rename inside ``directory`` durable (POSIX); no-op where folders cannot open."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step.

    The caller writes and closes the temporary file inside the ``with``
    block. It is then fsynced and renamed over ``path`` with ``os.replace``
    (atomic on POSIX), so a crash or an exception at any point leaves either
    the old file or the new one, never a mix; the temporary file is removed
    on failure. A ``path`` inside an open :class:`~framecast.runfolder.RunFolder`
    is recorded in its manifest first.

    Examples
    --------
    >>> with atomic_write("scores.json") as partial:  # doctest: +SKIP
    ...     partial.write_text("{}")
    """
    from framecast.runfolder import note_written

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    note_written(path)  # listed in its run folder's manifest before it exists
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    try:
        yield partial
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    fsync_directory(path.parent)


def check_writable_dir(directory: str | os.PathLike[str], what: str = "output folder") -> Path:
    """Create ``directory`` if needed and check that files can be written in it.

    Called before a long job so that an unwritable ``--out`` fails at once
    rather than after the work is done.

    Raises
    ------
    ValueError
        The folder cannot be created or written to; one line naming it and why.
    """
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".framecast-write-test-{os.getpid()}{PARTIAL_SUFFIX}"
        probe.write_bytes(b"")
        probe.unlink()
    except PermissionError:
        raise ValueError(f"cannot write to {what} {str(directory)!r}: permission denied") from None
    except FileExistsError:
        raise ValueError(f"{what} {str(directory)!r} is a file, not a folder") from None
    except OSError as err:
        raise ValueError(f"cannot write to {what} {str(directory)!r}: {err.strerror}") from None
    return directory
