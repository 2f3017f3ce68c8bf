"""One-line errors of the command line, run folders as checkpoints, --version and a fast --help."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from framecast_testing import tiny_run_config

import framecast
from framecast.cli import main
from framecast.config import load_config
from framecast.training.machine import LightningConfigErrors


def _config_file(tmp: Path) -> Path:
    path = tmp / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_run_config(tmp / "runs")))
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A tiny run trained for 2 steps, with the docs' ``train.precision=32`` as an int."""
    tmp = tmp_path_factory.mktemp("errors")
    argv = ["train", "--config", str(_config_file(tmp)), "train.max_steps=2"]
    assert main([*argv, "train.precision=32"]) == 0
    return tmp / "runs" / "run"


def _one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"framecast {command}: error: "), err
    return err


def test_version():
    result = subprocess.run(
        [sys.executable, "-m", "framecast.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"framecast {framecast.__version__}"


@pytest.mark.parametrize("argv", [["--help"], ["quake", "--help"], ["predict", "--help"]])
def test_help_imports_neither_torch_nor_lightning(argv: list[str]):
    code = (
        "import sys\n"
        "from framecast.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "print(sorted(m for m in ('torch', 'lightning', 'h5py') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert "usage: framecast" in result.stdout


def test_data_help_still_lists_its_commands(capsys):
    with pytest.raises(SystemExit):
        main(["data", "--help"])
    assert "prepare" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "expected"),
    [(32, "32"), (16, "16-mixed"), (64, "64"), ("32-true", "32"), ("bf16", "bf16-mixed")],
)
def test_precision_accepts_lightning_values(value, expected):
    assert load_config(None, [f"train.precision={value}"]).train.precision == expected


def test_precision_refuses_other_values(tmp_path: Path, capsys):
    argv = ["train", "--config", str(_config_file(tmp_path)), "train.precision=17"]
    assert main(argv) == 2
    assert "train.precision must be one of" in _one_line_error(capsys, "train")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_run_folder_is_accepted_where_a_checkpoint_is_asked(
    command: str, run_dir: Path, tmp_path: Path
):
    out = tmp_path / "out"
    if command == "evaluate":
        argv = ["evaluate", str(run_dir), "--out", str(out), "--max-batches", "1"]
    else:
        np.save(tmp_path / "in.npy", np.zeros((1, 3, 40, 40), dtype=np.float32))
        argv = ["predict", str(run_dir), "--input", str(tmp_path / "in.npy"), "--out", str(out)]
    assert main(argv) == 0
    assert any(out.iterdir())


def test_folder_without_checkpoint_is_refused(tmp_path: Path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "holds no checkpoints/last.ckpt" in _one_line_error(capsys, "evaluate")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"hello, this is a text file\n", "not a torch zip archive"),
        (np.random.default_rng(0).bytes(4096), "not a torch zip archive"),
        (b"", "the file is empty"),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "predict", "train"])
def test_non_checkpoint_file_is_named(command: str, content: bytes, reason: str, tmp_path, capsys):
    bogus = tmp_path / "model.ckpt"
    bogus.write_bytes(content)
    argv = {
        "evaluate": ["evaluate", str(bogus)],
        "predict": ["predict", str(bogus), "--input", "x.npy"],
        "train": ["train", "--resume", str(bogus)],
    }[command]
    assert main(argv) == 2
    err = _one_line_error(capsys, command)
    assert f"'{bogus}' is not a framecast checkpoint ({reason}" in err
    assert "101" not in err


def test_torch_file_without_config_is_refused(tmp_path: Path, capsys):
    torch.save({"state_dict": {}}, tmp_path / "plain.ckpt")
    assert main(["evaluate", str(tmp_path / "plain.ckpt")]) == 2
    assert "without a stored config" in _one_line_error(capsys, "evaluate")


def test_state_dict_that_does_not_match_its_config(run_dir: Path, tmp_path: Path, capsys):
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    ckpt["hyper_parameters"]["config"]["model"]["options"]["hidden_channels"] = 6
    torch.save(ckpt, tmp_path / "mismatch.ckpt")
    assert main(["evaluate", str(tmp_path / "mismatch.ckpt")]) == 2
    err = _one_line_error(capsys, "evaluate")
    assert "the stored weights do not match the model its config builds" in err
    assert "shapes stored vs expected" in err


@pytest.mark.parametrize("shape", [(0, 5, 40, 40), (4, 0, 40, 40)])
def test_array_without_sequences_or_frames(shape, run_dir: Path, tmp_path: Path, capsys):
    np.save(tmp_path / "empty.npy", np.zeros(shape, dtype=np.float32))
    argv = ["evaluate", str(run_dir), "--data", "array"]
    assert main([*argv, f"data.options.path={tmp_path / 'empty.npy'}"]) == 2
    assert f"has shape {shape}" in _one_line_error(capsys, "evaluate")


def test_gpu_accelerator_on_a_cpu_machine(tmp_path: Path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    argv = ["train", "--config", str(_config_file(tmp_path)), "train.accelerator=gpu"]
    assert main(argv) == 2
    assert "train.accelerator=gpu but this machine has no CUDA GPU" in _one_line_error(
        capsys, "train"
    )
    assert not (tmp_path / "runs").exists()


def test_lightning_misconfiguration_becomes_value_error():
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    expected = "do not fit this machine: no such device"
    with pytest.raises(ValueError, match=expected), LightningConfigErrors():
        raise MisconfigurationException("no such device")
    with pytest.raises(KeyError), LightningConfigErrors():
        raise KeyError("other errors pass through")


def _raise(err: OSError):
    def fail(*args, **kwargs):
        raise err

    return fail


@pytest.mark.parametrize(
    ("err", "code", "message"),
    [
        (
            PermissionError(errno.EACCES, "Permission denied", "/locked/runs/run"),
            2,
            "cannot write or read '/locked/runs/run': permission denied",
        ),
        (
            OSError(errno.ENOSPC, "No space left on device", "runs/run/checkpoints/last.ckpt"),
            1,
            "no space left on the device while writing 'runs/run/checkpoints/last.ckpt'",
        ),
    ],
)
def test_os_errors_of_train_in_one_line(err, code, message, tmp_path, capsys, monkeypatch):
    import framecast.training

    monkeypatch.setattr(framecast.training, "train", _raise(err))
    assert main(["train", "--config", str(_config_file(tmp_path))]) == code
    assert message in _one_line_error(capsys, "train")


def test_permission_error_of_quake_grid_and_data_prepare(tmp_path, capsys, monkeypatch):
    import framecast.data.prepare
    import framecast.quake.catalog.readers

    denied = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "out.h5"))
    monkeypatch.setattr(framecast.quake.catalog.readers, "read_catalog", _raise(denied))
    grid = ["quake", "grid", "--catalog", "c.csv", "--region", "0,1,0,1", "--cell", "0.5"]
    grid += ["--start", "2000-01-01", "--end", "2000-02-01", "--mc", "2", "--out", "o.h5"]
    assert main(grid) == 2
    assert "permission denied" in _one_line_error(capsys, "quake")
    monkeypatch.setattr(framecast.data.prepare, "get_preparer", _raise(denied))
    argv = ["data", "prepare", "kth", "--source", str(tmp_path), "--out", str(tmp_path / "c.h5")]
    assert main(argv) == 2
    assert "permission denied" in _one_line_error(capsys, "data")


def test_unwritable_evaluate_out_is_refused_before_the_work(run_dir, tmp_path, capsys, monkeypatch):
    import framecast.reporting

    monkeypatch.setattr(framecast.reporting, "evaluate", _raise(AssertionError("ran")))
    monkeypatch.setattr(Path, "write_bytes", _raise(PermissionError(13, "Permission denied")))
    assert main(["evaluate", str(run_dir), "--out", str(tmp_path / "locked")]) == 2
    assert "cannot write to output folder" in _one_line_error(capsys, "evaluate")


def test_unknown_loss_message_says_losses(tmp_path: Path, capsys):
    assert main(["train", "--config", str(_config_file(tmp_path)), "train.loss=nope"]) == 2
    err = _one_line_error(capsys, "train")
    assert "valid losses:" in err and "losss" not in err
