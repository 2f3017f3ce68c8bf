"""Download an earthquake catalog from an FDSN event web service, block by block.

The query window ``[start, end)`` is cut into calendar blocks (a month by
default). Each block is requested in ``format=text`` pages of ``page_size``
rows; a block is saved to the :class:`~framecast.quake.catalog.store.CatalogStore` at
``out`` in one atomic append, together with its key, so an interrupted fetch
resumes where it stopped and yields exactly the events of an uninterrupted one
(the store de-duplicates by event id).

Why not ObsPy's ``obspy.clients.fdsn.Client``: it has no block splitting, no
resume and no handling of rate limits, dropped connections or truncated
bodies, and it sends discovery requests (version, WADL) on construction. The
standard library's ``urllib`` is enough for one GET per page and lets every
fault be classified and retried here.

Block rule
----------
Pages are fetched (``limit=page_size``, 1-based ``offset``) until a page
returns fewer than ``page_size`` rows. If a block has already yielded
``max_block_events`` rows and is longer than ``min_block_days``, its pages are
dropped and it is split into two halves instead, recursively, so a busy month
becomes a few smaller blocks (deep offsets are slow on FDSN servers, and
smaller blocks make resuming finer). Blocks no longer than ``min_block_days``
are always paged to the end. An HTTP 413 (too many events for the service)
splits a block the same way.

Faults
------
HTTP 429, 500, 502, 503 and 504, time-outs, dropped connections and truncated
bodies are retried with exponential back-off (``backoff * 2**attempt``
seconds, at most :data:`MAX_BACKOFF`, or the server's ``Retry-After``). A
refused connection is not retried (nothing listens at that address; a
server that hangs instead gets ``timeout`` seconds per try). A
body is truncated when it is shorter than its ``Content-Length`` (or its
chunked encoding ends early), when a row has fewer fields than the header,
or, for a body delimited by closing the connection, when its last line has no
newline. Other 4xx statuses fail at once.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request  # not ObsPy's FDSN client: see the module docstring
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from framecast.quake.catalog.events import Catalog, to_datetime64
from framecast.quake.catalog.providers import PROVIDERS
from framecast.quake.catalog.readers import read_fdsn_text
from framecast.quake.catalog.region import parse_region
from framecast.quake.catalog.store import CatalogStore

BLOCK_NAMES: tuple[str, ...] = ("day", "week", "month", "year")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_RATE = 10.0
"""Requests per second before the service has sent ``X-RateLimit-Limit``."""
MAX_BACKOFF = 120.0
"""Longest exponential back-off between two tries, in seconds."""
MAX_RETRY_AFTER = 600.0
"""Longest wait a ``Retry-After`` header may ask for, in seconds."""
USER_AGENT = "framecast-fdsn-fetch/0.1 (Python urllib)"
_ERROR_BODY_CHARS = 500


class FetchError(RuntimeError):
    """A request the service refused (4xx), or a block that failed after every retry.

    Everything fetched before the error stays saved in the store; rerunning the
    same fetch resumes from there.
    """


class _TooLargeError(FetchError):
    """HTTP 413: the service will not return this many events; the block is split."""


# ---------------------------------------------------------------------- query
@dataclass(frozen=True)
class FetchQuery:
    """What to fetch: the FDSN event query parameters shared by every block.

    Parameters
    ----------
    start, end : date-like
        Half-open UTC window ``[start, end)`` (str, date, datetime or datetime64).
    region : (lat_min, lat_max, lon_min, lon_max) or str, optional
        Box in degrees (a string ``"lat_min,lat_max,lon_min,lon_max"`` is parsed).
    min_magnitude, max_magnitude : float, optional
        Magnitude range (inclusive, as FDSN services apply it).
    min_depth, max_depth : float, optional
        Depth range in km.
    event_type : str, optional
        FDSN ``eventtype`` filter applied by the service (e.g. "earthquake").
        None fetches every type; the store keeps them all.

    Raises
    ------
    ValueError
        ``start`` not before ``end``, a bad region, or a minimum above its maximum.
    """

    start: datetime
    end: datetime
    region: tuple[float, float, float, float] | None = None
    min_magnitude: float | None = None
    max_magnitude: float | None = None
    min_depth: float | None = None
    max_depth: float | None = None
    event_type: str | None = None

    def __post_init__(self) -> None:
        start, end = _to_datetime(self.start), _to_datetime(self.end)
        if not start < end:
            raise ValueError(f"fetch start {start} must be before end {end}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        if self.region is not None:
            object.__setattr__(self, "region", parse_region(self.region))
        for name in ("min_magnitude", "max_magnitude", "min_depth", "max_depth"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _to_float(value, name))
        for low, high in (("min_magnitude", "max_magnitude"), ("min_depth", "max_depth")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} {lo} must not exceed {high} {hi}")
        if self.event_type is not None and not str(self.event_type).strip():
            raise ValueError("event_type must be a non-empty FDSN event type or None")

    def to_dict(self) -> dict[str, Any]:
        """The query as JSON-ready values (times in ISO format)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "region": list(self.region) if self.region is not None else None,
            "min_magnitude": self.min_magnitude,
            "max_magnitude": self.max_magnitude,
            "min_depth": self.min_depth,
            "max_depth": self.max_depth,
            "event_type": self.event_type,
        }

    def to_json(self) -> str:
        """The query as canonical JSON (sorted keys), as stored in the catalog's metadata."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def params(self, start: datetime | None = None, end: datetime | None = None) -> dict[str, str]:
        """FDSN ``query`` parameters for ``[start, end)`` (default: the whole window).

        Paging parameters (``limit``, ``offset``) are added by the fetcher.
        """
        params = {
            "starttime": _iso(start or self.start),
            "endtime": _iso(end or self.end),
        }
        if self.region is not None:
            names = ("minlatitude", "maxlatitude", "minlongitude", "maxlongitude")
            params.update({name: _number(v) for name, v in zip(names, self.region, strict=True)})
        optional = {
            "minmagnitude": self.min_magnitude,
            "maxmagnitude": self.max_magnitude,
            "mindepth": self.min_depth,
            "maxdepth": self.max_depth,
        }
        params.update({name: _number(v) for name, v in optional.items() if v is not None})
        if self.event_type is not None:
            params["eventtype"] = self.event_type
        params.update({"orderby": "time-asc", "format": "text"})
        return params


def _to_datetime(value: object) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    elif isinstance(value, str) and value.endswith("Z"):
        value = value[:-1]
    return to_datetime64(value).item()  # naive UTC datetime


def _to_float(value: object, name: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
    if not np.isfinite(number):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return number


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")


def _number(value: float) -> str:
    return repr(float(value))


# --------------------------------------------------------------------- blocks
@dataclass(frozen=True, order=True)
class Block:
    """A half-open time block ``[start, end)`` of the fetch window."""

    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """``"START/END"`` in ISO format, the name recorded in the store once it is saved."""
        return f"{_iso(self.start)}/{_iso(self.end)}"

    @property
    def days(self) -> float:
        """Length in days."""
        return (self.end - self.start) / timedelta(days=1)

    def halves(self) -> tuple[Block, Block] | None:
        """The two halves (split at a whole second), or None when shorter than 2 s."""
        half = (self.end - self.start) // 2
        half -= timedelta(microseconds=half.microseconds)
        if half < timedelta(seconds=1):
            return None
        middle = self.start + half
        return Block(self.start, middle), Block(middle, self.end)

    @classmethod
    def from_key(cls, key: str) -> Block:
        """Parse a key written by :attr:`key`.

        Raises
        ------
        ValueError
            Not two ISO date-times separated by "/".
        """
        parts = key.split("/")
        if len(parts) != 2:
            raise ValueError(f"block key must be 'START/END'; got {key!r}")
        return cls(_to_datetime(parts[0]), _to_datetime(parts[1]))


def parse_block(block: str | float) -> str | float:
    """Validate a block size: one of :data:`BLOCK_NAMES` or a positive number of days.

    Raises
    ------
    ValueError
        Anything else.
    """
    if isinstance(block, str) and block.strip().lower() in BLOCK_NAMES:
        return block.strip().lower()
    try:
        days = float(block)
    except (TypeError, ValueError):
        days = float("nan")
    if not (np.isfinite(days) and days > 0):
        raise ValueError(
            f"block must be one of {', '.join(BLOCK_NAMES)} or a positive number of days; "
            f"got {block!r}"
        )
    return days


def calendar_blocks(start: object, end: object, block: str | float = "month") -> list[Block]:
    """Cut ``[start, end)`` into blocks that end on calendar boundaries.

    Parameters
    ----------
    start, end : date-like
        The window (UTC).
    block : {"day", "week", "month", "year"} or float
        Named blocks end at midnight, on Mondays, on the 1st of a month or on
        1 January; a number of days gives blocks of that length from ``start``.
        The first and last blocks are clipped to the window.

    Returns
    -------
    list of Block
        Consecutive blocks covering the window exactly.
    """
    first, last = _to_datetime(start), _to_datetime(end)
    if not first < last:
        raise ValueError(f"block window start {first} must be before end {last}")
    size = parse_block(block)
    blocks: list[Block] = []
    cursor = first
    step = 0
    while cursor < last:
        step += 1
        if isinstance(size, float):
            boundary = first + timedelta(days=size) * step
        else:
            boundary = _next_boundary(cursor, size)
        boundary = min(boundary, last)
        blocks.append(Block(cursor, boundary))
        cursor = boundary
    return blocks


def _next_boundary(moment: datetime, unit: str) -> datetime:
    midnight = datetime.combine(moment.date(), datetime.min.time())
    if unit == "day":
        return midnight + timedelta(days=1)
    if unit == "week":
        return midnight + timedelta(days=7 - moment.weekday())
    if unit == "month":
        if moment.month == 12:
            return datetime(moment.year + 1, 1, 1)
        return datetime(moment.year, moment.month + 1, 1)
    return datetime(moment.year + 1, 1, 1)


class _Coverage:
    """The union of completed blocks, to tell which blocks are done or partly done."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._spans: list[Block] = []
        for key in keys:
            try:
                self.add(Block.from_key(key))
            except ValueError:
                continue  # not a block key of this fetcher

    def add(self, block: Block) -> None:
        merged: list[Block] = []
        for span in sorted([*self._spans, block]):
            if merged and span.start <= merged[-1].end:
                merged[-1] = Block(merged[-1].start, max(merged[-1].end, span.end))
            else:
                merged.append(span)
        self._spans = merged

    def covers(self, block: Block) -> bool:
        return any(s.start <= block.start and block.end <= s.end for s in self._spans)

    def touches(self, block: Block) -> bool:
        return any(s.start < block.end and block.start < s.end for s in self._spans)


