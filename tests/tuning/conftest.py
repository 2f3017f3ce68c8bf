"""Shared study storages for the tuning tests: a real PostgreSQL server, a journal file.

The server (``tests/postgres_testing.py``) starts once per session, the
first time a test asks for it; each test gets a database of its own. Where
the server's binaries or the ``psycopg`` driver are missing the tests skip
with the reason, unless ``FRAMECAST_REQUIRE_POSTGRES=1`` (``.ci/run`` sets
it once the server is installed) turns the skip into a failure.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_testing import PostgresServer, find_binaries

_databases = itertools.count()


def _unavailable(reason: str) -> None:
    if os.environ.get("FRAMECAST_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (FRAMECAST_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on 127.0.0.1 in a temporary data folder, stopped after the session."""
    binaries = find_binaries()
    if binaries is None:
        _unavailable(
            "no PostgreSQL server: initdb and postgres are neither on PATH nor in "
            "/usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)"
        )
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("no psycopg driver (pip install 'framecast[postgres]')")
    assert binaries is not None
    server = PostgresServer(binaries)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database on the session's server."""
    return postgres_server.create_database(f"study_{next(_databases)}")


@pytest.fixture(params=["postgres", "journal"])
def shared_storage(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A storage several processes can share: a PostgreSQL database, or a journal file."""
    if request.param == "journal":
        return f"journal://{tmp_path / 'study.log'}"
    return str(request.getfixturevalue("postgres_url"))
