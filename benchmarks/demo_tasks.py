"""Which task can the demo learn in minutes? The demo's config on three tasks, equal steps.

Trains :func:`framecast.demo.demo_config` for ``--steps`` steps on moving
squares, Moving MNIST with one digit and Moving MNIST-2, and scores each
on 256 test sequences beside every trivial baseline. Prints one JSON line
per task (MSE per frame and SSIM of the network and of each baseline, and
the training seconds) and appends it to ``--out``.

Usage::

    python benchmarks/demo_tasks.py --steps 600 --threads 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from framecast.baselines import best_trivial, trivial_baselines, with_baselines
from framecast.checkpoint import load
from framecast.config import config_from_dict
from framecast.data import find_mnist_dir
from framecast.demo import demo_config
from framecast.evaluation import evaluate
from framecast.training import train
from framecast.training.loaders import make_dataset, make_loader

TASKS: dict[str, tuple[str, dict[str, Any]]] = {
    "squares": ("moving_squares", {}),
    "mnist1": ("moving_mnist", {"num_digits": 1}),
    "mnist2": ("moving_mnist", {"num_digits": 2}),
}


def run_task(task: str, steps: int, threads: int, work: Path) -> dict[str, Any]:
    """Train the demo config on ``task`` for ``steps`` steps; score it and the baselines."""
    data, options = TASKS[task]
    mnist = find_mnist_dir() if data == "moving_mnist" else None
    cfg = demo_config(work / task, None, steps, data, mnist)
    cfg["data"]["options"] = {**cfg["data"].get("options", {}), **options}
    cfg["train"].update({"progress_bar": False, "num_threads": threads, "run_name": "run"})
    start = time.perf_counter()
    result = train(config_from_dict(cfg))
    seconds = time.perf_counter() - start
    model, config = load(result.last_checkpoint)
    models = with_baselines({"network": model}, trivial_baselines(config.data, model.in_channels))
    loader = make_loader(config.data, make_dataset(config.data, "test"), train=False)
    results = evaluate(models, loader).results
    row: dict[str, Any] = {"task": task, "steps": steps, "threads": threads, "train_s": seconds}
    for name, res in results.items():
        row[name] = {"mse": res["mse_per_frame_sum"]["mean"], "ssim": res["ssim"]["mean"]}
    row["best_trivial"] = best_trivial(results)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=list(TASKS))
    parser.add_argument("--work", type=Path, default=Path("runs/bench_demo_tasks"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/demo_tasks.jsonl"))
    args = parser.parse_args()
    for task in args.tasks:
        row = run_task(task, args.steps, args.threads, args.work)
        line = json.dumps(row)
        print(line, flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a", encoding="utf-8") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
