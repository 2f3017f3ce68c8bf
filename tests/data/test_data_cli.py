"""``framecast data prepare`` and ``framecast data info`` through framecast.cli.main."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fake_video import write_kth_folder

from framecast.cli import main
from framecast.data.cache import read_cache_index
from framecast.data.cli import parse_size


@pytest.fixture(scope="module")
def kth_source(tmp_path_factory) -> Path:
    pytest.importorskip("av")
    root = tmp_path_factory.mktemp("kth")
    write_kth_folder(root, persons=(3, 15, 20), actions=("boxing", "running"), num_frames=30)
    return root


def test_prepare_kth_then_info(kth_source: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "kth.h5"
    argv = ["data", "prepare", "kth", "--source", str(kth_source), "--out", str(out)]
    assert main([*argv, "--size", "16x20", "persons_val=[15]", "actions=[boxing, running]"]) == 0
    printed = capsys.readouterr().out
    assert "[1/6] person03_boxing_d1: 30 frames -> train" in printed
    assert "kth cache with 6 clips (6 written now, 0 resumed" in printed
    index = read_cache_index(out)
    assert index.frame_shape == (1, 16, 20) and index.settings["persons"]["val"] == [15]

    assert main(["data", "info", str(out), "--n-context", "5", "--n-target", "5"]) == 0
    printed = capsys.readouterr().out
    assert "uint8 [180, 1, 16, 20]" in printed
    rows = {line.split()[0]: line.split()[1:] for line in printed.splitlines() if line}
    # train: 2 clips x 21 windows; val/test: boxing 0, 20 (2) + running 0, 3, ..., 18 (7)
    assert rows["train"] == ["2", "60", "42"] and rows["test"] == ["2", "60", "9"]
    assert "dataset 'kth'" in printed
    assert main(["data", "info", str(out), "--dataset", "prepared", "stride=4"]) == 0
    rows = {
        line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines() if line
    }
    assert rows["train"] == ["2", "60", "6"] and rows["val"] == ["2", "60", "6"]


def test_prepare_frame_series_and_colour_flag(tmp_path: Path, capsys) -> None:
    np.save(tmp_path / "s.npy", np.linspace(0, 1, 24 * 16).reshape(24, 4, 4))
    out = tmp_path / "s.h5"
    argv = [
        "data",
        "prepare",
        "frame_series",
        "--source",
        str(tmp_path / "s.npy"),
        "--out",
        str(out),
    ]
    assert main([*argv, "--size", "8", "--test-fraction", "0.25", "scale=null"]) == 0
    assert read_cache_index(out).frame_shape == (1, 8, 8)
    assert main(["data", "info", str(out), "--n-context", "2", "--n-target", "2"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["val", "1", "2", "0"] in rows and ["test", "1", "6", "3"] in rows
    assert main([*argv, "--overwrite", "--color"]) == 2
    assert "unknown option(s) ['grayscale']" in capsys.readouterr().err


def test_errors_are_one_line_exit_2(kth_source: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "k.h5"
    base = ["data", "prepare", "kth", "--source", str(kth_source), "--out", str(out)]
    cases = [
        (
            ["data", "prepare", "ucf", "--source", "x", "--out", "y"],
            "valid preparers: frame_series",
        ),
        ([*base, "--size", "64by64"], "--size must look like HEIGHTxWIDTH"),
        ([*base, "colour=1"], "unknown option(s) ['colour']"),
        (["data", "prepare", "kth", "--source", str(tmp_path / "no"), "--out", "x"], "not found"),
        (["data", "info", str(tmp_path / "missing.h5")], "cache not found"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.startswith("framecast data: error:"), (argv, err)
        assert len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):  # argparse: a positional without "=" is a usage error
        main([*base, "persons_val"])
    capsys.readouterr()
    assert main([*base, "--size", "8x8"]) == 0
    assert main([*base, "--size", "8x8"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_parse_size() -> None:
    assert parse_size("64x80") == (64, 80) and parse_size("32") == (32, 32)
    with pytest.raises(ValueError, match="HEIGHTxWIDTH"):
        parse_size("0x4")
