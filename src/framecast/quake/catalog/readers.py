"""Read earthquake catalogs from the formats services and benchmarks publish.

Every reader returns a :class:`~framecast.quake.catalog.events.Catalog`:

* FDSN text (``format=text`` of an FDSN event web service, such as INGV's),
  :func:`read_fdsn_text` and :func:`parse_fdsn_text_lines`;
* QuakeML, through ObsPy, :func:`read_quakeml`;
* CSV catalogs as pyCSEP and the EarthquakeNPP benchmark write them,
  :func:`read_csv_catalog`;
* any of these or a :class:`~framecast.quake.catalog.store.CatalogStore` by file
  name or content, :func:`read_catalog`.

Errors name the file, the line, the bad value and what was expected.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from framecast.quake.catalog.events import COLUMNS, EARTHQUAKE, TIME_UNIT, Catalog
from framecast.quake.catalog.store import HDF5_SIGNATURE, CatalogStore

Source = str | os.PathLike[str] | bytes | IO[str] | IO[bytes]

DEFAULT_EVENT_TYPES: tuple[str, ...] = (EARTHQUAKE,)

FDSN_TEXT_COLUMNS: tuple[str, ...] = (
    "EventID",
    "Time",
    "Latitude",
    "Longitude",
    "Depth/Km",
    "Author",
    "Catalog",
    "Contributor",
    "ContributorID",
    "MagType",
    "Magnitude",
    "MagAuthor",
    "EventLocationName",
    "EventType",
)
"""Columns of the FDSN event text format, in the order services write them."""

FDSN_TEXT_REQUIRED: tuple[str, ...] = ("EventID", "Time", "Latitude", "Longitude", "Magnitude")

logger = logging.getLogger(__name__)

_TIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?Z?$")
_TIME_EXPECTED = "a UTC time like 2023-04-19T14:50:48.640000"


# ---------------------------------------------------------------- field parsing
def _where(source: str, line: int) -> str:
    return f"{source}, line {line}"


def _parse_float(
    value: str, *, column: str, source: str, line: int, required: bool, bound: float | None = None
) -> float:
    """One number; "" is NaN unless ``required``; ``bound`` checks ``|value| <= bound``."""
    text = value.strip()
    if not text:
        if required:
            raise ValueError(f"{_where(source, line)}: {column} is empty; expected a number")
        return float("nan")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{_where(source, line)}: {column} {value!r} is not a number") from None
    if np.isinf(number) or (required and np.isnan(number)):
        raise ValueError(f"{_where(source, line)}: {column} {value!r}; expected a finite number")
    if bound is not None and not abs(number) <= bound:
        raise ValueError(
            f"{_where(source, line)}: {column} {value!r} is out of range; "
            f"expected a number in [-{bound:g}, {bound:g}]"
        )
    return number


def _parse_time(value: str, *, column: str, source: str, line: int) -> np.datetime64:
    """One origin time, ISO 8601 with "T" or a space, optionally ending in "Z" (UTC)."""
    text = value.strip()
    if not _TIME_PATTERN.match(text):
        raise ValueError(f"{_where(source, line)}: {column} {value!r}; expected {_TIME_EXPECTED}")
    try:
        return np.datetime64(text.removesuffix("Z"), "us")
    except ValueError as error:
        raise ValueError(
            f"{_where(source, line)}: {column} {value!r} is not a valid date ({error}); "
            f"expected {_TIME_EXPECTED}"
        ) from None


def _require_id(value: str, *, column: str, source: str, line: int) -> str:
    text = value.strip()
    if not text:
        raise ValueError(f"{_where(source, line)}: {column} is empty; expected an event id")
    return text


class _Table:
    """Raw text fields by column, parsed column-wise into catalog columns.

    Each column is converted in one vectorised step; only when that fails is
    it re-parsed value by value, to name the first bad line and value.
    """

    def __init__(self, columns: dict[str, list[str]], lines: list[int], source: str) -> None:
        self.columns = columns
        self.lines = lines
        self.source = source

    def __len__(self) -> int:
        return len(self.lines)

    def raw(self, name: str) -> list[str]:
        """The fields of column ``name``, all "" when the column is absent."""
        return self.columns.get(name, [""] * len(self))

    def ids(self, name: str) -> np.ndarray:
        values = [value.strip() for value in self.raw(name)]
        for value, line in zip(values, self.lines, strict=True):
            if not value:
                _require_id(value, column=name, source=self.source, line=line)
        return np.asarray(values, dtype=str)

    def strings(self, name: str) -> np.ndarray:
        return np.asarray([value.strip() for value in self.raw(name)], dtype=str)

    def floats(self, name: str, *, required: bool, bound: float | None = None) -> np.ndarray:
        values = self.raw(name)
        try:
            filled = values if required else [value.strip() or "nan" for value in values]
            array = np.asarray(filled, dtype=str).astype(np.float64)
            bad = np.isinf(array)
            if required:
                bad |= np.isnan(array)
            if bound is not None:
                bad |= np.abs(array) > bound
            if not bad.any():
                return array
        except ValueError:
            pass
        return np.asarray(
            [
                _parse_float(
                    value,
                    column=name,
                    source=self.source,
                    line=line,
                    required=required,
                    bound=bound,
                )
                for value, line in zip(values, self.lines, strict=True)
            ],
            dtype=np.float64,
        )

    def times(self, name: str) -> np.ndarray:
        values = [value.strip() for value in self.raw(name)]
        if all(_TIME_PATTERN.match(value) for value in values):
            try:
                return np.asarray([value.removesuffix("Z") for value in values], dtype=TIME_UNIT)
            except ValueError:
                pass
        return np.asarray(
            [
                _parse_time(value, column=name, source=self.source, line=line)
                for value, line in zip(values, self.lines, strict=True)
            ],
            dtype=TIME_UNIT,
        )


def _keep_types(catalog: Catalog, event_types: Sequence[str] | None) -> Catalog:
    if event_types is None:
        return catalog
    if isinstance(event_types, str):
        raise TypeError(
            f"event_types must be a sequence of type names such as ('earthquake',), "
            f"not the string {event_types!r}"
        )
    return catalog.filter(event_types=event_types)


def _read_source(source: Source) -> tuple[str, str]:
    """(text, name for messages) of a path, bytes or an open file."""
    if isinstance(source, bytes):
        return _decode(source, "<bytes>"), "<bytes>"
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"catalog file not found: {str(path)!r}")
        return _decode(path.read_bytes(), str(path)), str(path)
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "<stream>"))
        content = source.read()
        if isinstance(content, bytes):
            return _decode(content, name), name
        return str(content), name
    raise TypeError(
        f"cannot read a catalog from {type(source).__name__}; "
        "expected a path, bytes or an open file"
    )


def _decode(content: bytes, name: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{name}: not UTF-8 text ({error})") from None


# ------------------------------------------------------------------ FDSN text
def _fdsn_header(line: str, source: str, number: int) -> dict[str, int]:
    """Column name -> field position of the FDSN text header ``line`` (line ``number``)."""
    if not line.startswith("#"):
        raise ValueError(
            f"{_where(source, number)}: {line[:80]!r} is not an FDSN text header; expected a line "
            f"starting with '#EventID|Time|...'"
        )
    names = [name.strip() for name in line[1:].split("|")]
    canonical = {name.lower(): name for name in FDSN_TEXT_COLUMNS}
    positions: dict[str, int] = {}
    for position, name in enumerate(names):
        known = canonical.get(name.lower())
        if known is None:
            raise ValueError(
                f"{_where(source, number)}: unknown column {name!r} in the FDSN text header; "
                f"expected columns among {'|'.join(FDSN_TEXT_COLUMNS)}"
            )
        if known in positions:
            raise ValueError(
                f"{_where(source, number)}: column {name!r} appears twice in the header"
            )
        positions[known] = position
    for name in FDSN_TEXT_REQUIRED:
        if name not in positions:
            raise ValueError(
                f"{_where(source, number)}: the FDSN text header lacks the required column "
                f"{name!r}; found columns: {'|'.join(names)}"
            )
    return positions


def _build(
    table: _Table,
    *,
    event_id: str | None,
    time: str,
    latitude: str,
    longitude: str,
    magnitude: str,
    depth: str | None = None,
    magnitude_type: str | None = None,
    event_type: str | None = None,
) -> Catalog:
    """A catalog from ``table``, each argument naming the table column to use.

    A column given as None is unknown: the row number for ``event_id``, NaN
    for ``depth``, "" for the type columns.
    """
    n = len(table)
    if not n:
        return Catalog.empty()
    return Catalog(
        event_id=np.arange(n).astype(str) if event_id is None else table.ids(event_id),
        time=table.times(time),
        latitude=table.floats(latitude, required=True, bound=90.0),
        longitude=table.floats(longitude, required=True, bound=180.0),
        depth=np.full(n, np.nan) if depth is None else table.floats(depth, required=False),
        magnitude=table.floats(magnitude, required=False),
        magnitude_type=np.full(n, "") if magnitude_type is None else table.strings(magnitude_type),
        event_type=np.full(n, "") if event_type is None else table.strings(event_type),
    )


def parse_fdsn_text_lines(
    text: str | bytes,
    *,
    event_types: Sequence[str] | None = None,
    source: str = "FDSN text",
) -> Catalog:
    """Parse the body of an FDSN event service response in ``format=text``.

    The FDSN text format (FDSN Web Service Specifications, fdsnws-event
    ``format=text``) is one header line
    ``#EventID|Time|Latitude|Longitude|Depth/Km|Author|Catalog|Contributor|
    ContributorID|MagType|Magnitude|MagAuthor|EventLocationName|EventType``
    and one pipe-separated row per event. Older responses (INGV before the
    EventType column) have the first 13 columns only; their events get
    event type "" (unknown, which :meth:`Catalog.filter` keeps as an
    earthquake). Columns are matched by name, case-insensitively.

    Parameters
    ----------
    text : str or bytes
        The response body (UTF-8 when bytes). An empty body (HTTP 204) is
        an empty catalog.
    event_types : sequence of str, optional
        Event types to keep (case-insensitive). The default None keeps every
        type, as a fetcher storing raw responses needs; pass
        ``("earthquake",)`` to drop quarry blasts and the like.
    source : str
        Name of the text in error messages (a URL or a file name).

    Returns
    -------
    Catalog
        Events in the order of the rows.

    Raises
    ------
    ValueError
        No header, an unknown or missing column, or a malformed row: a row
        with the wrong number of fields (as the last line of a truncated
        body has), an unparsable time or number, or a latitude/longitude out
        of range. The message names the line, the value and what was expected.
    """
    if isinstance(text, bytes):
        text = _decode(text, source)
    lines = [line.rstrip("\r") for line in text.removeprefix("\ufeff").split("\n")]
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return Catalog.empty()
    header = lines[first].strip()
    columns = _fdsn_header(header, source, first + 1)
    width = len(header[1:].split("|"))
    records: list[list[str]] = []
    numbers: list[int] = []
    for number, line in enumerate(lines[first + 1 :], start=first + 2):
        if not line.strip() or line.strip() == header:
            continue  # blank lines; a repeated header of concatenated pages
        fields = line.split("|")
        if len(fields) != width:
            raise ValueError(
                f"{_where(source, number)}: {len(fields)} fields in {line[:120]!r}; expected "
                f"{width} fields separated by '|' as in the header (a truncated response?)"
            )
        records.append(fields)
        numbers.append(number)
    by_position = [list(values) for values in zip(*records, strict=True)] or [[]] * width
    table = _Table(
        {name: by_position[position] for name, position in columns.items()}, numbers, source
    )
    catalog = _build(
        table,
        event_id="EventID",
        time="Time",
        latitude="Latitude",
        longitude="Longitude",
        depth="Depth/Km",
        magnitude="Magnitude",
        magnitude_type="MagType",
        event_type="EventType",
    )
    return _keep_types(catalog, event_types)


def read_fdsn_text(
    source: Source, *, event_types: Sequence[str] | None = DEFAULT_EVENT_TYPES
) -> Catalog:
    """Read a catalog in the FDSN event text format (``format=text``).

    The format is the pipe-separated table FDSN event web services return
    for ``format=text`` (FDSN Web Service Specifications 1.2, fdsnws-event;
    e.g. INGV's ``https://webservices.ingv.it/fdsnws/event/1/query``), with
    or without the final EventType column; see :func:`parse_fdsn_text_lines`.
    Empty depth or magnitude fields are NaN, empty MagType/EventType "".

    Parameters
    ----------
    source : str, os.PathLike, bytes or file
        A path (a str is always taken as a path), the content as UTF-8
        bytes, or an open text or binary file.
    event_types : sequence of str, optional
        Event types to keep, case-insensitively; "" (no EventType column)
        counts as an earthquake. None keeps every type.

    Returns
    -------
    Catalog

    Raises
    ------
    FileNotFoundError
        ``source`` is a path that does not exist.
    ValueError
        Bad header or malformed row, naming the line and value.
    """
    text, name = _read_source(source)
    return parse_fdsn_text_lines(text, event_types=event_types, source=name)


# -------------------------------------------------------------------- QuakeML
def _event_id(resource_id: str) -> str:
    """The id of an event from its QuakeML resource id.

    ``smi:webservices.ingv.it/fdsnws/event/1/query?eventId=34726341`` gives
    ``34726341``, ``quakeml:us.anss.org/event/ci37219156`` ``ci37219156``,
    ``smi:ISC/evid=600516598`` ``600516598``.
    """
    parts = urllib.parse.urlsplit(resource_id)
    for key, values in urllib.parse.parse_qs(parts.query).items():
        if key.lower() == "eventid" and values and values[0].strip():
            return values[0].strip()
    tail = resource_id.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    tail = tail.rsplit("=", 1)[-1].strip()
    return tail or resource_id


def _import_obspy() -> Any:
    try:
        import obspy
    except ImportError as error:
        raise ImportError(
            "reading QuakeML needs ObsPy, which is not installed; "
            "install it with: pip install 'framecast[quake]'"
        ) from error
    return obspy


def read_quakeml(
    path: str | os.PathLike[str],
    *,
    event_types: Sequence[str] | None = DEFAULT_EVENT_TYPES,
) -> Catalog:
    """Read a QuakeML file (QuakeML 1.2, quakeml.org) with ObsPy's ``read_events``.

    Each event contributes its preferred origin (else its first) and its
    preferred magnitude (else its first; NaN and "" without one). The event
    id is taken from the event's resource id: the ``eventId=`` query value
    when there is one, else the last path part. Depths are converted from
    metres to km; the event type is ObsPy's ``event.event_type`` ("" when
    unset).

    Parameters
    ----------
    path : str or os.PathLike
        The QuakeML file.
    event_types : sequence of str, optional
        Event types to keep, case-insensitively ("" counts as an
        earthquake). None keeps every type.

    Returns
    -------
    Catalog

    Raises
    ------
    ImportError
        ObsPy is not installed (``pip install 'framecast[quake]'``).
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        The file is not QuakeML, or an event has no origin.
    """
    obspy = _import_obspy()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"QuakeML file not found: {str(path)!r}")
    try:
        events = obspy.read_events(str(path), format="QUAKEML")
    except Exception as error:  # ObsPy raises TypeError, XMLSyntaxError and others
        raise ValueError(f"{str(path)!r} is not a readable QuakeML file: {error}") from error
    rows = [_quakeml_event(event, str(path)) for event in events]
    if not rows:
        return Catalog.empty()
    catalog = Catalog(**{name: [row[name] for row in rows] for name in COLUMNS})
    return _keep_types(catalog, event_types)


def _quakeml_event(event: Any, source: str) -> dict[str, Any]:
    """One catalog row (column name -> value) of an ObsPy event."""
    event_id = _event_id(str(event.resource_id))
    origin = event.preferred_origin() or (event.origins[0] if event.origins else None)
    if origin is None or origin.time is None:
        raise ValueError(f"{source}: event {event_id!r} has no origin (time and place)")
    if origin.latitude is None or origin.longitude is None:
        raise ValueError(f"{source}: event {event_id!r} has an origin without latitude/longitude")
    magnitude = event.preferred_magnitude() or (event.magnitudes[0] if event.magnitudes else None)
    has_magnitude = magnitude is not None and magnitude.mag is not None
    return {
        "event_id": event_id,
        "time": np.datetime64(int(origin.time.ns) // 1000, "us"),
        "latitude": float(origin.latitude),
        "longitude": float(origin.longitude),
        "depth": float("nan") if origin.depth is None else float(origin.depth) / 1000.0,
        "magnitude": float(magnitude.mag) if has_magnitude else float("nan"),
        "magnitude_type": "" if magnitude is None else str(magnitude.magnitude_type or ""),
        "event_type": str(event.event_type or ""),
    }


# ------------------------------------------------------------------------ CSV
@dataclass(frozen=True)
class CsvLayout:
    """A CSV catalog layout: its required and optional header columns."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    description: str

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


