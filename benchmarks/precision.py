"""Test MSE after the same short run in fp32 and in bf16-mixed.

Trains one config twice with the same seed, data and steps, once per
precision, evaluates both on the same test sequences, and prints the test
MSE per frame of each and their relative difference, with the time each
run took.

    python benchmarks/precision.py --steps 60
"""

from __future__ import annotations

import argparse
import tempfile
import time

from framecast.config import config_from_dict
from framecast.evaluation import evaluate
from framecast.training import train
from framecast.training.loaders import make_dataset, make_loader


def run(precision: str, steps: int, out_dir: str) -> tuple[float, float]:
    config = config_from_dict(
        {
            "model": {
                "name": "predrnn",
                "options": {
                    "cell": "stlstm",
                    "hidden_channels": 16,
                    "num_layers": 2,
                    "kernel_size": 3,
                    "patch_size": 4,
                },
            },
            "data": {
                "name": "moving_squares",
                "batch_size": 8,
                "split_options": {
                    "train": {"num_sequences": 8 * steps},
                    "val": {"num_sequences": 8},
                    "test": {"num_sequences": 64},
                },
            },
            "optim": {"lr": 2e-3, "scheduler": "none"},
            "sampling": {"mode": "linear", "stop_step": steps // 2},
            "train": {
                "max_steps": steps,
                "precision": precision,
                "out_dir": out_dir,
                "run_name": precision,
                "progress_bar": False,
            },
        }
    )
    start = time.perf_counter()
    result = train(config)
    seconds = time.perf_counter() - start
    test = make_dataset(config.data, "test")
    ev = evaluate(
        {"m": result.module.model},
        make_loader(config.data, test, train=False),
        precision=precision,
    )
    return ev.results["m"]["mse_per_frame_sum"]["mean"], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mse32, s32 = run("32", args.steps, tmp)
        mse16, s16 = run("bf16-mixed", args.steps, tmp)
    print(f"fp32:       test MSE per frame {mse32:.3f}  ({s32:.0f} s training)")
    print(f"bf16-mixed: test MSE per frame {mse16:.3f}  ({s16:.0f} s training)")
    print(f"relative difference {abs(mse16 - mse32) / mse32:.2%}; bf16/fp32 time {s16 / s32:.2f}x")


if __name__ == "__main__":
    main()
