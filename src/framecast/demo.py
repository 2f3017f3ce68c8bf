"""``framecast demo``: train a small PredRNN, score it against persistence, draw it.

Moving MNIST when the MNIST digits are found (``--mnist-dir``, the
``FRAMECAST_MNIST_DIR`` variable, or ``../shared/data/mnist``), moving
squares otherwise; the job says which.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from framecast.checkpoint import load
from framecast.config import config_from_dict
from framecast.data import find_mnist_dir
from framecast.evaluation import evaluate
from framecast.models import Persistence
from framecast.reporting import write_report
from framecast.training import train
from framecast.training.loaders import make_dataset, make_loader
from framecast.viz import plot_loss_history


def demo_config(out_dir: Path, minutes: float, mnist_dir: Path | None) -> dict[str, Any]:
    """The demo's run: a 2-layer ST-LSTM PredRNN sized for 2 CPU cores."""
    if mnist_dir is not None:
        data: dict[str, Any] = {
            "name": "moving_mnist",
            "options": {"mnist_dir": str(mnist_dir)},
            "split_options": {
                "train": {"num_sequences": 10000},
                "val": {"num_sequences": 64},
                "test": {"num_sequences": 256},
            },
        }
    else:
        data = {
            "name": "moving_squares",
            "split_options": {
                "train": {"num_sequences": 10000},
                "val": {"num_sequences": 64},
                "test": {"num_sequences": 256},
            },
        }
    data.update({"n_context": 10, "n_target": 10, "batch_size": 16})
    return {
        "model": {
            "name": "predrnn",
            "options": {
                "cell": "stlstm",
                "hidden_channels": 32,
                "num_layers": 2,
                "kernel_size": 3,
                "patch_size": 4,
            },
        },
        "data": data,
        "optim": {"lr": 2e-3, "scheduler": "none"},
        "sampling": {"mode": "linear", "stop_step": 150},
        "train": {
            "max_steps": 100000,
            "max_minutes": minutes,
            "limit_val_batches": 4,
            "val_every_n_steps": 40,
            "out_dir": str(out_dir),
            "run_name": "train",
            "log_every_n_steps": 10,
        },
    }


def run_demo(out_dir: Path, minutes: float = 4.0, mnist_dir: Path | None = None) -> Path:
    """Train, evaluate against persistence, write pictures and metrics.json.

    Returns
    -------
    Path
        The ``metrics.json`` written.
    """
    start = time.perf_counter()
    mnist = mnist_dir if mnist_dir is not None else find_mnist_dir()
    if mnist is None:
        print("MNIST digits not found: the demo uses moving squares (40x40) instead.")
    else:
        print(f"Moving MNIST from the digits in {mnist}")
    config = config_from_dict(demo_config(out_dir, minutes, mnist))
    # a rerun of the demo starts afresh rather than resuming the old run
    # (train() refuses a run folder that holds checkpoints, so remove them all)
    shutil.rmtree(out_dir / "train" / "checkpoints", ignore_errors=True)
    result = train(config)
    model, config = load(result.last_checkpoint)

    test = make_dataset(config.data, "test")
    evaluation = evaluate(
        {"predrnn": model, "persistence": Persistence(model.in_channels)},
        make_loader(config.data, test, train=False),
    )
    report = write_report(
        evaluation,
        out_dir,
        "predrnn",
        {"data": config.data.name, "checkpoint": str(result.last_checkpoint)},
    )
    plot_loss_history(out_dir / "loss_history.png", result.run_dir / "logs" / "metrics.csv")
    print()
    print(f"Test set: {len(test)} sequences of {config.data.name}, 10 frames in, 10 out")  # type: ignore[arg-type]
    print(report.table)
    mse = {name: res["mse_per_frame_sum"]["mean"] for name, res in evaluation.results.items()}
    verdict = "better" if mse["predrnn"] < mse["persistence"] else "NOT better"
    print(
        f"PredRNN is {verdict} than persistence on MSE per frame "
        f"({mse['predrnn']:.2f} vs {mse['persistence']:.2f})."
    )
    print(f"prediction strip: {report.strip_png}")
    print(f"animation: {report.gif}")
    print(f"metrics: {report.metrics_json}")
    print(f"demo took {time.perf_counter() - start:.0f} s")
    return report.metrics_json