CSV_COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "time": ("time", "datetime", "origin_time", "origintime", "time_string", "date_time"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "lng", "long"),
    "magnitude": ("magnitude", "mag"),
    "depth": ("depth", "depth_km", "depth/km", "depthkm"),
    "event_id": ("event_id", "eventid", "id", "evid", "event", "index"),
    "magnitude_type": ("magnitude_type", "magtype", "mag_type"),
    "event_type": ("event_type", "eventtype"),
}
"""Catalog column -> the CSV header names read as it (compared case-insensitively, with
spaces and hyphens read as underscores). For the event id the first name present wins."""

CSV_REQUIRED: tuple[str, ...] = ("time", "latitude", "longitude", "magnitude")
"""Catalog columns a named-column CSV must have."""

_QUIETLY_IGNORED = frozenset({"x", "y"})
"""EarthquakeNPP's projected coordinates (km): ignored without a warning."""

CSV_LAYOUTS: dict[str, CsvLayout] = {
    "pycsep": CsvLayout(
        name="pycsep",
        required=("lon", "lat", "mag", "time_string", "depth"),
        optional=("catalog_id", "event_id"),
        description="pyCSEP CSEPCatalog.write_ascii: lon,lat,mag,time_string,depth,"
        "catalog_id,event_id",
    ),
    "earthquakenpp": CsvLayout(
        name="earthquakenpp",
        required=CSV_REQUIRED,
        optional=("depth", "event_id", "magnitude_type", "event_type"),
        description="EarthquakeNPP (index,time,longitude,latitude,magnitude,x,y) and other "
        "CSVs with named columns: time, latitude, longitude, magnitude, optional depth and "
        "event id, in any order, other columns ignored",
    ),
}
"""The CSV layouts :func:`read_csv_catalog` reads, by name."""


