"""``framecast demo``: train a small PredRNN, score it against the trivial baselines, draw it.

The demo trains on moving squares, a task a network learns in minutes on
2 CPU cores (``--data moving_mnist`` trains on Moving MNIST-2 instead,
which needs hours). Where the MNIST digits are found (``--mnist-dir``, the
``FRAMECAST_MNIST_DIR`` variable, or ``../shared/data/mnist``), the shipped
Moving MNIST weights (:mod:`framecast.zoo`) are scored too.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from framecast.baselines import trivial_baselines, verdict_lines, with_baselines
from framecast.checkpoint import load
from framecast.config import config_from_dict
from framecast.data import find_mnist_dir
from framecast.evaluation import evaluate
from framecast.reporting import write_report
from framecast.runfolder import RunFolder
from framecast.training import train
from framecast.training.loaders import make_dataset, make_loader
from framecast.viz import plot_loss_history

DEMO_DATA = ("moving_squares", "moving_mnist")
"""What the demo can train on: moving squares (the default) or Moving MNIST-2."""


def demo_config(
    out_dir: Path,
    minutes: float | None,
    steps: int | None = None,
    data: str = "moving_squares",
    mnist_dir: Path | None = None,
) -> dict[str, Any]:
    """The demo's run: a 2 x 32 ConvLSTM-cell PredRNN sized for 2 CPU cores.

    ``minutes`` bounds the training time; ``steps`` (instead) trains exactly
    that many steps.

    The task is moving squares (40x40, the Keras ConvLSTM example's movies)
    unless ``data`` is ``moving_mnist``. A network learns the squares'
    motion in a few minutes on 2 cores; Moving MNIST-2 needs hours (issue
    22). Measured with this config, 600 steps each, one torch thread on a
    busy 2-core Xeon, 256 test sequences (``benchmarks/demo_tasks.py``):

    ==============  =============  =====  ====================  ==========
    task            MSE per frame  SSIM   best trivial (MSE)    blank SSIM
    ==============  =============  =====  ====================  ==========
    moving squares  14.1           0.931  flow (37.8)           0.760
    MNIST, 1 digit  69.1           0.761  mean_frame (83.7)     0.887
    MNIST, 2 digits 135.0          0.617  mean_frame (152.5)    0.798
    ==============  =============  =====  ====================  ==========

    Only on the squares does the forecast beat the best trivial baseline
    by a wide margin on MSE (skill 0.63) and the blank frame on SSIM; on
    the digits MSE training blurs them, which SSIM punishes. The ConvLSTM
    cell is chosen over the ST-LSTM for its cost (0.25 against 0.61 s per
    step of 16 sequences at 64x64 on one busy core), the output is clipped
    to [0, 1] (a linear output leaves a haze over the black background),
    and the loss is the MSE that the table scores.
    """
    if data not in DEMO_DATA:
        raise ValueError(f"demo data must be one of {DEMO_DATA}, got {data!r}")
    splits = {
        "train": {"num_sequences": 10000},
        "val": {"num_sequences": 64},
        "test": {"num_sequences": 256},
    }
    data_section: dict[str, Any] = {"name": data, "split_options": splits}
    if data == "moving_mnist":
        data_section["options"] = {} if mnist_dir is None else {"mnist_dir": str(mnist_dir)}
    data_section.update({"n_context": 10, "n_target": 10, "batch_size": 16})
    return {
        "model": {
            "name": "predrnn",
            "options": {
                "cell": "convlstm",
                "hidden_channels": 32,
                "num_layers": 2,
                "kernel_size": 3,
                "patch_size": 4,
                "output_activation": "clip",
            },
        },
        "data": data_section,
        "optim": {"lr": 3e-3, "scheduler": "none"},
        "sampling": {"mode": "linear", "stop_step": 300},
        "train": {
            "loss": "mse",
            "precision": "auto",
            "max_steps": 100000 if steps is None else steps,
            "max_minutes": minutes if steps is None else None,
            "seed": 0,
            "limit_val_batches": 4,
            "val_every_n_steps": 50,
            "out_dir": str(out_dir),
            "run_name": "train",
            "log_every_n_steps": 10,
        },
    }


def best_checkpoint(run_dir: Path, fallback: Path) -> Path:
    """The run's best checkpoint by validation loss (free-running forecasts), else ``fallback``."""
    best = sorted((run_dir / "checkpoints").glob("best*.ckpt"), key=lambda p: p.stat().st_mtime)
    return best[-1] if best else fallback


def checkpoint_step(path: Path) -> int:
    """The optimiser step a checkpoint was saved at."""
    from framecast.checkpoint import read_checkpoint

    return int(read_checkpoint(path).get("global_step", -1))


def _verdicts(results: dict[str, dict[str, Any]], name: str) -> list[str]:
    """Against the best trivial baseline (named), then against persistence."""
    lines = verdict_lines(results, name)
    for metric, label, higher_is_better in (
        ("mse_per_frame_sum", "MSE per frame", False),
        ("ssim", "SSIM", True),
    ):
        ours = results[name][metric]["mean"]
        base = results["persistence"][metric]["mean"]
        better = ours > base if higher_is_better else ours < base
        lines.append(
            f"{name} is {'better' if better else 'NOT better'} than persistence on {label} "
            f"({ours:.3f} vs {base:.3f})."
        )
    return lines


def _score(
    models: dict[str, Any], config: Any, out_dir: Path, name: str, extra: dict[str, Any]
) -> None:
    """Score ``models`` and the trivial baselines on ``config``'s test split; print and write."""
    first = next(iter(models.values()))
    models = with_baselines(models, trivial_baselines(config.data, first.in_channels))
    test = make_dataset(config.data, "test")
    evaluation = evaluate(models, make_loader(config.data, test, train=False))
    report = write_report(evaluation, out_dir, name, extra)
    print()
    print(f"Test set: {len(test)} sequences of {config.data.name}, 10 frames in, 10 out")  # type: ignore[arg-type]
    print(report.table)
    for line in _verdicts(evaluation.results, name):
        print(line)
    print(f"prediction strip: {report.strip_png}")
    print(f"animation: {report.gif}")
    print(f"metrics: {report.metrics_json}")


def score_shipped(out_dir: Path, mnist_dir: Path, sequences: int = 256) -> list[str]:
    """Score every shipped Moving MNIST checkpoint (:mod:`framecast.zoo`) beside the baselines.

    Each is scored on the first ``sequences`` sequences of its own config's
    test split, with the digits in ``mnist_dir``; its pictures and
    ``metrics.json`` go to ``out_dir/shipped/NAME``. Returns the names scored.
    """
    from framecast.zoo_entries import PREFIX, available

    scored = []
    for entry in available():
        model, config = load(entry.weights)
        if config.data.name != "moving_mnist":
            continue
        full = config.to_dict()
        data = full["data"]
        data["options"] = {**data.get("options", {}), "mnist_dir": str(mnist_dir)}
        data["split_options"] = {
            **data.get("split_options", {}),
            "test": {"num_sequences": sequences},
        }
        config = config_from_dict({**full, "data": data})
        label = f"{entry.name} (shipped, {entry.steps:,} steps, {entry.cpu_hours:.1f} CPU hours)"
        print()
        print(
            f"Shipped weights {PREFIX}{entry.name}: {entry.description}, trained by "
            f"{entry.config} for {entry.cpu_hours:.1f} hours, not by this demo "
            f"(framecast evaluate {PREFIX}{entry.name} scores its 10,000 test sequences)."
        )
        _score({label: model}, config, out_dir / "shipped" / entry.name, label, {})
        scored.append(entry.name)
    if not scored:
        print("No Moving MNIST weights are shipped yet (framecast pretrained lists what is).")
    return scored


def run_demo(
    out_dir: Path,
    minutes: float = 4.0,
    mnist_dir: Path | None = None,
    steps: int | None = None,
    data: str = "moving_squares",
) -> Path:
    """Train, evaluate against the trivial baselines, write pictures and metrics.json.

    The run trains :func:`demo_config` for ``minutes`` (or ``steps``) and
    scores its best checkpoint by validation on 256 test sequences beside
    every trivial baseline (:func:`framecast.baselines.trivial_baselines`,
    the mean frame and best constant fitted on the training split), with
    each row's MSE skill score against the best of them; the verdict names
    that baseline. Where the MNIST digits are found, every shipped Moving
    MNIST checkpoint is then scored the same way (:func:`score_shipped`).

    Returns
    -------
    Path
        The ``metrics.json`` of the run just trained.
    """
    start = time.perf_counter()
    mnist = mnist_dir if mnist_dir is not None else find_mnist_dir()
    if data == "moving_mnist" and mnist is None:
        raise FileNotFoundError(
            "demo --data moving_mnist needs the MNIST files: --mnist-dir, FRAMECAST_MNIST_DIR, "
            "../shared/data/mnist or ~/.cache/framecast/mnist"
        )
    config = config_from_dict(demo_config(out_dir, minutes, steps, data, mnist))
    print(
        f"Training a 2 x 32 ConvLSTM-cell PredRNN on {data} for {steps or minutes} "
        f"{'steps' if steps else 'minutes'}"
    )
    # a rerun of the demo starts afresh rather than resuming the old run: train()
    # refuses a run folder that holds checkpoints, so remove those a demo wrote
    if (out_dir / "train").is_dir():
        RunFolder(out_dir / "train").remove("checkpoints")
    result = train(config)
    checkpoint = best_checkpoint(result.run_dir, result.last_checkpoint)
    model, config = load(checkpoint)
    step = checkpoint_step(checkpoint)
    trained = f"predrnn (this run, best of {result.module.global_step} steps: step {step})"
    _score(
        {trained: model}, config, out_dir, trained, {"data": data, "checkpoint": str(checkpoint)}
    )
    plot_loss_history(out_dir / "loss_history.png", result.run_dir / "logs" / "metrics.csv")
    if mnist is None:
        print("MNIST digits not found: the shipped Moving MNIST weights are not scored.")
    else:
        score_shipped(out_dir, mnist)
    print(f"demo took {time.perf_counter() - start:.0f} s")
    return out_dir / "metrics.json"
