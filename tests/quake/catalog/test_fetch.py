"""The FDSN fetcher against a local replay of an INGV-like event service, faults included."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from fdsn_replay import FDSNReplayServer, ReplayEvent, event_columns

from framecast.cli import main
from framecast.quake.catalog.events import COLUMNS
from framecast.quake.catalog.fetch import (
    Block,
    FetchError,
    FetchQuery,
    FetchReport,
    calendar_blocks,
    fetch_catalog,
    resolve_provider,
)
from framecast.quake.catalog.providers import PROVIDERS
from framecast.quake.catalog.store import CatalogStore

START, END = datetime(2005, 1, 1), datetime(2007, 1, 1)
QUERY = FetchQuery(start=START, end=END)
MONTHS = 24
YEAR_END = datetime(2006, 1, 1)
YEAR = FetchQuery(start=START, end=YEAR_END)  # 2005: enough for the slower tests


class FakeClock:
    """A monotonic clock that only moves when slept on; records the sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def server():
    with FDSNReplayServer() as replay:
        yield replay


def fetch(url: str, out: Path, query: FetchQuery = QUERY, **options) -> FetchReport:
    """A fast fetch: no real sleeping, short time-out, no progress line."""
    clock = FakeClock()
    settings = {
        "timeout": 0.5,
        "progress": False,
        "sleep": clock.sleep,
        "clock": clock,
        "max_retries": 3,
    }
    return fetch_catalog(url, query, out, **{**settings, **options})


def assert_store_equals(out: Path, events: list[ReplayEvent]) -> None:
    stored = CatalogStore(out).read()
    expected = event_columns(events)
    assert len(stored) == len(events)
    assert len(np.unique(stored.event_id)) == len(stored), "duplicate event ids"
    for name in COLUMNS:
        np.testing.assert_array_equal(getattr(stored, name), expected[name], err_msg=name)


def requested_windows(records) -> list[tuple[str, str]]:
    return [(r.params["starttime"], r.params["endtime"]) for r in records]


# ------------------------------------------------------------------ full fetch
def test_full_fetch_equals_the_service_catalog(server: FDSNReplayServer, tmp_path: Path) -> None:
    out = tmp_path / "italy.h5"
    report = fetch(server.url, out)
    assert_store_equals(out, server.select(START, END))
    stored = CatalogStore(out).read()
    assert "quarry blast" in set(stored.event_type)  # every type is stored
    assert report.blocks_total == report.blocks_done == MONTHS
    assert report.blocks_skipped == report.retries == report.blocks_split == 0
    assert report.requests == len(server.requests) == MONTHS
    assert report.events_new == report.events_total == len(server.events)
    first = server.requests[0].params
    assert first["starttime"] == "2005-01-01T00:00:00"
    assert first["endtime"] == "2005-02-01T00:00:00"
    assert (first["limit"], first["offset"], first["orderby"], first["format"]) == (
        "10000",
        "1",
        "time-asc",
        "text",
    )
    assert CatalogStore(out).completed_blocks() == {b.key for b in calendar_blocks(START, END)}
    metadata = CatalogStore(out).metadata()
    assert metadata["url"] == server.url
    assert metadata["query"] == QUERY.to_json()
    assert metadata["fetched_at"].endswith("Z")


def test_boundary_event_is_stored_once(server: FDSNReplayServer, tmp_path: Path) -> None:
    out = tmp_path / "c.h5"
    fetch(server.url, out, FetchQuery(start="2005-05-01", end="2005-07-01"))
    stored = CatalogStore(out).read()
    on_boundary = stored.time == np.datetime64("2005-06-01T00:00:00", "us")
    assert on_boundary.sum() == 1
    # the May block's response held it too (FDSN end times are inclusive)
    may = next(r for r in server.requests if r.params["starttime"].startswith("2005-05"))
    may_events = server.select(datetime(2005, 5, 1), datetime(2005, 6, 1), inclusive_end=True)
    assert may.rows == len(may_events)


def test_query_filters_are_sent_and_applied(server: FDSNReplayServer, tmp_path: Path) -> None:
    out = tmp_path / "c.h5"
    query = FetchQuery(
        start="2005-01-01",
        end="2006-01-01",
        region=(35.5, 47.9, 6.0, 19.0),
        min_magnitude=1.5,
        event_type="earthquake",
    )
    fetch(server.url, out, query, block="year")
    params = server.requests[0].params
    assert params["minlatitude"] == "35.5" and params["maxlongitude"] == "19.0"
    assert params["minmagnitude"] == "1.5" and params["eventtype"] == "earthquake"
    wanted = [
        e
        for e in server.select(datetime(2005, 1, 1), datetime(2006, 1, 1), min_magnitude=1.5)
        if e.event_type == "earthquake"
    ]
    assert_store_equals(out, wanted)


