"""One training job with every core, or one job per core: which trains more steps per second?

``framecast compare`` and ``framecast tune`` run several independent
trainings. On a machine with ``C`` cores they can run one at a time with
``C`` torch threads, or ``C`` at a time with one thread each. This
benchmark measures both for the quick PredRNN (2 x 32 ST-LSTM, 3x3,
patch 4, batch 16, 20 frames of 64x64), idle and beside one busy process
it starts itself, and reports the training steps per second of the whole
machine (steps of all jobs over the wall time), all rows from one run.

    python benchmarks/parallel_jobs.py --steps 6 --load idle,busy
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import framecast  # noqa: F401  (sets OMP_WAIT_POLICY=PASSIVE before torch loads, as the CLI)

CONFIG = {
    "cell": "stlstm",
    "hidden_channels": 32,
    "num_layers": 2,
    "kernel_size": 3,
    "patch_size": 4,
}


def job(steps: int, threads: int) -> None:
    """Train ``steps`` quick-PredRNN steps (after one warm-up step); print the timing JSON."""
    import torch

    from framecast.models import build_model
    from framecast.numerics import configure_torch

    configure_torch(threads)
    torch.manual_seed(0)
    model = build_model("predrnn", 1, CONFIG)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    frames = torch.rand(16, 20, 1, 64, 64)
    context, target = frames[:, :10], frames[:, 10:]
    mask = (torch.rand(16, 18) < 0.5).float()

    def step() -> None:
        pred = model.rollout(context, 10, target=target, true_mask=mask)
        loss = torch.nn.functional.mse_loss(pred, frames[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    start = time.time()
    for _ in range(steps):
        step()
    print(json.dumps({"start": start, "end": time.time(), "steps": steps}))


def run(jobs: int, threads: int, steps: int) -> float:
    """Machine steps per second of ``jobs`` concurrent jobs of ``threads`` threads each."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    cmd = [sys.executable, __file__, "--job", str(steps), str(threads)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env) for _ in range(jobs)]
    results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    # the timed window: from the first timed step of any job to the last end
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    return sum(r["steps"] for r in results) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6, help="timed steps per job")
    parser.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--load", default="idle,busy", help="idle, busy or idle,busy")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per load")
    parser.add_argument("--job", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        job(*args.job)
        return
    layouts = [(1, args.cores), (args.cores, 1)]
    print("| load | jobs x threads | machine steps/s (each round) | median |")
    print("|---|---|---|---:|")
    for load in args.load.split(","):
        if load not in ("idle", "busy"):
            raise SystemExit(f"--load takes idle and/or busy, got {load!r}")
        spinner = (
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "busy" else None
        )
        try:
            rates: dict[tuple[int, int], list[float]] = {layout: [] for layout in layouts}
            for _ in range(args.rounds):
                for layout in layouts:  # alternate, so drift in the load hits both alike
                    rates[layout].append(run(*layout, args.steps))
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
        for (jobs, threads), values in rates.items():
            rounds = ", ".join(f"{v:.3f}" for v in values)
            median = statistics.median(values)
            print(f"| {load} | {jobs} x {threads} | {rounds} | {median:.3f} |", flush=True)


if __name__ == "__main__":
    main()
