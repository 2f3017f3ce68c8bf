"""A throw-away PostgreSQL server for the tests: initdb into a temporary folder, start, stop.

The server listens on 127.0.0.1 at a free port (and on a unix socket in
its own folder), with password login for TCP; nothing of it outlives
:meth:`PostgresServer.stop`. ``initdb`` refuses to run as root, so under
root the server runs as an unprivileged system user (``postgres`` where
Debian's package made one, else ``nobody``) that owns the temporary folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

USER = "framecast"
PASSWORD = "pg-test-secret"


def find_binaries() -> Path | None:
    """The folder of ``initdb`` and ``postgres``: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    folders = [Path(found).resolve().parent] if found else []
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    folders += [Path(f) for f in sorted(debian, key=lambda f: int(f.split("/")[-2]), reverse=True)]
    for folder in folders:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """One server process over its own data folder.

    Parameters
    ----------
    binaries : Path
        The folder holding ``initdb`` and ``postgres``.
    """

    binaries: Path
    root: Path = field(init=False)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    _user: pwd.struct_passwd | None = None

    def __post_init__(self) -> None:
        # not pytest's tmp_path: its parents are closed to the unprivileged user
        self.root = Path(tempfile.mkdtemp(prefix="framecast-pg-"))
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self._user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            if self._user is None:
                raise RuntimeError("running as root, and no user 'postgres' or 'nobody' to run as")

    def _run(self, *command: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(c) for c in command],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self._as_user(),
            **kwargs,  # type: ignore[arg-type]
        )

    def _as_user(self) -> dict[str, object]:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def start(self) -> str:
        """Initialise the data folder and start the server; returns its admin URL."""
        data, sockets, secret = self.root / "data", self.root / "sockets", self.root / "pw"
        sockets.mkdir()
        secret.write_text(PASSWORD + "\n")
        if self._user is not None:
            for path in (self.root, sockets, secret):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        done = self._run(
            self.binaries / "initdb",
            "-D",
            data,
            "-U",
            USER,
            f"--pwfile={secret}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()[-500:]}")
        for _ in range(3):  # the free port may be taken between the probe and the start
            self.port = _free_port()
            if self._launch(data, sockets):
                return self.url("postgres")
        raise RuntimeError(f"the server did not start: {self._log()[-500:]}")

    def _launch(self, data: Path, sockets: Path) -> bool:
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                *(str(self.binaries / "postgres"), "-D", str(data), "-h", "127.0.0.1"),
                *("-p", str(self.port), "-k", str(sockets), "-c", "fsync=off"),
            ],
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            **self._as_user(),  # type: ignore[arg-type]
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if self._ready():
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        self._halt()
        return False

    def _ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url("postgres"), connect_timeout=5).close()
        except psycopg.OperationalError:
            return False
        return True

    def _log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def url(self, database: str) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        self._halt()
        shutil.rmtree(self.root, ignore_errors=True)

    def _halt(self) -> None:
        """An immediate shutdown (the data is thrown away), then a kill after 30 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
