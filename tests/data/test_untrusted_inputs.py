"""Data files never run code: crafted hkl files holding pickles are refused, never unpickled."""

from __future__ import annotations

import contextlib
import logging
import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest

hickle = pytest.importorskip("hickle")

from framecast.cli import main  # noqa: E402
from framecast.data.kitti import KittiHkl, prepare_kitti, read_sources  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:hickle")

NAMES = ["city-a"] * 3 + ["road-b"] * 4


class Booby:
    """Unpickling it creates ``marker`` (``open(marker, "w")``): the sign that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (self.marker, "w")


def frames(n: int = len(NAMES)) -> np.ndarray:
    return np.full((n, 8, 10, 3), 100, np.uint8)


def write_pair(folder: Path, split: str = "train", sources: object = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    hickle.dump(frames(), str(folder / f"X_{split}.hkl"), mode="w")
    hickle.dump(NAMES if sources is None else sources, str(folder / f"sources_{split}.hkl"))


def hickle2_pickle(path: Path, marker: Path) -> None:
    """hickle 2/3's layout for an object it could not map: ``type = [b'pickle']``."""
    with h5py.File(path, "w") as f:
        f.attrs["CLASS"] = b"hickle"
        f.attrs["VERSION"] = 2
        f.create_dataset("data_0", data=[np.bytes_(pickle.dumps(Booby(marker), protocol=0))])
        f["data_0"].attrs["type"] = [b"pickle"]


def poisoned_type_table(path: Path, marker: Path) -> None:
    """A valid hickle 5 list whose pickled type entry is replaced: hickle.load unpickles it."""
    hickle.dump(NAMES, str(path), mode="w")
    with h5py.File(path, "r+") as f:
        data = f["data"]  # the list group; its type entry is a pickled ``list``
        entry = f[data.attrs["type"]]
        name, base = entry.name, entry.attrs["base_type"]
        del f[name]
        payload = np.frombuffer(pickle.dumps(Booby(marker)), "S1")[None]  # (1, n) as hickle
        poisoned = f.create_dataset(name, data=payload)
        poisoned.attrs["base_type"] = base
        data.attrs["type"] = poisoned.ref


@pytest.mark.parametrize("layout", ["hickle5_object", "hickle5_list_item", "hickle2"])
def test_pickled_sources_are_refused_and_never_run(tmp_path: Path, layout: str) -> None:
    marker = tmp_path / "ran"
    folder = tmp_path / "kitti"
    write_pair(folder)
    path = folder / "sources_train.hkl"
    if layout == "hickle5_object":
        hickle.dump(Booby(marker), str(path), mode="w")
        dataset = "data"
    elif layout == "hickle5_list_item":
        hickle.dump(["city-a", Booby(marker)], str(path), mode="w")
        dataset = "data/data1"
    else:
        hickle2_pickle(path, marker)
        dataset = "data_0"
    expected = rf"sources_train\.hkl: dataset '{dataset}' is a pickled Python object"
    with pytest.raises(ValueError, match=expected):
        read_sources(path)
    with pytest.raises(ValueError, match="framecast does not unpickle data files"):
        KittiHkl("train", folder, n_context=1, n_target=1)
    assert not marker.exists()
    if layout == "hickle2":  # hickle 5 no longer reads hickle 2 files; hickle 2 unpickled it
        with h5py.File(path, "r") as f:
            pickle.loads(f["data_0"][0])
    else:
        hickle.load(str(path))  # what the file does to a reader that trusts it
    assert marker.exists()


