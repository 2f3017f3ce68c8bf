"""Speed and memory of PredRNN (ST-LSTM) and the stacked ConvLSTM.

For each model, config and variant (fp32 / bf16-mixed, eager / torch.compile)
a fresh subprocess measures: trainable parameters, the median training step
(forward over 20 frames with scheduled sampling, MSE, backward, Adam), the
median time to forecast 10 frames from 10, the first and last step times
(a step time that grows means denormal floats), and peak memory (resident
set size on CPU, allocated memory on CUDA).

    python benchmarks/speed.py                       # everything, Markdown table
    python benchmarks/speed.py --configs quick --variants fp32,bf16

Timings on a shared machine are noisy: compare variants from one run.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

CONFIGS: dict[str, dict[str, Any]] = {
    # PredRNN paper, Moving MNIST: 4 x 128, 5x5, patch 4, batch 8, 10 + 10 frames of 64x64
    "paper": {
        "hidden_channels": 128,
        "num_layers": 4,
        "kernel_size": 5,
        "patch_size": 4,
        "batch": 8,
    },
    # configs/quick and the demo
    "quick": {
        "hidden_channels": 32,
        "num_layers": 2,
        "kernel_size": 3,
        "patch_size": 4,
        "batch": 16,
    },
}
MODELS = {"predrnn": "stlstm", "convlstm": "convlstm"}
VARIANTS = ("fp32", "bf16", "fp32-compile", "bf16-compile")


def measure(
    config: str, model_name: str, variant: str, steps: int, threads: int, device: str
) -> dict:
    import torch

    from framecast.evaluation import autocast_context
    from framecast.models import build_model
    from framecast.numerics import configure_torch

    configure_torch(threads)
    cfg = dict(CONFIGS[config])
    batch = cfg.pop("batch")
    dev = torch.device(device)
    torch.manual_seed(0)
    model = build_model("predrnn", 1, {**cfg, "cell": MODELS[model_name]}).to(dev)
    if variant.endswith("compile"):
        model.step = torch.compile(model.step)  # the per-step graph; the time loop stays eager
    precision = "bf16-mixed" if variant.startswith("bf16") else "32"
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    frames = torch.rand(batch, 20, 1, 64, 64, generator=gen).to(dev)
    context, target = frames[:, :10], frames[:, 10:]
    mask = (torch.rand(batch, 18, generator=gen) < 0.5).float().to(dev)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def train_step() -> float:
        start = time.perf_counter()
        with autocast_context(precision, dev):
            pred = model.rollout(context, 10, target=target, true_mask=mask)
            loss = torch.nn.functional.mse_loss(pred.float(), frames[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sync()
        return time.perf_counter() - start

    @torch.no_grad()
    def infer() -> float:
        start = time.perf_counter()
        with autocast_context(precision, dev):
            model(context, 10)
        sync()
        return time.perf_counter() - start

    compile_s = train_step()  # warm-up (and compilation)
    train_times = [train_step() for _ in range(steps)]
    infer()
    infer_times = [infer() for _ in range(max(steps, 3))]
    if dev.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "config": config,
        "model": model_name,
        "variant": variant,
        "params": sum(p.numel() for p in model.parameters()),
        "train_step_s": statistics.median(train_times),
        "first_step_s": train_times[0],
        "last_step_s": train_times[-1],
        "warmup_s": compile_s,
        "infer_10_frames_s": statistics.median(infer_times),
        "peak_memory_mb": peak_mb,
        "steps": steps,
        "threads": threads,
        "device": device,
    }


def _table(rows: list[dict]) -> str:
    head = (
        "| model | config | variant | params | train step (s) | first/last step (s) "
        "| 10-frame inference (s) | peak memory (MB) |\n|---|---|---|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['model']} | {r['config']} | {r['variant']} | | {r['error']} | | | |"
            )
            continue
        lines.append(
            f"| {r['model']} | {r['config']} | {r['variant']} | {r['params']:,} "
            f"| {r['train_step_s']:.3f} | {r['first_step_s']:.2f}/{r['last_step_s']:.2f} "
            f"| {r['infer_10_frames_s']:.3f} | {r['peak_memory_mb']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="quick,paper")
    parser.add_argument("--models", default="predrnn,convlstm")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=3, help="timed training steps per variant")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per variant")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument(
        "--single", nargs=3, metavar=("CONFIG", "MODEL", "VARIANT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()

    if args.single:
        row = measure(*args.single, steps=args.steps, threads=args.threads, device=args.device)
        print(json.dumps(row))
        return

    import torch

    print(
        f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}, {args.threads} threads, "
        f"device {args.device}",
        flush=True,
    )
    rows = []
    for config in args.configs.split(","):
        for model in args.models.split(","):
            for variant in args.variants.split(","):
                cmd = [
                    sys.executable,
                    __file__,
                    "--single",
                    config,
                    model,
                    variant,
                    "--steps",
                    str(args.steps),
                    "--threads",
                    str(args.threads),
                    "--device",
                    args.device,
                ]
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
                    if proc.returncode != 0:
                        err = (
                            proc.stderr.strip().splitlines()[-1]
                            if proc.stderr.strip()
                            else "failed"
                        )
                        row = {
                            "config": config,
                            "model": model,
                            "variant": variant,
                            "error": err[:80],
                        }
                    else:
                        row = json.loads(proc.stdout.strip().splitlines()[-1])
                except subprocess.TimeoutExpired:
                    row = {
                        "config": config,
                        "model": model,
                        "variant": variant,
                        "error": f"over {args.timeout:.0f} s",
                    }
                rows.append(row)
                print(json.dumps(row), flush=True)
    print()
    print(_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
