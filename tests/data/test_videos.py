"""Any videos: whole videos per split in sorted order, colour, single files, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fake_video import bar_frames, write_avi

pytest.importorskip("av")

from framecast.data import build_dataset
from framecast.data.cache import read_cache_index
from framecast.data.videos import prepare_videos, split_counts


@pytest.fixture(scope="module")
def video_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    for number, name in enumerate(["b.avi", "a.avi", "sub/c.avi", "sub/d.mkv", "e.avi"]):
        write_avi(root / name, bar_frames(20 + number, 30 + 40 * number))
    (root / "readme.txt").write_text("not a video")
    return root


def test_whole_videos_per_split_in_sorted_order(video_folder: Path, tmp_path: Path) -> None:
    report = prepare_videos(
        video_folder, tmp_path / "v.h5", size=(12, 16), val_fraction=0.2, test_fraction=0.2
    )
    index = read_cache_index(report.out)
    assert index.keys == ["a.avi", "b.avi", "e.avi", "sub/c.avi", "sub/d.mkv"]
    assert index.splits == ["train", "train", "train", "val", "test"]
    assert list(np.diff(index.offsets)) == [21, 20, 24, 22, 23]
    assert index.frame_shape == (1, 12, 16) and index.meta[3] == {"file": "sub/c.avi"}
    test = build_dataset("prepared", "test", n_context=4, n_target=4, options={"path": report.out})
    assert len(test) == 23 - 8 + 1
    context, _ = test[0]
    assert context.shape == (4, 1, 12, 16)
    assert abs(float(context[0, 0, 0, 0]) * 255 - (30 + 40 * 3)) <= 4  # sub/d.mkv's background


def test_colour_and_single_file(video_folder: Path, tmp_path: Path) -> None:
    report = prepare_videos(
        video_folder / "a.avi", tmp_path / "a.h5", grayscale=False, test_fraction=0.0
    )
    index = read_cache_index(report.out)
    assert index.keys == ["a.avi"] and index.frame_shape == (3, 64, 64)


def test_bad_inputs(video_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="video source not found"):
        prepare_videos(tmp_path / "missing", tmp_path / "x.h5")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no video"):
        prepare_videos(tmp_path / "empty", tmp_path / "x.h5")
    with pytest.raises(ValueError, match="size must be"):
        prepare_videos(video_folder, tmp_path / "x.h5", size=(0, 4))
    with pytest.raises(ValueError, match="on_error must be one of"):
        prepare_videos(video_folder, tmp_path / "x.h5", on_error="ignore")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match=r"no clip could be written.*x.mp4"):
        prepare_videos(tmp_path / "bad", tmp_path / "x.h5", val_fraction=0, test_fraction=0)


def test_split_counts() -> None:
    assert split_counts(10, 0.1, 0.2) == (7, 1, 2)
    assert split_counts(1, 0.1, 0.1) == (1, 0, 0)
    with pytest.raises(ValueError, match="none for train"):
        split_counts(2, 0.4, 0.4)
    with pytest.raises(ValueError, match="val_fraction must be in"):
        split_counts(2, 1.5, 0.0)