# ------------------------------------------------------------------ HTTP client
class _TransientError(Exception):
    """A failure worth retrying, with the wait the server asked for, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _RateLimiter:
    """At most ``rate`` request starts per second: a minimum interval between starts."""

    def __init__(
        self,
        rate: float | None,
        *,
        sleep: Callable[[float], object],
        clock: Callable[[], float],
    ) -> None:
        self.fixed_rate = rate
        self.header_rate: float | None = None
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None

    @property
    def rate(self) -> float:
        return self.fixed_rate or self.header_rate or DEFAULT_RATE

    def wait(self) -> None:
        now = self._clock()
        if self._last is not None:
            due = self._last + 1.0 / self.rate
            if due > now:
                self._sleep(due - now)
                now = max(self._clock(), due)
        self._last = now

    def note_headers(self, headers: Mapping[str, str] | None) -> None:
        """Take the rate from ``X-RateLimit-Limit`` per ``X-RateLimit-Reset`` seconds.

        A reset of more than an hour is taken for an epoch time (a window the
        client cannot know) and ignored; no reset means a one-second window.
        """
        if headers is None or headers.get("X-RateLimit-Limit") is None:
            return
        try:
            limit = float(headers["X-RateLimit-Limit"])
            window = float(headers.get("X-RateLimit-Reset") or 1.0)
        except ValueError:
            return
        if limit > 0 and 0 < window <= 3600:
            self.header_rate = limit / window


class _Client:
    """GET pages of one FDSN ``/query`` endpoint with rate limiting and retries."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        max_retries: int,
        backoff: float,
        limiter: _RateLimiter,
        sleep: Callable[[float], object],
        report: FetchReport,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.limiter = limiter
        self.sleep = sleep
        self.report = report

    def page(self, params: Mapping[str, str], block: Block) -> tuple[Catalog, int]:
        """One page: its events (all types) and its number of rows, retried on faults.

        Raises
        ------
        FetchError
            The service refused the request, or every try failed.
        """
        url = f"{self.url}?{urllib.parse.urlencode(params)}"
        problem: _TransientError | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.report.retries += 1
                self.sleep(self._delay(attempt - 1, problem))
            self.limiter.wait()
            self.report.requests += 1
            try:
                return _parse_body(self._get(url))
            except _TransientError as error:
                problem = error
        raise FetchError(
            f"block {block.key} failed after {self.max_retries} retries; last error: {problem} "
            f"(request: {url}). Blocks fetched so far are saved; rerun the same fetch to resume."
        )

    def _delay(self, attempt: int, problem: _TransientError | None) -> float:
        if problem is not None and problem.retry_after is not None:
            return min(max(problem.retry_after, 0.0), MAX_RETRY_AFTER)
        return min(self.backoff * 2.0**attempt, MAX_BACKOFF)

    def _get(self, url: str) -> bytes:
        request = urllib.request.Request(
            url, headers={"User-Agent": USER_AGENT, "Accept": "text/plain"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                self.limiter.note_headers(response.headers)
                if response.status == 204:
                    return b""
                body = response.read()
                if body and not body.endswith(b"\n") and _close_delimited(response.headers):
                    raise _TransientError(f"body cut mid-line after {len(body)} bytes")
                return body
        except urllib.error.HTTPError as error:
            self.limiter.note_headers(error.headers)
            message = _error_message(error)
            if error.code in RETRY_STATUSES:
                raise _TransientError(
                    f"HTTP {error.code}: {message}", _retry_after(error.headers)
                ) from None
            kind = _TooLargeError if error.code == 413 else FetchError
            raise kind(
                f"{url} was refused with HTTP {error.code} {error.reason}: {message}"
            ) from None
        except http.client.IncompleteRead as error:
            missing = f", {error.expected} more expected" if error.expected else ""
            raise _TransientError(
                f"body truncated after {len(error.partial)} bytes{missing}"
            ) from None
        except ConnectionRefusedError:
            raise FetchError(_refused(url)) from None
        except (TimeoutError, ConnectionError, http.client.HTTPException) as error:
            raise _TransientError(f"{type(error).__name__}: {error}") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, ConnectionRefusedError):
                raise FetchError(_refused(url)) from None
            if isinstance(error.reason, TimeoutError | ConnectionError):
                raise _TransientError(f"{type(error.reason).__name__}: {error.reason}") from None
            raise FetchError(f"cannot reach {url}: {error.reason}") from None


def _refused(url: str) -> str:
    """The message for a refused connection: nothing listens there, so it is not retried."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (
        f"cannot reach {parts.scheme}://{parts.hostname}:{port}: connection refused (no "
        "service listens there; check the provider URL or port)"
    )


def _parse_body(body: bytes) -> tuple[Catalog, int]:
    rows = sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))
    if not rows:
        return Catalog.empty(), 0
    try:
        return read_fdsn_text(body, event_types=None), rows
    except ValueError as error:  # a truncated or garbled row
        raise _TransientError(f"unreadable body: {error}") from None


def _close_delimited(headers: Mapping[str, str]) -> bool:
    chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
    return headers.get("Content-Length") is None and not chunked


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        text = error.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        text = ""
    text = " ".join(text.split())
    if len(text) > _ERROR_BODY_CHARS:
        text = text[:_ERROR_BODY_CHARS] + "..."
    return text or "(no message)"


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


# -------------------------------------------------------------------- fetcher
@dataclass
class FetchReport:
    """What one :func:`fetch_catalog` call did.

    Attributes
    ----------
    blocks_total : int
        Calendar blocks in the window.
    blocks_done : int
        Blocks fetched by this call.
    blocks_skipped : int
        Blocks already in the store from an earlier call (resumed).
    blocks_split : int
        Blocks split in two because they held too many events.
    requests, retries : int
        HTTP requests sent, and how many of them were retries.
    events_new : int
        Events this call added to the store (ids it did not hold).
    events_total : int
        Events in the store afterwards.
    """

    blocks_total: int = 0
    blocks_done: int = 0
    blocks_skipped: int = 0
    blocks_split: int = 0
    requests: int = 0
    retries: int = 0
    events_new: int = 0
    events_total: int = 0

    def summary(self) -> str:
        """One line for the command line."""
        return (
            f"{self.events_new} new events, {self.events_total} in total; "
            f"{self.blocks_done} blocks fetched, {self.blocks_skipped} already done "
            f"(of {self.blocks_total}), {self.requests} requests, {self.retries} retries"
        )


def resolve_provider(provider_or_url: str) -> str:
    """The ``/query`` URL of a provider name in :data:`PROVIDERS`, or the URL itself.

    Raises
    ------
    ValueError
        Neither a known name nor an http(s) URL.
    """
    text = str(provider_or_url).strip()
    if text.lower() in PROVIDERS:
        return PROVIDERS[text.lower()]
    if text.startswith(("http://", "https://")):
        return text.split("?", 1)[0]
    raise ValueError(
        f"unknown FDSN provider {provider_or_url!r}; expected one of {', '.join(PROVIDERS)} "
        "or the URL of an FDSN event /query endpoint (http:// or https://)"
    )


def fetch_catalog(
    provider_or_url: str,
    query: FetchQuery,
    out: str | Path,
    *,
    block: str | float = "month",
    page_size: int = 10000,
    max_block_events: int = 20000,
    min_block_days: float = 1.0,
    max_retries: int = 6,
    backoff: float = 1.0,
    timeout: float = 60.0,
    rate_limit: float | None = None,
    progress: bool = True,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> FetchReport:
    """Fetch a catalog into the store at ``out``, block by block, resuming a previous run.

    Parameters
    ----------
    provider_or_url : str
        A name in :data:`PROVIDERS` or the URL of an FDSN event ``/query`` endpoint.
    query : FetchQuery
        What to fetch. A store already holding a different query is refused.
    out : str or Path
        The catalog store (created if absent). Each finished block is appended
        at once with its key, so a rerun skips it.
    block : {"month", "day", "week", "year"} or float
        Calendar block size, or a number of days.
    page_size : int
        Rows per request (the FDSN ``limit``; many services allow 10000-20000).
    max_block_events : int
        A block longer than ``min_block_days`` that reaches this many rows is
        split in two halves instead of being paged further.
    min_block_days : float
        Blocks this short are paged to the end, never split.
    max_retries : int
        Tries after the first for each request before giving up.
    backoff : float
        First back-off in seconds; doubles with each retry (at most
        :data:`MAX_BACKOFF`), unless the server sends ``Retry-After``.
    timeout : float
        Socket time-out of each request, in seconds.
    rate_limit : float, optional
        Most requests per second. Default: from the service's
        ``X-RateLimit-Limit`` header once seen, else :data:`DEFAULT_RATE`.
    progress : bool
        Show blocks done and events so far on stderr (tqdm when installed).
    sleep, clock : callable
        ``time.sleep`` and ``time.monotonic``; replaceable in tests.

    Returns
    -------
    FetchReport

    Raises
    ------
    ValueError
        Bad arguments, or ``out`` holds a catalog fetched with another query or provider.
    FetchError
        The service refused a request (4xx other than 429), or a block still
        failed after ``max_retries`` retries. Finished blocks stay saved.
    """
    url = resolve_provider(provider_or_url)
    _check_positive(page_size=page_size, max_block_events=max_block_events, timeout=timeout)
    if rate_limit is not None:
        _check_positive(rate_limit=rate_limit)
    if max_retries < 0 or backoff < 0 or min_block_days < 0:
        raise ValueError(
            "max_retries, backoff and min_block_days must be >= 0; got "
            f"{max_retries}, {backoff}, {min_block_days}"
        )
    blocks = calendar_blocks(query.start, query.end, block)
    out = Path(out)
    store = CatalogStore(out)
    done = _Coverage(_resume_state(store, url, query))

    report = FetchReport(blocks_total=len(blocks))
    limiter = _RateLimiter(rate_limit, sleep=sleep, clock=clock)
    client = _Client(
        url,
        timeout=timeout,
        max_retries=max_retries,
        backoff=backoff,
        limiter=limiter,
        sleep=sleep,
        report=report,
    )
    metadata = {"provider": str(provider_or_url), "url": url, "query": query.to_json()}
    worker = _BlockFetcher(
        client,
        query,
        store,
        metadata,
        done,
        report,
        page_size=page_size,
        max_block_events=max_block_events,
        min_block_days=min_block_days,
    )
    bar = _Progress(len(blocks), enabled=progress)
    try:
        for each in blocks:
            if done.covers(each):
                report.blocks_skipped += 1
            else:
                worker.fetch(each)
                report.blocks_done += 1
            bar.update(report.blocks_done + report.blocks_skipped, worker.events_fetched)
    finally:
        bar.close()
        report.events_total = len(store)
    return report


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive; got {value!r}")


def _resume_state(store: CatalogStore, url: str, query: FetchQuery) -> set[str]:
    """Completed block keys of an existing store, after checking it holds the same query."""
    if not store.exists():
        return set()
    out = store.path
    metadata = store.metadata()
    stored = metadata.get("query")
    try:
        same_query = stored is not None and json.loads(stored) == query.to_dict()
    except json.JSONDecodeError:
        same_query = False
    if not same_query:
        raise ValueError(
            f"{out} already holds a catalog fetched with another query "
            f"({stored or 'none recorded'}); to resume it, repeat that query, or choose a new "
            f"--out for this query ({query.to_json()})"
        )
    if metadata.get("url") != url:
        raise ValueError(
            f"{out} was fetched from {metadata.get('url')}, not {url}; "
            "resume it from the same provider, or choose a new --out"
        )
    return set(store.completed_blocks())


class _BlockFetcher:
    """Fetch one block (paging or splitting it) and save it to the store."""

    def __init__(
        self,
        client: _Client,
        query: FetchQuery,
        store: CatalogStore,
        metadata: Mapping[str, str],
        done: _Coverage,
        report: FetchReport,
        *,
        page_size: int,
        max_block_events: int,
        min_block_days: float,
    ) -> None:
        self.client = client
        self.query = query
        self.store = store
        self.metadata = metadata
        self.done = done
        self.report = report
        self.page_size = page_size
        self.max_block_events = max_block_events
        self.min_block_days = min_block_days
        self.events_fetched = 0

    def fetch(self, block: Block) -> None:
        if self.done.covers(block):
            return
        halves = self._halves(block)
        # a block partly saved by an interrupted run was split then: split it again unasked
        if halves is not None and self.done.touches(block):
            self._split(halves)
            return
        catalog = self._download(block, splittable=halves is not None)
        if catalog is None:
            assert halves is not None
            self.report.blocks_split += 1
            self._split(halves)
            return
        self.report.events_new += self.store.append(
            catalog,
            metadata={**self.metadata, "fetched_at": _utc_now()},
            completed_blocks=[block.key],
        )
        self.done.add(block)
        self.events_fetched += len(catalog)

    def _halves(self, block: Block) -> tuple[Block, Block] | None:
        return block.halves() if block.days > self.min_block_days else None

    def _split(self, halves: Sequence[Block]) -> None:
        for half in halves:
            self.fetch(half)

    def _download(self, block: Block, *, splittable: bool) -> Catalog | None:
        """The block's events in ``[start, end)``, or None when it should be split."""
        params = self.query.params(block.start, block.end)
        pages: list[Catalog] = []
        rows = 0
        while True:
            page_params = {**params, "limit": str(self.page_size), "offset": str(rows + 1)}
            try:
                page, count = self.client.page(page_params, block)
            except _TooLargeError:
                if not splittable:
                    raise
                return None
            pages.append(page)
            rows += count
            if count < self.page_size:
                break
            if splittable and rows >= self.max_block_events:
                return None
        catalog = Catalog.concat(pages).deduplicated()
        # FDSN end times are inclusive: keep [start, end) so boundary events land once
        return catalog.filter(start=block.start, end=block.end, event_types=None)


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Progress:
    """One line on stderr: blocks done of total, events fetched so far."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled
        self._bar: Any = None
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, unit="block", file=sys.stderr, desc="fetch")

    def update(self, done: int, events: int) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(f"{events} events", refresh=False)
            self._bar.update(done - self._bar.n)
        else:
            print(f"\rfetch: {done}/{self.total} blocks, {events} events", end="", file=sys.stderr)
            sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.enabled:
            print(file=sys.stderr)


# ------------------------------------------------------------------------ CLI
__all__ = [
    "PROVIDERS",
    "Block",
    "FetchError",
    "FetchQuery",
    "FetchReport",
    "calendar_blocks",
    "fetch_catalog",
    "parse_block",
    "resolve_provider",
]