def _accepted_layouts() -> str:
    return "; ".join(layout.description for layout in CSV_LAYOUTS.values())


def _column_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _named_columns(header: list[str]) -> dict[str, list[str]]:
    """Catalog column -> the header columns that name it (in alias order)."""
    keys = {_column_key(name): name for name in header}
    return {
        field: [keys[alias] for alias in aliases if alias in keys]
        for field, aliases in CSV_COLUMN_NAMES.items()
    }


def _is_pycsep(header: list[str]) -> bool:
    return set(CSV_LAYOUTS["pycsep"].required) <= set(header)


def _detect_layout(header: list[str], source: str) -> CsvLayout:
    if _is_pycsep(header):
        return CSV_LAYOUTS["pycsep"]
    named = _named_columns(header)
    if not any(named[field] for field in CSV_REQUIRED):
        raise ValueError(
            f"{_where(source, 1)}: unknown CSV catalog header {','.join(header)!r}; "
            f"accepted layouts: {_accepted_layouts()}"
        )
    return CSV_LAYOUTS["earthquakenpp"]


def _check_repeats(header: list[str], source: str) -> None:
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ValueError(f"{_where(source, 1)}: column(s) {repeated} appear twice in the header")


def _warn_ignored(ignored: list[str], source: str, layout: str) -> None:
    if ignored:
        logger.warning(
            "%s: ignoring CSV column(s) %s (not read by the %s layout)",
            source,
            ", ".join(map(repr, ignored)),
            layout,
        )


