"""Every config of issue 24 items 5-7 loads, builds at its paper's size and trains a few steps.

Slow: the models are the papers' (up to 100 M parameters); only the data are cut to a few
sequences, the batch to 2 and the run to 2 steps. The PredRNN runs are then scored by
``framecast evaluate`` as the configs say: on 3-digit sequences for the MNIST-3 transfer test,
with the CSI and FSS of the radar config's thresholds. Real MNIST digits are read from
``../shared/data/mnist`` (skipped where absent).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from framecast.cli import main
from framecast.config import load_config
from framecast.training import train

sys.path.insert(0, str(Path(__file__).parent / "data"))
from fake_mnist import SHARED_MNIST

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
VIDEO_CONFIGS = [
    "mmnist/predrnn_paper.yaml",
    "mmnist/predrnn_paper_mnist3.yaml",
    "mmnist/fc_lstm_srivastava.yaml",
    "mmnist/convlstm_shi.yaml",
    "mmnist/stvae_patraucean.yaml",
    "squares/keras_convlstm.yaml",
    "radar/predrnn_paper.yaml",
]


def _few_steps(name: str, out: Path) -> list[str]:
    overrides = [
        "data.batch_size=2",
        "data.split_options.train.num_sequences=4",
        "data.split_options.val.num_sequences=2",
        "data.split_options.test.num_sequences=2",
        "train.max_steps=2",
        "train.val_every_n_steps=2",
        "train.progress_bar=false",
        f"train.out_dir={out}",
        "train.run_name=run",
    ]
    if name.startswith("mmnist/"):
        if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
            pytest.skip(f"real MNIST not found at {SHARED_MNIST}")
        overrides.append(f"data.options.mnist_dir={SHARED_MNIST}")
    return overrides


@pytest.mark.slow
@pytest.mark.parametrize("name", VIDEO_CONFIGS)
def test_config_trains_a_few_steps_at_the_papers_size(name: str, tmp_path: Path) -> None:
    config = load_config(CONFIGS / name, _few_steps(name, tmp_path))
    result = train(config, verbose=False)
    assert result.module.global_step == 2
    assert result.last_checkpoint.is_file()
    full = load_config(CONFIGS / name)
    assert result.module.cfg.model == full.model.__class__(
        name=full.model.name, in_channels=1, options=full.model.options
    )  # the paper's model, not a shrunk one
    if name == "mmnist/predrnn_paper.yaml":  # MNIST-3 as an evaluate option
        out = tmp_path / "eval-mnist3"
        argv = ["evaluate", str(result.run_dir), "--max-batches", "1", "--out", str(out)]
        assert main([*argv, "data.split_options.test.num_digits=3"]) == 0
        assert json.loads((out / "metrics.json").read_text())["split"] == "test"
    if name == "radar/predrnn_paper.yaml":  # the config's own CSI and FSS thresholds
        out = tmp_path / "eval"
        assert main(["evaluate", str(result.run_dir), "--max-batches", "1", "--out", str(out)]) == 0
        text = (out / "metrics.json").read_text()
        assert "csi" in text.lower() and "fss" in text.lower()
