"""CatalogStore: HDF5 layout, append with de-duplication, metadata, blocks, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest

import framecast.quake.catalog.store as store_module
from framecast.quake.catalog.events import Catalog
from framecast.quake.catalog.store import FORMAT, CatalogStore, write_catalog


def _catalog(ids: list[str], *, magnitude: float = 2.0, event_type: str = "earthquake") -> Catalog:
    """Events whose time and place follow from their numeric id."""
    numbers = np.array([int(i.lstrip("ev")) for i in ids])
    return Catalog.from_columns(
        event_id=ids,
        time=np.datetime64("2024-01-01T00:00:00.000001", "us")
        + numbers * np.timedelta64(3_600_000_001, "us"),
        latitude=40.0 + numbers / 100,
        longitude=13.0 - numbers / 100,
        depth=np.where(numbers % 2 == 0, np.nan, numbers * 1.5),
        magnitude=np.full(len(ids), magnitude),
        magnitude_type="ML",
        event_type=event_type,
    )


def test_append_creates_a_store_that_reads_back_exactly(tmp_path: Path) -> None:
    catalog = Catalog.concat(
        [_catalog(["ev3", "ev1"]), _catalog(["ev2"], event_type="quarry blast")]
    )
    catalog = Catalog(**{**catalog.columns(), "magnitude_type": ["ML", "Mw", "Mₗ ünïcode"]})
    store = CatalogStore(tmp_path / "sub" / "catalog.h5")

    assert store.append(catalog) == 3
    read = store.read()

    assert read.content_hash() == catalog.content_hash()
    assert read.event_id.tolist() == ["ev1", "ev2", "ev3"]  # sorted by time
    assert np.isnan(read.depth[1]) and read.depth[0] == 1.5
    assert read.time[0] == np.datetime64("2024-01-01T01:00:00.000002", "us")
    assert "Mₗ ünïcode" in read.magnitude_type.tolist()
    assert len(store) == 3


def test_file_layout(tmp_path: Path) -> None:
    path = tmp_path / "catalog.h5"
    CatalogStore(path).append(
        _catalog(["ev1", "ev2"]), metadata={"source": "INGV"}, completed_blocks=["2024-01"]
    )

    with h5py.File(path, "r") as handle:
        assert handle.attrs["format"] == FORMAT
        events = handle["events"]
        assert events["time"].dtype == np.int64
        assert events["time"][0] == 1_704_070_800_000_002  # µs since 1970, UTC
        assert events["latitude"].dtype == np.float64
        assert h5py.check_string_dtype(events["event_id"].dtype).encoding == "utf-8"
        assert handle["completed_blocks"].asstr()[()].tolist() == ["2024-01"]


def test_append_adds_only_new_ids_and_updates_changed_events(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "catalog.h5")
    store.append(_catalog(["ev1", "ev2", "ev3"], magnitude=2.0))

    revised = _catalog(["ev3", "ev4", "ev5", "ev4"], magnitude=3.5)  # ev4 twice in one batch
    added = store.append(revised)
    read = store.read()

    assert added == 2
    assert read.event_id.tolist() == ["ev1", "ev2", "ev3", "ev4", "ev5"]
    np.testing.assert_array_equal(read.magnitude, [2.0, 2.0, 3.5, 3.5, 3.5])
    assert store.append(_catalog(["ev1", "ev5"])) == 0
    assert len(store) == 5


def test_metadata_merge_and_completed_blocks(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "catalog.h5")
    assert (store.metadata(), store.completed_blocks(), len(store)) == ({}, set(), 0)

    store.append(
        _catalog(["ev1"]),
        metadata={"source": "INGV", "query": "minmag=2", "fetched_at": "2025-01-01T00:00:00Z"},
        completed_blocks=["2024-01", "2024-02"],
    )
    store.append(
        Catalog.empty(),
        metadata={"fetched_at": "2025-02-01T00:00:00Z", "note": "città"},
        completed_blocks=("2024-02", "2024-03"),
    )

    assert store.metadata() == {
        "source": "INGV",
        "query": "minmag=2",
        "fetched_at": "2025-02-01T00:00:00Z",
        "note": "città",
    }
    assert store.completed_blocks() == {"2024-01", "2024-02", "2024-03"}
    assert len(store) == 1


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"metadata": {"count": 3}}, "str to str"),
        ({"completed_blocks": "2024-01"}, "not the string"),
        ({"completed_blocks": [""]}, "non-empty str"),
    ],
)
def test_bad_metadata_or_blocks_are_refused(tmp_path: Path, kwargs: dict, expected: str) -> None:
    store = CatalogStore(tmp_path / "catalog.h5")
    with pytest.raises(TypeError, match=expected):
        store.append(_catalog(["ev1"]), **kwargs)
    assert not store.exists()


def test_read_of_a_missing_store_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere\.h5"):
        CatalogStore(tmp_path / "nowhere.h5").read()


def test_a_file_that_is_not_a_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.h5"
    text_file.write_text("not hdf5")
    other_hdf5 = tmp_path / "other.h5"
    with h5py.File(other_hdf5, "w") as handle:
        handle["data"] = np.arange(3)

    with pytest.raises(ValueError, match=r"notes.h5.*not a framecast catalog store"):
        CatalogStore(text_file).read()
    with pytest.raises(ValueError, match=r"other.h5.*not a framecast catalog store.*catalog 1"):
        CatalogStore(other_hdf5).append(_catalog(["ev1"]))
    assert text_file.read_text() == "not hdf5"
    with h5py.File(other_hdf5, "r") as handle:
        assert list(handle) == ["data"]


def test_write_replaces_the_file_and_keeps_the_last_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "catalog.h5"
    write_catalog(path, _catalog(["ev1", "ev2", "ev3"]), {"source": "old"})

    store = write_catalog(
        path,
        Catalog.concat([_catalog(["ev7"], magnitude=1.0), _catalog(["ev7"], magnitude=4.0)]),
        {"source": "new"},
    )

    assert store.read().event_id.tolist() == ["ev7"]
    assert store.read().magnitude.tolist() == [4.0]
    assert store.metadata() == {"source": "new"}
    assert store.completed_blocks() == set()


def _fail_in_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    def replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store_module.os, "replace", replace)


def _fail_mid_write(monkeypatch: pytest.MonkeyPatch) -> None:
    original = store_module._write_contents

    def write_then_fail(handle: h5py.File, *args: object) -> None:
        original(handle, *args)  # a whole new store in the partial file ...
        handle.flush()
        raise KeyboardInterrupt  # ... then interrupted before the rename

    monkeypatch.setattr(store_module, "_write_contents", write_then_fail)


def _fail_in_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    original = h5py.Group.create_dataset

    def create_dataset(self: h5py.Group, name: str, *args: object, **kwargs: object) -> object:
        if name == "magnitude":
            raise RuntimeError("write error")
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", create_dataset)


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        (_fail_in_replace, OSError),
        (_fail_mid_write, KeyboardInterrupt),
        (_fail_in_dataset, RuntimeError),
    ],
)
def test_a_failed_append_leaves_the_old_store_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: object, error: type[BaseException]
) -> None:
    path = tmp_path / "catalog.h5"
    store = CatalogStore(path)
    store.append(_catalog(["ev1", "ev2"]), metadata={"source": "INGV"}, completed_blocks=["b1"])
    before = (path.read_bytes(), store.read().content_hash())

    fail(monkeypatch)  # type: ignore[operator]
    with pytest.raises(error):
        store.append(_catalog(["ev3"]), metadata={"source": "X"}, completed_blocks=["b2"])
    monkeypatch.undo()

    assert path.read_bytes() == before[0]
    assert store.read().content_hash() == before[1]
    assert (store.metadata(), store.completed_blocks()) == ({"source": "INGV"}, {"b1"})
    assert sorted(os.listdir(tmp_path)) == ["catalog.h5"]  # no partial file left


def test_a_stale_partial_file_from_a_killed_write_is_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "catalog.h5"
    store = CatalogStore(path)
    store.append(_catalog(["ev1"]))
    (tmp_path / "catalog.h5.partial").write_bytes(b"\x89HDF half a file")

    assert store.append(_catalog(["ev2"])) == 1

    assert store.read().event_id.tolist() == ["ev1", "ev2"]
    assert sorted(os.listdir(tmp_path)) == ["catalog.h5"]