def _pycsep_columns(header: list[str], source: str) -> None:
    """Check a pyCSEP header; columns it does not know are ignored (with a warning)."""
    layout = CSV_LAYOUTS["pycsep"]
    _check_repeats(header, source)
    missing = [name for name in layout.required if name not in header]
    if missing:
        raise ValueError(
            f"{_where(source, 1)}: the pycsep CSV layout needs column(s) "
            f"{', '.join(map(repr, missing))}; found columns: {','.join(header)}"
        )
    _warn_ignored([name for name in header if name not in layout.columns], source, "pycsep")


def _resolve_named_columns(header: list[str], source: str) -> dict[str, str]:
    """Catalog column -> header column of a named-column CSV; the rest ignored (with a warning).

    Raises
    ------
    ValueError
        A repeated column, a required catalog column with no header name, or
        one named twice (``lat`` and ``latitude``).
    """
    _check_repeats(header, source)
    named = _named_columns(header)
    missing = [field for field in CSV_REQUIRED if not named[field]]
    if missing:
        expected = "; ".join(f"{field}: {'|'.join(CSV_COLUMN_NAMES[field])}" for field in missing)
        raise ValueError(
            f"{_where(source, 1)}: no {', '.join(missing)} column (expected one of {expected}, "
            f"any case); found columns: {','.join(header)}"
        )
    for field, names in named.items():
        if field != "event_id" and len(names) > 1:
            raise ValueError(
                f"{_where(source, 1)}: columns {' and '.join(map(repr, names))} both give the "
                f"{field}; keep one"
            )
    chosen = {field: names[0] for field, names in named.items() if names}
    used = set(chosen.values())
    ignored = [name for name in header if name not in used and name not in _QUIETLY_IGNORED]
    _warn_ignored(ignored, source, "earthquakenpp")
    return chosen


