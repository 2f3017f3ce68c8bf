"""Folders framecast owns: a manifest of what it wrote, one writer at a time, safe names.

Every run folder (a training run, ``quake run``'s ``out_dir``, ``quake radio
compare-aux``'s) carries ``.framecast-manifest``: the files framecast wrote
there, one relative path a line. A path is recorded before its file is
written (:func:`framecast.files.atomic_write` reports every whole-file write
to the folders open in this process) or, for files written by libraries
(Lightning's logs, TensorBoard's events, Matplotlib's figures), when the
folder is scanned: any file that appeared or changed while framecast held
the folder. ``--restart`` deletes only the recorded files, and refuses a
folder that has no manifest and is not empty: whatever else is in a folder
stays.

A writer holds ``.framecast.lock`` in the folder for its whole run
(:class:`ProcessLock`); a second writer is refused in one line naming the
holder's process id. The lock is released by the kernel when its process
dies, so the lock file a killed run leaves behind is taken over at once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from types import TracebackType

try:  # POSIX: flock; elsewhere the lock is advisory only (see ProcessLock)
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

MANIFEST_NAME = ".framecast-manifest"
"""The list of files framecast wrote in a folder, one POSIX path relative to it a line."""
LOCK_NAME = ".framecast.lock"
"""The lock file a writer holds in its run folder (it holds the writer's process id)."""
_MANIFEST_HEADER = (
    "# framecast manifest 1: the files framecast wrote in this folder, one a line; "
    "--restart deletes these and nothing else\n"
)
_OWN_FILES = frozenset({MANIFEST_NAME, LOCK_NAME})


class RunInUseError(ValueError):
    """Another process holds the folder (a second writer of one run is refused)."""


def check_run_name(value: object, key: str = "train.run_name") -> None:
    """Refuse a run name that is not exactly one folder name.

    A run folder is ``<out_dir>/<run_name>``; a name with a separator,
    ``..`` or an absolute path would put it (and what a restart deletes)
    outside ``out_dir``.

    Parameters
    ----------
    value : object
        The run name; None (the default name) is accepted.
    key : str
        The config key, for the message.

    Raises
    ------
    ValueError
        Not a string, empty, ``.``/``..``, absolute, or holding ``/``, ``\\``
        or a NUL byte.
    """
    if value is None:
        return
    text = value if isinstance(value, str) else None
    bad = (
        text is None
        or text.strip() in ("", ".", "..")
        or "\0" in text
        or any(sep in text for sep in {"/", "\\", os.sep, os.altsep or "/"})
        or os.path.isabs(text)
    )
    if bad:
        raise ValueError(
            f"{key} must be one folder name (no '/', '\\', '..' or absolute path), got {value!r}"
        )


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name the same file (hard and symbolic links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist: compare the resolved names
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def check_output_file(
    out: str | os.PathLike[str],
    *,
    inputs: Iterable[tuple[str, str | os.PathLike[str] | None]] = (),
    overwrite: bool = False,
    option: str = "--out",
) -> Path:
    """Refuse an output file that is an input, or that exists when not asked to replace it.

    Parameters
    ----------
    out : path
        The file a command is about to write.
    inputs : iterable of (str, path or None)
        The command's inputs as (option, path); None entries are skipped.
        ``out`` may never be one of them, ``overwrite`` or not.
    overwrite : bool
        Replace an existing ``out`` (``--overwrite``).
    option : str
        The output's option, for the messages.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ValueError
        ``out`` is an input, a folder, or exists without ``overwrite``.
    """
    path = Path(out).expanduser()
    for name, given in inputs:
        if given is not None and same_file(path, given):
            raise ValueError(
                f"{option} {str(out)!r} is the input {name} {str(given)!r}; framecast never "
                f"writes over its own input: choose another {option}"
            )
    if path.is_dir():
        raise ValueError(f"{option} {str(out)!r} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise ValueError(
            f"{option} {str(out)!r} already exists; pass --overwrite to replace it, "
            f"or choose another {option}"
        )
    return path


class ProcessLock:
    """An exclusive lock on ``path`` held by this process, naming it in the file.

    ``fcntl.flock`` rather than the ``filelock`` package: ``filelock`` is only
    a dependency of torch here, not of framecast, and it does not record the
    holder, which the refusal of a second writer names. The kernel releases
    a flock when its process dies, so the file a killed process leaves is no
    stale lock: the next writer takes it over. On release the file is
    removed; acquiring checks that the file locked is still the one at
    ``path`` (a holder may remove it in between), so two writers never both
    hold it. Where ``fcntl`` is missing (Windows) nothing is locked.

    Parameters
    ----------
    path : path
        The lock file (created if missing).
    what : str
        What is locked, for the refusal (e.g. ``run folder 'runs/x'``).
    """

    def __init__(self, path: str | os.PathLike[str], what: str) -> None:
        self.path = Path(path)
        self.what = what
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> ProcessLock:
        """Take the lock, or refuse in one line naming the process that holds it.

        Raises
        ------
        RunInUseError
            Another process (or another writer in this one) holds it.
        """
        if self._fd is not None or fcntl is None:
            return self
        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                holder = _read_pid(fd)
                os.close(fd)
                if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                raise RunInUseError(
                    f"{self.what} is in use by another framecast process (PID {holder}); "
                    "wait for it to finish or stop it, or use another folder"
                ) from None
            try:
                on_disk = os.stat(self.path)
                mine = os.fstat(fd)
                current = (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)
            except FileNotFoundError:
                current = False
            if current:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self._fd = fd
                return self
            os.close(fd)  # the holder removed it as we opened it: lock the new one
        raise RuntimeError(f"could not lock {str(self.path)!r}: it keeps being replaced")

    def release(self) -> None:
        """Remove the lock file and let go of the lock (no-op when not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # while still held: nobody locks a dead file
        finally:
            os.close(fd)

    def __enter__(self) -> ProcessLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return text if text.isdigit() else "unknown"


_ACTIVE: list[RunFolder] = []
_ACTIVE_LOCK = threading.Lock()


def note_written(path: str | os.PathLike[str]) -> None:
    """Record ``path`` in the manifest of every open run folder that holds it.

    :func:`framecast.files.atomic_write` calls this before it writes, so
    that a file is listed even when the process dies while writing it.
    """
    with _ACTIVE_LOCK:
        folders = list(_ACTIVE)
    if not folders:
        return
    target = Path(path).absolute()
    for folder in folders:
        folder.record(target)


def _files_under(root: Path) -> Iterator[Path]:
    """Every file (and symlink) below ``root``, without following symlinked folders."""
    for parent, dirs, files in os.walk(root, followlinks=False):
        base = Path(parent)
        for name in files:
            yield base / name
        for name in dirs:
            if (base / name).is_symlink():
                yield base / name


class RunFolder:
    """A folder framecast writes a run into: its manifest and its writer's lock.

    Use :meth:`open` (or ``with RunFolder(...) as folder``) for the life of
    the run: it creates the folder, takes the lock, and from then on every
    file framecast writes in it is recorded. :meth:`clear` is ``--restart``.

    Parameters
    ----------
    path : path
        The folder.
    what : str
        What the folder is, for messages (``run folder``, ``out_dir``).
    """

    def __init__(self, path: str | os.PathLike[str], what: str = "run folder") -> None:
        self.path = Path(path)
        self.what = what
        self._lock = ProcessLock(self.path / LOCK_NAME, f"{what} {str(self.path)!r}")
        self._mutex = threading.Lock()
        self._listed: set[str] | None = None
        self._snapshot: dict[str, tuple[int, int, int]] = {}
        self._created = False

    # -- the manifest ----------------------------------------------------------------------------

    @property
    def manifest(self) -> Path:
        """The manifest file."""
        return self.path / MANIFEST_NAME

    def has_manifest(self) -> bool:
        """Whether framecast has recorded writes in this folder."""
        return self.manifest.is_file()

    def listed(self) -> set[str]:
        """The recorded files, as POSIX paths relative to the folder."""
        if self._listed is not None:
            return set(self._listed)
        names: set[str] = set()
        if self.manifest.is_file():
            with open(self.manifest, encoding="utf-8", errors="replace") as handle:
                names = {
                    line.rstrip("\n")
                    for line in handle
                    if line.strip() and not line.startswith("#")
                }
        return names

    def _relative(self, path: str | os.PathLike[str]) -> str | None:
        target = Path(path)
        if not target.is_absolute():
            target = self.path / target
        try:
            relative = os.path.relpath(os.path.abspath(target), os.path.abspath(self.path))
        except ValueError:  # another drive
            return None
        posix = PurePosixPath(*Path(relative).parts)
        if not posix.parts or posix.parts[0] == ".." or str(posix) in _OWN_FILES:
            return None
        if posix.name == LOCK_NAME:  # a nested run's lock lives only while that run does
            return None
        return str(posix)

    def record(self, *paths: str | os.PathLike[str]) -> list[str]:
        """Add files (absolute, or relative to the folder) to the manifest; returns the new.

        Paths outside the folder, and the manifest and lock themselves, are
        ignored. The first record creates the manifest; the manifest of a
        folder inside another open run folder is recorded in that one's.
        """
        names = [n for n in (self._relative(p) for p in paths) if n is not None]
        if not names:
            return []
        with self._mutex:
            if self._listed is None:
                self._listed = self.listed()
            new = [n for n in dict.fromkeys(names) if n not in self._listed]
            if not new:
                return []
            created = not self.manifest.is_file()
            self.path.mkdir(parents=True, exist_ok=True)
            with open(self.manifest, "a", encoding="utf-8") as handle:
                if created:
                    handle.write(_MANIFEST_HEADER)
                handle.writelines(f"{name}\n" for name in new)
                handle.flush()
                os.fsync(handle.fileno())
            self._listed.update(new)
        if created:
            note_written(self.manifest)  # an enclosing run folder lists this one's manifest
        return new

    def unlisted(self) -> list[str]:
        """Files in the folder that the manifest does not list (its own files aside)."""
        if not self.path.is_dir():
            return []
        listed = self.listed()
        names = (self._relative(p) for p in _files_under(self.path))
        return sorted(n for n in names if n is not None and n not in listed)

    def adopt(self, names: Iterable[str]) -> list[str]:
        """Record the files already under the top-level ``names`` (a folder from before manifests).

        Returns
        -------
        list of str
            The files recorded.
        """
        found = []
        for name in names:
            target = self.path / name
            if target.is_file() or target.is_symlink():
                found.append(target)
            elif target.is_dir():
                found += list(_files_under(target))
        return self.record(*found)

    def _stat_all(self) -> dict[str, tuple[int, int, int]]:
        stats = {}
        for path in _files_under(self.path):
            name = self._relative(path)
            if name is None:
                continue
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue
            stats[name] = (st.st_ino, st.st_size, st.st_mtime_ns)
        return stats

    def record_new(self) -> list[str]:
        """Record every file that appeared or changed since :meth:`open` (its lock holder wrote it).

        Returns
        -------
        list of str
            The files newly recorded.
        """
        if not self.path.is_dir():
            return []
        current = self._stat_all()
        listed = self.listed()
        changed = [
            name
            for name, stat in current.items()
            if name not in listed and self._snapshot.get(name) != stat
        ]
        new = self.record(*changed)
        for name in new:  # an enclosing open run folder lists them too
            note_written(self.path / name)
        return new

    # -- deleting --------------------------------------------------------------------------------

    def check_clearable(self) -> None:
        """Refuse, before anything is deleted, a folder whose files framecast did not record.

        Raises
        ------
        ValueError
            The folder is not empty and has no manifest; one line naming a file in it.
        """
        if not self.path.exists():
            return
        if not self.path.is_dir():
            raise ValueError(f"{self.what} {str(self.path)!r} is a file, not a folder")
        if self.has_manifest():
            return
        others = self.unlisted()
        if others:
            raise ValueError(
                f"--restart refused: {self.what} {str(self.path)!r} has no framecast manifest "
                f"({MANIFEST_NAME}), so framecast did not write it (or wrote it before "
                f"manifests), and it holds {len(others)} file(s) (e.g. {others[0]!r}); nothing "
                "was deleted: move them or choose another folder"
            )

    def _entries(self) -> list[Path]:
        root = Path(os.path.realpath(self.path))
        safe = []
        for name in sorted(self.listed()):
            pure = PurePosixPath(name)
            if pure.is_absolute() or ".." in pure.parts or not pure.parts:
                continue  # a crafted manifest names nothing outside the folder
            target = self.path.joinpath(*pure.parts)
            parent = Path(os.path.realpath(target.parent))
            if parent != root and root not in parent.parents:
                continue
            safe.append(target)
        return safe

    def _nested(self) -> list[RunFolder]:
        return [
            RunFolder(entry.parent, self.what)
            for entry in self._entries()
            if entry.name == MANIFEST_NAME and entry.parent != self.path
        ]

    def remove(self, under: str = "") -> list[Path]:
        """Delete the recorded files at or under ``under`` (a relative path; "" for all).

        Files the manifest does not list are kept, and so are the folders
        holding them; a folder left empty is removed. A run folder inside
        (a training run of a quake run) is emptied of its own recorded files
        too. The lock of this folder is never touched.

        Returns
        -------
        list of Path
            The files deleted.
        """
        prefix = PurePosixPath(under) if under else None
        deleted: list[Path] = []
        for nested in self._nested():
            inside = PurePosixPath(self._relative(nested.path) or "")
            if prefix is None or inside.is_relative_to(prefix):
                with nested._lock:  # refuses to empty a run in progress
                    deleted += nested.remove()
                _remove_empty_parents(nested.path, self.path)
        kept: set[str] = set()
        for target in self._entries():
            name = self._relative(target)
            if name is None:
                continue
            if prefix is not None and not PurePosixPath(name).is_relative_to(prefix):
                kept.add(name)
                continue
            if target.is_symlink() or target.is_file():
                target.unlink()
                deleted.append(target)
            elif target.exists():
                kept.add(name)  # a folder where a file was: not ours to delete
            _remove_empty_parents(target.parent, self.path)
        self._rewrite_manifest(kept)
        return deleted

    def _rewrite_manifest(self, kept: set[str]) -> None:
        with self._mutex:
            if not kept:
                self.manifest.unlink(missing_ok=True)
                self._listed = set() if self._listed is not None else None
                return
            partial = self.manifest.with_name(MANIFEST_NAME + ".partial")
            partial.write_text(_MANIFEST_HEADER + "".join(f"{n}\n" for n in sorted(kept)))
            os.replace(partial, self.manifest)
            self._listed = set(kept)

    def clear(self) -> list[Path]:
        """``--restart``: delete every recorded file (and the manifest), nothing else.

        Raises
        ------
        ValueError
            The folder is not empty and has no manifest (nothing is deleted).
        RunInUseError
            Another process writes in the folder (nothing is deleted).
        """
        self.check_clearable()
        if not self.path.is_dir():
            return []
        if self._lock.held:
            return self.remove()
        with self._lock:  # refused while another process writes here
            return self.remove()

    # -- the run ---------------------------------------------------------------------------------

    def open(self) -> RunFolder:
        """Create the folder, take its lock and start recording what framecast writes in it.

        Raises
        ------
        RunInUseError
            Another process writes in the folder.
        """
        self._created = not self.path.exists()
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except BaseException:
            self._remove_if_created()
            raise
        self._listed = None
        self._snapshot = self._stat_all()
        with _ACTIVE_LOCK:
            _ACTIVE.append(self)
        return self

    def close(self) -> None:
        """Record what the run wrote, stop recording and release the lock."""
        try:
            if self._lock.held:
                self.record_new()
        finally:
            with _ACTIVE_LOCK:
                if self in _ACTIVE:
                    _ACTIVE.remove(self)
            self._lock.release()
            self._remove_if_created()

    def _remove_if_created(self) -> None:
        """Remove the folder :meth:`open` created if nothing was written in it (a refusal)."""
        if getattr(self, "_created", False):
            with contextlib.suppress(OSError):
                self.path.rmdir()  # only when empty

    def __enter__(self) -> RunFolder:
        return self.open()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _remove_empty_parents(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to (not including) ``root`` while they are empty."""
    root = Path(os.path.abspath(root))
    current = Path(os.path.abspath(folder))
    while current != root and root in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