def test_cli_prepare_refuses_a_pickle_in_one_line(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "ran"
    folder = tmp_path / "kitti"
    write_pair(folder)
    hickle.dump(Booby(marker), str(folder / "sources_train.hkl"), mode="w")
    out = tmp_path / "kitti.h5"
    code = main(["data", "prepare", "kitti", "--source", str(folder), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("framecast data: error: ")
    assert "sources_train.hkl: dataset 'data' is a pickled Python object" in err
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kitti"]  # no cache, no .partial


def test_pickled_frames_file_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    folder = tmp_path / "kitti"
    write_pair(folder)
    hickle.dump([frames(), Booby(marker)], str(folder / "X_train.hkl"), mode="w")
    with pytest.raises(ValueError, match=r"X_train\.hkl: dataset 'data/data1' is a pickled"):
        prepare_kitti(folder, tmp_path / "k.h5")
    assert not marker.exists() and not (tmp_path / "k.h5.partial").exists()


def test_the_pickled_type_table_is_never_read(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    folder = tmp_path / "kitti"
    write_pair(folder)
    path = folder / "sources_train.hkl"
    poisoned_type_table(path, marker)
    assert read_sources(path) == NAMES  # the names come from the data nodes alone
    assert len(KittiHkl("train", folder, n_context=1, n_target=1)) == 2 + 3  # runs of 3 and 4
    assert not marker.exists()
    with contextlib.suppress(Exception):  # hickle may or may not fail after unpickling it
        hickle.load(str(path))
    assert marker.exists()


@pytest.mark.parametrize(
    "sources",
    [tuple(NAMES), np.array(NAMES), [n.encode() for n in NAMES], ["é"] * 3 + ["b"] * 4],
    ids=["tuple", "str_array", "bytes", "non_ascii"],
)
def test_legitimate_hickle5_names_still_read(tmp_path: Path, sources: object) -> None:
    write_pair(tmp_path, sources=sources)
    expected = [n.decode() if isinstance(n, bytes) else str(n) for n in sources]
    assert read_sources(tmp_path / "sources_train.hkl") == expected


def test_not_a_list_of_names_is_one_line(tmp_path: Path) -> None:
    write_pair(tmp_path, sources={"a": 1})
    with pytest.raises(ValueError, match="should hold a list of recording names"):
        read_sources(tmp_path / "sources_train.hkl")
    (tmp_path / "sources_train.hkl").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match=r"cannot read .* as an HDF5"):
        read_sources(tmp_path / "sources_train.hkl")


# --------------------------------------------- data prepare: splits and .partial


def test_few_videos_warn_once_per_empty_split(tmp_path: Path, caplog, capsys) -> None:
    pytest.importorskip("av")
    from fake_video import bar_frames, write_avi

    for name, level in (("a", 40), ("b", 80)):
        write_avi(tmp_path / "vids" / f"{name}.avi", bar_frames(6, level))
    out = tmp_path / "v.h5"
    argv = ["data", "prepare", "videos", "--source", str(tmp_path / "vids"), "--out", str(out)]
    with caplog.at_level(logging.WARNING):
        assert main([*argv, "--size", "8x8"]) == 0
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    assert "split 'val' has no clip (clips per split: train=2, val=0, test=0)" in lines[0]
    assert "split 'test' has no clip" in lines[1] and "--val-fraction" in lines[1]
    assert out.is_file()


def test_nothing_written_keeps_no_partial_and_a_rerun_starts_over(tmp_path: Path, capsys) -> None:
    pytest.importorskip("av")
    from fake_video import bar_frames, write_avi

    (tmp_path / "vids").mkdir()
    (tmp_path / "vids" / "x.avi").write_bytes(b"garbage" * 50)
    out = tmp_path / "v.h5"
    argv = ["data", "prepare", "videos", "--source", str(tmp_path / "vids"), "--out", str(out)]
    assert main([*argv, "--size", "8x8"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "no clip could be written" in err[-1] and "nothing was kept" in err[-1]
    assert not out.exists() and not (tmp_path / "v.h5.partial").exists()
    write_avi(tmp_path / "vids" / "x.avi", bar_frames(6, 40))  # the input fixed: rerun works
    assert main([*argv, "--size", "8x8", "val_fraction=0", "test_fraction=0"]) == 0
    assert out.is_file()


def test_partial_message_is_true(tmp_path: Path, monkeypatch, capsys) -> None:
    pytest.importorskip("av")
    from fake_video import bar_frames, write_avi

    import framecast.data.videos as videos

    for name in "abc":
        write_avi(tmp_path / "vids" / f"{name}.avi", bar_frames(6, 40))
    out = tmp_path / "v.h5"
    argv = ["data", "prepare", "videos", "--source", str(tmp_path / "vids"), "--out", str(out)]
    argv += ["--size", "8x8", "--val-fraction", "0.34", "--test-fraction", "0.34"]
    decode = videos.decode_video
    calls: list[object] = []

    def interrupted(*args: object, **kwargs: object) -> np.ndarray:
        calls.append(args[0])
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C during the second video
        return decode(*args, **kwargs)

    monkeypatch.setattr(videos, "decode_video", interrupted)
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds 1 clip(s)" in err and "rerun the same" in err
    info = ["data", "info", str(out)]
    assert main(info) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds 1 clip(s) of an interrupted preparation" in err
    monkeypatch.setattr(videos, "decode_video", decode)
    assert main(argv) == 0  # the rerun the message suggests continues it
    assert "2 written now, 1 resumed" in capsys.readouterr().out
    # a partial cut off mid-write cannot be continued: the message says to delete it
    (tmp_path / "cut.h5.partial").write_bytes(out.read_bytes()[:300])
    assert main(["data", "info", str(tmp_path / "cut.h5")]) == 2
    assert "cannot be read (cut off mid-write?); delete it" in capsys.readouterr().err
