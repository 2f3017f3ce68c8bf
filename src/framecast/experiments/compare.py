"""``framecast compare``: every architecture with every compatible cell, one table.

Each (model, cell) pair is trained on the same data with the same seed,
optimiser, batch size and budget (minutes or steps), in its own process so
that its peak memory is its own, then scored on the same test sequences as
the trivial baselines (:mod:`framecast.baselines`: persistence, blank,
mean frame, best constant, optical flow); the table gives every row's MSE
skill score against the best of them and names it. A pair whose
``result.json`` exists is not trained again; a pair interrupted
mid-training resumes from its last checkpoint. So rerunning the same
command after an interruption finishes the table.

Pairs run ``jobs`` at a time, each with ``cores // jobs`` torch threads, so
the cores are never oversubscribed. The default is one pair per free core
with one thread each: two one-thread jobs train more steps per second
than one two-thread job on a 2-core machine (see :func:`default_jobs`), and
a one-thread job does not stall when another process wants a core.

With ``cluster`` (``--cluster tcp://HOST:PORT``) each pair is a task of
that Dask scheduler (:mod:`framecast.cluster`): the same child process,
started on a worker's machine with the worker's thread share
(:func:`~framecast.numerics.choose_threads`: one under Dask's default
``OMP_NUM_THREADS=1``); ``out_dir`` must be on a file system every worker sees.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framecast.experiments.budget import parse_budget
from framecast.experiments.presets import FIXED_CELL, NOT_COMPARED, data_preset, model_preset
from framecast.numerics import THREADS_ENV, allowed_cores, check_jobs, default_jobs

if TYPE_CHECKING:
    from framecast.cluster import Cluster

COLUMNS = (
    "model",
    "cell",
    "params",
    "steps",
    "s_per_100_batches",
    "peak_memory_mb",
    "mse_per_frame_sum",
    "mse_per_pixel",
    "ssim",
    "psnr",
    "mse_ratio_to_persistence",
    "skill_vs_best_trivial",
)


@dataclass(frozen=True)
class ComparisonSpec:
    """What every pair shares; a rerun must match it to resume."""

    data: dict[str, Any]
    budget: str
    batch_size: int
    lr: float
    seed: int
    n_context: int
    n_target: int
    sampling_stop_step: int
    model_options: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def pair_name(model: str, cell: str | None) -> str:
    return f"{model}-{cell}" if cell else model


def plan_pairs(
    models: Sequence[str], cells: Sequence[str]
) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Pairs to run, and a note for every (model, cell) left out and why."""
    from framecast.models import MODELS, compatible_cells

    pairs: list[tuple[str, str | None]] = []
    notes: list[str] = []
    for model in models:
        cls = MODELS.get(model)
        if not cls.trainable:
            notes.append(f"{model}: nothing to train; it is the baseline row of the table")
            continue
        if model.lower() in NOT_COMPARED:
            notes.append(f"{model}: left out; {NOT_COMPARED[model.lower()]}")
            continue
        usable = compatible_cells(model)
        if not cls.uses_cell:
            pairs.append((model, None))
            why = FIXED_CELL.get(model.lower(), "it takes no cell")
            notes.append(f"{model}: one row whatever the cells; {why}")
            continue
        for cell in cells:
            if cell in usable:
                pairs.append((model, cell))
            else:
                notes.append(f"{model} with {cell}: {model} runs only {', '.join(usable)}")
    if not pairs:
        why = f" ({'; '.join(notes)})" if notes else ""
        raise ValueError(
            f"no (model, cell) pair to compare among models {list(models)} and cells "
            f"{list(cells)}{why}"
        )
    return pairs, notes


def check_model_options(options: dict[str, dict[str, Any]], n_context: int) -> None:
    """Check each model's options before any pair trains, so a typo fails at once.

    Raises
    ------
    TypeError
        An option the model does not take (the message lists the accepted ones).
    ValueError
        ``context_frames`` (SimVP, TAU) other than ``n_context``.
    """
    from framecast.models import MODELS
    from framecast.signature import check_options

    for model, opts in options.items():
        check_options(MODELS.get(model), opts, f"model {model!r}", skip=("in_channels",))
        frames = opts.get("context_frames", n_context)
        if frames != n_context:
            raise ValueError(
                f"model {model!r}: context_frames={frames!r} must equal the comparison's "
                f"n_context={n_context} (it maps that many frames in one pass)"
            )


