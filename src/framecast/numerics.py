"""Process-wide numeric settings for CPU training and inference."""

from __future__ import annotations

import torch


def configure_torch(num_threads: int | None = None) -> None:
    """Flush denormal floats to zero and optionally set the thread count.

    Recurrent nets on CPU slow down step after step when saturated gates
    leave denormal floats in the states (a PredRNN step went from 20 s to
    190 s within 9 steps); flushing them keeps the step time flat.
    """
    torch.set_flush_denormal(True)
    if num_threads is not None:
        if num_threads < 1:
            raise ValueError(f"num_threads must be >= 1, got {num_threads}")
        torch.set_num_threads(num_threads)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU runs bf16 matrix work natively (AMX or AVX512-BF16).

    Without it, bf16 autocast on CPU is emulated and several times slower
    than fp32 (measured 8x slower on an AVX2-only EPYC, benchmarks/speed.py).
    """
    cpu = getattr(torch._C, "_cpu", None)
    if cpu is None:
        return False
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


PRECISIONS = ("32", "bf16-mixed", "16-mixed", "64", "auto")


def resolve_precision(precision: str, accelerator: str) -> str:
    """Turn ``auto`` into the fastest safe precision for the accelerator.

    ``auto`` picks ``bf16-mixed`` on a CUDA device that supports bf16 and on
    a CPU with native bf16 units, and ``32`` otherwise.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; expected one of {PRECISIONS}")
    if precision != "auto":
        return precision
    on_cuda = accelerator in ("gpu", "cuda") or (
        accelerator == "auto" and torch.cuda.is_available()
    )
    if on_cuda:
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "32"
    return "bf16-mixed" if cpu_has_native_bf16() else "32"
