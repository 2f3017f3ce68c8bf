"""Speed and memory of PredRNN (ST-LSTM) and the stacked ConvLSTM.

For each model, config and variant (fp32 / bf16-mixed, eager / torch.compile)
a fresh subprocess measures: trainable parameters, the median training step
(forward over 20 frames with scheduled sampling, MSE, backward, Adam), the
median time to forecast 10 frames from 10, the first and last step times
(a step time that grows means denormal floats), and peak memory (resident
set size on CPU, allocated memory on CUDA).

    python benchmarks/speed.py                       # everything, Markdown table
    python benchmarks/speed.py --configs quick --variants fp32,bf16

The same run measures the machine: the cores' convolution peak (one large
5x5 convolution, GFLOP/s at the run's thread count) and, for each row, the
FLOPs of one training step (``torch.utils.flop_counter``), so the step time
is also reported as a fraction of the floor the peak implies
(floor = step FLOPs / peak). ``--load idle,busy`` repeats every row beside
one busy process the benchmark starts itself (a pure-Python spin loop).

    python benchmarks/speed.py --configs quick --models predrnn --variants fp32 --load idle,busy

Timings on a shared machine are noisy: compare rows from one run.
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

import framecast  # noqa: F401  (sets OMP_WAIT_POLICY=PASSIVE before torch loads, as the CLI)

CONFIGS: dict[str, dict[str, Any]] = {
    # PredRNN paper, Moving MNIST: 4 x 128, 5x5, patch 4, batch 8, 10 + 10 frames of 64x64
    "paper": {
        "hidden_channels": 128,
        "num_layers": 4,
        "kernel_size": 5,
        "patch_size": 4,
        "batch": 8,
    },
    # configs/mmnist/zoo/predrnn.yaml: 3 x 64, 3x3, patch 4, batch 16
    "zoo": {
        "hidden_channels": 64,
        "num_layers": 3,
        "kernel_size": 3,
        "patch_size": 4,
        "batch": 16,
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
VARIANTS = ("fp32", "bf16", "fp32-compile", "bf16-compile", "fp32-cl", "bf16-cl")


def conv_peak_gflops(threads: int, repeats: int = 5) -> float:
    """GFLOP/s of one large 5x5 convolution (forward, fp32) at ``threads`` threads: the
    machine's practical peak for the convolutions these models are made of."""
    import torch

    torch.set_num_threads(threads)
    x = torch.rand(8, 64, 96, 96)
    conv = torch.nn.Conv2d(64, 64, 5, padding=2, bias=False)
    flops = 2 * 8 * 64 * 96 * 96 * 64 * 25  # multiply-adds x 2
    with torch.no_grad():
        conv(x)  # warm-up (oneDNN picks its kernel)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            conv(x)
            times.append(time.perf_counter() - start)
    return flops / min(times) / 1e9


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
    if variant.endswith("-cl"):  # channels-last convolution weights (NHWC kernels)
        model = model.to(memory_format=torch.channels_last)
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
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:  # one more step, counted, not timed
        train_step()
    step_flops = counter.get_total_flops()
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
        "step_gflop": step_flops / 1e9,
        "steps": steps,
        "threads": threads,
        "device": device,
    }


def _table(rows: list[dict], peak: float | None) -> str:
    head = (
        "| model | config | variant | load | params | train step (s) | step GFLOP | floor (s) "
        "| % of floor | first/last step (s) | 10-frame inference (s) | peak memory (MB) |\n"
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        load = r.get("load", "idle")
        if "error" in r:
            lines.append(
                f"| {r['model']} | {r['config']} | {r['variant']} | {load} | | {r['error']} "
                "| | | | | | |"
            )
            continue
        floor = r["step_gflop"] / peak if peak else float("nan")
        lines.append(
            f"| {r['model']} | {r['config']} | {r['variant']} | {load} | {r['params']:,} "
            f"| {r['train_step_s']:.3f} | {r['step_gflop']:.1f} | {floor:.3f} "
            f"| {100 * floor / r['train_step_s']:.0f} % "
            f"| {r['first_step_s']:.2f}/{r['last_step_s']:.2f} "
            f"| {r['infer_10_frames_s']:.3f} | {r['peak_memory_mb']:.0f} |"
        )
    return "\n".join(lines)


def _run_row(args: argparse.Namespace, config: str, model: str, variant: str) -> dict:
    """One row, measured in a fresh subprocess (its own allocator and thread pool)."""
    cmd = [sys.executable, __file__, "--single", config, model, variant, "--steps",
           str(args.steps), "--threads", str(args.threads), "--device", args.device]  # fmt: skip
    failed = {"config": config, "model": model, "variant": variant}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {**failed, "error": f"over {args.timeout:.0f} s"}
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {**failed, "error": (lines[-1] if lines else "failed")[:80]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


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
        "--load", default="idle", help="idle, busy or idle,busy (beside one busy process)"
    )
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
    peak = conv_peak_gflops(args.threads) if args.device == "cpu" else None
    if peak is not None:
        print(f"# convolution peak: {peak:.1f} GFLOP/s (5x5, 64 -> 64 channels, 8 x 96 x 96)")
    rows = []
    for load in args.load.split(","):
        if load not in ("idle", "busy"):
            raise SystemExit(f"--load takes idle and/or busy, got {load!r}")
        spinner = (
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "busy" else None
        )
        try:
            for config in args.configs.split(","):
                for model in args.models.split(","):
                    for variant in args.variants.split(","):
                        row = _run_row(args, config, model, variant)
                        row["load"] = load
                        rows.append(row)
                        print(json.dumps(row), flush=True)
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
    print()
    print(_table(rows, peak))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