def pair_config(
    spec: ComparisonSpec, model: str, cell: str | None, run_root: Path
) -> dict[str, Any]:
    """The training config of one pair: the shared spec plus the model and cell."""
    budget = parse_budget(spec.budget)
    options = dict(spec.model_options.get(model, {}))
    if cell is not None:
        options["cell"] = cell
    train: dict[str, Any] = {
        "max_steps": budget.steps if budget.steps is not None else 10**9,
        "max_minutes": budget.minutes,
        "seed": spec.seed,
        "out_dir": str(run_root),
        "run_name": "run",
        "limit_val_batches": 4,
        "val_every_n_steps": 50 if budget.steps is None or budget.steps > 50 else None,
        "progress_bar": False,
    }
    return {
        "model": {"name": model, "options": options},
        "data": {
            **spec.data,
            "n_context": spec.n_context,
            "n_target": spec.n_target,
            "batch_size": spec.batch_size,
        },
        "optim": {"lr": spec.lr, "scheduler": "none"},
        "sampling": {"mode": "linear", "stop_step": spec.sampling_stop_step},
        "train": train,
    }


def run_pair(
    pair_dir: Path, config_dict: dict[str, Any], model: str, cell: str | None
) -> dict[str, Any]:
    """Train (or resume) and evaluate one pair; write and return its result."""
    import torch

    from framecast.baselines import trivial_baselines, with_baselines
    from framecast.checkpoint import load
    from framecast.config import config_from_dict
    from framecast.evaluation import evaluate
    from framecast.numerics import configure_torch
    from framecast.training import train
    from framecast.training.callbacks import BatchTimer
    from framecast.training.loaders import make_dataset, make_loader
    from framecast.viz import save_prediction_strip

    configure_torch()
    config = config_from_dict(config_dict)
    run_dir = pair_dir / "run"
    resume = run_dir if (run_dir / "checkpoints" / "last.ckpt").is_file() else None
    timer = BatchTimer()
    result = train(config, resume=resume, callbacks=[timer])
    trained, config = load(result.last_checkpoint)
    test = make_dataset(config.data, "test")
    baselines = trivial_baselines(config.data, trained.in_channels)
    ev = evaluate(
        with_baselines({"model": trained}, baselines),
        make_loader(config.data, test, train=False),
    )
    save_prediction_strip(
        pair_dir / "prediction_strip.png",
        ev.example_context,
        ev.example_target,
        ev.example_predictions["model"],
        title=pair_name(model, cell),
    )
    per_batch = timer.seconds_per_batch
    ckpt = torch.load(result.last_checkpoint, map_location="cpu", weights_only=True)
    out = {
        "model": model,
        "cell": cell,
        "params": sum(p.numel() for p in trained.parameters() if p.requires_grad),
        "steps": int(ckpt["global_step"]),  # optimiser steps the budget allowed
        "s_per_100_batches": None if per_batch is None else 100 * per_batch,
        "batches_timed": len(timer.durations),
        "resumed": resume is not None,
        "torch_threads": torch.get_num_threads(),
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "metrics": ev.results["model"],
        "persistence": ev.results["persistence"],
        "baselines": {name: ev.results[name] for name in baselines},
    }
    (pair_dir / "result.json").write_text(json.dumps(out, indent=2))
    return out


