"""The IMDB sentiment tutorial's four models, and the model beyond it, over several seeds.

Each run is ``framecast classify train --config configs/classify/NAME.yaml
train.seed=S`` then ``framecast classify evaluate`` of its last checkpoint
(the tutorial scores the weights after its last epoch) on the 25,000 test
reviews. The CPU seconds of the training process (user + system, from
``getrusage`` of the child) are recorded with the scores, since on a shared
machine wall time says more about the neighbours than about the model.

    python benchmarks/imdb_tutorial.py run imdb_lstm --seeds 0 1 2
    python benchmarks/imdb_tutorial.py run imdb_beyond --seeds 0 1 2 --checkpoint best
    python benchmarks/imdb_tutorial.py table

Results are appended to ``benchmarks/results/imdb_tutorial.jsonl`` (one
line per run); ``table`` prints mean and spread per config beside the
tutorial's published figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from config_step import cpu_model  # benchmarks/ is on the path when a script runs

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "imdb_tutorial.jsonl"
FRAMECAST = [str(Path(sys.executable).with_name("framecast"))]  # the venv's console script

PUBLISHED = {
    "imdb_simplernn": (0.64, 0.66, 0.64),
    "imdb_lstm": (0.84, 0.85, 0.84),
    "imdb_lstm_dropout": (0.83, 0.83, 0.83),
    "imdb_conv1d_lstm": (0.86, 0.86, 0.86),
}
"""The tutorial's test accuracy, weighted precision and weighted recall."""


def _child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _checkpoint(folder: Path, which: str) -> Path:
    """The run folder itself (its last checkpoint) or its one best-epoch checkpoint."""
    if which == "last":
        return folder
    best = sorted((folder / "checkpoints").glob("best-*.ckpt"))
    if len(best) != 1:
        raise SystemExit(f"expected one best-*.ckpt in {folder / 'checkpoints'}, found {len(best)}")
    return best[0]


def run(name: str, seeds: list[int], out_dir: Path, threads: int, which: str = "last") -> None:
    """Train and evaluate ``name`` once per seed, appending each result to :data:`RESULTS`.

    ``which`` picks the weights scored: ``last`` (the tutorial's, after its last
    epoch) or ``best`` (the epoch of lowest validation loss, for the recipes that
    keep it).
    """
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    for seed in seeds:
        run_name = f"{name}_s{seed}"
        before = _child_cpu_seconds()
        train = [
            *FRAMECAST, "classify", "train", "--config", f"configs/classify/{name}.yaml",
            f"train.seed={seed}", f"train.run_name={run_name}", f"train.out_dir={out_dir}",
            f"train.num_threads={threads}", "train.progress_bar=false",
        ]  # fmt: skip
        subprocess.run(train, check=True, cwd=ROOT, env=env)
        cpu_seconds = _child_cpu_seconds() - before
        folder = out_dir / run_name
        evaluate = [*FRAMECAST, "classify", "evaluate", str(_checkpoint(folder, which))]
        subprocess.run(evaluate, check=True, cwd=ROOT, env=env)
        record(name, seed, folder, cpu_seconds, threads)


def record(name: str, seed: int, folder: Path, cpu_seconds: float, threads: int) -> dict:
    """Append one run's test scores and CPU time to :data:`RESULTS` and return the row."""
    metrics = json.loads((folder / "eval-test" / "metrics.json").read_text())["metrics"]
    epochs = json.loads((folder / "eval-test" / "metrics.json").read_text())["epochs"]
    row = {
        "config": name,
        "seed": seed,
        "accuracy": metrics["accuracy"],
        "precision_weighted": metrics["precision"]["weighted"],
        "recall_weighted": metrics["recall"]["weighted"],
        "f1_weighted": metrics["f1"]["weighted"],
        "test_reviews": metrics["count"],
        "epochs": len(epochs),
        "last_val_loss": epochs[-1]["val_loss"] if epochs else None,
        "cpu_minutes": round(cpu_seconds / 60, 2),
        "torch_threads": threads,
        "cpu": cpu_model(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")
    return row


def table(path: Path = RESULTS) -> str:
    """Markdown table: mean and sample standard deviation over seeds, beside the tutorial."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by_config: dict[str, list[dict]] = {}
    for row in rows:
        by_config.setdefault(row["config"], []).append(row)
    lines = [
        "| config | seeds | accuracy | weighted precision | weighted recall | CPU min per run "
        "| tutorial (acc / prec / rec) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]

    def spread(values: list[float]) -> str:
        mean = statistics.fmean(values)
        if len(values) < 2:
            return f"{mean:.3f}"
        return f"{mean:.3f} ± {statistics.stdev(values):.3f}"

    order = [*PUBLISHED, *sorted(set(by_config) - set(PUBLISHED))]
    for name in (n for n in order if n in by_config):
        runs = by_config[name]
        published = PUBLISHED.get(name)
        ref = " / ".join(f"{v:.2f}" for v in published) if published else "-"
        lines.append(
            f"| {name} | {len(runs)} | {spread([r['accuracy'] for r in runs])} "
            f"| {spread([r['precision_weighted'] for r in runs])} "
            f"| {spread([r['recall_weighted'] for r in runs])} "
            f"| {statistics.fmean(r['cpu_minutes'] for r in runs):.1f} | {ref} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="train and evaluate one config over seeds")
    p.add_argument("name", help="a config of configs/classify/, e.g. imdb_lstm")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--out-dir", type=Path, default=ROOT / "runs" / "classify")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--checkpoint", choices=("last", "best"), default="last",
        help="score the last epoch (the tutorial) or the best by validation loss",
    )  # fmt: skip
    p = sub.add_parser("record", help="record a finished run (trained outside this script)")
    p.add_argument("name")
    p.add_argument("seed", type=int)
    p.add_argument("folder", type=Path)
    p.add_argument("cpu_seconds", type=float)
    p.add_argument("--threads", type=int, default=1)
    sub.add_parser("table", help="print the table of the recorded runs")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.name, args.seeds, args.out_dir, args.threads, args.checkpoint)
    elif args.command == "record":
        print(json.dumps(record(args.name, args.seed, args.folder, args.cpu_seconds, args.threads)))
    else:
        print(table(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