def test_old_format_without_event_type(tmp_path: Path) -> None:
    with FDSNReplayServer(old_format=True) as replay:
        out = tmp_path / "old.h5"
        fetch(replay.url, out, FetchQuery(start="2005-01-01", end="2005-04-01"))
        stored = CatalogStore(out).read()
    assert len(stored) == len(replay.select(datetime(2005, 1, 1), datetime(2005, 4, 1)))
    assert set(stored.event_type) == {""}
    assert len(stored.filter(event_types=("earthquake",))) == len(stored)


# ----------------------------------------------------------------------- faults
FAULTS = [429, 500, 502, 503, 504, "drop", "truncated", "midline", "last_field", "slow"]


@pytest.mark.parametrize("kind", FAULTS, ids=str)
def test_each_fault_is_survived(kind: int | str, tmp_path: Path) -> None:
    with FDSNReplayServer(slow_seconds=1.5) as replay:
        # the fault hits the first request of March (a busy month) and then goes away
        replay.inject(kind, when=lambda p: p["starttime"].startswith("2005-03"))
        out = tmp_path / "faulty.h5"
        report = fetch(replay.url, out, FetchQuery(start="2005-01-01", end="2005-07-01"))
        faulted = [r for r in replay.requests if r.fault is not None]
    assert [r.fault for r in faulted] == [kind]
    assert report.retries == 1
    assert report.requests == 6 + 1  # one request per month, one retry
    # exactly what the fault-free fetch stores (test_full_fetch_equals_the_service_catalog)
    assert_store_equals(out, replay.select(datetime(2005, 1, 1), datetime(2005, 7, 1)))


def test_backoff_doubles_and_honours_retry_after(server: FDSNReplayServer, tmp_path: Path) -> None:
    clock = FakeClock()
    server.inject(503, times=3, retry_after=None)
    server.inject(429, retry_after="7")
    report = fetch(
        server.url,
        tmp_path / "c.h5",
        FetchQuery(start="2005-01-01", end="2005-02-01"),
        sleep=clock.sleep,
        clock=clock,
        backoff=2.0,
        max_retries=6,
        rate_limit=1000.0,
    )
    assert report.retries == 4
    backoffs = [s for s in clock.sleeps if s > 0.01]  # the rate limiter's waits are 1 ms
    assert backoffs == [2.0, 4.0, 8.0, 7.0]


def test_persistent_fault_names_the_block_and_keeps_earlier_blocks(
    server: FDSNReplayServer, tmp_path: Path
) -> None:
    out = tmp_path / "c.h5"
    server.inject(500, times=None, when=lambda p: p["starttime"] >= "2005-04")
    with pytest.raises(FetchError, match=r"block 2005-04-01T00:00:00/2005-05-01T00:00:00") as info:
        fetch(server.url, out, max_retries=2)
    assert "after 2 retries" in str(info.value) and "HTTP 500" in str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert len(server.requests) == 3 + 3  # three good months, then one try and two retries
    assert_store_equals(out, server.select(START, datetime(2005, 4, 1)))


def test_bad_request_fails_at_once(server: FDSNReplayServer, tmp_path: Path) -> None:
    server.inject(400, times=None, message="Syntax Error in Request: bad eventtype")
    with pytest.raises(FetchError, match="HTTP 400") as info:
        fetch(server.url, tmp_path / "c.h5")
    message = str(info.value)
    assert server.url in message and "bad eventtype" in message
    assert len(server.requests) == 1
    assert not (tmp_path / "c.h5").exists()


def test_wrong_endpoint_404_fails_at_once(server: FDSNReplayServer, tmp_path: Path) -> None:
    url = server.url.replace("/query", "/qeury")
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(url, tmp_path / "c.h5")
    assert len(server.requests) == 1