def _baselines(res: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A pair result's trivial baselines (results written before them: persistence only)."""
    return res.get("baselines") or {"persistence": res["persistence"]}


def _skill(mse: float, baselines: dict[str, dict[str, Any]]) -> float | None:
    """MSE skill score against the best trivial baseline (None where undefined)."""
    from framecast.baselines import SKILL_METRIC, best_trivial, skill_score

    best = best_trivial(baselines)
    if best is None:
        return None
    skill = skill_score(mse, float(baselines[best][SKILL_METRIC]["mean"]))
    return skill if skill == skill else None  # NaN: a perfect trivial forecast


def _row(res: dict[str, Any]) -> dict[str, Any]:
    m, p = res["metrics"], res["persistence"]
    # results written before "steps" was recorded: every batch of an unresumed run was timed
    steps = res.get("steps", None if res.get("resumed") else res.get("batches_timed"))
    return {
        "model": res["model"],
        "cell": res["cell"] or "-",
        "params": res["params"],
        "steps": steps,
        "s_per_100_batches": res["s_per_100_batches"],
        "peak_memory_mb": res["peak_memory_mb"],
        "mse_per_frame_sum": m["mse_per_frame_sum"]["mean"],
        "mse_per_pixel": m["mse_per_pixel"]["mean"],
        "ssim": m["ssim"]["mean"],
        "psnr": m["psnr"]["mean"],
        "mse_ratio_to_persistence": m["mse_per_frame_sum"]["mean"] / p["mse_per_frame_sum"]["mean"],
        "skill_vs_best_trivial": _skill(m["mse_per_frame_sum"]["mean"], _baselines(res)),
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_outputs(
    out_dir: Path, results: list[dict[str, Any]], spec: ComparisonSpec, notes: list[str]
) -> None:
    """comparison.csv, comparison.md and mse_vs_lead_time.png from the pair results.

    The table ends with a row per trivial baseline (as scored by the first
    pair: every pair scores them on the same data) and a line naming the best.
    """
    from framecast.baselines import best_trivial
    from framecast.viz import plot_metric_curves

    rows = [_row(r) for r in results]
    persistence = results[0]["persistence"]
    baselines = _baselines(results[0])
    best = best_trivial(baselines)
    with (out_dir / "comparison.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        "# framecast compare",
        "",
        f"Data: {spec.data['name']} ({spec.n_context} frames in, {spec.n_target} out), "
        f"budget {spec.budget} per pair, batch {spec.batch_size}, "
        f"Adam lr {spec.lr:g}, seed {spec.seed}.",
        "MSE per frame: squared error summed over a frame's pixels (pixels in [0, 1]); "
        "ratio: model MSE / persistence MSE (below 1 beats persistence); "
        "skill: 1 - MSE / MSE of the best trivial baseline (above 0 beats every one).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * 2 + "---:|" * (len(COLUMNS) - 2),
    ]
    lines += ["| " + " | ".join(_fmt(r[c]) for c in COLUMNS) + " |" for r in rows]
    for name, base in baselines.items():
        mse = base["mse_per_frame_sum"]["mean"]
        ratio = mse / persistence["mse_per_frame_sum"]["mean"]
        lines.append(
            f"| {name} | - | 0 | - | - | - | {_fmt(mse)} "
            f"| {_fmt(base['mse_per_pixel']['mean'])} | {_fmt(base['ssim']['mean'])} "
            f"| {_fmt(base['psnr']['mean'])} | {_fmt(ratio)} | {_fmt(_skill(mse, baselines))} |"
        )
    if best is not None:
        beating = [
            pair_name(r["model"], r["cell"])
            for r, row in zip(results, rows, strict=True)
            if (row["skill_vs_best_trivial"] or 0) > 0
        ]
        lines += [
            "",
            f"Best trivial baseline: {best} (MSE per frame "
            f"{_fmt(baselines[best]['mse_per_frame_sum']['mean'])}); "
            f"{len(beating)} of {len(rows)} rows beat it"
            + (f" ({', '.join(beating)})." if beating else "."),
        ]
    if notes:
        lines += ["", "Left out:", *[f"- {n}" for n in notes]]
    (out_dir / "comparison.md").write_text("\n".join(lines) + "\n")
    curves = {
        pair_name(r["model"], r["cell"]): r["metrics"]["mse_per_frame_sum"]["curve"]
        for r in results
    }
    for name, base in baselines.items():
        curves[name] = base["mse_per_frame_sum"]["curve"]
    plot_metric_curves(
        out_dir / "mse_vs_lead_time.png",
        curves,
        metric="MSE per frame",
        unit="sum of squared error over a frame's pixels, pixels in [0, 1]",
        title="test MSE vs lead time",
    )


def run_comparison(
    models: Sequence[str],
    cells: Sequence[str],
    data: str,
    budget: str,
    out_dir: Path,
    *,
    batch_size: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    n_context: int = 10,
    n_target: int = 10,
    sampling_stop_step: int = 200,
    model_options: dict[str, dict[str, Any]] | None = None,
    data_options: dict[str, Any] | None = None,
    jobs: int | None = None,
    cluster: str | None = None,
) -> Path:
    """Train and score every pair; write the table, CSV and plot; return ``comparison.md``.

    ``jobs`` pairs train at once (None: :func:`default_jobs`), each with an
    equal share of the cores as torch threads; with ``cluster`` (a Dask
    scheduler's address) every pair is a task of that cluster instead.

    Raises
    ------
    ValueError
        Unknown names, a bad budget, an ``out_dir`` holding a comparison
        with other settings, or a cluster that does not answer (nothing written).
    """
    from framecast.cluster import check_address, session

    parse_budget(budget)
    if cluster is not None:
        check_address(cluster)
    pairs, notes = plan_pairs(models, cells)
    data_section = data_preset(data)
    if data_options:
        data_section["options"] = {**data_section.get("options", {}), **data_options}
    options = {m: {**model_preset(m), **(model_options or {}).get(m, {})} for m, _ in pairs}
    check_model_options(options, n_context)
    spec = ComparisonSpec(
        data=data_section,
        budget=budget,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        n_context=n_context,
        n_target=n_target,
        sampling_stop_step=sampling_stop_step,
        model_options=options,
    )
    with session(cluster) as engine:
        return _compare_pairs(spec, pairs, notes, out_dir, jobs, engine)


def _compare_pairs(
    spec: ComparisonSpec,
    pairs: list[tuple[str, str | None]],
    notes: list[str],
    out_dir: Path,
    jobs: int | None,
    engine: Cluster | None,
) -> Path:
    """Train the pairs not done yet (here or as tasks of ``engine``); write the outputs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    spec_path = out_dir / "comparison_spec.json"
    if spec_path.is_file():
        stored = json.loads(spec_path.read_text())
        if stored != json.loads(json.dumps(spec.to_dict())):
            raise ValueError(
                f"{out_dir} holds a comparison with other settings ({spec_path}); "
                "use another --out folder or delete that one"
            )
    else:
        spec_path.write_text(json.dumps(spec.to_dict(), indent=2))

    pending: list[tuple[str, str | None]] = []
    for model, cell in pairs:
        if (out_dir / "pairs" / pair_name(model, cell) / "result.json").is_file():
            print(f"[compare] {pair_name(model, cell)}: done before, kept", flush=True)
        else:
            pending.append((model, cell))
    if engine is not None:
        outcomes = _run_pairs_on_cluster(engine, spec, out_dir, pending)
    else:
        outcomes = _run_pairs_here(spec, out_dir, pending, jobs)
    failed = [name for name, ok in outcomes if not ok]
    if failed:
        raise RuntimeError(
            f"pair(s) {', '.join(failed)} failed; rerun the same command to resume them"
        )
    results = [
        json.loads((out_dir / "pairs" / pair_name(m, c) / "result.json").read_text())
        for m, c in pairs
    ]
    write_outputs(out_dir, results, spec, notes)
    print((out_dir / "comparison.md").read_text())
    return out_dir / "comparison.md"


def _run_pairs_here(
    spec: ComparisonSpec, out_dir: Path, pending: list[tuple[str, str | None]], jobs: int | None
) -> list[tuple[str, bool]]:
    """Train ``pending`` as child processes of this one, ``jobs`` at a time."""
    n_jobs = default_jobs(len(pending)) if jobs is None else check_jobs(jobs)
    n_jobs = max(1, min(n_jobs, len(pending)))
    threads = max(1, len(allowed_cores()) // n_jobs)
    if pending:
        print(
            f"[compare] {len(pending)} pair(s) to train, {n_jobs} at a time with "
            f"{threads} torch thread(s) each",
            flush=True,
        )
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        return list(
            pool.map(
                lambda pair: _run_pair_process(spec, out_dir, *pair, threads, n_jobs > 1),
                pending,
            )
        )


def _run_pairs_on_cluster(
    engine: Cluster, spec: ComparisonSpec, out_dir: Path, pending: list[tuple[str, str | None]]
) -> list[tuple[str, bool]]:
    """Train ``pending`` as tasks of ``engine`` (:func:`pair_task`); output per pair in log.txt.

    Raises
    ------
    FramecastError
        A pair that finished on a worker left no ``result.json`` here: ``out_dir``
        is not on a file system this machine shares with the workers.
    """
    from framecast.errors import FramecastError

    if not pending:
        return []
    print(
        f"[compare] {len(pending)} pair(s) to train as tasks of {engine.address} "
        f"({engine.slots} at a time); each pair's output is in its log.txt",
        flush=True,
    )

    def done(_: int, outcome: tuple[str, bool]) -> None:
        print(f"[compare] {outcome[0]}: {'done' if outcome[1] else 'failed'}", flush=True)

    outcomes = engine.map(
        pair_task, pending, shared={"spec": spec, "out_dir": out_dir.resolve()}, done=done
    )
    for name, ok in outcomes:
        if ok and not (out_dir / "pairs" / name / "result.json").is_file():
            raise FramecastError(
                f"pair {name} finished on a worker of {engine.address}, but "
                f"{out_dir / 'pairs' / name / 'result.json'} is not here; --out must be a "
                "folder every worker sees at the same path (a shared file system)"
            )
    return outcomes


def pair_task(
    pair: tuple[str, str | None], *, spec: ComparisonSpec, out_dir: Path
) -> tuple[str, bool]:
    """One pair as a cluster task: :func:`_run_pair_process` on the worker's machine.

    The child gets the worker's thread share (:func:`choose_threads`: one
    under Dask's default ``OMP_NUM_THREADS=1``, ``FRAMECAST_THREADS`` where
    the worker's environment sets it); its output goes to ``log.txt``.
    """
    from framecast.numerics import choose_threads

    return _run_pair_process(spec, out_dir, pair[0], pair[1], choose_threads(), True)


def _run_pair_process(
    spec: ComparisonSpec,
    out_dir: Path,
    model: str,
    cell: str | None,
    threads: int,
    quiet: bool,
) -> tuple[str, bool]:
    """Train and score one pair in a child process; return (name, succeeded).

    With ``quiet`` (several pairs at once) the child's output goes to
    ``pairs/<name>/log.txt`` instead of interleaving on the console.
    """
    name = pair_name(model, cell)
    pair_dir = out_dir / "pairs" / name
    pair_dir.mkdir(parents=True, exist_ok=True)
    job = pair_dir / "job.json"
    job.write_text(
        json.dumps(
            {"config": pair_config(spec, model, cell, pair_dir), "model": model, "cell": cell}
        )
    )
    print(f"[compare] {name}: training for {spec.budget}", flush=True)
    env = {**os.environ, THREADS_ENV: str(threads), "OMP_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "framecast.experiments.compare", str(job)]
    start = time.perf_counter()
    if quiet:
        log = pair_dir / "log.txt"
        with log.open("a") as stream:
            proc = subprocess.run(command, check=False, env=env, stdout=stream, stderr=stream)
    else:
        proc = subprocess.run(command, check=False, env=env)
    ok = proc.returncode == 0 and (pair_dir / "result.json").is_file()
    seconds = time.perf_counter() - start
    if ok:
        print(f"[compare] {name}: {seconds:.0f} s", flush=True)
    else:
        where = f"; its output is in {pair_dir / 'log.txt'}" if quiet else ""
        print(f"[compare] {name}: failed (exit {proc.returncode}){where}", flush=True)
    return name, ok


def _worker(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description="train and score one comparison pair")
    parser.add_argument("job", type=Path)
    args = parser.parse_args(argv)
    job = json.loads(args.job.read_text())
    run_pair(args.job.parent, job["config"], job["model"], job["cell"])
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker(sys.argv[1:]))
