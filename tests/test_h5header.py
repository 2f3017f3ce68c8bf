"""The one header of framecast's HDF5 files: written, checked, refused in one line."""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import pytest

from framecast.h5header import check_header, read_header, write_header


def test_a_written_header_passes_its_check(tmp_path: Path) -> None:
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as handle:
        write_header(handle, "framecast thing 1")
    with h5py.File(path, "r") as handle:
        assert read_header(handle) == "framecast thing 1"
        check_header(handle, path, "framecast thing 1", "framecast thing")


def test_a_bytes_header_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "b.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["format"] = b"framecast thing 1"
    with h5py.File(path, "r") as handle:
        check_header(handle, path, "framecast thing 1", "framecast thing")


@pytest.mark.parametrize(("found", "shown"), [(None, "None"), ("other 2", "'other 2'")])
def test_another_header_is_refused_in_one_line_naming_file_found_and_expected(
    tmp_path: Path, found: str | None, shown: str
) -> None:
    path = tmp_path / "c.h5"
    with h5py.File(path, "w") as handle:
        if found is not None:
            write_header(handle, found)
    with h5py.File(path, "r") as handle, pytest.raises(ValueError) as error:
        check_header(handle, path, "framecast thing 1", "framecast thing", "write one with x")
    message = str(error.value)
    assert "\n" not in message
    assert message == (
        f"{str(path)!r} is not a framecast thing (format attribute {shown}, expected "
        "'framecast thing 1'); write one with x"
    )


def test_no_hand_written_format_check_is_left() -> None:
    """Every HDF5 file framecast writes gets its header through framecast.h5header."""
    src = Path(__file__).resolve().parents[1] / "src" / "framecast"
    pattern = re.compile(r"""attrs(\.get\()?\[?["']format["']""")
    found = [
        str(path.relative_to(src))
        for path in sorted(src.rglob("*.py"))
        if path.name != "h5header.py" and pattern.search(path.read_text())
    ]
    assert not found, found
