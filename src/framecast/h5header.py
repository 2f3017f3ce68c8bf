"""The header of every HDF5 file framecast writes: a ``format`` attribute naming its kind.

Each kind of file (catalog store, frames, rate and catalog forecasts, radio
series, video cache) has its format text, e.g. ``"framecast catalog 1"``:
what it holds and the version of its layout. :func:`write_header` puts it on
the file; :func:`check_header` refuses a file that does not carry it, in one
line naming the file, what was found and what was expected.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

FORMAT_ATTRIBUTE = "format"
"""The name of the HDF5 attribute that holds a file's format text."""


class HasAttrs(Protocol):
    """An open HDF5 file or group (``h5py.File``, ``h5py.Group``): anything with ``attrs``."""

    @property
    def attrs(self) -> Any: ...


def write_header(handle: HasAttrs, format_text: str) -> None:
    """Mark the open file ``handle`` as holding ``format_text`` (e.g. ``"framecast catalog 1"``)."""
    handle.attrs[FORMAT_ATTRIBUTE] = format_text


def read_header(handle: HasAttrs) -> str | None:
    """The format text of the open file ``handle``; None when it has none."""
    found = handle.attrs.get(FORMAT_ATTRIBUTE)
    return found.decode() if isinstance(found, bytes) else found


def check_header(
    handle: HasAttrs,
    path: str | os.PathLike[str],
    format_text: str,
    what: str,
    hint: str = "",
) -> None:
    """Refuse the open file ``handle`` unless its header is ``format_text``.

    Parameters
    ----------
    handle : h5py.File or h5py.Group
        The file, open for reading.
    path : path
        Its name, for the message.
    format_text : str
        The expected format text.
    what : str
        What such a file is, for the message (``"framecast catalog store"``).
    hint : str, optional
        How to get a good one (``"write one with `framecast quake grid`"``).

    Raises
    ------
    ValueError
        One line: ``'<path>' is not a <what> (format attribute <found>,
        expected <format_text>); <hint>``.
    """
    found = read_header(handle)
    if found != format_text:
        raise ValueError(
            f"{str(path)!r} is not a {what} (format attribute {found!r}, expected "
            f"{format_text!r})" + (f"; {hint}" if hint else "")
        )
