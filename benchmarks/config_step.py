"""Seconds per training step of a config, on this machine, as `framecast train` would take it.

For each config file: build its training data and model as ``framecast
train`` does (:class:`framecast.training.module.ForecastModule`), then time
whole optimiser steps: the next batch from the training loader (generated
data included), the config's scheduled-sampling mask at step 0, the
model's training loss, backward and Adam (with ``train.reverse_input`` a batch
gives two such steps, one on it reversed). ``--warmup`` untimed steps (1),
then ``--steps`` timed ones (3); prints one JSON line per config with the median and
the CPU model, so a config's header can say what a step costs here.

    OMP_NUM_THREADS=1 python benchmarks/config_step.py configs/mmnist/predrnn_paper.yaml
    python benchmarks/config_step.py configs/radar/*.yaml --steps 3 data.batch_size=4

Overrides after the files apply to every config (``section.key=value``).
Timings on a shared machine are noisy: say what else ran.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import framecast  # noqa: F401  (sets OMP_WAIT_POLICY=PASSIVE before torch loads, as the CLI)


def cpu_model() -> str:
    """The CPU's model name as ``lscpu`` prints it (``/proc/cpuinfo``), or the platform's."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def time_config(
    path: Path, overrides: list[str], steps: int, threads: int, warmup: int = 1
) -> dict:
    """Median seconds of ``steps`` training steps of the config at ``path`` after ``warmup``.

    Raises
    ------
    ValueError
        ``steps`` below 1, ``warmup`` below 0, or a config the training would refuse.
    """
    import torch

    from framecast.config import load_config
    from framecast.training.loaders import make_dataset, make_loader
    from framecast.training.module import ForecastModule
    from framecast.training.run import resolve_config
    from framecast.training.sampling import sample_true_mask, true_frame_probabilities

    if steps < 1:
        raise ValueError(f"--steps must be a whole number >= 1, got {steps}")
    if warmup < 0:
        raise ValueError(f"--warmup must be a whole number >= 0, got {warmup}")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = load_config(path, overrides)
    dataset = make_dataset(config.data, "train")
    config = resolve_config(config, dataset.channels)  # type: ignore[attr-defined]
    module = ForecastModule(config.to_dict())
    module.train()
    optimizer = torch.optim.Adam(module.parameters(), lr=config.optim.lr)
    loader = iter(make_loader(config.data, dataset, train=True, seed=0))
    p_ctx, p_fut = true_frame_probabilities(config.sampling, 0)
    times: list[float] = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        context, target = next(loader)  # (B, Tc, C, H, W), (B, Tf, C, H, W)
        mask = sample_true_mask(
            context.shape[0],
            context.shape[1],
            target.shape[1],
            p_ctx,
            p_fut,
            torch.Generator().manual_seed(step),
        )
        loss = module._batch_loss(context, target, mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step >= warmup:  # the first steps warm the allocator and the kernels up
            times.append(time.perf_counter() - start)
    params = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return {
        "config": str(path),
        "model": config.model.name,
        "params": params,
        "batch_size": config.data.batch_size,
        "seconds_per_step": round(statistics.median(times), 3),
        "steps_timed": steps,
        "warmup_steps": warmup,
        "all_seconds": [round(t, 3) for t in times],
        "threads": threads,
        "cpu": cpu_model(),
        "torch": torch.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", help="config files, then section.key=value")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per config")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    files = [Path(c) for c in args.configs if "=" not in c]
    overrides = [c for c in args.configs if "=" in c]
    for path in files:
        row = time_config(path, overrides, args.steps, args.threads, args.warmup)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
