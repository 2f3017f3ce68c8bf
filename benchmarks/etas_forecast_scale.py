"""Simulation-based ETAS forecasts at the scale of a national catalog, on 1 and 2 Dask workers.

Simulates ETAS with the default (Californian) :class:`ETASParameters` over the
same 8° x 10° box as ``benchmarks/etas_fit_scale.py`` (about 1,200 events a
year with M >= 3, a 0.1° grid of 80 x 100 cells), then forecasts the last
``--windows`` days with ``--simulations`` continuations of the catalog per
day, as ``framecast quake run`` does (:func:`simulated_rate_forecast`:
chunks of 5,000 simulations, the first-order expectation plus the simulated
cascades), three times:

* here, in this process (the local run);
* on a local Dask cluster of 1 worker process, then of 2 (one thread each:
  ``LocalCluster(n_workers=k, threads_per_worker=1)``), the chunks as its
  tasks, as under ``quake run --cluster`` (:mod:`framecast.cluster`);
  once with the workers' environment as Dask sets it, whose
  ``MALLOC_TRIM_THRESHOLD_=65536`` makes glibc give freed memory back at
  once (and fixes its mmap threshold: every large NumPy temporary is then
  mapped and faulted in anew) and, with ``--malloc-trim dask unset``, once
  without it.

The three runs are repeated ``--rounds`` times, alternated, so that a busy
spell of a shared machine hits every layout; the fastest of each is
compared. Each run must give the local run's rates exactly. One JSON line
per run goes to ``--out`` (wall seconds, seconds per window, the peak
resident memory of each worker process), then one line projecting the
forecast of ``--project-windows`` windows (3,287: nine years of days) on N
workers from the fastest 1-worker run's seconds per window: a forecast is
``ceil(S / 5,000)`` chunk tasks, so N workers take ``ceil(chunks / N)``
rounds of one chunk each (a chunk's time and memory grow with its windows:
both are extrapolated linearly, the memory from an idle worker's).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/etas_forecast_scale.py --windows 100

``--single`` prints the earlier single-process table instead (every day of
``--years`` years with ``simulated_etas_forecast``, its N-test beside the
first-order forecast). Quote the seconds as measured in one run on the
machine at hand (``lscpu``), and say whether its cores were shared.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from framecast.quake import Grid
from framecast.quake.etas.converged_forecast import CHUNK_SIMULATIONS, simulated_rate_forecast
from framecast.quake.etas.forecast import etas_rate_forecast
from framecast.quake.etas.parameters import ETASParameters
from framecast.quake.etas.simulate import simulate_etas
from framecast.quake.etas.simulated_forecast import simulated_etas_forecast
from framecast.quake.scores import observed_from_catalog

OUT = Path(__file__).resolve().parent / "results" / "etas_forecast_scale.jsonl"


def _peak_mb() -> float:
    """This process's peak resident memory, MB (run on each worker by ``client.run``).

    ``VmHWM`` of ``/proc/self/status``: the peak of this process image. Not
    ``ru_maxrss``, which Linux carries over a fork and an exec, so that a
    worker spawned by its nanny would report this (larger) process's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm_up() -> float:
    """Import the simulator on a worker before the clock starts; its memory then, MB."""
    import framecast.quake.etas.converged_forecast  # noqa: F401

    return _peak_mb()


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _run_on_workers(
    workers: int, trim: str, forecast: Any, local_rates: np.ndarray, windows: int, **kw: Any
) -> dict[str, Any]:
    """The forecast as tasks of a fresh ``workers``-process local cluster; its JSON record.

    ``trim`` "dask": the workers' environment as Dask sets it
    (``MALLOC_TRIM_THRESHOLD_=65536``); "unset": without that variable.
    """
    import dask
    from distributed import LocalCluster

    from framecast.cluster import session

    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    with dask.config.set({key: None} if trim == "unset" else {}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit=0,  # measure, never pause or restart a worker
        )
    with cluster, session(cluster.scheduler_address) as engine:
        assert engine is not None
        idle = engine.client.run(_warm_up)
        load = os.getloadavg()[0]
        began = time.perf_counter()
        rates, _ = forecast(**kw)
        seconds = time.perf_counter() - began
        peaks = engine.client.run(_peak_mb)
    return {
        "run": f"{workers} worker(s), malloc trim {trim}",
        "workers": workers,
        "malloc_trim": trim,
        "seconds": round(seconds, 2),
        "seconds_per_window": round(seconds / windows, 4),
        "worker_idle_mb": [round(v, 1) for v in idle.values()],
        "worker_peak_mb": [round(v, 1) for v in peaks.values()],
        "load_before": round(load, 2),
        "equal_to_local": bool(np.array_equal(rates.rates, local_rates)),
    }