def _csv_header(text: str, source: str) -> tuple[list[str], Any]:
    """(normalised header names, the csv reader positioned after the header)."""
    reader = csv.reader(io.StringIO(text))
    header_fields = next(reader, None)
    if not header_fields:
        raise ValueError(
            f"{_where(source, 1)}: empty; expected a CSV header line. Accepted layouts: "
            f"{_accepted_layouts()}"
        )
    return [name.strip().lower() for name in header_fields], reader


def _csv_table(header: list[str], reader: Any, source: str) -> _Table:
    """The rows after the header, as a table; blank lines are skipped."""
    records: list[list[str]] = []
    numbers: list[int] = []
    for fields in reader:
        if len(fields) <= 1 and not "".join(fields).strip():
            continue  # a blank line
        if len(fields) != len(header):
            raise ValueError(
                f"{_where(source, reader.line_num)}: {len(fields)} fields in "
                f"{','.join(fields)[:120]!r}; expected {len(header)} as in the header"
            )
        records.append(fields)
        numbers.append(reader.line_num)
    by_position = [list(values) for values in zip(*records, strict=True)] or [[]] * len(header)
    return _Table(dict(zip(header, by_position, strict=True)), numbers, source)


def _pycsep_catalog(table: _Table) -> Catalog:
    catalog_ids = {value.strip() for value in table.raw("catalog_id")}
    if len(catalog_ids) > 1:
        raise ValueError(
            f"{table.source}: holds {len(catalog_ids)} catalogs (catalog_id values "
            f"{sorted(catalog_ids)[:5]}); expected one observed catalog"
        )
    # pyCSEP's reader names an event without id by its 0-based line index.
    table.columns["event_id"] = [
        value.strip() or str(line - 1)
        for value, line in zip(table.raw("event_id"), table.lines, strict=True)
    ]
    return _build(
        table,
        event_id="event_id",
        time="time_string",
        latitude="lat",
        longitude="lon",
        depth="depth",
        magnitude="mag",
    )


