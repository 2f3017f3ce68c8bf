"""download_mnist against a local HTTP server on 127.0.0.1 (no internet needed)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from framecast.data import download_mnist


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        self.server.requested.append(self.path.lstrip("/"))  # type: ignore[attr-defined]
        super().do_GET()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], list[str]]]:
    """Serve four small fake gz files; yield (url, name -> md5, requested names)."""
    root = tmp_path / "served"
    root.mkdir()
    files: dict[str, str] = {}
    for k, name in enumerate(["a-images.gz", "a-labels.gz", "b-images.gz", "b-labels.gz"]):
        data = gzip.compress(f"fake content {k}".encode() * 100)
        (root / name).write_bytes(data)
        files[name] = hashlib.md5(data).hexdigest()
    handler = partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requested = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        yield url, files, server.requested  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_download_and_verify(tmp_path: Path, served) -> None:
    url, files, requested = served
    dest = tmp_path / "dest"
    assert download_mnist(dest, base_url=url, files=files, timeout=5.0) == dest
    for name, md5 in files.items():
        assert hashlib.md5((dest / name).read_bytes()).hexdigest() == md5
    assert sorted(requested) == sorted(files)
    assert not [p for p in dest.iterdir() if p.name.endswith(".part")]


def test_resume_skips_present_files(tmp_path: Path, served) -> None:
    url, files, requested = served
    dest = tmp_path / "dest"
    download_mnist(dest, base_url=url, files=files, timeout=5.0)
    first = next(iter(files))
    (dest / first).unlink()
    requested.clear()
    download_mnist(dest, base_url=url, files=files, timeout=5.0)
    assert requested == [first]


def test_replaces_corrupt_present_file(tmp_path: Path, served) -> None:
    url, files, requested = served
    dest = tmp_path / "dest"
    dest.mkdir()
    name = next(iter(files))
    (dest / name).write_bytes(b"half a file")
    download_mnist(dest, base_url=url, files=files, timeout=5.0)
    assert hashlib.md5((dest / name).read_bytes()).hexdigest() == files[name]
    assert name in requested


def test_md5_mismatch(tmp_path: Path, served) -> None:
    url, files, _ = served
    wrong = dict(files)
    name = sorted(files)[1]
    wrong[name] = "0" * 32
    dest = tmp_path / "dest"
    with pytest.raises(ValueError, match=name):
        download_mnist(dest, base_url=url, files=wrong, timeout=5.0)
    assert not (dest / name).exists()
    assert not [p for p in dest.iterdir() if p.name.endswith(".part")]


def test_missing_on_server(tmp_path: Path, served) -> None:
    url, _, _ = served
    with pytest.raises(OSError, match=r"nothere\.gz"):
        download_mnist(tmp_path / "d", base_url=url, files={"nothere.gz": "0" * 32}, timeout=5.0)