# ------------------------------------------------------------- paging, splits
@pytest.mark.parametrize(
    ("min_block_days", "expect_split"), [(1.0, True), (1000.0, False)], ids=["split", "page"]
)
def test_big_blocks_are_split_or_paged(
    server: FDSNReplayServer, tmp_path: Path, min_block_days: float, expect_split: bool
) -> None:
    out = tmp_path / "c.h5"
    report = fetch(
        server.url, out, YEAR, page_size=20, max_block_events=40, min_block_days=min_block_days
    )
    assert_store_equals(out, server.select(START, YEAR_END))
    offsets = {int(r.params["offset"]) for r in server.requests}
    assert (report.blocks_split > 0) == expect_split
    windows = requested_windows(server.requests)
    assert len(server.select(datetime(2005, 3, 1), datetime(2005, 4, 1))) > 40
    if expect_split:  # March 2005 (the swarm) was cut in halves, and those again
        assert ("2005-03-01T00:00:00", "2005-03-16T12:00:00") in windows
        assert offsets == {1, 21}  # a block is split once it reached 40 rows
    else:  # paged with 1-based offsets in steps of page_size
        assert all(w[0][8:10] == "01" and w[1][8:10] == "01" for w in windows)
        assert offsets >= {1, 21, 41, 61}
    assert report.events_total == len(server.select(START, YEAR_END))


def test_http_413_splits_the_block(server: FDSNReplayServer, tmp_path: Path) -> None:
    def long_march_window(params) -> bool:
        start, end = (datetime.fromisoformat(params[k]) for k in ("starttime", "endtime"))
        return start.month == 3 and (end - start).days > 10

    server.inject(413, times=None, when=long_march_window, message="Too many events")
    out = tmp_path / "c.h5"
    query = FetchQuery(start="2005-01-01", end="2005-05-01")
    report = fetch(server.url, out, query)
    assert report.blocks_split == 3  # March, then both of its halves
    assert report.retries == 0
    assert_store_equals(out, server.select(START, datetime(2005, 5, 1)))


# ------------------------------------------------------------------- resuming
@pytest.mark.parametrize(
    ("fail_from", "months_done"),
    [("2005-09-01", 8), ("2005-03-08", 2)],
    ids=["at-a-month", "inside-a-split-month"],
)
def test_interrupted_fetch_resumes_to_the_same_store(
    server: FDSNReplayServer, tmp_path: Path, fail_from: str, months_done: int
) -> None:
    options = {"query": YEAR, "page_size": 20, "max_block_events": 40}
    whole = tmp_path / "whole.h5"
    fetch(server.url, whole, **options)
    server.requests.clear()

    out = tmp_path / "resumed.h5"
    server.inject(500, times=None, when=lambda p: p["starttime"] >= fail_from)
    with pytest.raises(FetchError):
        fetch(server.url, out, max_retries=1, **options)
    saved = CatalogStore(out).completed_blocks()
    assert saved and all(key < fail_from for key in saved)

    server.clear_faults()
    first_run = len(server.requests)
    report = fetch(server.url, out, **options)
    again = requested_windows(server.requests[first_run:])
    finished = [key.split("/") for key in saved]
    overlaps = [(a, b) for a, b in again for c, d in finished if a < d and c < b]
    assert not overlaps, "finished blocks were requested again"
    assert report.blocks_skipped == months_done
    assert report.blocks_done + report.blocks_skipped == 12
    assert CatalogStore(out).read().content_hash() == CatalogStore(whole).read().content_hash()
    assert_store_equals(out, server.select(START, YEAR_END))


def test_rerun_of_a_finished_fetch_requests_nothing(
    server: FDSNReplayServer, tmp_path: Path
) -> None:
    out = tmp_path / "c.h5"
    first = fetch(server.url, out, YEAR)
    count = len(server.requests)
    report = fetch(server.url, out, YEAR)
    assert len(server.requests) == count
    assert report.blocks_skipped == 12 and report.blocks_done == 0
    assert report.events_new == 0 and report.events_total == first.events_total


def test_changed_query_or_provider_is_refused(server: FDSNReplayServer, tmp_path: Path) -> None:
    out = tmp_path / "c.h5"
    fetch(server.url, out, FetchQuery(start="2005-01-01", end="2005-03-01"))
    changed = FetchQuery(start="2005-01-01", end="2005-03-01", min_magnitude=2.0)
    with pytest.raises(ValueError, match=r"another query.*new\s+--out"):
        fetch(server.url, out, changed)
    with pytest.raises(ValueError, match="fetched from"):
        fetch("ingv", out, FetchQuery(start="2005-01-01", end="2005-03-01"))


# ---------------------------------------------------------------- rate limit
@pytest.mark.parametrize(("rate_limit", "interval"), [(4.0, 0.25), (None, 0.1)])
def test_requests_respect_the_rate_limit(
    tmp_path: Path, rate_limit: float | None, interval: float
) -> None:
    clock = FakeClock()
    with FDSNReplayServer(clock=clock) as replay:
        fetch(
            replay.url,
            tmp_path / "c.h5",
            YEAR,
            sleep=clock.sleep,
            clock=clock,
            rate_limit=rate_limit,
            page_size=20,
            max_block_events=40,
        )
        starts = np.array([r.clock for r in replay.requests])
    assert len(starts) > 12
    # None: 10 per second from the service's X-RateLimit-Limit header
    assert np.diff(starts).min() >= interval - 1e-9


def test_progress_line_without_tqdm(
    server: FDSNReplayServer, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm fails
    fetch(
        server.url,
        tmp_path / "c.h5",
        FetchQuery(start="2005-01-01", end="2005-03-01"),
        progress=True,
    )
    err = capsys.readouterr().err
    assert "fetch: 2/2 blocks" in err and err.endswith("\n")


# ------------------------------------------------------------ pieces and CLI
def test_calendar_blocks() -> None:
    months = calendar_blocks("2005-01-15", "2005-04-01")
    assert [b.key for b in months] == [
        "2005-01-15T00:00:00/2005-02-01T00:00:00",
        "2005-02-01T00:00:00/2005-03-01T00:00:00",
        "2005-03-01T00:00:00/2005-04-01T00:00:00",
    ]
    weeks = calendar_blocks("2024-01-03", "2024-01-20", "week")  # 2024-01-08 is a Monday
    assert [b.start.day for b in weeks] == [3, 8, 15]
    assert len(calendar_blocks("2005-01-01", "2017-12-31", "year")) == 13
    assert calendar_blocks("2004-12-31", "2005-01-02", "day")[-1].key.startswith("2005-01-01")
    tens = calendar_blocks("2005-01-01", "2005-02-01", 10)
    assert [b.days for b in tens] == [10, 10, 10, 1]
    assert Block.from_key(months[0].key) == months[0]
    with pytest.raises(ValueError, match="block must be one of day, week, month, year"):
        calendar_blocks("2005-01-01", "2006-01-01", "fortnight")


def test_query_validation_and_providers() -> None:
    assert resolve_provider("INGV") == PROVIDERS["ingv"]
    assert resolve_provider("https://example.org/fdsnws/event/1/query?x=1").endswith("/query")
    with pytest.raises(ValueError, match="unknown FDSN provider 'iris'"):
        resolve_provider("iris")
    with pytest.raises(ValueError, match="must be before end"):
        FetchQuery(start="2006-01-01", end="2005-01-01")
    with pytest.raises(ValueError, match="region"):
        FetchQuery(start="2005-01-01", end="2006-01-01", region="35,30,6,19")
    with pytest.raises(ValueError, match=r"min_magnitude 3\.0 must not exceed max_magnitude 2\.0"):
        FetchQuery(start="2005-01-01", end="2006-01-01", min_magnitude=3, max_magnitude=2)
    query = FetchQuery(start="2005-01-01T00:00:00Z", end="2006-01-01", region="35.5,47.9,6,19")
    assert query.region == (35.5, 47.9, 6.0, 19.0)
    assert query.params()["starttime"] == "2005-01-01T00:00:00"


def test_cli_fetch(server: FDSNReplayServer, tmp_path: Path, capsys) -> None:
    out = tmp_path / "italy.h5"
    argv = [
        "quake",
        "fetch",
        "--provider",
        server.url,
        "--start",
        "2005-01-01",
        "--end",
        "2005-04-01",
        "--region",
        "35.5,47.9,6.0,19.0",
        "--min-magnitude",
        "1.5",
        "--timeout",
        "5",
        "--rate-limit",
        "1000",
    ]
    assert main([*argv, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "new events" in captured.out and str(out) in captured.out
    assert "3/3" in captured.err  # the progress line
    expected = server.select(datetime(2005, 1, 1), datetime(2005, 4, 1), min_magnitude=1.5)
    assert len(CatalogStore(out).read()) == len(expected)
    server.inject(400, times=None)
    assert main([*argv, "--out", str(tmp_path / "other.h5")]) == 1
    assert "HTTP 400" in capsys.readouterr().err
