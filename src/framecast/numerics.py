"""Process-wide numeric settings for CPU training and inference: denormals, threads.

Threads that fit the machine: torch's intra-op threads default to every
core, and OpenMP threads spin while they wait for each other. On a machine
where another process wants a core, two spinning threads stall each other.
The quick PredRNN training step (2 x 32 channels, batch 16; 2-core AMD
EPYC, 2 threads, ``benchmarks/speed.py --single quick predrnn fp32``):

* idle: 1.74 / 1.80 s with ``OMP_WAIT_POLICY=ACTIVE``, 1.91 / 2.25 s with
  ``PASSIVE`` (two alternating runs each): passive waiting costs 10-25 %;
* beside one busy process: 5.6-7.1 s by default, 3.1-3.6 s with
  ``PASSIVE``; a short spin (``GOMP_SPINCOUNT=1000``) gave 2.1 s idle and
  3.8 s busy, 20,000 gave 9.0 s busy.

Passive waiting costs a little when the machine is idle and saves half the
time when it is not, so ``import framecast`` sets ``OMP_WAIT_POLICY=PASSIVE``
unless the user set it (it must be set before torch loads; see
``framecast/__init__.py``), and :func:`choose_threads` takes as many threads
as there are idle cores among those this process may run on, measured when
training starts (one thread beside a busy process: 3.1-3.4 s).
"""

from __future__ import annotations

import os
import time

import torch

THREADS_ENV = "FRAMECAST_THREADS"
"""Environment variable that fixes the thread count (overridden by ``train.num_threads``)."""


def allowed_cores() -> list[int]:
    """The CPU ids this process may run on (its affinity mask)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _cpu_times(cores: list[int]) -> tuple[float, float] | None:
    """(idle, total) jiffies summed over ``cores`` from /proc/stat; None where unreadable."""
    try:
        with open("/proc/stat") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    wanted = {f"cpu{core}" for core in cores}
    idle = total = 0.0
    for line in lines:
        fields = line.split()
        if fields and fields[0] in wanted:
            values = [float(v) for v in fields[1:]]
            idle += values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
            total += sum(values[:8])  # user..steal; guest time is inside user already
    return (idle, total) if total > 0 else None


def idle_cores(sample_seconds: float = 0.2) -> float | None:
    """How many of the allowed cores were idle over ``sample_seconds`` (from /proc/stat).

    None where /proc/stat cannot be read (then every allowed core counts as free).
    """
    cores = allowed_cores()
    first = _cpu_times(cores)
    if first is None:
        return None
    time.sleep(sample_seconds)
    second = _cpu_times(cores)
    if second is None or second[1] <= first[1]:
        return None
    return len(cores) * (second[0] - first[0]) / (second[1] - first[1])


def choose_threads(requested: int | None = None) -> int:
    """Intra-op threads for this process: ``requested`` (``train.num_threads``), else
    ``$FRAMECAST_THREADS``, else ``$OMP_NUM_THREADS``, else the idle cores among those this
    process may use (at least 1).

    Raises
    ------
    ValueError
        A requested or environment value that is not a whole number >= 1.
    """
    for variable in (THREADS_ENV, "OMP_NUM_THREADS"):
        raw = os.environ.get(variable, "").strip()
        if requested is not None or not raw:
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{variable} must be a whole number >= 1, got {raw!r}")
        requested = int(raw)
    if requested is not None:
        if isinstance(requested, bool) or int(requested) != requested or requested < 1:
            raise ValueError(f"num_threads must be a whole number >= 1, got {requested!r}")
        return int(requested)
    cores = len(allowed_cores())
    idle = idle_cores()
    if idle is None:
        return cores
    # a core more than half idle counts as free: 2 idle cores read as ~1.9 over 0.2 s
    return max(1, min(cores, round(idle)))


def check_jobs(jobs: object) -> int:
    """``jobs`` (``--jobs``) as a whole number >= 1, or ValueError naming it."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs must be a whole number >= 1, got {jobs!r}")
    return jobs


def default_jobs(pending: int) -> int:
    """Training jobs to run at once (``compare`` pairs, ``tune`` trials): one per free core.

    ``$FRAMECAST_THREADS``, else ``$OMP_NUM_THREADS``, caps the total (the
    same order as :func:`choose_threads`); each job then gets one torch
    thread. Measured on a 2-core EPYC (``benchmarks/parallel_jobs.py``,
    medians of 2 alternating rounds): two one-thread training processes of
    the quick PredRNN made 0.613 steps/s together against 0.473 for one
    process with two threads idle (1.30x), and 0.377 against 0.296 beside a
    busy process (1.27x): a one-thread job has no thread to wait for.
    """
    for variable in (THREADS_ENV, "OMP_NUM_THREADS"):
        raw = os.environ.get(variable, "").strip()
        if raw.isdigit() and int(raw) >= 1:
            return max(1, min(int(raw), pending))
    idle = idle_cores()
    cores = len(allowed_cores()) if idle is None else max(1, round(idle))
    return max(1, min(cores, pending))


def configure_torch(num_threads: int | None = None, *, choose: bool = False) -> int:
    """Flush denormal floats to zero and set the thread count; returns the threads in use.

    Recurrent nets on CPU slow down step after step when saturated gates
    leave denormal floats in the states (a PredRNN step went from 20 s to
    190 s within 9 steps); flushing them keeps the step time flat.

    Parameters
    ----------
    num_threads : int, optional
        Threads to use. None leaves torch's count alone, unless ``choose``.
    choose : bool
        With ``num_threads`` None, pick the count with :func:`choose_threads`
        (``$FRAMECAST_THREADS`` or the idle cores).
    """
    torch.set_flush_denormal(True)
    if num_threads is not None or choose:
        torch.set_num_threads(choose_threads(num_threads))
    return torch.get_num_threads()


def cpu_has_native_bf16() -> bool:
    """Whether this CPU runs bf16 matrix work natively (AMX or AVX512-BF16).

    Without it, bf16 autocast on CPU is emulated and several times slower
    than fp32 (measured 8x slower on an AVX2-only EPYC, benchmarks/speed.py).
    """
    # torch.cpu's helpers, not torch._C._cpu's: torch 2.13 moved them into
    # torch.cpu.get_capabilities(), and the private module no longer has them
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


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
