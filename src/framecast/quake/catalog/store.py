"""An HDF5 file holding one earthquake catalog, safe to grow while fetching.

Layout (format ``"framecast catalog 1"``, the root attribute ``format``):

``/events/<column>``
    One dataset per :data:`~framecast.quake.catalog.events.COLUMNS` entry, all of
    one length, sorted by origin time: strings as variable-length UTF-8,
    ``time`` as int64 microseconds since 1970-01-01 UTC, numbers float64.
``/completed_blocks``
    Variable-length UTF-8 strings: the fetch blocks (e.g. time windows)
    already stored, so an interrupted fetch resumes where it stopped.
root attribute ``metadata``
    A JSON object of str to str (source, query, fetched_at, ...).

Every write builds a complete new file next to the target
(``<name>.partial``), flushes and fsyncs it, then renames it over the
target, so a crash or a kill mid-write leaves the previous store intact.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

from framecast.files import atomic_write
from framecast.h5header import check_header, write_header
from framecast.quake.catalog.events import COLUMNS, TIME_UNIT, Catalog

FORMAT = "framecast catalog 1"
"""Value of the root ``format`` attribute of a catalog store."""

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
"""The first bytes of an HDF5 file."""

_STRING_COLUMNS = frozenset({"event_id", "magnitude_type", "event_type"})
_UNITS = {
    "time": "microseconds since 1970-01-01T00:00:00 UTC",
    "latitude": "degrees north (WGS84)",
    "longitude": "degrees east (WGS84)",
    "depth": "km below sea level",
}


class CatalogStore:
    """A catalog in an HDF5 file, with metadata and the fetch blocks completed.

    Parameters
    ----------
    path : str or os.PathLike
        The store's file; it need not exist until the first :meth:`append`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"CatalogStore({str(self.path)!r})"

    def exists(self) -> bool:
        """Whether the store's file exists."""
        return self.path.is_file()

    # ------------------------------------------------------------------ reading
    def read(self) -> Catalog:
        """All events, sorted by origin time.

        Raises
        ------
        FileNotFoundError
            The store does not exist.
        ValueError
            The file is not a framecast catalog store.
        """
        with self._open() as handle:
            return _read_events(handle, self.path).sorted()

    def metadata(self) -> dict[str, str]:
        """The store's metadata; empty when the store does not exist yet."""
        if not self.exists():
            return {}
        with self._open() as handle:
            return _read_metadata(handle, self.path)

    def completed_blocks(self) -> set[str]:
        """Names of the fetch blocks stored; empty when the store does not exist yet."""
        if not self.exists():
            return set()
        with self._open() as handle:
            return _read_blocks(handle)

    def __len__(self) -> int:
        """Number of events (0 when the store does not exist yet)."""
        if not self.exists():
            return 0
        with self._open() as handle:
            return int(handle["events/event_id"].shape[0])

    def _open(self) -> h5py.File:
        """The store's file, open for reading, after checking it is a store."""
        if not self.exists():
            raise FileNotFoundError(f"catalog store not found: {str(self.path)!r}")
        try:
            handle = h5py.File(self.path, "r")
        except PermissionError:
            raise
        except OSError as error:
            raise ValueError(
                f"{str(self.path)!r} is not a framecast catalog store (not an HDF5 file: {error})"
            ) from None
        try:
            check_header(handle, self.path, FORMAT, "framecast catalog store")
        except ValueError:
            handle.close()
            raise
        if "events" not in handle:
            handle.close()
            raise ValueError(f"catalog store {str(self.path)!r} lacks its events group")
        return handle

    # ------------------------------------------------------------------ writing
    def append(
        self,
        catalog: Catalog,
        *,
        metadata: Mapping[str, str] | None = None,
        completed_blocks: Sequence[str] = (),
    ) -> int:
        """Merge ``catalog`` into the store, creating it if needed.

        Events are de-duplicated by ``event_id``: an id already stored is
        replaced by its version in ``catalog`` (a re-fetch updates an event).
        ``metadata`` is merged into the stored metadata (new values win) and
        ``completed_blocks`` added to the stored ones. The file is replaced
        atomically (see the module docstring).

        Parameters
        ----------
        catalog : Catalog
            Events to add, of any event type.
        metadata : mapping of str to str, optional
            E.g. ``{"source": ..., "query": ..., "fetched_at": ...}``.
        completed_blocks : sequence of str
            Fetch blocks this append completes.

        Returns
        -------
        int
            The number of event ids that were not in the store before.

        Raises
        ------
        ValueError
            The file exists but is not a catalog store.
        TypeError
            A metadata key or value, or a block name, is not a str.
        """
        if not isinstance(catalog, Catalog):
            raise TypeError(f"append takes a Catalog, got {type(catalog).__name__}")
        new_metadata = _check_metadata(metadata or {})
        new_blocks = _check_blocks(completed_blocks)
        if self.exists():
            with self._open() as handle:
                stored = _read_events(handle, self.path)
                merged_metadata = _read_metadata(handle, self.path)
                blocks = _read_blocks(handle)
        else:
            stored, merged_metadata, blocks = Catalog.empty(), {}, set()
        added = len(set(catalog.event_id.tolist()).difference(stored.event_id.tolist()))
        merged = Catalog.concat([stored, catalog]).deduplicated()
        merged_metadata.update(new_metadata)
        _write_atomic(self.path, merged, merged_metadata, blocks | new_blocks)
        return added

    @classmethod
    def write(
        cls,
        path: str | os.PathLike[str],
        catalog: Catalog,
        metadata: Mapping[str, str] | None = None,
        completed_blocks: Sequence[str] = (),
    ) -> CatalogStore:
        """Write ``catalog`` as a new store at ``path``, atomically replacing any file there.

        Duplicate event ids keep their last occurrence; events are sorted by time.
        """
        if not isinstance(catalog, Catalog):
            raise TypeError(f"write takes a Catalog, got {type(catalog).__name__}")
        store = cls(path)
        _write_atomic(
            store.path,
            catalog.deduplicated(),
            _check_metadata(metadata or {}),
            _check_blocks(completed_blocks),
        )
        return store


