"""A local FDSN event service for tests: a fixed synthetic catalog, served with faults.

:class:`FDSNReplayServer` listens on 127.0.0.1 (a free port) and answers
``/fdsnws/event/1/query`` as INGV does in ``format=text``: the header and
rows of the README's examples, 204 for an empty result, ``X-RateLimit-Limit:
10`` and ``X-RateLimit-Reset: 1`` on every response, FDSN-style 400 messages
for bad parameters. It honours starttime/endtime (both inclusive, as FDSN
services apply them), the region and magnitude/depth bounds, eventtype,
orderby, limit and 1-based offset.

Faults are queued with :meth:`FDSNReplayServer.inject`: an HTTP status (429
with ``Retry-After``, 500, 503, 400...), ``"drop"`` (close the connection
without a response), ``"truncated"`` (a ``Content-Length`` larger than the
bytes sent), ``"midline"`` (no ``Content-Length``, the body cut in the middle
of its last row), ``"last_field"`` (no ``Content-Length``, cut inside the last
field so the row still has every field) and ``"slow"`` (answer only after
``slow_seconds``). Every request is logged in :attr:`FDSNReplayServer.requests`.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

QUERY_PATH = "/fdsnws/event/1/query"
HEADER = (
    "#EventID|Time|Latitude|Longitude|Depth/Km|Author|Catalog|Contributor|ContributorID|"
    "MagType|Magnitude|MagAuthor|EventLocationName|EventType"
)
OLD_HEADER = HEADER.rsplit("|", 1)[0]
"""The header of older INGV responses, without EventType."""

PARAMETERS = frozenset(
    {
        "starttime",
        "endtime",
        "minlatitude",
        "maxlatitude",
        "minlongitude",
        "maxlongitude",
        "minmagnitude",
        "maxmagnitude",
        "mindepth",
        "maxdepth",
        "eventtype",
        "orderby",
        "limit",
        "offset",
        "format",
    }
)
BODY_FAULTS = ("truncated", "midline", "last_field")
"""Faults that need a body to cut (a request with an empty result skips them)."""
FAULT_KINDS = ("drop", "slow", *BODY_FAULTS)

_PLACES = (
    "5 km NW Bagno di Romagna (FC)",
    "Campi Flegrei",
    "3 km E Norcia (PG)",
    "Costa Calabra nord-orientale (Cosenza)",
    "2 km SW Amatrice (RI)",
    "Mar Tirreno Meridionale (MARE)",
    "4 km N Accumoli (RI)",
    "Stretto di Messina",
)


# --------------------------------------------------------------------- events
@dataclass(frozen=True)
class ReplayEvent:
    """One event of the replayed catalog, with values exactly as the text rows print them."""

    event_id: str
    time: datetime
    latitude: float
    longitude: float
    depth: float
    magnitude: float
    magnitude_type: str
    location: str
    event_type: str

    def row(self, *, with_type: bool = True) -> str:
        """The event as an INGV ``format=text`` row."""
        fields = [
            self.event_id,
            self.time.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            f"{self.latitude:.4f}",
            f"{self.longitude:.4f}",
            f"{self.depth:.1f}",
            "SURVEY-INGV",
            "",
            "",
            "",
            self.magnitude_type,
            f"{self.magnitude:.1f}",
            "--",
            self.location,
        ]
        if with_type:
            fields.append(self.event_type)
        return "|".join(fields)


def synthetic_events(
    n: int = 500,
    *,
    start: datetime = datetime(2005, 1, 1),
    days: int = 730,
    swarm: int = 150,
    seed: int = 7,
) -> list[ReplayEvent]:
    """``n`` deterministic events over ``days`` days from ``start``, sorted by time.

    ``swarm`` of them fall within a week from 2005-03-10 (a month too big for
    small pages), one lies exactly on 2005-06-01T00:00:00 (a block boundary)
    and every 9th is a daytime shallow ``quarry blast``.
    """
    rng = random.Random(seed)
    times = [start + timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(n - swarm - 1)]
    swarm_start = datetime(2005, 3, 10, 4, 12)
    times += [swarm_start + timedelta(seconds=rng.uniform(0, 7 * 86400)) for _ in range(swarm)]
    boundary = datetime(2005, 6, 1)
    times.append(boundary)
    times.sort()
    events = []
    for index, moment in enumerate(times):
        blast = index % 9 == 4 and moment != boundary
        if blast:
            moment = moment.replace(hour=11)
        events.append(
            ReplayEvent(
                event_id=str(1_500_000 + 13 * index),
                time=moment,
                latitude=round(rng.uniform(36.0, 47.0), 4),
                longitude=round(rng.uniform(7.0, 18.5), 4),
                depth=round(rng.uniform(0.2, 2.0) if blast else rng.uniform(1.0, 35.0), 1),
                magnitude=round(rng.uniform(1.0, 2.2) if blast else 0.5 + rng.expovariate(1.2), 1),
                magnitude_type="ML" if rng.random() < 0.85 else "Md",
                location=rng.choice(_PLACES),
                event_type="quarry blast" if blast else "earthquake",
            )
        )
    events.sort(key=lambda e: (e.time, e.event_id))
    return events


def event_columns(events: list[ReplayEvent]) -> dict[str, np.ndarray]:
    """ids, times (``datetime64[us]``), magnitudes and event types, to compare with a store."""
    return {
        "event_id": np.array([e.event_id for e in events], dtype=str),
        "time": np.array([e.time for e in events], dtype="datetime64[us]"),
        "latitude": np.array([e.latitude for e in events]),
        "longitude": np.array([e.longitude for e in events]),
        "depth": np.array([e.depth for e in events]),
        "magnitude": np.array([e.magnitude for e in events]),
        "magnitude_type": np.array([e.magnitude_type for e in events], dtype=str),
        "event_type": np.array([e.event_type for e in events], dtype=str),
    }


# --------------------------------------------------------------------- faults
@dataclass
class Fault:
    """A fault to serve: an HTTP status or one of :data:`FAULT_KINDS`.

    It applies to the ``nth`` request (1-based, counting all requests) if
    given, else to requests whose parameters satisfy ``when`` (every request
    if None), ``times`` times (None: for ever).
    """

    kind: int | str
    times: int | None = 1
    nth: int | None = None
    when: Callable[[Mapping[str, str]], bool] | None = None
    retry_after: str | None = "0"
    message: str = ""

    def matches(self, index: int, params: Mapping[str, str], has_body: bool) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.kind in BODY_FAULTS and not has_body:
            return False
        if self.nth is not None:
            return index == self.nth
        return self.when is None or bool(self.when(params))


@dataclass
class RequestRecord:
    """One request the server received (``status`` is None until answered, or if none was)."""

    index: int
    params: dict[str, str]
    fault: int | str | None
    status: int | None
    rows: int
    clock: float


class _BadRequestError(Exception):
    pass


# --------------------------------------------------------------------- server
@dataclass
class FDSNReplayServer:
    """A threaded FDSN event service on 127.0.0.1 serving ``events`` (see the module doc).

    Use it as a context manager; :attr:`url` is its ``/query`` endpoint.
    """

    events: list[ReplayEvent] = field(default_factory=synthetic_events)
    old_format: bool = False
    slow_seconds: float = 1.0
    clock: Callable[[], float] = time.monotonic
    requests: list[RequestRecord] = field(default_factory=list, init=False)
    faults: list[Fault] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.events = sorted(self.events, key=lambda e: (e.time, e.event_id))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.replay = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ------------------------------------------------------------- lifecycle
    def __enter__(self) -> FDSNReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        """The ``/query`` endpoint, e.g. ``http://127.0.0.1:PORT/fdsnws/event/1/query``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{QUERY_PATH}"

    # ---------------------------------------------------------------- faults
    def inject(
        self,
        kind: int | str,
        *,
        times: int | None = 1,
        nth: int | None = None,
        when: Callable[[Mapping[str, str]], bool] | None = None,
        retry_after: str | None = "0",
        message: str = "",
    ) -> Fault:
        """Queue a fault (see :class:`Fault`); faults are tried in the order queued."""
        if not isinstance(kind, int) and kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be an HTTP status or one of {FAULT_KINDS}")
        fault = Fault(kind, times, nth, when, retry_after, message)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self.faults.clear()

    def select(
        self,
        start: datetime,
        end: datetime,
        *,
        min_magnitude: float | None = None,
        inclusive_end: bool = False,
    ) -> list[ReplayEvent]:
        """The events a fetch of ``[start, end)`` (or ``[start, end]``) should give."""
        return [
            e
            for e in self.events
            if start <= e.time
            and (e.time <= end if inclusive_end else e.time < end)
            and (min_magnitude is None or e.magnitude >= min_magnitude)
        ]

    # -------------------------------------------------------------- serving
    def _respond(self, handler: _Handler) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        raw = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        params = {key: values[-1] for key, values in raw.items()}
        try:
            if parts.path != QUERY_PATH:
                raise LookupError
            rows = self._rows(params)
            error = None
        except _BadRequestError as bad:
            rows, error = [], str(bad)
        except LookupError:
            rows, error = [], None
        with self._lock:
            index = len(self.requests) + 1
            fault = next((f for f in self.faults if f.matches(index, params, bool(rows))), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
            record = RequestRecord(
                index=index,
                params=params,
                fault=fault.kind if fault else None,
                status=None,
                rows=len(rows),
                clock=self.clock(),
            )
            self.requests.append(record)
        record.status = self._serve(handler, params, rows, error, fault, parts.path)

    def _serve(
        self,
        handler: _Handler,
        params: Mapping[str, str],
        rows: list[str],
        error: str | None,
        fault: Fault | None,
        path: str,
    ) -> int | None:
        if fault is not None:
            return self._serve_fault(handler, rows, fault)
        if path != QUERY_PATH:
            return _send(handler, 404, _fdsn_error(404, "Not Found", f"no service at {path}"))
        if error is not None:
            return _send(handler, 400, _fdsn_error(400, "Bad Request", error))
        if not rows:
            return _send(handler, 204, None)
        return _send(handler, 200, self._body(rows))

    def _serve_fault(self, handler: _Handler, rows: list[str], fault: Fault) -> int | None:
        handler.close_connection = True
        kind = fault.kind
        if isinstance(kind, int):
            reason = {429: "Too Many Requests", 400: "Bad Request"}.get(kind, "Service Error")
            text = fault.message or f"replayed fault {kind}"
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return _send(handler, kind, _fdsn_error(kind, reason, text), extra)
        if kind == "drop":
            return None  # close the socket without a response
        if kind == "slow":
            self._stop.wait(self.slow_seconds)
            try:
                return _send(handler, 200, self._body(rows) if rows else None)
            except OSError:
                return None
        body = self._body(rows)
        last_row = body.rstrip(b"\n").rsplit(b"\n", 1)[1]
        row_start = len(body.rstrip(b"\n")) - len(last_row)
        if kind == "truncated":
            return _send(handler, 200, body, cut=len(body) // 2)
        if kind == "midline":
            return _send(handler, 200, body, cut=row_start + len(last_row) // 2, length=False)
        # last_field: every field of the last row is there, the last one cut short
        return _send(handler, 200, body, cut=len(body.rstrip(b"\n")) - 3, length=False)

    def _body(self, rows: list[str]) -> bytes:
        header = OLD_HEADER if self.old_format else HEADER
        return ("\n".join([header, *rows]) + "\n").encode()

    def _rows(self, params: Mapping[str, str]) -> list[str]:
        unknown = sorted(set(params) - PARAMETERS)
        if unknown:
            raise _BadRequestError(f"Unrecognized parameter(s): {', '.join(unknown)}")
        if params.get("format", "xml") != "text":
            raise _BadRequestError("this replay serves format=text only")
        selected = [e for e in self.events if _keep(e, params)]
        order = params.get("orderby", "time")
        if order not in ("time", "time-asc", "magnitude", "magnitude-asc"):
            raise _BadRequestError(f"Invalid orderby value: {order}")
        key = (lambda e: e.time) if order.startswith("time") else (lambda e: e.magnitude)
        selected.sort(key=key, reverse=not order.endswith("-asc"))
        offset = _int(params, "offset", 1)
        limit = _int(params, "limit", len(selected) or 1)
        if offset < 1 or limit < 1:
            raise _BadRequestError("limit and offset must be >= 1 (offset counts from 1)")
        page = selected[offset - 1 : offset - 1 + limit]
        return [e.row(with_type=not self.old_format) for e in page]


def _keep(event: ReplayEvent, params: Mapping[str, str]) -> bool:
    checks = [
        ("starttime", lambda v: event.time >= _time(v)),
        ("endtime", lambda v: event.time <= _time(v)),
        ("minlatitude", lambda v: event.latitude >= _float(v)),
        ("maxlatitude", lambda v: event.latitude <= _float(v)),
        ("minlongitude", lambda v: event.longitude >= _float(v)),
        ("maxlongitude", lambda v: event.longitude <= _float(v)),
        ("minmagnitude", lambda v: event.magnitude >= _float(v)),
        ("maxmagnitude", lambda v: event.magnitude <= _float(v)),
        ("mindepth", lambda v: event.depth >= _float(v)),
        ("maxdepth", lambda v: event.depth <= _float(v)),
        ("eventtype", lambda v: event.event_type.lower() in v.lower().split(",")),
    ]
    return all(check(params[name]) for name, check in checks if name in params)


def _time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        raise _BadRequestError(f"Bad date value: {value}") from None


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise _BadRequestError(f"Bad number value: {value}") from None


def _int(params: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except ValueError:
        raise _BadRequestError(f"Bad {name} value: {params[name]}") from None


def _fdsn_error(code: int, reason: str, detail: str) -> bytes:
    return (
        f"Error {code}: {reason}\n\n{detail}\n\n"
        "Usage details are available from https://webservices.ingv.it/fdsnws/event/1/\n\n"
        "Service version:\n1.1.50\n"
    ).encode()


def _send(
    handler: _Handler,
    status: int,
    body: bytes | None,
    extra: Mapping[str, str] | None = None,
    *,
    cut: int | None = None,
    length: bool = True,
) -> int:
    """Send a response; ``cut`` sends only that many body bytes then closes."""
    handler.send_response(status)
    handler.send_header("X-RateLimit-Limit", "10")
    handler.send_header("X-RateLimit-Reset", "1")
    for name, value in (extra or {}).items():
        handler.send_header(name, value)
    if body is not None:
        handler.send_header("Content-Type", "text/plain; charset=UTF-8")
        if length:
            handler.send_header("Content-Length", str(len(body)))
    elif status != 204:
        handler.send_header("Content-Length", "0")
    if cut is not None or not length:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    if body is not None:
        handler.wfile.write(body if cut is None else body[:cut])
    handler.wfile.flush()
    return status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FDSNReplay/1.0"

    def do_GET(self) -> None:
        self.server.replay._respond(self)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass
