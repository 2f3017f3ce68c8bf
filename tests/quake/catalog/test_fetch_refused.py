"""A refused connection fails at once in one line; a hanging server fails after the time-out."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from framecast.cli import main
from framecast.quake.catalog.fetch import FetchError, FetchQuery, fetch_catalog

QUERY = FetchQuery(start="2005-01-01", end="2005-03-01")


def closed_port() -> int:
    """A port on 127.0.0.1 that was just bound and closed: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def hanging_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def test_refused_port_fails_at_once_without_retries(tmp_path: Path) -> None:
    port = closed_port()
    waits: list[float] = []
    began = time.monotonic()
    with pytest.raises(FetchError, match=rf"127\.0\.0\.1:{port}: connection refused") as info:
        fetch_catalog(
            f"http://127.0.0.1:{port}/fdsnws/event/1/query",
            QUERY,
            tmp_path / "c.h5",
            progress=False,
            sleep=waits.append,
        )
    assert time.monotonic() - began < 3.0
    assert waits == [] and "\n" not in str(info.value)


def test_cli_refused_port_is_one_line_exit_1(tmp_path: Path, capsys) -> None:
    port = closed_port()
    out = tmp_path / "c.h5"
    began = time.monotonic()
    code = main(
        [
            "quake",
            "fetch",
            "--provider",
            f"http://127.0.0.1:{port}/fdsnws/event/1/query",
            "--start",
            "2005-01-01",
            "--end",
            "2005-03-01",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    elapsed = time.monotonic() - began
    err = capsys.readouterr().err
    assert code == 1 and elapsed < 3.0, elapsed
    assert err.count("\n") == 1 and "connection refused" in err
    assert err.startswith("framecast quake fetch: error: ")
    assert not out.exists()  # nothing fetched, nothing written


def test_hanging_server_gets_the_timeout_then_fails(tmp_path: Path, hanging_port: int) -> None:
    waits: list[float] = []
    began = time.monotonic()
    with pytest.raises(FetchError, match=r"failed after 1 retries; last error: .*timed out"):
        fetch_catalog(
            f"http://127.0.0.1:{hanging_port}/query",
            QUERY,
            tmp_path / "c.h5",
            timeout=0.3,
            max_retries=1,
            backoff=0.0,
            progress=False,
            sleep=waits.append,
        )
    elapsed = time.monotonic() - began
    assert 0.6 <= elapsed < 3.0 and waits == [0.0]  # two tries of 0.3 s each
