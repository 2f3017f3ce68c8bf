"""PredNet's KITTI files, raw KITTI folders, the KITTI cache preparer, synthetic stand-ins."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

hickle = pytest.importorskip("hickle")

from framecast.data import build_dataset  # noqa: E402
from framecast.data.kitti import (  # noqa: E402
    KittiHkl,
    find_raw_drives,
    process_im,
    read_sources,
    source_runs,
    window_starts,
)

SOURCES = {"city-drive_a": 7, "road-drive_b": 12, "residential-drive_c": 5}
"""Three recordings of 7, 12 and 5 frames."""

BLOCK = 50
"""Pixel value of frame k of recording s: ``BLOCK * s + k`` (so both are readable back)."""


def kitti_frames(lengths: list[int], size: tuple[int, int] = (128, 160)) -> np.ndarray:
    """uint8 [N, H, W, 3]: frame k of recording s is filled with 50 * s + k."""
    values = [BLOCK * s + k for s, n in enumerate(lengths) for k in range(n)]
    return (
        np.asarray(values, np.uint8)[:, None, None, None]
        .repeat(size[0], 1)
        .repeat(size[1], 2)
        .repeat(3, 3)
    )


def write_hkl_pair(
    folder: Path,
    split: str,
    sources: dict[str, int] = SOURCES,
    size: tuple[int, int] = (128, 160),
) -> None:
    """PredNet's layout, written with hickle 5."""
    folder.mkdir(parents=True, exist_ok=True)
    x = kitti_frames(list(sources.values()), size)
    names = [name for name, n in sources.items() for _ in range(n)]
    hickle.dump(x, str(folder / f"X_{split}.hkl"), mode="w")
    hickle.dump(names, str(folder / f"sources_{split}.hkl"), mode="w")


def write_legacy_pair(folder: Path, split: str, sources: dict[str, int] = SOURCES) -> None:
    """The layout of PredNet's published files (hickle 2, Python 2): plain ``data_0`` datasets."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [name for name, n in sources.items() for _ in range(n)]
    with h5py.File(folder / f"X_{split}.hkl", "w") as f:
        f.attrs["CLASS"] = b"hickle"
        f.attrs["VERSION"] = 2
        f.create_dataset("data_0", data=kitti_frames(list(sources.values())))
    with h5py.File(folder / f"sources_{split}.hkl", "w") as f:
        f.attrs["CLASS"] = b"hickle"
        f.attrs["VERSION"] = 2
        f.create_dataset("data_0", data=np.array([n.encode() for n in names]))


@pytest.fixture(scope="module")
def hkl_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kitti_hkl")
    for split in ("train", "val", "test"):
        write_hkl_pair(folder, split)
    return folder


def kitti_hkl_contract_options(tmp_path: Path) -> dict[str, Any]:
    """Options for tests/data/test_dataset_contract.py's OPTIONS["kitti_hkl"] (to move there)."""
    for split in ("train", "val", "test"):
        write_hkl_pair(tmp_path / "kitti", split, size=(16, 20))
    return {"folder": str(tmp_path / "kitti")}


def kitti_cache_contract_options(tmp_path: Path) -> dict[str, Any]:
    """Options for tests/data/test_dataset_contract.py's OPTIONS["kitti"] (to move there)."""
    from framecast.data.kitti import prepare_kitti

    for split in ("train", "val", "test"):
        write_hkl_pair(tmp_path / "kitti_src", split, size=(16, 20))
    report = prepare_kitti(tmp_path / "kitti_src", tmp_path / "kitti.h5", size=(16, 20))
    return {"path": str(report.out)}


def prednet_starts(sources: list[str], nt: int, mode: str) -> list[int]:
    """coxlab/prednet data_utils.SequenceGenerator's possible_starts, as written there."""
    n = len(sources)
    if mode == "all":
        return [i for i in range(n - nt) if sources[i] == sources[i + nt - 1]]
    starts, current = [], 0
    while current < n - nt + 1:
        if sources[current] == sources[current + nt - 1]:
            starts.append(current)
            current += nt
        else:
            current += 1
    return starts


