"""``framecast demo``: train a small PredRNN, score it against the trivial baselines, draw it.

Moving MNIST when the MNIST digits are found (``--mnist-dir``, the
``FRAMECAST_MNIST_DIR`` variable, or ``../shared/data/mnist``), moving
squares otherwise; the job says which.
"""

from __future__ import annotations

import sys
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
from framecast.viz import plot_loss_history, save_prediction_strip

PRETRAINED = Path(__file__).parent / "pretrained" / "demo_predrnn_mmnist.ckpt"
"""The demo's config trained longer: the best checkpoint by validation of a
:data:`PRETRAINED_STEPS`-step run (:data:`PRETRAINED_COMMAND`), weights and config only."""
PRETRAINED_STEPS = 300
PRETRAINED_COMMAND = f"framecast demo --steps {PRETRAINED_STEPS} --out runs/demo_pretrained"


def demo_config(
    out_dir: Path, minutes: float | None, mnist_dir: Path | None, steps: int | None = None
) -> dict[str, Any]:
    """The demo's run: a 2-layer ST-LSTM PredRNN sized for 2 CPU cores.

    ``minutes`` bounds the training time; ``steps`` (instead) trains exactly
    that many steps, as for the shipped longer-trained checkpoint.

    Two choices make a short run beat persistence on SSIM as well as on
    MSE. The output is clipped to [0, 1] (PredNet's saturating ReLU): a
    linear output leaves a faint haze over the empty background, which
    SSIM punishes (its luminance term is about 0.04 for a mean of 0.05
    against 0). And the loss is L1 + L2 (E3D-LSTM's): the MSE-optimal
    forecast of an uncertain digit is a grey blur that spreads further as
    training goes on, where L1 keeps the background black. Measured on
    Moving MNIST, 128 test sequences, one run each (persistence: MSE per
    frame 293.9, SSIM 0.693; the 500-step row on 256 sequences, where
    persistence scores 287.2 and 0.695):

    ======================  =====  ==============  =====
    output, loss            steps  MSE per frame   SSIM
    ======================  =====  ==============  =====
    linear, MSE (old demo)  108    143.7           0.18
    clip, MSE               100    160.6           0.776
    clip, MSE (256 seqs)    500    135.4           0.579
    clip, L1 + L2           100    170.3           0.799
    clip, L1 + L2           200    165.5           0.800
    ======================  =====  ==============  =====
    """
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
                "output_activation": "clip",
            },
        },
        "data": data,
        "optim": {"lr": 2e-3, "scheduler": "none"},
        "sampling": {"mode": "linear", "stop_step": 150},
        "train": {
            "loss": "l1+l2",
            "max_steps": 100000 if steps is None else steps,
            "max_minutes": minutes if steps is None else None,
            "seed": 0,
            "limit_val_batches": 4,
            "val_every_n_steps": 20,
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


def export_pretrained(checkpoint: Path, dest: Path = PRETRAINED) -> Path:
    """Write ``checkpoint``'s weights and config (no optimiser state) to ``dest``.

    The result is what :func:`framecast.checkpoint.load` needs, and about a
    third of the size of a training checkpoint.
    """
    import torch

    from framecast.checkpoint import read_checkpoint
    from framecast.files import atomic_write

    ckpt = read_checkpoint(checkpoint)
    slim = {
        "state_dict": ckpt["state_dict"],
        "hyper_parameters": ckpt["hyper_parameters"],
        "global_step": ckpt.get("global_step"),
        "pytorch-lightning_version": ckpt.get("pytorch-lightning_version"),
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(dest) as tmp:
        torch.save(slim, tmp)
    return dest


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


def run_demo(
    out_dir: Path,
    minutes: float = 4.0,
    mnist_dir: Path | None = None,
    steps: int | None = None,
) -> Path:
    """Train, evaluate against the trivial baselines, write pictures and metrics.json.

    The table has every trivial baseline (:func:`framecast.baselines.trivial_baselines`,
    the mean frame and best constant fitted on the demo's training split)
    and each row's MSE skill score against the best of them; the verdict
    names that baseline.

    With Moving MNIST, the shipped checkpoint of the same config trained for
    :data:`PRETRAINED_STEPS` steps (:data:`PRETRAINED`, made by
    :data:`PRETRAINED_COMMAND`) is scored on the same test sequences, beside
    the run just trained, and drawn in its own strip.

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
    config = config_from_dict(demo_config(out_dir, minutes, mnist, steps))
    # a rerun of the demo starts afresh rather than resuming the old run (train() refuses a
    # run folder that holds checkpoints): delete what the last demo run wrote, nothing else
    last_run = RunFolder(out_dir / "train")
    if last_run.has_manifest():
        last_run.clear()
    else:  # a demo run from before manifests: its checkpoints, by name
        for old in (out_dir / "train" / "checkpoints").glob("*.ckpt"):
            old.unlink()
    result = train(config)
    checkpoint = best_checkpoint(result.run_dir, result.last_checkpoint)
    model, config = load(checkpoint)
    step = checkpoint_step(checkpoint)
    trained = f"predrnn (this run, best of {result.module.global_step} steps: step {step})"
    models = {trained: model}
    shipped = None
    if config.data.name == "moving_mnist" and PRETRAINED.is_file() and steps is None:
        pretrained, _ = load(PRETRAINED)
        shipped_step = checkpoint_step(PRETRAINED)
        shipped = f"predrnn (shipped, best of {PRETRAINED_STEPS} steps: step {shipped_step})"
        models[shipped] = pretrained
    models = with_baselines(models, trivial_baselines(config.data, model.in_channels))

    test = make_dataset(config.data, "test")
    evaluation = evaluate(models, make_loader(config.data, test, train=False))
    report = write_report(
        evaluation,
        out_dir,
        trained,
        {"data": config.data.name, "checkpoint": str(checkpoint)},
    )
    plot_loss_history(out_dir / "loss_history.png", result.run_dir / "logs" / "metrics.csv")
    print()
    print(f"Test set: {len(test)} sequences of {config.data.name}, 10 frames in, 10 out")  # type: ignore[arg-type]
    print(report.table)
    for line in _verdicts(evaluation.results, trained):
        print(line)
    print(f"prediction strip: {report.strip_png}")
    print(f"animation: {report.gif}")
    if shipped is not None:
        strip = save_prediction_strip(
            out_dir / "prediction_strip_shipped.png",
            evaluation.example_context,
            evaluation.example_target,
            evaluation.example_predictions[shipped],
            title=f"{shipped}: {PRETRAINED_COMMAND}",
        )
        print()
        print(
            f"The shipped checkpoint is this demo's config trained for {PRETRAINED_STEPS} steps "
            f"({PRETRAINED_COMMAND}; its best checkpoint by validation), not this run:"
        )
        for line in _verdicts(evaluation.results, shipped):
            print(line)
        print(f"its prediction strip: {strip}")
    print(f"metrics: {report.metrics_json}")
    print(f"demo took {time.perf_counter() - start:.0f} s")
    if steps is not None and config.data.name == "moving_mnist":
        print(f"to ship this run: python -m framecast.demo export {checkpoint}")
    return report.metrics_json


def _main(argv: list[str]) -> int:
    """``python -m framecast.demo export CKPT``: write the shipped checkpoint."""
    if len(argv) != 2 or argv[0] != "export":
        print("usage: python -m framecast.demo export CHECKPOINT", file=sys.stderr)
        return 2
    print(export_pretrained(Path(argv[1])))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