def _named_catalog(table: _Table, columns: dict[str, str]) -> Catalog:
    return _build(
        table,
        event_id=columns.get("event_id"),
        time=columns["time"],
        latitude=columns["latitude"],
        longitude=columns["longitude"],
        magnitude=columns["magnitude"],
        depth=columns.get("depth"),
        magnitude_type=columns.get("magnitude_type"),
        event_type=columns.get("event_type"),
    )


def read_csv_catalog(path: Source, *, layout: str = "auto") -> Catalog:
    """Read a CSV catalog: pyCSEP's, the EarthquakeNPP benchmark's, or any with named columns.

    Layouts (the header line is required; names are matched
    case-insensitively, in any order):

    ``"pycsep"``
        pyCSEP's ASCII catalog, as ``CSEPCatalog.write_ascii`` writes it
        (pyCSEP 0.8, ``csep/core/catalogs.py``): header
        ``lon,lat,mag,time_string,depth,catalog_id,event_id``, times like
        ``2008-01-01T05:19:47.961000`` (UTC). An empty event_id becomes the
        row number, as pyCSEP's reader does. One file must hold one catalog
        (a single catalog_id).
    ``"earthquakenpp"``
        Named columns, as the EarthquakeNPP benchmark's catalogs (Stockman
        et al.: ``index,time,longitude,latitude,magnitude,x,y``, times
        ``YYYY-MM-DD HH:MM:SS.sss`` UTC) and most catalog exports write
        them. Required: time, latitude, longitude and magnitude; optional:
        depth (km; NaN when absent), an event id (the row number when
        absent), magnitude type and event type. The header names read as
        each are in :data:`CSV_COLUMN_NAMES` (``lat``/``latitude``,
        ``lon``/``lng``/``longitude``, ``mag``/``magnitude``,
        ``time``/``datetime``/``origin_time``, ``depth``/``depth_km``; the
        id from the first of ``event_id``, ``eventid``, ``id``, ``evid``,
        ``event``, ``index``). Other columns are ignored, with one logged
        warning naming them (EarthquakeNPP's projected ``x``, ``y`` silently).
    ``"auto"``
        pycsep when its columns are all there, else earthquakenpp.

    Events without an event type column get "" (unknown, counted as
    earthquakes by :meth:`Catalog.filter`).

    Parameters
    ----------
    path : str, os.PathLike, bytes or file
        The CSV file (a str is a path), its content or an open file.
    layout : {"auto", "pycsep", "earthquakenpp"}

    Returns
    -------
    Catalog

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        An unknown layout or header, a missing required column (named), a
        column repeated or two columns for one value, several catalog ids,
        or a malformed row (naming the line and the value).
    """
    if layout != "auto" and layout not in CSV_LAYOUTS:
        raise ValueError(
            f"unknown CSV layout {layout!r}; expected 'auto' or one of {sorted(CSV_LAYOUTS)}"
        )
    text, source = _read_source(path)
    header, reader = _csv_header(text, source)
    chosen = _detect_layout(header, source) if layout == "auto" else CSV_LAYOUTS[layout]
    if chosen.name == "pycsep":
        _pycsep_columns(header, source)
        return _pycsep_catalog(_csv_table(header, reader, source))
    columns = _resolve_named_columns(header, source)
    return _named_catalog(_csv_table(header, reader, source), columns)


