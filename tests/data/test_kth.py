"""KTH: preparation from AVI files (splits by person, resizing, resumption, corrupt files)
and the PredRNN window protocol of the "kth" dataset."""

from __future__ import annotations

import contextlib
from pathlib import Path

import h5py
import numpy as np
import pytest
from fake_video import HEIGHT, WIDTH, bar_frames, write_avi, write_kth_folder

pytest.importorskip("av")

import framecast.data.kth as kth
from framecast.data import build_dataset
from framecast.data.cache import read_cache_index
from framecast.data.video_io import VideoDecodeError, decode_video

FRAMES = 40
SIZE = (16, 20)


@pytest.fixture(scope="module")
def kth_folder(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """Persons 3 (train), 15 (val), 20 (test) x boxing, running x d1: 6 videos of 40 frames."""
    root = tmp_path_factory.mktemp("kth")
    return root, write_kth_folder(root, num_frames=FRAMES)


@pytest.fixture(scope="module")
def kth_cache(kth_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cache") / "kth.h5"
    report = kth.prepare_kth(kth_folder[0], out, size=SIZE)
    assert len(report.written) == 6 and not report.skipped and not report.resumed
    return report.out


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as handle:
        names = ("frames", "clip_offsets", "clip_keys", "clip_split", "clip_meta")
        out = {name: handle[name][()] for name in names}
        out.update({f"attr:{k}": np.asarray(v) for k, v in handle.attrs.items() if k != "source"})
    return out


def test_decode_video_shapes(kth_folder) -> None:
    path = kth_folder[0] / "boxing" / "person03_boxing_d1_uncomp.avi"
    grey = decode_video(path)
    assert grey.dtype == np.uint8 and grey.shape == (FRAMES, 1, HEIGHT, WIDTH)
    assert abs(int(grey[5, 0, 5, 0]) - kth_folder[1]["person03_boxing_d1"]) <= 3
    colour = decode_video(path, size=(12, 8), grayscale=False)
    assert colour.shape == (FRAMES, 3, 12, 8)


def test_splits_by_person_keys_and_meta(kth_cache: Path, kth_folder) -> None:
    index = read_cache_index(kth_cache)
    assert index.dataset == "kth" and index.frame_shape == (1, *SIZE)
    assert index.keys == sorted(kth_folder[1])
    by_key = dict(zip(index.keys, index.splits, strict=True))
    assert {k: s for k, s in by_key.items() if k.startswith("person03")} == {
        "person03_boxing_d1": "train",
        "person03_running_d1": "train",
    }
    assert by_key["person15_running_d1"] == "val" and by_key["person20_boxing_d1"] == "test"
    meta = index.meta[index.keys.index("person20_running_d1")]
    assert meta == {
        "person": 20,
        "action": "running",
        "scenario": "d1",
        "file": "running/person20_running_d1_uncomp.avi",
    }
    assert np.all(np.diff(index.offsets) == FRAMES)
    assert index.settings["persons"] == {
        "train": list(range(1, 15)),
        "val": [15, 16],
        "test": list(range(17, 26)),
    }


def test_window_counts_follow_the_protocol(kth_cache: Path) -> None:
    def count(split: str, **options) -> int:
        options = {"path": str(kth_cache), **options}
        return len(build_dataset("kth", split, n_context=5, n_target=5, options=options))

    # windows of 10 frames in clips of 40: every start in train (31 per clip)
    assert count("train") == 2 * 31
    # val/test: boxing every 20 frames (starts 0, 20), running every 3 (0, 3, ..., 30)
    assert count("val") == count("test") == 2 + 11
    # 20 targets at test: windows of 25, boxing 0, 20 -> 0 only (20 + 25 > 40); running 0..15
    assert count("test", n_target_test=20) == 1 + 6
    assert count("test", test_stride=10, test_strides_by_action={"running": 5}) == 4 + 7
    dataset = build_dataset(
        "kth", "test", n_context=5, n_target=5, options={"path": str(kth_cache)}
    )
    assert dataset[0][0].shape == (5, 1, *SIZE)
    with pytest.raises(ValueError, match="unknown actions \\['swimming'\\]"):
        build_dataset(
            "kth",
            "test",
            n_context=5,
            n_target=5,
            options={"path": str(kth_cache), "test_strides_by_action": {"swimming": 2}},
        )


def test_no_window_crosses_two_clips(kth_cache: Path, kth_folder) -> None:
    backgrounds = kth_folder[1]
    dataset = build_dataset(
        "kth", "train", n_context=5, n_target=5, options={"path": str(kth_cache)}
    )
    for index in range(0, len(dataset), 3):
        context, target = dataset[index]
        column = np.concatenate([context, target])[:, 0, :, 0] * 255  # (T, H): left column
        expected = backgrounds[dataset.window_key(index)]
        assert np.abs(column - expected).max() <= 6, (index, dataset.window_key(index))


def test_flat_folder_and_person_options(tmp_path: Path) -> None:
    write_kth_folder(
        tmp_path / "src", persons=(1, 17), actions=("walking",), flat=True, num_frames=24
    )
    (tmp_path / "src" / "notes.avi").write_bytes(b"")  # not a KTH name: ignored
    report = kth.prepare_kth(
        tmp_path / "src",
        tmp_path / "k.h5",
        size=(8, 8),
        persons_train=range(1, 17),
        persons_val=(),
        persons_test=range(17, 26),
    )
    assert sorted(report.written) == ["person01_walking_d1", "person17_walking_d1"]
    assert any("notes.avi" in item for item in report.ignored)
    with pytest.raises(ValueError, match="person 3 is in both persons_train and persons_test"):
        kth.prepare_kth(tmp_path / "src", tmp_path / "x.h5", persons_test=(3,))
    with pytest.raises(ValueError, match="persons_val holds 26"):
        kth.prepare_kth(tmp_path / "src", tmp_path / "x.h5", persons_val=(26,))
    with pytest.raises(FileNotFoundError, match="KTH folder not found"):
        kth.prepare_kth(tmp_path / "nope", tmp_path / "x.h5")


def test_interrupted_preparation_resumes_to_the_same_cache(
    kth_folder, kth_cache: Path, tmp_path: Path, monkeypatch
) -> None:
    calls = []

    def crash_after_two(*args, **kwargs):
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        calls.append(args[0])
        return decode_video(*args, **kwargs)

    out = tmp_path / "kth.h5"
    monkeypatch.setattr(kth, "decode_video", crash_after_two)
    with pytest.raises(RuntimeError, match="simulated crash"):
        kth.prepare_kth(kth_folder[0], out, size=SIZE)
    assert not out.exists() and (tmp_path / "kth.h5.partial").exists()
    monkeypatch.undo()
    lines: list[str] = []
    report = kth.prepare_kth(kth_folder[0], out, size=SIZE, progress=lines.append)
    assert len(report.resumed) == 2 and len(report.written) == 4
    assert "already written (resumed)" in lines[0] and "[6/6]" in lines[-1]
    assert "4 written now, 2 resumed" in report.format()
    first, second = read_arrays(kth_cache), read_arrays(out)
    assert first.keys() == second.keys()
    for name in first:
        assert np.array_equal(first[name], second[name]), name
    (tmp_path / "again.h5.partial").write_bytes(out.read_bytes())  # a run with other persons
    with pytest.raises(ValueError, match=r"started with settings.*delete it to start over"):
        kth.prepare_kth(kth_folder[0], tmp_path / "again.h5", size=SIZE, persons_val=(15,))


def test_corrupt_videos_are_reported_and_skipped(tmp_path: Path) -> None:
    root = tmp_path / "kth"
    write_kth_folder(root, persons=(3,), actions=("boxing",), num_frames=60)
    whole = write_avi(tmp_path / "whole.avi", bar_frames(60, 100)).read_bytes()
    (root / "running").mkdir()
    noise = np.random.default_rng(0).integers(0, 256, 6000, dtype=np.uint8).tobytes()
    (root / "running" / "person03_running_d1_uncomp.avi").write_bytes(noise)
    (root / "running" / "person03_running_d2_uncomp.avi").write_bytes(whole[: len(whole) * 3 // 4])
    report = kth.prepare_kth(root, tmp_path / "k.h5", size=(8, 8))
    assert report.written == ["person03_boxing_d1"]
    assert set(report.skipped) == {"person03_running_d1", "person03_running_d2"}
    assert "person03_running_d1_uncomp.avi" in report.skipped["person03_running_d1"]
    assert "person03_running_d2_uncomp.avi" in report.skipped["person03_running_d2"]
    assert "skipped person03_running_d1" in report.format()
    index = read_cache_index(report.out)
    assert index.keys == ["person03_boxing_d1"]
    with h5py.File(report.out, "r") as handle:
        assert handle["frames"].shape[0] == 60
        assert handle["frames"][()].reshape(60, -1).max(axis=1).min() > 0  # no blank frame
    with pytest.raises(VideoDecodeError, match=r"person03_running_d1_uncomp.avi"):
        kth.prepare_kth(root, tmp_path / "r.h5", size=(8, 8), on_error="raise")


def test_truncated_files_never_pass_silently(tmp_path: Path) -> None:
    data = write_avi(tmp_path / "whole.avi", bar_frames(60, 100)).read_bytes()
    short = []
    for fraction in (0.6, 0.7, 0.75, 0.8, 0.85):
        cut = tmp_path / f"cut{fraction}.avi"
        cut.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(VideoDecodeError, match=rf"cut{fraction}\.avi"):
            decode_video(cut)
        with contextlib.suppress(VideoDecodeError):
            short.append(len(decode_video(cut, check_length=False)))
    # FFmpeg decodes the start of some cut files without error: the header check catches them
    assert short and max(short) < 60
