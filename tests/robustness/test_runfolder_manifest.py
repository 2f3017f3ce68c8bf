"""The run-folder manifest and ``--restart`` semantics (:mod:`framecast.runfolder`), issue 23."""

from __future__ import annotations

import os

from framecast.runfolder import RunFolder


def test_restart_deletes_listed_files_only_and_never_outside(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    folder = RunFolder(tmp_path / "run")
    (folder.path / "a").mkdir(parents=True)
    (folder.path / "a" / "theirs.txt").write_text("user")  # there before the run
    with folder:
        (folder.path / "a" / "ours.h5").write_bytes(b"1")
    (folder.path / "later.txt").write_text("added after the run")
    assert folder.listed() == {"a/ours.h5"}
    # a crafted manifest cannot reach outside the folder
    with open(folder.manifest, "a") as handle:
        handle.write("../outside.txt\n/etc/hostname\n")
    deleted = folder.clear()
    assert [p.name for p in deleted] == ["ours.h5"]
    assert outside.read_text() == "keep me"
    assert (folder.path / "a" / "theirs.txt").read_text() == "user"
    assert (folder.path / "later.txt").is_file()
    assert not folder.manifest.exists()


def test_restart_of_a_quake_run_empties_its_training_run_folders(tmp_path):
    outer = RunFolder(tmp_path / "out", "out_dir")
    with outer:
        inner = RunFolder(tmp_path / "out" / "train" / "network")
        with inner:
            (inner.path / "checkpoints").mkdir()
            (inner.path / "checkpoints" / "last.ckpt").write_bytes(b"ckpt")
    assert "train/network/checkpoints/last.ckpt" in outer.listed()
    outer.clear()
    assert not (tmp_path / "out" / "train").exists()


def test_symlink_in_a_manifest_is_removed_not_followed(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("precious")
    folder = RunFolder(tmp_path / "run")
    with folder:
        os.symlink(target, folder.path / "link.txt")
    assert folder.listed() == {"link.txt"}
    folder.clear()
    assert target.read_text() == "precious" and not (folder.path / "link.txt").exists()