# ------------------------------------------------------------------- dispatch
FORMATS: tuple[str, ...] = ("store", "quakeml", "csv", "fdsn-text")
"""Formats :func:`read_catalog` reads."""

_SUFFIXES = {
    ".h5": "store",
    ".hdf5": "store",
    ".xml": "quakeml",
    ".quakeml": "quakeml",
    ".qml": "quakeml",
    ".csv": "csv",
    ".txt": "fdsn-text",
}


def _sniff(path: Path) -> str | None:
    """The format of a file by its first bytes, or None."""
    with path.open("rb") as handle:
        head = handle.read(512)
    if head.startswith(HDF5_SIGNATURE):
        return "store"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    lowered = text.lower()
    if lowered.startswith("#eventid"):
        return "fdsn-text"
    if lowered.startswith("<?xml") or lowered.startswith("<q:quakeml"):
        return "quakeml"
    first = [name.strip().lower() for name in text.split("\n", 1)[0].split(",")]
    named = _named_columns(first)
    if _is_pycsep(first) or all(named[field] for field in CSV_REQUIRED):
        return "csv"
    return None


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of a catalog file: by suffix, else by its first bytes.

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        Neither the suffix nor the content is a known format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"catalog file not found: {str(path)!r}")
    by_suffix = _SUFFIXES.get(path.suffix.lower())
    if by_suffix is not None:
        return by_suffix
    sniffed = _sniff(path)
    if sniffed is None:
        raise ValueError(
            f"cannot tell the catalog format of {str(path)!r}: suffix {path.suffix!r} is not one "
            f"of {sorted(_SUFFIXES)} and the content is none of {', '.join(FORMATS)}; "
            "pass format=..."
        )
    return sniffed


