"""seismicity_radio: registered by ``framecast.data``, trained by ``framecast train``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from radio_testing import tiny_world

from framecast.data import build_dataset
from framecast.models.side_inputs import unpack_side

OPTIONS = {"val_start": "2012-01-01", "test_start": "2012-07-01", "channels": ["count"]}


def test_frames_carry_the_packed_side_image(tmp_path):
    frames, radio = tiny_world(tmp_path)
    options = {"path": str(frames), "radio": str(radio), **OPTIONS}
    ds = build_dataset("seismicity_radio", "train", n_context=4, n_target=1, options=options)
    assert ds.side_shape == (2, 4, 4) and ds.side_channels == 1 and ds.frame_channels == 1
    context, _ = ds[5]
    side = unpack_side(context[:, 1:], ds.side_shape)  # (T, 2, F, K)
    assert side.shape == (4, 2, 4, 4)
    assert ((side[:, 1] == 0) | (side[:, 1] == 1)).all()  # coverage channel
    assert side[:, 0].abs().sum() > 0  # standardised power, not all missing
    shuffled = build_dataset(
        "seismicity_radio",
        "train",
        n_context=4,
        n_target=1,
        options={**options, "shuffle_seed": 3},
    )
    assert torch.equal(shuffled[5][0][:, :1], context[:, :1])  # same counts
    assert not torch.equal(shuffled[5][0][:, 1:], context[:, 1:])  # other side images


def test_framecast_data_registers_it_without_scipy_or_the_models():
    code = (
        "import sys, framecast.data as d; "
        "print('seismicity_radio' in d.DATASETS.available(), "
        "'scipy' in sys.modules, 'framecast.models' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.split() == ["True", "False", "False"]


@pytest.mark.slow  # about 20 s: a fresh interpreter imports torch and Lightning
def test_framecast_train_finds_the_dataset_in_a_fresh_process(tmp_path):
    frames, radio = tiny_world(tmp_path)
    config = {
        "model": {
            "name": "side_input",
            "options": {
                "model": "predrnn",
                "model_options": {
                    "cell": "convlstm",
                    "hidden_channels": 4,
                    "num_layers": 1,
                    "patch_size": 2,
                    "output_activation": "softplus",
                },
                "side_shape": [2, 4, 4],
                "side_channels": 1,
                "side_dim": 2,
            },
        },
        "data": {
            "name": "seismicity_radio",
            "n_context": 4,
            "n_target": 1,
            "batch_size": 4,
            "options": {"path": str(frames), "radio": str(radio), **OPTIONS},
        },
        "train": {
            "max_steps": 2,
            "loss": "poisson",
            "loss_channels": [0],
            "out_dir": str(tmp_path / "runs"),
            "run_name": "run",
            "progress_bar": False,
        },
    }
    path = tmp_path / "radio.yaml"
    path.write_text(yaml.safe_dump(config))
    exe = Path(sys.executable).with_name("framecast")
    proc = subprocess.run(
        [str(exe), "train", "--config", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = tmp_path / "runs" / "run" / "checkpoints" / "last.ckpt"
    assert torch.load(ckpt, weights_only=True)["global_step"] == 2