def write_catalog(
    path: str | os.PathLike[str],
    catalog: Catalog,
    metadata: Mapping[str, str] | None = None,
) -> CatalogStore:
    """Write ``catalog`` as a new :class:`CatalogStore` at ``path``, replacing any file there.

    The file is written to ``<path>.partial``, fsynced and renamed over
    ``path``, so readers see either the old file or the complete new one.

    Parameters
    ----------
    path : str or os.PathLike
        The store's file (parent folders are created).
    catalog : Catalog
        The events; duplicate ids keep their last occurrence.
    metadata : mapping of str to str, optional
        Stored as the store's metadata.

    Returns
    -------
    CatalogStore
    """
    return CatalogStore.write(path, catalog, metadata)


# ---------------------------------------------------------------------- helpers
def _check_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"catalog store metadata must map str to str; got {key!r}: {value!r} "
                f"({type(value).__name__})"
            )
    return dict(metadata)


def _check_blocks(blocks: Iterable[str]) -> set[str]:
    if isinstance(blocks, str):
        raise TypeError(f"completed_blocks must be a sequence of str, not the string {blocks!r}")
    checked = set()
    for block in blocks:
        if not isinstance(block, str) or not block:
            raise TypeError(f"a completed block must be a non-empty str; got {block!r}")
        checked.add(block)
    return checked


def _read_events(handle: h5py.File, path: Path) -> Catalog:
    events = handle["events"]
    columns = {}
    for name in COLUMNS:
        if name not in events:
            raise ValueError(f"catalog store {str(path)!r} lacks the events/{name} dataset")
        dataset = events[name]
        if name in _STRING_COLUMNS:
            columns[name] = np.asarray(dataset.asstr()[()], dtype=str)
        elif name == "time":
            columns[name] = dataset[()].astype(np.int64).astype(TIME_UNIT)
        else:
            columns[name] = dataset[()].astype(np.float64)
    return Catalog(**columns)


def _read_metadata(handle: h5py.File, path: Path) -> dict[str, str]:
    text = handle.attrs.get("metadata", "{}")
    try:
        metadata = json.loads(text)
    except (TypeError, ValueError) as error:
        raise ValueError(f"catalog store {str(path)!r} has unreadable metadata: {error}") from None
    return {str(key): str(value) for key, value in metadata.items()}


def _read_blocks(handle: h5py.File) -> set[str]:
    if "completed_blocks" not in handle:
        return set()
    return set(handle["completed_blocks"].asstr()[()].tolist())


def _write_contents(
    handle: h5py.File, catalog: Catalog, metadata: Mapping[str, str], blocks: set[str]
) -> None:
    write_header(handle, FORMAT)
    handle.attrs["metadata"] = json.dumps(dict(metadata), sort_keys=True, ensure_ascii=False)
    strings = h5py.string_dtype("utf-8")
    events = handle.create_group("events")
    for name, column in catalog.sorted().columns().items():
        if name in _STRING_COLUMNS:
            dataset = events.create_dataset(name, data=column.astype(object), dtype=strings)
        elif name == "time":
            dataset = events.create_dataset(name, data=column.astype(np.int64))
        else:
            dataset = events.create_dataset(name, data=column.astype(np.float64))
        if name in _UNITS:
            dataset.attrs["units"] = _UNITS[name]
    handle.create_dataset(
        "completed_blocks", data=np.array(sorted(blocks), dtype=object), dtype=strings
    )


def _write_atomic(
    path: Path, catalog: Catalog, metadata: Mapping[str, str], blocks: set[str]
) -> None:
    """Write a complete store beside ``path`` and rename it over ``path`` (:func:`atomic_write`)."""
    with atomic_write(path) as partial, h5py.File(partial, "w") as handle:
        _write_contents(handle, catalog, metadata, blocks)
        handle.flush()