def read_catalog(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",  # noqa: A002 - the natural name for callers
    event_types: Sequence[str] | None = DEFAULT_EVENT_TYPES,
    **kwargs: Any,
) -> Catalog:
    """Read a catalog in any supported format.

    Formats: ``"store"`` (a :class:`~framecast.quake.catalog.store.CatalogStore`
    HDF5 file, ``.h5``/``.hdf5``), ``"quakeml"`` (``.xml``, ``.quakeml``,
    ``.qml``; :func:`read_quakeml`), ``"csv"`` (``.csv``;
    :func:`read_csv_catalog`) and ``"fdsn-text"`` (``.txt`` or content
    starting with ``#EventID``; :func:`read_fdsn_text`). ``"auto"`` picks by
    suffix, then by content.

    Parameters
    ----------
    path : str or os.PathLike
        The catalog file.
    format : {"auto", "store", "quakeml", "csv", "fdsn-text"}
    event_types : sequence of str, optional
        Event types to keep, case-insensitively ("" counts as an
        earthquake); None keeps every type. Applied to every format.
    **kwargs
        Passed to the format's reader (e.g. ``layout`` for CSV).

    Returns
    -------
    Catalog

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        An unknown format, or the reader's errors.
    """
    if format != "auto" and format not in FORMATS:
        raise ValueError(f"unknown catalog format {format!r}; expected 'auto' or one of {FORMATS}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"catalog file not found: {str(path)!r}")
    chosen = detect_format(path) if format == "auto" else format
    if chosen == "store":
        if kwargs:
            raise TypeError(f"a catalog store takes no reader options; got {sorted(kwargs)}")
        catalog = CatalogStore(path).read()
    elif chosen == "quakeml":
        catalog = read_quakeml(path, event_types=None, **kwargs)
    elif chosen == "csv":
        catalog = read_csv_catalog(path, **kwargs)
    else:
        catalog = read_fdsn_text(path, event_types=None, **kwargs)
    return _keep_types(catalog, event_types)


def load_catalog(
    path: str | os.PathLike[str],
    *,
    log: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> Catalog:
    """Read a catalog for gridding, fitting or an experiment: the one catalog pipeline.

    :func:`read_catalog`, then duplicated events removed
    (:meth:`Catalog.without_duplicates`: a repeated event id, or else the same
    origin time and place), with one line saying how many. ``framecast quake
    grid``, ``quake etas-fit`` and ``quake run`` all read their catalog here,
    so that they count the same events.

    Parameters
    ----------
    path : str or os.PathLike
        The catalog file.
    log : callable, optional
        Receives the one line about removed duplicates (none when there are
        none); default: a logged warning.
    **kwargs
        Passed to :func:`read_catalog` (``format``, ``event_types``, ...).

    Returns
    -------
    Catalog
        Each event once, in the file's order.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`read_catalog`.
    """
    catalog, same_id, same_place = read_catalog(path, **kwargs).without_duplicates()
    removed = same_id + same_place
    if removed:
        rules = [
            f"{count} {rule}"
            for count, rule in (
                (same_id, "with a repeated event id"),
                (same_place, "at the same time and place as another"),
            )
            if count
        ]
        line = (
            f"catalog {str(path)!r}: {removed} duplicated event(s) removed "
            f"({', '.join(rules)}); {len(catalog)} events kept"
        )
        (log or logger.warning)(line)
    return catalog
