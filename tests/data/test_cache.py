"""The prepared-video cache: writer, resumption, info, and the windows of PreparedVideos."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from fake_video import BLOCK, write_cache

from framecast.data import build_dataset
from framecast.data.cache import (
    CACHE_FORMAT,
    CacheWriter,
    EmptySplitError,
    PreparedVideos,
    partial_path,
    read_cache_info,
)

SHAPE = (1, 6, 5)
CLIPS = {
    "a": ("train", 12, {"action": "boxing"}),
    "b": ("train", 7, {"action": "running"}),
    "c": ("val", 9, {"action": "running"}),
    "d": ("test", 30, {"action": "boxing"}),
    "e": ("test", 30, {"action": "running"}),
}


def clip_frames(k: int, count: int, shape: tuple[int, int, int] = SHAPE) -> np.ndarray:
    values = (BLOCK * k + np.arange(count)).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(values[:, None, None, None], (count, *shape)))


def writer(path: Path, settings: dict | None = None, **kwargs) -> CacheWriter:
    return CacheWriter(
        path,
        dataset="videos",
        source="synthetic",
        frame_shape=SHAPE,
        settings={"n": 1} if settings is None else settings,
        **kwargs,
    )


def read_all(path: Path) -> dict:
    with h5py.File(path, "r") as handle:
        arrays = {name: handle[name][()] for name in handle}
        attrs = {name: handle.attrs[name] for name in handle.attrs}
    return {**arrays, **{f"attr:{k}": v for k, v in attrs.items()}}


def assert_same_cache(first: Path, second: Path) -> None:
    a, b = read_all(first), read_all(second)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(np.asarray(a[name]), np.asarray(b[name])), name


def test_layout(tmp_path: Path) -> None:
    path = write_cache(tmp_path / "c.h5", CLIPS, frame_shape=SHAPE)
    assert not partial_path(path).exists()
    with h5py.File(path, "r") as handle:
        assert handle.attrs["format"] == CACHE_FORMAT
        assert handle.attrs["dataset"] == "videos"
        assert list(handle.attrs["frame_shape"]) == list(SHAPE)
        assert json.loads(handle.attrs["settings"]) == {"n": 1}
        assert handle["frames"].dtype == np.uint8 and handle["frames"].shape == (88, *SHAPE)
        assert list(handle["clip_offsets"][()]) == [0, 12, 19, 28, 58, 88]
        assert [k.decode() for k in handle["clip_keys"][()]] == list(CLIPS)
        assert [s.decode() for s in handle["clip_split"][()]] == [v[0] for v in CLIPS.values()]
        assert json.loads(handle["clip_meta"][0]) == {"action": "boxing"}
        assert (handle.attrs["value_min"], handle.attrs["value_max"]) == (0, BLOCK * 4 + 29)


def test_info(tmp_path: Path) -> None:
    info = read_cache_info(write_cache(tmp_path / "c.h5", CLIPS, frame_shape=SHAPE))
    assert info.dataset == "videos" and info.frame_shape == SHAPE
    assert info.clips == {"train": 2, "val": 1, "test": 2}
    assert info.frames == {"train": 19, "val": 9, "test": 60}
    assert info.value_range == (0, BLOCK * 4 + 29)
    assert info.windows(8) == {"train": 5, "val": 2, "test": 46}
    text = info.format({"train": 5, "val": 2, "test": 46}, "(4+4)")
    assert "uint8 [88, 1, 6, 5]" in text and "total" in text and "(4+4)" in text


def test_add_clip_checks(tmp_path: Path) -> None:
    with writer(tmp_path / "c.h5") as w:
        with pytest.raises(
            ValueError, match=r"clip 'x'.*float64.*expected uint8 \[T >= 1, 1, 6, 5\]"
        ):
            w.add_clip("x", np.zeros((3, *SHAPE)), split="train", meta={})
        with pytest.raises(ValueError, match=r"clip 'x'.*\(3, 1, 5, 5\)"):
            w.add_clip("x", np.zeros((3, 1, 5, 5), np.uint8), split="train", meta={})
        with pytest.raises(ValueError, match="'training'"):
            w.add_clip("x", clip_frames(0, 3), split="training", meta={})
        with pytest.raises(ValueError, match="JSON"):
            w.add_clip("x", clip_frames(0, 3), split="train", meta={"a": object()})
        w.add_clip("x", clip_frames(0, 3), split="train", meta={})
        with pytest.raises(ValueError, match="'x' is already in the cache"):
            w.add_clip("x", clip_frames(0, 3), split="train", meta={})
    with pytest.raises(ValueError, match="frame_shape"):
        CacheWriter(tmp_path / "d.h5", dataset="v", source="", frame_shape=(6, 5), settings={})


def test_finish_without_clips_and_existing_output(tmp_path: Path) -> None:
    with writer(tmp_path / "c.h5") as w, pytest.raises(ValueError, match="no clip was written"):
        w.finish()
    path = write_cache(tmp_path / "done.h5", CLIPS, frame_shape=SHAPE)
    with pytest.raises(ValueError, match=r"already exists.*overwrite"):
        writer(path)
    with writer(path, overwrite=True) as w:
        w.add_clip("z", clip_frames(1, 4), split="train", meta={})
        w.finish()
    assert read_cache_info(path).clips == {"train": 1, "val": 0, "test": 0}


def test_resume_continues_and_matches_uninterrupted_run(tmp_path: Path) -> None:
    keys = list(CLIPS)
    whole = write_cache(tmp_path / "whole.h5", CLIPS, frame_shape=SHAPE)
    path = tmp_path / "resumed.h5"
    with writer(path) as w:  # "interrupted" after two clips
        for k, key in enumerate(keys[:2]):
            split, count, meta = CLIPS[key]
            w.add_clip(key, clip_frames(k, count), split=split, meta=meta)
    assert partial_path(path).exists() and not path.exists()
    with writer(path) as w:
        assert w.done() == {"a", "b"} and w.resumed == 2
        for k, key in enumerate(keys):
            if key not in w.done():
                split, count, meta = CLIPS[key]
                w.add_clip(key, clip_frames(k, count), split=split, meta=meta)
        w.finish()
    assert_same_cache(whole, path)


def test_crash_mid_clip_leaves_a_tail_that_is_cut_off(tmp_path: Path) -> None:
    keys = list(CLIPS)
    whole = write_cache(tmp_path / "whole.h5", CLIPS, frame_shape=SHAPE)
    path = tmp_path / "crashed.h5"
    with writer(path) as w:
        w.add_clip("a", clip_frames(0, 12), split="train", meta=CLIPS["a"][2])
    # what add_clip leaves when it dies before recording the key of clip "b":
    # its frames, split, meta and offset are written, and the key slot resized but empty
    with h5py.File(partial_path(path), "r+") as handle:
        handle["frames"].resize(19, axis=0)
        handle["frames"][12:19] = 77
        for name, value in (("clip_split", "train"), ("clip_meta", "{}"), ("clip_keys", "")):
            handle[name].resize((2,))
            handle[name][1] = value
        handle["clip_offsets"].resize((3,))
        handle["clip_offsets"][2] = 19
    with writer(path) as w:
        assert w.done() == {"a"}
        for k, key in enumerate(keys[1:], start=1):
            split, count, meta = CLIPS[key]
            w.add_clip(key, clip_frames(k, count), split=split, meta=meta)
        w.finish()
    assert_same_cache(whole, path)


def test_resume_with_other_settings_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.h5"
    with writer(path) as w:
        w.add_clip("a", clip_frames(0, 3), split="train", meta={})
    with pytest.raises(ValueError, match=r"started with settings.*delete it.*same settings"):
        writer(path, settings={"n": 2})
    with pytest.raises(ValueError, match="frame_shape"):
        CacheWriter(path, dataset="videos", source="s", frame_shape=(3, 6, 5), settings={"n": 1})
    with pytest.raises(FileNotFoundError, match=r"unfinished.*rerun"):
        read_cache_info(path)


def test_resume_from_another_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.h5"
    with CacheWriter(path, dataset="v", source="frames_a", frame_shape=SHAPE, settings={}) as w:
        w.add_clip("a", clip_frames(0, 3), split="train", meta={})
    with pytest.raises(ValueError, match=r"started from source .*frames_a.*not 'frames_b'"):
        CacheWriter(path, dataset="v", source="frames_b", frame_shape=SHAPE, settings={})
    with CacheWriter(path, dataset="v", source="frames_a", frame_shape=SHAPE, settings={}) as w:
        assert w.done() == {"a"}
        w.finish()
    assert read_cache_info(path).source == "frames_a"


def test_not_a_cache(tmp_path: Path) -> None:
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as handle:
        handle["x"] = np.zeros(3)
    with pytest.raises(ValueError, match="not a framecast video cache"):
        read_cache_info(path)
    with pytest.raises(FileNotFoundError, match="cache not found"):
        PreparedVideos("train", tmp_path / "missing.h5")


def window_values(item: tuple[torch.Tensor, torch.Tensor]) -> np.ndarray:
    frames = torch.cat(item)  # (T, C, H, W)
    return np.rint(frames[:, 0, 0, 0].numpy() * 255).astype(int)


def test_windows_stay_inside_clips(tmp_path: Path) -> None:
    path = write_cache(tmp_path / "c.h5", CLIPS, frame_shape=SHAPE)
    train = PreparedVideos("train", path, n_context=3, n_target=2, stride=2)
    assert len(train) == 4 + 2  # clip a: 12 frames -> starts 0,2,4,6; clip b: 7 -> 0,2
    assert train.clip_keys == ["a", "b"]
    for index in range(len(train)):
        context, target = train[index]
        assert context.shape == (3, *SHAPE) and target.shape == (2, *SHAPE)
        assert context.dtype == torch.float32
        values = window_values((context, target))
        clip = values[0] // BLOCK
        assert list(values) == list(range(values[0], values[0] + 5))  # consecutive
        assert values[-1] // BLOCK == clip  # one clip
        assert train.window_key(index) == "ab"[clip]


def test_eval_strides_by_meta_and_longer_test_targets(tmp_path: Path) -> None:
    path = write_cache(tmp_path / "c.h5", CLIPS, frame_shape=SHAPE)
    options = {"stride": 1, "test_stride": 20, "strides_by_meta": {"action": {"running": 3}}}
    test = PreparedVideos("test", path, n_context=4, n_target=4, **options)
    # clip d (boxing, 30 frames): starts 0, 20; clip e (running): 0, 3, ..., 21
    assert len(test) == 2 + 8
    val = PreparedVideos("val", path, n_context=4, n_target=4, **options)
    assert len(val) == 1  # running clip of 9 frames: start 0 only
    longer = PreparedVideos("test", path, n_context=4, n_target=4, n_target_test=8, **options)
    assert longer[0][1].shape[0] == 8
    assert len(longer) == 1 + 7  # windows of 12: d 0 (20 > 18); e 0, 3, ..., 18
    train = PreparedVideos("train", path, n_context=4, n_target=4, n_target_test=8, **options)
    assert train[0][1].shape[0] == 4 and len(train) == 5 + 0


def test_empty_split_errors(tmp_path: Path) -> None:
    path = write_cache(tmp_path / "c.h5", {"a": ("train", 12, {})}, frame_shape=SHAPE)
    with pytest.raises(EmptySplitError, match="no clip in split 'val'"):
        PreparedVideos("val", path)
    with pytest.raises(EmptySplitError, match="no window of n_context \\+ n_target = 20"):
        PreparedVideos("train", path)
    with pytest.raises(ValueError, match="'training'"):
        PreparedVideos("training", path)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        PreparedVideos("train", path, n_context=2, n_target=2, stride=0)


def test_pickled_dataset_reopens_its_file(tmp_path: Path) -> None:
    path = write_cache(tmp_path / "c.h5", CLIPS, frame_shape=SHAPE)
    dataset = build_dataset("prepared", "train", n_context=2, n_target=2, options={"path": path})
    first = dataset[3]
    copy = pickle.loads(pickle.dumps(dataset))
    assert copy._handle is None
    for a, b in zip(first, copy[3], strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="needs the option path"):
        build_dataset("prepared", "train", n_context=2, n_target=2)
