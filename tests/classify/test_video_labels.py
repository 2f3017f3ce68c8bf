"""Labels of prepared-video clips: KTH actions (person split) and folder names."""

from __future__ import annotations

import pytest
import torch
from classify_testing import write_dot_cache

from framecast.classify.video_labels import LabelledClips, clip_class, kth_actions, video_folders


def test_folder_labels_and_stratified_splits(tmp_path):
    # the cache puts all clips in train: the stratified split still gives every split both classes
    path = write_dot_cache(tmp_path / "dots.h5", clips_per_split={"train": 20})
    splits = {
        s: video_folders(s, path=str(path), num_frames=4, val_fraction=0.2, test_fraction=0.2)
        for s in ("train", "val", "test")
    }
    for dataset in splits.values():
        assert dataset.spec.class_names == ("left", "right")
        assert set(dataset.labels.tolist()) == {0, 1}
    x, y = splits["train"][0]
    assert x.shape == (4, 1, 8, 8) and x.dtype == torch.float32 and 0 <= x.min() <= x.max() <= 1
    assert y.dtype == torch.int64
    # train windows every 4 frames (8-frame clips: 2 each); val and test do not overlap
    assert len(splits["train"]) == 12 * 2 and len(splits["val"]) == 4 * 2


def test_cache_splits_keep_the_cache_split(tmp_path):
    path = write_dot_cache(tmp_path / "dots.h5", clips_per_split={"train": 4, "test": 2})
    test = LabelledClips("test", path, split_mode="cache", num_frames=8)
    assert len(test) == 2 and test.labels.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"split 'val' of cache .* has no window of 8 frames"):
        LabelledClips("val", path, split_mode="cache", num_frames=8)


def test_kth_actions_reads_the_action_of_each_clip(tmp_path):
    path = write_dot_cache(
        tmp_path / "kth.h5", clips_per_split={"train": 4, "test": 2}, dataset="kth"
    )
    with pytest.raises(ValueError, match=r"classes \['left', 'right'\] outside \['boxing'"):
        kth_actions("train", path=str(path))
    with pytest.raises(ValueError, match=r"needs data\.options\.path"):
        kth_actions("train")


def test_clip_class_errors_name_the_clip():
    assert clip_class("walk/a.avi", {}, "folder") == "walk"
    assert clip_class("person01_boxing_d1", {"action": "boxing"}, "action") == "boxing"
    with pytest.raises(ValueError, match=r"clip 'a\.avi' lies in no folder"):
        clip_class("a.avi", {}, "folder")
    with pytest.raises(ValueError, match="clip 'k' has no 'person'"):
        clip_class("k", {"action": "x"}, "person")


def test_a_single_class_is_refused(tmp_path):
    from framecast.data.cache import CacheWriter

    path = tmp_path / "one.h5"
    with CacheWriter(path, dataset="videos", source="t", frame_shape=(1, 8, 8), settings={}) as w:
        w.add_clip(
            "walk/a.avi", torch.zeros(6, 1, 8, 8, dtype=torch.uint8).numpy(), split="train", meta={}
        )
        w.finish()
    with pytest.raises(ValueError, match="holds clips of 1 class"):
        video_folders("train", path=str(path), num_frames=2)