def decode(frames: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(recording, frame-in-recording) of each frame of [T, 3, H, W] values in [0, 1]."""
    values = np.rint(frames[:, 0, 0, 0].numpy() * 255).astype(int)
    assert torch.all(frames == frames[:, :1, :1, :1])  # every pixel and channel the same
    return values // BLOCK, values % BLOCK


# ------------------------------------------------------------------ windows


def test_source_runs_and_starts() -> None:
    names = [n for n, k in SOURCES.items() for _ in range(k)]
    runs = source_runs(names)
    assert runs == [
        ("city-drive_a", 0, 7),
        ("road-drive_b", 7, 19),
        ("residential-drive_c", 19, 24),
    ]
    assert window_starts(runs, 4).tolist() == [0, 1, 2, 3, *range(7, 16), 19, 20]
    assert window_starts(runs, 4, mode="unique").tolist() == [0, 7, 11, 15, 19]
    assert window_starts(runs, 4, stride=3).tolist() == [0, 3, 7, 10, 13, 19]
    assert window_starts(runs, 13).tolist() == []
    with pytest.raises(ValueError, match="'first'"):
        window_starts(runs, 4, mode="first")


@pytest.mark.parametrize("nt", [2, 4, 5, 10])
def test_starts_match_prednet(nt: int) -> None:
    names = [n for n, k in SOURCES.items() for _ in range(k)]
    runs = source_runs(names)
    assert window_starts(runs, nt, mode="unique").tolist() == prednet_starts(names, nt, "unique")
    ours = window_starts(runs, nt, mode="all").tolist()
    # PredNet's range(N - nt) drops the window ending on the file's last frame; we keep it
    assert ours[: len(prednet_starts(names, nt, "all"))] == prednet_starts(names, nt, "all")
    assert set(ours) - set(prednet_starts(names, nt, "all")) <= {len(names) - nt}


def test_repeated_name_gives_separate_runs() -> None:
    runs = source_runs(["a"] * 3 + ["b"] * 2 + ["a"] * 3)
    assert runs == [("a", 0, 3), ("b", 3, 5), ("a", 5, 8)]
    assert window_starts(runs, 3).tolist() == [0, 5]  # never a window a-b-a


# ------------------------------------------------------------ kitti_hkl data


@pytest.mark.parametrize(
    ("split", "options", "count"),
    [
        ("train", {}, 4 + 9 + 2),  # every start inside each recording
        ("val", {}, 15),
        ("test", {}, 1 + 3 + 1),  # PredNet's 'unique' windows: 7 -> 1, 12 -> 3, 5 -> 1
        ("train", {"stride": 2}, 2 + 5 + 1),
        ("train", {"sequence_start_mode": "unique"}, 5),
        ("test", {"sequence_start_mode": "all"}, 15),
        ("val", {"max_windows": 6}, 6),
    ],
)
def test_window_counts(hkl_folder: Path, split: str, options: dict, count: int) -> None:
    dataset = KittiHkl(split, hkl_folder, n_context=2, n_target=2, **options)
    assert len(dataset) == count


@pytest.mark.parametrize("split", ["train", "test"])
def test_windows_stay_inside_one_recording(hkl_folder: Path, split: str) -> None:
    dataset = KittiHkl(split, hkl_folder, n_context=2, n_target=2)
    seen: list[tuple[int, int]] = []
    for i in range(len(dataset)):
        context, target = dataset[i]
        recording, frame = decode(torch.cat([context, target]))
        assert (recording == recording[0]).all(), f"window {i} crosses recordings: {recording}"
        assert np.array_equal(frame, frame[0] + np.arange(4)), f"window {i} skips frames: {frame}"
        seen += list(zip(recording.tolist(), frame.tolist(), strict=True))
    if split == "test":  # unique: no frame twice
        assert len(seen) == len(set(seen)) == 5 * 4


def test_items_shapes_range_and_dtype(hkl_folder: Path) -> None:
    dataset = KittiHkl("train", hkl_folder, n_context=3, n_target=2)
    assert (dataset.channels, dataset.height, dataset.width) == (3, 128, 160)
    context, target = dataset[len(dataset) - 1]
    assert context.shape == (3, 3, 128, 160) and target.shape == (2, 3, 128, 160)
    assert context.dtype == target.dtype == torch.float32
    assert float(context.min()) >= 0.0 and float(target.max()) <= 1.0
    # the last window of the file ends on the last frame of the last recording
    assert decode(target)[1].tolist() == [3, 4] and decode(target)[0].tolist() == [2, 2]
    batch = next(iter(torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True)))
    assert batch[0].shape == (4, 3, 3, 128, 160)


def test_default_window_is_prednets(hkl_folder: Path) -> None:
    # nt = 10 as PredNet: only drive_b (12 frames) holds windows
    assert len(KittiHkl("train", hkl_folder, n_context=5, n_target=5)) == 3
    assert len(KittiHkl("test", hkl_folder, n_context=5, n_target=5)) == 1


def test_pickled_dataset_reads_in_a_new_process_state(hkl_folder: Path) -> None:
    dataset = KittiHkl("train", hkl_folder, n_context=2, n_target=2)
    first = dataset[5]
    clone = pickle.loads(pickle.dumps(dataset))  # what DataLoader workers get
    assert all(torch.equal(a, b) for a, b in zip(first, clone[5], strict=True))


def test_registered_and_built_by_name(hkl_folder: Path) -> None:
    dataset = build_dataset(
        "kitti_hkl", "test", n_context=5, n_target=5, options={"folder": str(hkl_folder)}
    )
    assert isinstance(dataset, KittiHkl) and len(dataset) == 1
    with pytest.raises(ValueError, match="folder="):
        build_dataset("kitti_hkl", "train", n_context=2, n_target=2)


def test_contract_options_build(tmp_path: Path) -> None:
    options = kitti_hkl_contract_options(tmp_path)
    for split in ("train", "val", "test"):
        dataset = build_dataset("kitti_hkl", split, n_context=3, n_target=4, options=options)
        assert len(dataset) >= 1 and dataset[0][0].shape == (3, 3, 16, 20)


def test_prednets_published_layout_is_read_without_hickle(tmp_path: Path) -> None:
    write_legacy_pair(tmp_path, "val")
    assert read_sources(tmp_path / "sources_val.hkl") == [
        n for n, k in SOURCES.items() for _ in range(k)
    ]
    dataset = KittiHkl("val", tmp_path, n_context=2, n_target=2)
    assert len(dataset) == 15
    recording, frame = decode(torch.cat(dataset[4]))
    assert recording.tolist() == [1] * 4 and frame.tolist() == [0, 1, 2, 3]


def test_errors_name_the_problem(hkl_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"X_train\.hkl"):
        KittiHkl("train", tmp_path)
    with pytest.raises(ValueError, match="'training'"):
        KittiHkl("training", hkl_folder)
    with pytest.raises(ValueError, match="'sometimes'"):
        KittiHkl("train", hkl_folder, sequence_start_mode="sometimes")
    with pytest.raises(ValueError, match="stride"):
        KittiHkl("test", hkl_folder, stride=2)
    with pytest.raises(ValueError, match="at most 12 frames"):
        KittiHkl("train", hkl_folder, n_context=10, n_target=10)
    bad = tmp_path / "bad"
    write_hkl_pair(bad, "train")
    hickle.dump(["a"] * 3, str(bad / "sources_train.hkl"), mode="w")
    with pytest.raises(ValueError, match="names 3 frames"):
        KittiHkl("train", bad)
    hickle.dump(np.zeros((4, 8, 8), np.uint8), str(bad / "X_train.hkl"), mode="w")
    with pytest.raises(ValueError, match=r"\[N, H, W, 3\]"):
        KittiHkl("train", bad)


# ------------------------------------------------------------- raw frames


def halves_image(h: int = 375, w: int = 1242) -> np.ndarray:
    """KITTI-sized frame: left half 40, right half 200 (red); top half green 10, bottom 250."""
    image = np.zeros((h, w, 3), np.uint8)
    image[:, : w // 2, 0] = 40
    image[:, w // 2 :, 0] = 200
    image[: h // 2, :, 1] = 10
    image[h // 2 :, :, 1] = 250
    image[..., 2] = 77
    return image


def test_process_im_is_prednets_resize_and_centre_crop() -> None:
    image = halves_image()
    out = process_im(image)
    assert out.shape == (128, 160, 3) and out.dtype == np.uint8
    # by hand: 1242 * 128 / 375 = 423.9 -> 424 wide; d = int((424 - 160) / 2) = 132; the
    # vertical edge at 621 of 1242 lands on 212 of 424, i.e. crop column 212 - 132 = 80;
    # the horizontal edge at 187 of 375 lands on row 64 of 128
    assert (out[:, :78, 0] == 40).all() and (out[:, 82:, 0] == 200).all()
    assert (out[:62, :, 1] == 10).all() and (out[66:, :, 1] == 250).all()
    assert (out[..., 2] == 77).all()
    expected = np.asarray(Image.fromarray(image).resize((424, 128), Image.Resampling.BILINEAR))
    assert np.array_equal(out, expected[:, 132:292])


def test_process_im_other_sizes_and_errors() -> None:
    image = halves_image(75, 250)
    assert process_im(image, (32, 40)).shape == (32, 40, 3)
    assert process_im(image[..., 0], (32, 40)).shape == (32, 40)
    same = np.arange(128 * 160 * 3, dtype=np.uint32).astype(np.uint8).reshape(128, 160, 3)
    assert np.array_equal(process_im(same), same)  # already 128x160: untouched
    with pytest.raises(ValueError, match="narrower than the crop width 200"):
        process_im(image, (32, 200))
    with pytest.raises(ValueError, match="uint8"):
        process_im(image.astype(np.float32))


def write_drive(
    root: Path, drive: str, n: int, shift: int, camera: str = "image_03", size=(75, 250)
) -> list[Path]:
    """KITTI raw layout: <date>/<drive>/<camera>/data/%010d.png; frame k is halves + shift + k."""
    folder = root / drive[:10] / drive / camera / "data"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        path = folder / f"{k:010d}.png"
        Image.fromarray(halves_image(*size) + np.uint8(shift + k)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def raw_folder(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    write_drive(root, "2011_09_26_drive_0001_sync", 6, 0)
    write_drive(root, "2011_09_26_drive_0001_sync", 6, 0, camera="image_02")  # not read
    write_drive(root, "2011_09_26_drive_0005_sync", 5, 10)  # PredNet's val drive
    write_drive(root, "2011_09_26_drive_0070_sync", 4, 20)  # one of PredNet's test drives
    write_drive(root, "2011_09_28_drive_0002_sync", 7, 30)
    return root


def test_find_raw_drives(raw_folder: Path) -> None:
    drives = find_raw_drives(raw_folder)
    assert [d.key for d in drives] == [
        "2011_09_26_drive_0001_sync",
        "2011_09_26_drive_0005_sync",
        "2011_09_26_drive_0070_sync",
        "2011_09_28_drive_0002_sync",
    ]
    assert all(d.folder.parent.name == "image_03" for d in drives)
    assert [len(d.files) for d in drives] == [6, 5, 4, 7]
    assert len(find_raw_drives(raw_folder, camera="image_02")) == 1


def test_category_folders_prefix_keys_like_prednet(tmp_path: Path) -> None:
    write_drive(tmp_path / "city", "2011_09_26_drive_0005_sync", 2, 0)
    write_drive(tmp_path / "road", "2011_09_26_drive_0070_sync", 2, 0)
    keys = [d.key for d in find_raw_drives(tmp_path)]
    assert keys == ["city-2011_09_26_drive_0005_sync", "road-2011_09_26_drive_0070_sync"]


def test_plain_folders_of_pngs_are_drives(tmp_path: Path) -> None:
    for name in ("clip_a", "clip_b"):
        (tmp_path / name).mkdir()
        for k in range(3):
            Image.fromarray(halves_image(30, 100)).save(tmp_path / name / f"{k}.png")
    assert [d.key for d in find_raw_drives(tmp_path)] == ["clip_a", "clip_b"]


def test_find_raw_drives_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        find_raw_drives(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no image folder"):
        find_raw_drives(tmp_path)


# ------------------------------------------------------------- the cache


@pytest.fixture
def cache_module() -> Any:
    return pytest.importorskip("framecast.data.cache")


def read_cache(path: Path) -> dict[str, Any]:
    """Every dataset of an HDF5 cache file and the root attributes, for comparing two files."""
    out: dict[str, Any] = {}
    with h5py.File(path, "r") as f:

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]

        f.visititems(visit)
    return out


def PreparedVideos(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - stands for the class
    """The "prepared" dataset (the cache module is written alongside this one)."""
    cache = pytest.importorskip("framecast.data.cache")
    return cache.PreparedVideos(*args, **kwargs)


def cached_clips(path: Path) -> dict[str, tuple[str, np.ndarray]]:
    """key -> (split, uint8 frames [T, C, H, W]) of every clip of a finished cache."""
    from framecast.data.cache import read_cache_index

    index = read_cache_index(path)
    with h5py.File(path, "r") as f:
        frames = f["frames"][()]
    return {
        key: (split, frames[index.offsets[k] : index.offsets[k + 1]])
        for k, (key, split) in enumerate(zip(index.keys, index.splits, strict=True))
    }


def test_prepare_raw_folder_to_cache_and_read_back(raw_folder: Path, tmp_path: Path) -> None:
    from framecast.data.kitti import prepare_kitti

    lines: list[str] = []
    report = prepare_kitti(raw_folder, tmp_path / "kitti.h5", size=(32, 40), progress=lines.append)
    assert report.out == tmp_path / "kitti.h5" and not report.skipped and len(lines) == 4
    clips = cached_clips(report.out)
    # PredNet's val drive (0005) and test drive (0070) are recognised; the others train
    assert {k: s for k, (s, _) in clips.items()} == {
        "2011_09_26_drive_0001_sync": "train",
        "2011_09_26_drive_0005_sync": "val",
        "2011_09_26_drive_0070_sync": "test",
        "2011_09_28_drive_0002_sync": "train",
    }
    _, frames = clips["2011_09_28_drive_0002_sync"]
    assert frames.shape == (7, 3, 32, 40) and frames.dtype == np.uint8
    for k in range(7):  # frame k of that drive is halves_image + 30 + k, processed as PredNet
        expected = process_im(halves_image(75, 250) + np.uint8(30 + k), (32, 40))
        assert np.array_equal(frames[k], expected.transpose(2, 0, 1))
    dataset = PreparedVideos("train", report.out, n_context=2, n_target=3)
    assert len(dataset) == (6 - 4) + (7 - 4)  # windows never cross the two train drives
    context, target = dataset[len(dataset) - 1]
    assert context.shape == (2, 3, 32, 40) and target.shape == (3, 3, 32, 40)
    assert torch.allclose(target[-1], torch.from_numpy(frames[6]).float() / 255, atol=1e-6)


def test_prepare_raw_splits_by_given_drives(raw_folder: Path, tmp_path: Path) -> None:
    from framecast.data.kitti import prepare_kitti

    report = prepare_kitti(
        raw_folder,
        tmp_path / "a.h5",
        size=(32, 40),
        val_drives=["2011_09_26_drive_0001"],  # without "_sync" is fine
        test_drives=["2011_09_28_drive_0002_sync", "2011_09_26_drive_0005_sync"],
    )
    splits = {k: s for k, (s, _) in cached_clips(report.out).items()}
    assert splits == {
        "2011_09_26_drive_0001_sync": "val",
        "2011_09_26_drive_0005_sync": "test",
        "2011_09_26_drive_0070_sync": "train",
        "2011_09_28_drive_0002_sync": "test",
    }
    with pytest.raises(ValueError, match=r"\['2011_09_30_drive_0099'\] match no recording"):
        prepare_kitti(raw_folder, tmp_path / "b.h5", val_drives=["2011_09_30_drive_0099"])
    with pytest.raises(ValueError, match="both in val_drives and test_drives"):
        prepare_kitti(
            raw_folder, tmp_path / "b.h5", val_drives=["x"] * 0 + ["2011_09_26_drive_0070"]
        )
    with pytest.raises(ValueError, match="narrower than the crop width 400"):
        prepare_kitti(raw_folder, tmp_path / "c.h5", size=(32, 400), on_error="raise")


def test_corrupt_image_skips_its_drive_and_is_named(raw_folder: Path, tmp_path: Path) -> None:
    from framecast.data.kitti import prepare_kitti
    from framecast.data.video_io import VideoDecodeError

    bad = sorted((raw_folder / "2011_09_28").rglob("image_03/data/*.png"))[3]
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    with pytest.raises(VideoDecodeError, match=bad.name):
        prepare_kitti(raw_folder, tmp_path / "raise.h5", size=(32, 40), on_error="raise")
    report = prepare_kitti(raw_folder, tmp_path / "skip.h5", size=(32, 40))
    assert list(report.skipped) == ["2011_09_28_drive_0002_sync"]
    assert str(bad) in report.skipped["2011_09_28_drive_0002_sync"]
    assert "2011_09_28_drive_0002_sync" in report.format()
    clips = cached_clips(report.out)
    assert "2011_09_28_drive_0002_sync" not in clips and len(clips) == 3


def test_truncated_png_is_caught(raw_folder: Path, tmp_path: Path) -> None:
    from framecast.data.kitti import prepare_kitti

    bad = sorted((raw_folder / "2011_09_28").rglob("image_03/data/*.png"))[0]
    bad.write_bytes(bad.read_bytes()[: len(bad.read_bytes()) // 2])
    report = prepare_kitti(raw_folder, tmp_path / "skip.h5", size=(32, 40))
    assert list(report.skipped) == ["2011_09_28_drive_0002_sync"]
    assert bad.name in report.skipped["2011_09_28_drive_0002_sync"]


def test_resume_after_interruption_gives_the_same_cache(
    raw_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import framecast.data.kitti as kitti

    whole = kitti.prepare_kitti(raw_folder, tmp_path / "whole.h5", size=(32, 40)).out
    calls = {"n": 0}
    read_drive = kitti.read_drive

    def interrupted(*args: Any, **kwargs: Any) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user stops the run during the third drive
        return read_drive(*args, **kwargs)

    monkeypatch.setattr(kitti, "read_drive", interrupted)
    with pytest.raises(KeyboardInterrupt):
        kitti.prepare_kitti(raw_folder, tmp_path / "resumed.h5", size=(32, 40))
    assert not (tmp_path / "resumed.h5").exists()
    monkeypatch.setattr(kitti, "read_drive", read_drive)
    report = kitti.prepare_kitti(raw_folder, tmp_path / "resumed.h5", size=(32, 40))
    assert report.resumed == ["2011_09_26_drive_0001_sync", "2011_09_26_drive_0005_sync"]
    assert len(report.written) == 2
    first, second = read_cache(whole), read_cache(report.out)
    assert first.keys() == second.keys()
    for name in first:
        assert np.array_equal(first[name], second[name]), name


def test_prepare_hkl_folder_to_cache(hkl_folder: Path, tmp_path: Path) -> None:
    from framecast.data.kitti import prepare_kitti
    from framecast.data.prepare import get_preparer

    assert get_preparer("kitti") is prepare_kitti
    report = prepare_kitti(hkl_folder, tmp_path / "k.h5")
    clips = cached_clips(report.out)
    assert len(clips) == 9  # 3 recordings x 3 splits (same names: run index counts on)
    assert clips["city-drive_a#0"][0] == "train" and clips["city-drive_a#2"][0] == "test"
    _, frames = clips["road-drive_b#0"]
    assert frames.shape == (12, 3, 128, 160)
    assert (frames[:, 0, 0, 0] == BLOCK * 1 + np.arange(12)).all()
    assert sorted({s for s, _ in clips.values()}) == ["test", "train", "val"]
    # the same windows as KittiHkl: every start for train, non-overlapping (stride = nt) for test
    train = PreparedVideos("train", report.out, n_context=2, n_target=2)
    assert len(train) == len(KittiHkl("train", hkl_folder, n_context=2, n_target=2))
    test = PreparedVideos("test", report.out, n_context=2, n_target=2, test_stride=4)
    direct = KittiHkl("test", hkl_folder, n_context=2, n_target=2)
    assert len(test) == len(direct) == 5
    for i in range(5):
        for a, b in zip(test[i], direct[i], strict=True):
            assert torch.allclose(a, b, atol=1e-6)  # x / 255 and x * (1 / 255) may differ by 1 ulp
    with pytest.raises(ValueError, match="raw KITTI folders only"):
        prepare_kitti(hkl_folder, tmp_path / "x.h5", val_drives=["a"])


def test_prepare_hkl_resizes_to_another_size(hkl_folder: Path, tmp_path: Path) -> None:
    from framecast.data.kitti import prepare_kitti

    report = prepare_kitti(hkl_folder, tmp_path / "small.h5", size=(64, 80))
    split, frames = cached_clips(report.out)["city-drive_a#0"]
    assert split == "train" and frames.shape == (7, 3, 64, 80)
    assert (frames[:, 0, 0, 0] == np.arange(7)).all()


# ------------------------------------------------------- synthetic stand-ins


def test_synthetic_kitti_hkl_files(tmp_path: Path) -> None:
    from framecast.data.synthetic_video import write_synthetic_kitti_hkl

    written = write_synthetic_kitti_hkl(
        tmp_path, frames_per_source={"train": [12, 15], "val": [10], "test": [10, 10]}
    )
    assert sorted(written) == ["test", "train", "val"]
    x = hickle.load(str(written["train"][0]))
    assert x.shape == (27, 128, 160, 3) and x.dtype == np.uint8
    assert len(set(read_sources(written["train"][1]))) == 2
    train = KittiHkl("train", tmp_path, n_context=5, n_target=5)
    assert len(train) == 3 + 6
    context, _ = train[0]
    assert float(context.std()) > 0.05  # not a blank movie
    assert len(KittiHkl("test", tmp_path, n_context=5, n_target=5)) == 2


def test_synthetic_kth_movies(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    from framecast.data.synthetic_video import synthetic_kth_clip, write_synthetic_kth

    paths = write_synthetic_kth(
        tmp_path, persons=[1, 17], actions=["boxing", "running"], num_frames=12, codec="ffv1"
    )
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "boxing/person01_boxing_d1_uncomp.avi",
        "boxing/person17_boxing_d1_uncomp.avi",
        "running/person01_running_d1_uncomp.avi",
        "running/person17_running_d1_uncomp.avi",
    ]
    with av.open(str(paths[2])) as container:
        frames = np.stack([f.to_ndarray(format="gray") for f in container.decode(video=0)])
    assert np.array_equal(frames, synthetic_kth_clip("running", 1, num_frames=12))  # lossless
    assert frames.shape == (12, 120, 160) and np.abs(np.diff(frames.astype(int), axis=0)).max() > 0
    lines = (tmp_path / "00sequences.txt").read_text().splitlines()
    assert "person17_running_d1\t\tframes\t1-6, 7-12" in lines


def test_prepare_grayscale(raw_folder: Path, hkl_folder: Path, tmp_path: Path) -> None:
    from framecast.data.kitti import prepare_kitti

    raw = prepare_kitti(raw_folder, tmp_path / "raw.h5", size=(32, 40), grayscale=True)
    _, frames = cached_clips(raw.out)["2011_09_26_drive_0070_sync"]
    expected = process_im(
        np.asarray(Image.fromarray(halves_image(75, 250) + np.uint8(20)).convert("L")), (32, 40)
    )
    assert frames.shape == (4, 1, 32, 40) and np.array_equal(frames[0, 0], expected)
    hkl = prepare_kitti(hkl_folder, tmp_path / "hkl.h5", grayscale=True)
    _, frames = cached_clips(hkl.out)["road-drive_b#0"]
    assert frames.shape == (12, 1, 128, 160)
    assert (frames[:, 0, 0, 0] == BLOCK + np.arange(12)).all()  # grey stays grey


def test_kitti_cache_dataset_has_prednets_windows(hkl_folder: Path, tmp_path: Path) -> None:
    from framecast.data.kitti import prepare_kitti

    out = prepare_kitti(hkl_folder, tmp_path / "k.h5").out
    options = {"path": str(out)}
    for split, count in (("train", 15), ("val", 5), ("test", 5)):  # val/test: no overlap
        dataset = build_dataset("kitti", split, n_context=2, n_target=2, options=options)
        assert len(dataset) == count
    wide = build_dataset(
        "kitti", "test", n_context=2, n_target=2, options={**options, "test_stride": 1}
    )
    assert len(wide) == 15
    direct = KittiHkl("test", hkl_folder, n_context=2, n_target=2)
    cached = build_dataset("kitti", "test", n_context=2, n_target=2, options=options)
    for i in range(len(direct)):
        for a, b in zip(cached[i], direct[i], strict=True):
            assert torch.allclose(a, b, atol=1e-6)
    with pytest.raises(ValueError, match="path="):
        build_dataset("kitti", "train", n_context=2, n_target=2)


def test_kitti_cache_dataset_refuses_other_caches(tmp_path: Path) -> None:
    from framecast.data.cache import CacheWriter

    with CacheWriter(
        tmp_path / "other.h5", dataset="videos", source="x", frame_shape=(1, 4, 4), settings={}
    ) as writer:
        writer.add_clip("a", np.zeros((6, 1, 4, 4), np.uint8), split="train", meta={})
        writer.finish()
    with pytest.raises(ValueError, match="not a KITTI one"):
        build_dataset(
            "kitti", "train", n_context=2, n_target=2, options={"path": str(tmp_path / "other.h5")}
        )


def test_contract_options_of_the_cache_dataset(tmp_path: Path) -> None:
    options = kitti_cache_contract_options(tmp_path)
    for split in ("train", "val", "test"):
        dataset = build_dataset("kitti", split, n_context=3, n_target=4, options=options)
        assert len(dataset) >= 1 and dataset[0][0].shape == (3, 3, 16, 20)
