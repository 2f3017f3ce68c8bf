"""MNIST digits: the IDX file reader, the search for a local copy, the download.

References
----------
.. [1] Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
   handwritten digits" (file format section: "the IDX file format").
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

MNIST_FILES: Mapping[str, str] = MappingProxyType(
    {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
)
"""The four standard MNIST files and the md5 of each ``.gz``."""

MNIST_IMAGE_FILES: Mapping[str, str] = MappingProxyType(
    {"train": "train-images-idx3-ubyte", "test": "t10k-images-idx3-ubyte"}
)
"""Base name (without ``.gz``) of the image file of each MNIST split."""

MNIST_DIR_ENV = "FRAMECAST_MNIST_DIR"
"""Environment variable naming a folder that holds the MNIST files."""

DEFAULT_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

_GZIP_MAGIC = b"\x1f\x8b"

# IDX type codes -> big-endian numpy dtypes (the IDX format section of [1]).
_IDX_DTYPES: Mapping[int, str] = MappingProxyType(
    {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw, into a numpy array.

    Compression is detected by the gzip magic bytes ``1f 8b``, not by the
    file name. The header is two zero bytes, a type code, the number of
    dimensions and one big-endian uint32 size per dimension [1]_.

    Parameters
    ----------
    path : str or os.PathLike
        The IDX file.

    Returns
    -------
    numpy.ndarray
        The array, in native byte order, with the shape of the header.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Bad magic number, or a payload whose size does not match the header
        (a truncated file), or a corrupt gzip stream.

    References
    ----------
    .. [1] LeCun, Cortes and Burges, "The MNIST database", section "the IDX
       file format".
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"IDX file not found: {str(file)!r}")
    raw = file.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise ValueError(f"corrupt gzip data in IDX file {str(file)!r}: {err}") from err
    if len(raw) < 4:
        raise ValueError(f"IDX file {str(file)!r} is too short ({len(raw)} bytes) to hold a header")
    zero, type_code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or type_code not in _IDX_DTYPES:
        raise ValueError(
            f"bad magic number {raw[:4].hex()} in IDX file {str(file)!r}; expected 0000 followed "
            f"by a type code in {[hex(c) for c in _IDX_DTYPES]} and the number of dimensions"
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(
            f"IDX file {str(file)!r} is truncated: header declares {ndim} dimensions "
            f"but the file has only {len(raw)} bytes"
        )
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header_size
    if got != expected:
        raise ValueError(
            f"IDX file {str(file)!r} has {got} bytes of data, but its header (shape {shape}, "
            f"dtype {dtype}) needs {expected}; the file is truncated or corrupt"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def mnist_image_file(mnist_dir: str | os.PathLike[str], split: str) -> Path:
    """Path of the image file of ``split`` ("train" or "test") in ``mnist_dir``.

    The ``.gz`` file is preferred; the raw file is used when it alone exists.

    Raises
    ------
    ValueError
        If ``split`` is not "train" or "test".
    FileNotFoundError
        If neither file exists; the message names both paths tried.
    """
    if split not in MNIST_IMAGE_FILES:
        raise ValueError(f"MNIST split must be one of {list(MNIST_IMAGE_FILES)}, got {split!r}")
    base = Path(mnist_dir) / MNIST_IMAGE_FILES[split]
    candidates = (base.with_name(base.name + ".gz"), base)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(repr(str(c)) for c in candidates)
    raise FileNotFoundError(
        f"MNIST {split} images not found; tried {tried}. "
        "Call framecast.data.download_mnist(dest) to fetch them."
    )


def load_mnist_digits(mnist_dir: str | os.PathLike[str], split: str) -> np.ndarray:
    """Load the MNIST digit images of ``split``.

    Parameters
    ----------
    mnist_dir : str or os.PathLike
        Folder holding ``train-images-idx3-ubyte(.gz)`` and
        ``t10k-images-idx3-ubyte(.gz)``.
    split : str
        "train" (60,000 digits) or "test" (the 10,000 t10k digits).

    Returns
    -------
    numpy.ndarray
        uint8 array ``[N, 28, 28]``.

    Raises
    ------
    FileNotFoundError
        If the folder lacks the file.
    ValueError
        Bad split, or a file that is not an IDX ``[N, 28, 28]`` uint8 array.
    """
    file = mnist_image_file(mnist_dir, split)
    images = read_idx(file)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"MNIST image file {str(file)!r} holds a {images.dtype} array of shape "
            f"{images.shape}; expected uint8 [N, 28, 28]"
        )
    return images


def _holds_mnist(folder: Path) -> bool:
    name = MNIST_IMAGE_FILES["test"]
    return (folder / name).is_file() or (folder / f"{name}.gz").is_file()


def mnist_search_dirs() -> list[Path]:
    """The folders :func:`find_mnist_dir` looks in, in order.

    1. ``$FRAMECAST_MNIST_DIR`` if set;
    2. ``../shared/data/mnist`` relative to the current directory;
    3. ``shared/data/mnist`` beside the repository root of this package;
    4. ``~/.cache/framecast/mnist``.
    """
    dirs: list[Path] = []
    env = os.environ.get(MNIST_DIR_ENV)
    if env:
        dirs.append(Path(env).expanduser())
    dirs.append(Path.cwd().parent / "shared" / "data" / "mnist")
    # src/framecast/data/mnist.py -> parents[3] is the repository root
    dirs.append(Path(__file__).resolve().parents[3].parent / "shared" / "data" / "mnist")
    dirs.append(Path.home() / ".cache" / "framecast" / "mnist")
    return dirs


def find_mnist_dir() -> Path | None:
    """Return the first folder of :func:`mnist_search_dirs` holding the MNIST t10k images.

    Returns
    -------
    pathlib.Path or None
        The folder, or None when no searched folder holds
        ``t10k-images-idx3-ubyte(.gz)``.
    """
    for folder in mnist_search_dirs():
        if _holds_mnist(folder):
            return folder
    return None


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_mnist(
    dest: str | os.PathLike[str],
    base_url: str = DEFAULT_MNIST_URL,
    files: Mapping[str, str] = MNIST_FILES,
    timeout: float = 60.0,
) -> Path:
    """Download the MNIST ``.gz`` files into ``dest`` and check their md5.

    Each file is written to a temporary name in ``dest`` and renamed once its
    md5 matches, so an interrupted download never leaves a partial file
    under the final name. Files already present with the right md5 are
    skipped, so a failed call can simply be repeated.

    Parameters
    ----------
    dest : str or os.PathLike
        Folder to write into (created if missing), e.g.
        ``~/.cache/framecast/mnist`` where :func:`find_mnist_dir` looks.
    base_url : str
        URL prefix; each file is fetched from ``base_url + name``.
    files : Mapping[str, str]
        File name -> expected md5 hex digest of the file as downloaded.
    timeout : float
        Seconds to wait on the server for each request.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    OSError
        If a file cannot be fetched (the message names the URL).
    ValueError
        If a downloaded file's md5 differs from the expected one (the
        message names the file and both digests).
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    folder = Path(dest).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    prefix = base_url if base_url.endswith("/") else base_url + "/"
    for name, md5 in files.items():
        target = folder / name
        if target.is_file() and _md5(target) == md5:
            continue
        url = prefix + name
        fd, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                try:
                    with urllib.request.urlopen(url, timeout=timeout) as response:
                        for block in iter(lambda r=response: r.read(1 << 20), b""):
                            out.write(block)
                except (urllib.error.URLError, TimeoutError) as err:
                    raise OSError(f"could not download {url}: {err}") from err
            got = _md5(temp)
            if got != md5:
                raise ValueError(
                    f"md5 mismatch for {name} downloaded from {url}: expected {md5}, got {got}"
                )
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
    return folder
