"""`framecast predict`: checked inputs, run folders, HDF5 and PNG outputs."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from framecast_testing import tiny_run_config
from PIL import Image

from framecast.cli import main

SIZE = 40  # moving squares frames; the tiny PredRNN uses patch_size 4


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """The run folder of a tiny PredRNN trained for 2 steps through the CLI."""
    tmp = tmp_path_factory.mktemp("predict")
    raw = tiny_run_config(tmp / "runs")
    config = tmp / "tiny.yaml"
    config.write_text(yaml.safe_dump(raw))
    assert main(["train", "--config", str(config), "train.max_steps=2"]) == 0
    return tmp / "runs" / "run"


def _predict(checkpoint: Path, array_file: Path, out: Path, *extra: str) -> int:
    argv = ["predict", str(checkpoint), "--input", str(array_file), "--out", str(out)]
    return main([*argv, "--horizon", "2", *extra])


def test_predict_from_run_folder_writes_npy_h5_and_frame_pngs(run_dir: Path, tmp_path: Path):
    frames = np.random.default_rng(0).random((2, 3, SIZE, SIZE)).astype(np.float32)  # NTHW
    np.save(tmp_path / "in.npy", frames)
    out = tmp_path / "out"
    assert _predict(run_dir, tmp_path / "in.npy", out, "--frame-pngs") == 0
    npy = np.load(out / "predictions.npy")
    assert npy.shape == (2, 2, 1, SIZE, SIZE)
    with h5py.File(out / "predictions.h5", "r") as handle:
        stored = handle["predictions"]
        assert stored.attrs["layout"] == "NTCHW"
        np.testing.assert_array_equal(stored[()], npy)
    pngs = sorted((out / "frames").glob("*.png"))
    assert [p.name for p in pngs] == [
        "seq0000_t001.png",
        "seq0000_t002.png",
        "seq0001_t001.png",
        "seq0001_t002.png",
    ]
    with Image.open(pngs[-1]) as image:
        assert image.size == (SIZE, SIZE) and image.mode == "L"
        pixels = np.asarray(image)
    np.testing.assert_allclose(pixels / 255.0, npy[1, 1, 0], atol=1 / 255)
    assert not list(out.rglob("*.partial"))


def test_uint16_is_divided_by_its_maximum_and_scale_is_applied(run_dir: Path, tmp_path: Path):
    frames = np.random.default_rng(1).integers(0, 4096, (1, 3, SIZE, SIZE)).astype(np.uint16)
    np.save(tmp_path / "u16.npy", frames)
    assert _predict(run_dir, tmp_path / "u16.npy", tmp_path / "a") == 0
    assert _predict(run_dir, tmp_path / "u16.npy", tmp_path / "b", "--scale", "4095") == 0


def _write_bad_inputs(tmp: Path) -> dict[str, Path]:
    rng = np.random.default_rng(2)
    good = rng.random((1, 3, SIZE, SIZE)).astype(np.float32)
    files: dict[str, Path] = {}

    def save(name: str, array: np.ndarray) -> None:
        files[name] = tmp / f"{name}.npy"
        np.save(files[name], array)

    nan = good.copy()
    nan[0, 1, 2, 3] = np.nan
    save("nan", nan)
    save("inf", np.where(good > 0.5, np.inf, good))
    save("above_one", good * 3.0)
    save("negative", good - 0.5)
    save("complex", good.astype(np.complex64))
    save("unscaled_uint16", (good * 4000).astype(np.uint16))
    save("no_sequences", np.zeros((0, 3, SIZE, SIZE), dtype=np.float32))
    save("no_frames", np.zeros((1, 0, SIZE, SIZE), dtype=np.float32))
    save("good", good)
    # an HDF5 file whose data blocks are overwritten: h5py cannot read them
    files["corrupt_h5"] = tmp / "corrupt.h5"
    with h5py.File(files["corrupt_h5"], "w") as handle:
        handle.create_dataset("frames", data=good, chunks=(1, 1, SIZE, SIZE), compression="gzip")
    data = bytearray(files["corrupt_h5"].read_bytes())
    data[-600:] = b"\xff" * 600
    files["corrupt_h5"].write_bytes(bytes(data))
    files["text_h5"] = tmp / "text.h5"
    files["text_h5"].write_text("not hdf5")
    return files


@pytest.mark.parametrize(
    ("case", "extra", "message"),
    [
        ("nan", [], "NaN or infinite"),
        ("inf", [], "NaN or infinite"),
        ("above_one", [], "outside [0, 1]"),
        ("negative", [], "outside [0, 1]"),
        ("complex", [], "dtype complex64"),
        ("unscaled_uint16", ["--scale", "255"], "outside [0, 1]"),
        ("good", ["--scale", "0"], "--scale must be a positive finite number"),
        ("good", ["--scale", "-2"], "got -2.0"),
        ("good", ["--scale", "nan"], "got nan"),
        ("no_sequences", [], "axis of length 0"),
        ("no_frames", [], "axis of length 0"),
        ("corrupt_h5", [], "corrupt.h5"),
        ("text_h5", [], "cannot read input file"),
        ("good", ["--horizon", "0"], "--horizon must be an integer >= 1, got 0"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    case: str, extra: list[str], message: str, run_dir: Path, tmp_path: Path, capsys
):
    files = _write_bad_inputs(tmp_path)
    out = tmp_path / "out"
    capsys.readouterr()
    assert _predict(run_dir, files[case], out, *extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("framecast predict: error: ")
    assert message in err
    assert not out.exists()


def test_unwritable_out_is_refused_before_the_model_runs(
    run_dir: Path, tmp_path: Path, capsys, monkeypatch
):
    files = _write_bad_inputs(tmp_path)
    import framecast.reporting

    ran: list[bool] = []
    real_load = framecast.reporting.load

    def load_and_spy(path):
        model, config = real_load(path)
        model.forward = lambda *a, **k: ran.append(True)  # type: ignore[method-assign]
        return model, config

    monkeypatch.setattr(framecast.reporting, "load", load_and_spy)

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_bytes", refuse)
    assert _predict(run_dir, files["good"], tmp_path / "locked") == 2
    err = capsys.readouterr().err
    assert "cannot write to output folder" in err and "permission denied" in err
    assert err.count("\n") == 1 and not ran


def test_out_that_is_a_file_is_refused(run_dir: Path, tmp_path: Path, capsys):
    files = _write_bad_inputs(tmp_path)
    (tmp_path / "taken").write_text("x")
    assert _predict(run_dir, files["good"], tmp_path / "taken") == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_disk_full_while_writing_is_one_line_and_leaves_no_partial(
    run_dir: Path, tmp_path: Path, capsys, monkeypatch
):
    files = _write_bad_inputs(tmp_path)

    def short_write(*args, **kwargs):
        raise OSError("48000 requested and 16352 written")  # what numpy raises on a full disk

    monkeypatch.setattr(np, "save", short_write)
    out = tmp_path / "out"
    assert _predict(run_dir, files["good"], out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"cannot write or read '{out}': 48000 requested" in err and "disk full" in err
    assert not list(out.iterdir())