def scale(args: argparse.Namespace) -> None:
    truth = ETASParameters(mc=args.mc)
    grid = Grid(args.lat[0], args.lat[1], args.lon[0], args.lon[1], args.cell)
    start = np.datetime64("2000-01-01", "us")
    end = np.datetime64(f"{2000 + args.history_years}-01-01", "us")
    catalog = simulate_etas(truth, grid, start, end, seed=args.seed, include_burn_in=True)
    windows = end - np.arange(args.windows, 0, -1) * np.timedelta64(1, "D")  # the last days
    first_order = etas_rate_forecast(truth, catalog, grid, windows, 1.0)
    kw = {"num_simulations": args.simulations, "seed": args.seed}

    def forecast(**extra: Any) -> Any:
        return simulated_rate_forecast(truth, catalog, first_order, **extra)

    common = {
        "benchmark": "etas_forecast_scale",
        "date": datetime.date.today().isoformat(),
        "cpu": _cpu(),
        "cores": len(os.sched_getaffinity(0)),
        "catalog_events": len(catalog),
        "grid": list(grid.shape),
        "windows": args.windows,
        "simulations": args.simulations,
        "chunk_simulations": CHUNK_SIMULATIONS,
    }
    records: list[dict[str, Any]] = []
    local_rates = None
    for round_ in range(1, args.rounds + 1):  # alternated: a busy spell hits every layout
        load = os.getloadavg()[0]
        began = time.perf_counter()
        local, _ = forecast(**kw)
        seconds = time.perf_counter() - began
        local_rates = local.rates if local_rates is None else local_rates
        records.append(
            {
                "run": "here",
                "round": round_,
                "workers": 0,
                "seconds": round(seconds, 2),
                "seconds_per_window": round(seconds / args.windows, 4),
                "process_peak_mb": round(_peak_mb(), 1),
                "load_before": round(load, 2),
                "expected_events": round(float(local.rates.sum()), 1),
                "equal_to_local": bool(np.array_equal(local.rates, local_rates)),
            }
        )
        print(json.dumps(records[-1]), flush=True)
        for trim in args.malloc_trim:
            for workers in args.workers:
                record = _run_on_workers(workers, trim, forecast, local_rates, args.windows, **kw)
                records.append({"round": round_, **record})
                print(json.dumps(records[-1]), flush=True)
    best = {
        run: min(r["seconds"] for r in records if r["run"] == run)
        for run in dict.fromkeys(r["run"] for r in records)
    }
    trim = "dask" if "dask" in args.malloc_trim else "unset"  # Dask's own set-up first
    one = best[f"1 worker(s), malloc trim {trim}"]
    chunks = math.ceil(args.simulations / CHUNK_SIMULATIONS)
    per_chunk = one / chunks * args.project_windows / args.windows
    single = [r for r in records if r["workers"] == 1 and r["malloc_trim"] == trim]
    idle = min(min(r["worker_idle_mb"]) for r in single)
    peak = max(max(r["worker_peak_mb"]) for r in single)
    projection = {
        "run": "projection",
        "project_windows": args.project_windows,
        "from": f"the fastest 1-worker run's seconds per window (malloc trim {trim}), "
        "linearly in windows",
        "chunks": chunks,
        "hours_on_workers": {
            str(n): round(math.ceil(chunks / n) * per_chunk / 3600, 2) for n in args.project
        },
        "worker_peak_mb": round(idle + (peak - idle) * args.project_windows / args.windows),
        "best_seconds": best,
        "speedup_over_1_worker": {
            run: round(best[f"1 worker(s), malloc trim {run.rsplit(' ', 1)[-1]}"] / seconds, 2)
            for run, seconds in best.items()
            if "worker" in run
        },
        "here_over_1_worker": {
            t: round(best[f"1 worker(s), malloc trim {t}"] / best["here"], 2)
            for t in args.malloc_trim
        },
    }
    records.append(projection)
    print(json.dumps(projection), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as stream:
        for record in records:
            stream.write(json.dumps({**common, **record}) + "\n")
    print(f"-> {args.out}")


def single(args: argparse.Namespace) -> None:
    """The single-process table of every day of the last ``--years`` years (docs/earthquakes.md)."""
    truth = ETASParameters(mc=args.mc)
    grid = Grid(args.lat[0], args.lat[1], args.lon[0], args.lon[1], args.cell)
    start = np.datetime64("2000-01-01", "us")
    first = np.datetime64(f"{2000 + args.history_years - args.years}-01-01", "us")
    end = np.datetime64(f"{2000 + args.history_years}-01-01", "us")
    catalog = simulate_etas(truth, grid, start, end, seed=args.seed, include_burn_in=True)
    windows = np.arange(first, end, np.timedelta64(1, "D"))  # [W] daily starts
    began = time.perf_counter()
    forecast = simulated_etas_forecast(
        truth, catalog, grid, windows, 1.0, num_simulations=args.simulations, seed=args.seed
    )
    seconds = time.perf_counter() - began
    began = time.perf_counter()
    first_order = etas_rate_forecast(truth, catalog, grid, windows, 1.0)
    first_order_seconds = time.perf_counter() - began
    observed = observed_from_catalog(catalog, first_order)
    totals = forecast.counts().sum(axis=0)  # [S] period total of each simulation
    low, high = np.quantile(totals, [0.025, 0.975])
    print(f"machine: {_cpu()}, catalog {len(catalog)} events")
    print(
        "| windows | simulations | simulated events | seconds | peak RSS GB | observed "
        "| simulated 2.5-97.5 % | first order (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|---|")
    print(
        f"| {len(windows)} | {args.simulations} | {forecast.num_events:,} | {seconds:.1f} "
        f"| {_peak_mb() / 1024:.2f} | {len(observed)} | {low:.0f} - {high:.0f} "
        f"| {first_order.rates.sum():.0f} ({first_order_seconds:.1f} s) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lat", type=float, nargs=2, default=(30.0, 38.0), help="lat_min lat_max")
    parser.add_argument(
        "--lon", type=float, nargs=2, default=(-122.0, -112.0), help="lon_min lon_max"
    )
    parser.add_argument("--cell", type=float, default=0.1, help="grid cell, degrees")
    parser.add_argument("--history-years", type=int, default=16, help="years simulated")
    parser.add_argument("--windows", type=int, default=100, help="daily windows forecast")
    parser.add_argument("--rounds", type=int, default=2, help="here, 1, 2 workers; repeated")
    parser.add_argument("--simulations", type=int, default=50_000, help="per window")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="cluster sizes")
    parser.add_argument(
        "--malloc-trim",
        nargs="+",
        choices=("dask", "unset"),
        default=["dask"],
        help="the workers' MALLOC_TRIM_THRESHOLD_: as Dask sets it, and/or unset",
    )
    parser.add_argument("--project-windows", type=int, default=3287, help="windows projected")
    parser.add_argument(
        "--project", type=int, nargs="+", default=[1, 2, 4, 10, 32], help="workers projected"
    )
    parser.add_argument("--mc", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT, help="JSON lines appended here")
    parser.add_argument("--single", action="store_true", help="the single-process table")
    parser.add_argument("--years", type=int, default=9, help="--single: the last years' days")
    args = parser.parse_args()
    if args.single:
        if args.simulations == 50_000:  # the table's default
            args.simulations = 1000
        single(args)
    else:
        scale(args)


if __name__ == "__main__":
    main()
