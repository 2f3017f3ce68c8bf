"""Where a study lives: a database URL or a journal file, checked and opened in one line.

``--storage`` takes any database URL SQLAlchemy opens for Optuna
(``sqlite:///PATH``, ``postgresql://USER:PASSWORD@HOST:PORT/DB``,
``mysql+pymysql://...``), or ``journal:PATH`` for Optuna's journal file
storage, the no-server option: a log file that several processes, or
machines sharing a file system, append to under a lock. Every storage gets
a heartbeat, so the trial of a killed worker is marked failed and retried
once (:func:`open_storage`). A database server that does not answer fails
in seconds (:data:`CONNECT_TIMEOUT`), with one line that names the URL,
its password masked.
"""

from __future__ import annotations

import inspect
import re
import warnings
from pathlib import Path
from typing import Any

CONNECT_TIMEOUT = 5
"""Seconds to wait for a database server (unless the URL sets ``connect_timeout``)."""

EXPECTED = (
    "expected e.g. sqlite:///runs/tune/study.db, postgresql://user:password@host:5432/db "
    "or journal:///shared/studies/study.log"
)

_JOURNAL = re.compile(r"journal:(?://)?(?P<path>.+)")
_SERVERS = {
    "postgresql": ("PostgreSQL", 5432),
    "mysql": ("MySQL", 3306),
    "mariadb": ("MariaDB", 3306),
}
"""Database back-ends with a server to reach (SQLAlchemy's names): their names, default ports."""

_TIMEOUT_ARGUMENT = {
    "psycopg2": "connect_timeout",
    "psycopg": "connect_timeout",
    "pg8000": "timeout",
    "mysqldb": "connect_timeout",
    "pymysql": "connect_timeout",
    "mysqlconnector": "connection_timeout",
}
"""Each database driver's name for its connect timeout (SQLAlchemy's driver names)."""


def journal_path(url: str) -> Path | None:
    """The file of a ``journal:`` URL, None for any other URL.

    ``journal:///shared/study.log`` is an absolute path,
    ``journal:runs/study.log`` (or ``journal://runs/study.log``) one relative
    to the working directory.
    """
    match = _JOURNAL.fullmatch(url)
    return Path(match.group("path")) if match else None


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (unchanged when it has none)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if journal_path(url) is not None:
        return url
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return re.sub(r"(//[^:/@\s]*:)[^@/\s]*@", r"\1***@", url)
    if parsed.password is None:
        return url
    return parsed.render_as_string(hide_password=True)


def check_storage_url(url: str) -> None:
    """Refuse, before anything is written, a ``--storage`` Optuna cannot open.

    A database URL is parsed by SQLAlchemy (what Optuna's ``RDBStorage``
    opens) and its dialect loaded, so a scheme without a database driver is
    refused too; a journal file's folder must exist.

    Raises
    ------
    ValueError
        One line naming the URL (password masked) and what is expected.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    path = journal_path(url)
    if path is not None:
        if not path.parent.is_dir():
            raise ValueError(
                f"--storage {url!r}: the folder {str(path.parent)!r} of the journal file does "
                "not exist; expected a journal file in an existing (shared) folder"
            )
        if path.is_dir():
            raise ValueError(f"--storage {url!r} is a folder; expected a journal file's path")
        return
    try:
        dialect = make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as error:
        reason = " ".join(str(error).split())
        raise ValueError(
            f"--storage {mask_url(url)!r} is not a storage URL Optuna can open ({reason}); "
            f"{EXPECTED}"
        ) from None
    try:  # the driver itself (psycopg2 for postgresql://) is imported only on connecting
        (getattr(dialect, "import_dbapi", None) or dialect.dbapi)()
    except ImportError as error:
        raise ValueError(
            f"--storage {mask_url(url)!r} needs the database driver {error.name!r}, which is not "
            "installed; expected an installed driver (pip install 'framecast[postgres]' for "
            "postgresql://)"
        ) from None


def engine_kwargs(url: str) -> dict[str, Any]:
    """SQLAlchemy engine options for a database URL: a connect timeout for a server.

    A server that does not answer (a wrong address, a firewall dropping the
    packets) would otherwise hold the connection for minutes; connections
    are pinged before use, since a trial can keep one idle for hours.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() not in _SERVERS:
        return {}
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    argument = _TIMEOUT_ARGUMENT.get(parsed.get_driver_name())
    if argument is not None and argument not in parsed.query:
        kwargs["connect_args"] = {argument: CONNECT_TIMEOUT}
    return kwargs


def open_storage(url: str, *, heartbeat: int) -> Any:
    """Open (and create the tables or file of) the study storage, with a heartbeat.

    Parameters
    ----------
    url : str
        A database URL or ``journal:PATH`` (:func:`check_storage_url`).
    heartbeat : int
        Seconds between a running trial's heartbeats; a trial silent for
        three times as long is marked failed and retried once with the
        same values.

    Returns
    -------
    optuna.storages.BaseStorage

    Raises
    ------
    ValueError
        One line: the storage cannot be opened (a server that does not
        answer within :data:`CONNECT_TIMEOUT` seconds, a refused login, an
        unwritable file), naming the URL with its password masked.
    """
    import optuna.storages as storages
    from sqlalchemy.exc import SQLAlchemyError

    beat = {"heartbeat_interval": heartbeat, "grace_period": 3 * heartbeat}
    path = journal_path(url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the heartbeat and the callback are experimental
        retry = getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
        callback = (retry or storages.RetryFailedTrialCallback)(max_retry=1)
        if path is not None:
            from framecast.tuning.journal import HeartbeatJournalStorage

            try:
                return HeartbeatJournalStorage(path, **beat, stale_trial_callback=callback)
            except OSError as error:
                raise ValueError(
                    f"cannot open the journal file {str(path)!r} of --storage {url!r}: "
                    f"{error.strerror or error}; expected a file this process may write"
                ) from None
        # Optuna 4.9 renamed the callback's argument (the old name is deprecated)
        named = inspect.signature(storages.RDBStorage).parameters
        key = "heartbeat_stale_trial_callback"
        key = key if key in named else "failed_trial_callback"
        try:
            return storages.RDBStorage(
                url, engine_kwargs=engine_kwargs(url), **beat, **{key: callback}
            )
        except SQLAlchemyError as error:
            raise ValueError(_unreachable(url, error)) from None


def _unreachable(url: str, error: Exception) -> str:
    """The one line for a database that cannot be opened: URL, reason, what was expected."""
    from sqlalchemy.engine import make_url

    first = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = " ".join(first[0].split()) if first else type(error).__name__
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _SERVERS:
        expected = "expected a database file in an existing folder, which this process may write"
    else:
        server, port = _SERVERS[backend]
        where = f"{parsed.host or 'localhost'}:{parsed.port or port}"
        argument = _TIMEOUT_ARGUMENT.get(parsed.get_driver_name(), "connect_timeout")
        timeout = parsed.query.get(argument, CONNECT_TIMEOUT)
        expected = (
            f"expected a {server} server answering at {where} within {timeout} s that lets "
            f"user {parsed.username!r} into database {parsed.database!r}"
        )
    return f"cannot open the study storage {mask_url(url)!r}: {reason}; {expected}"
