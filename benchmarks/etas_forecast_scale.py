"""Wall time of simulation-based ETAS forecasts at the scale of a national catalog.

Simulates ETAS with the default (Californian) :class:`ETASParameters` over the
same 8° x 10° box as ``benchmarks/etas_fit_scale.py`` (about 1,200 events a
year with M >= 3), then forecasts every day of the last ``--years`` years
with ``--simulations`` continuations of the catalog per day (the true
parameters, a 0.1° grid), and prints one Markdown row: windows, simulations,
simulated events, seconds, peak memory, and the N-test of the period total
(the observed count against the 2.5-97.5 % range of the simulated totals)
beside the first-order forecast's expected total.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/etas_forecast_scale.py --years 9

Quote the seconds as measured in one run on the machine at hand (``lscpu``).
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import numpy as np

from framecast.quake import Grid
from framecast.quake.etas.forecast import etas_rate_forecast
from framecast.quake.etas.parameters import ETASParameters
from framecast.quake.etas.simulate import simulate_etas
from framecast.quake.etas.simulated_forecast import simulated_etas_forecast
from framecast.quake.scores import observed_from_catalog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lat", type=float, nargs=2, default=(30.0, 38.0), help="lat_min lat_max")
    parser.add_argument(
        "--lon", type=float, nargs=2, default=(-122.0, -112.0), help="lon_min lon_max"
    )
    parser.add_argument("--cell", type=float, default=0.1, help="grid cell, degrees")
    parser.add_argument("--history-years", type=int, default=7, help="years before the forecasts")
    parser.add_argument("--years", type=int, default=9, help="daily forecasts over these years")
    parser.add_argument("--simulations", type=int, default=1000)
    parser.add_argument("--mc", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true", help="print the progress lines")
    args = parser.parse_args()

    truth = ETASParameters(mc=args.mc)
    grid = Grid(args.lat[0], args.lat[1], args.lon[0], args.lon[1], args.cell)
    start = np.datetime64("2000-01-01", "us")
    first = np.datetime64(f"{2000 + args.history_years}-01-01", "us")
    end = np.datetime64(f"{2000 + args.history_years + args.years}-01-01", "us")
    catalog = simulate_etas(truth, grid, start, end, seed=args.seed, include_burn_in=True)
    windows = np.arange(first, end, np.timedelta64(1, "D"))  # [W] daily starts
    began = time.perf_counter()
    forecast = simulated_etas_forecast(
        truth,
        catalog,
        grid,
        windows,
        1.0,
        num_simulations=args.simulations,
        seed=args.seed,
        progress=print if args.progress else None,
    )
    seconds = time.perf_counter() - began
    began = time.perf_counter()
    first_order = etas_rate_forecast(truth, catalog, grid, windows, 1.0)
    first_order_seconds = time.perf_counter() - began
    observed = observed_from_catalog(catalog, first_order)
    totals = forecast.counts().sum(axis=0)  # [S] period total of each simulation
    low, high = np.quantile(totals, [0.025, 0.975])
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"machine: {platform.processor() or platform.machine()}, catalog {len(catalog)} events")
    print(
        "| windows | simulations | simulated events | seconds | peak RSS GB | observed "
        "| simulated 2.5-97.5 % | first order (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|---|")
    print(
        f"| {len(windows)} | {args.simulations} | {forecast.num_events:,} | {seconds:.1f} "
        f"| {peak_gb:.2f} | {len(observed)} | {low:.0f} - {high:.0f} "
        f"| {first_order.rates.sum():.0f} ({first_order_seconds:.1f} s) |"
    )


if __name__ == "__main__":
    main()
