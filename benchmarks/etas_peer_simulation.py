"""framecast's simulated ETAS continuation beside the reference ``etas`` package's.

Simulates the continuation of an observed catalog over a forecast window
many times with framecast
(:func:`framecast.quake.etas.simulated_forecast.simulated_etas_forecast`)
and with Mizrahi et al.'s ``etas`` package
(``etas.simulation.simulate_catalog_continuation``, version 3.0.0 at
097f08b, ETH Zurich, MIT), from the same parameters, history, region and
magnitude range, and prints Markdown tables of the distributions of the
number of simulated events per catalog (mean, sd, quantiles, share of empty
catalogs; two-sample Kolmogorov-Smirnov and chi-square tests, and the
difference of the means in standard errors) and of the wall time of each
code with their ratio, measured in the same run on the machine ``lscpu``
names.

What both simulate: uniform background events, Poisson(μ · area · Δ), in
the polygon; the aftershocks in the window of every history event (the
catalog's events with M >= mc in the polygon before the window, as the
observed history); and the cascades of all those inside the window.
Magnitudes are continuous Gutenberg-Richter above mc truncated at
``--max-magnitude`` in both (the peer with ``delta_m = 0``, so that it uses
m - mc and M >= mc as framecast's default). The parameters are the peer's own
fit on San Jacinto with framecast's magnitude conventions (mc 2, delta_m 0;
``benchmarks/results/etas_peer.txt``); framecast's fit there ends at the
bound log10 τ = 5 with η = 1.5, supercritical, which neither code should
simulate. The b-value is the Aki-Utsu estimate of the targets 2009-2015.

One convention differs: framecast drops a child that lands outside the
region together with its would-be descendants (its fit ignores events outside
the region), the peer's ``simulate_catalog_continuation`` keeps such children
as parents and removes them only from its output. The peer is therefore run
twice per window: as published, and with that one step aligned (its
``generate_aftershocks`` given the polygon, so that it drops those children
before they get magnitudes and aftershocks, as framecast does). Smaller
differences, stated in the output: the peer's area (Albers equal-area) and
its degree-per-km conversion (haversine, R 6378.1 km) against framecast's
local projection (R 6371 km); the peer's window includes its end instant.

The peer is never a framecast dependency: it runs as a subprocess in its own
virtual environment (``--peer-python``, default ``.venv-etas/bin/python``),
which for the simulation also needs ``seismostats`` (imported by
``etas.simulation``)::

    .venv-etas/bin/pip install seismostats   # 1.0.1 works with etas 3.0.0

then, with one thread per code::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/etas_peer_simulation.py

The script exits 0 with a message when the peer's environment (or its
``seismostats``) or the catalog is missing.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import framecast  # noqa: F401  (sets OMP_WAIT_POLICY=PASSIVE before torch loads, as the CLI)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from etas_peer import PEER_NAMES, ROOT, SHARED, cpu_model, run_peer

PEER_FIT: dict[str, float] = {
    "log10_mu": -4.944,
    "log10_k0": -3.261,
    "a": 1.340,
    "log10_c": -4.399,
    "omega": -0.191,
    "log10_tau": 3.023,
    "log10_d": -1.969,
    "gamma": 0.933,
    "rho": 0.392,
}
"""The peer's fit on San Jacinto, mc 2, delta_m 0, 2009-2015 (benchmarks/results/etas_peer.txt)."""

_PEER_DRIVER = r'''
"""Runs etas.simulation.simulate_catalog_continuation for benchmarks/etas_peer_simulation.py."""
import json
import logging
import sys
import time

import numpy as np
import pandas as pd
from shapely.geometry import Polygon

import etas.simulation as sim

job = json.loads(sys.argv[1])
logging.basicConfig(level=logging.WARNING)
np.random.seed(job["seed"])
polygon = Polygon(np.load(job["polygon"]))
history = pd.read_csv(job["history"], parse_dates=["time"])
history["xi_plus_1"] = 1.0
start = pd.Timestamp(job["start"])
auxiliary_start = pd.Timestamp(job["auxiliary_start"])
parameters = dict(job["parameters"])
parameters["log10_iota"] = None
published = sim.generate_aftershocks


def aligned(*args, **kwargs):
    """generate_aftershocks with the polygon: children outside are dropped before they
    get magnitudes and aftershocks (framecast's convention)."""
    kwargs["polygon"] = polygon
    out = published(*args, **kwargs)
    return pd.DataFrame(out.drop(columns="geometry", errors="ignore"))


results = []
for run in job["runs"]:
    sim.generate_aftershocks = aligned if run["aligned"] else published
    end = start + pd.Timedelta(days=run["days"])
    counts, magnitude_sum, large = [], 0.0, 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(run["simulations"]):
        out = sim.simulate_catalog_continuation(
            history,
            auxiliary_start=auxiliary_start,
            auxiliary_end=start,
            polygon=polygon,
            simulation_end=end,
            parameters=parameters,
            mc=job["mc"],
            beta_main=job["beta"],
            delta_m=0,
            m_max=job["max_magnitude"],
            filter_polygon=True,
        )
        new = out[(out["time"] > start) & (out["time"] <= end)]
        counts.append(int(len(new)))
        magnitude_sum += float(new["magnitude"].sum())
        large += int((new["magnitude"] >= job["large"]).sum())
    results.append(
        {
            **run,
            "counts": counts,
            "magnitude_sum": magnitude_sum,
            "large": large,
            "wall": time.perf_counter() - wall0,
            "cpu": time.process_time() - cpu0,
        }
    )
sim.generate_aftershocks = published
print("PEER-RESULT " + json.dumps({"runs": results, "n_history": int(len(history))}))
'''


def count_summary(counts: np.ndarray) -> dict[str, float]:
    """Mean, sd, quantiles 5/25/50/75/95 % and share of empty catalogs of per-catalog counts."""
    q = np.quantile(counts, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {
        "mean": float(counts.mean()),
        "sd": float(counts.std(ddof=1)),
        "q05": float(q[0]),
        "q25": float(q[1]),
        "q50": float(q[2]),
        "q75": float(q[3]),
        "q95": float(q[4]),
        "empty": float((counts == 0).mean()),
        "max": float(counts.max()),
    }


def binned_table(a: np.ndarray, b: np.ndarray, min_expected: float = 5.0) -> np.ndarray:
    """int64 ``[2, K]``: counts of ``a`` and ``b`` in bins of consecutive count values.

    Bins are grown from the smallest value up until the expected number of
    each sample in the bin (its share of the pooled sample) is at least
    ``min_expected``; a last bin short of it joins the one before.
    """
    pooled = np.concatenate([a, b])
    threshold = min_expected * len(pooled) / min(len(a), len(b))
    values, frequency = np.unique(pooled, return_counts=True)
    edges: list[int] = []  # upper (inclusive) value of each bin
    running = 0
    for value, count in zip(values, frequency, strict=True):
        running += int(count)
        if running >= threshold:
            edges.append(int(value))
            running = 0
    if edges:  # the last bin is open above (and takes a remainder short of the threshold)
        edges.pop()
    index_a = np.searchsorted(np.array(edges), a, side="left")
    index_b = np.searchsorted(np.array(edges), b, side="left")
    k = len(edges) + 1
    return np.stack([np.bincount(index_a, minlength=k), np.bincount(index_b, minlength=k)])


def compare(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """KS and chi-square p-values and the difference of the means in standard errors."""
    from scipy.stats import chi2_contingency, ks_2samp

    table = binned_table(a, b)
    if table.shape[1] >= 2:
        chi = chi2_contingency(table)
        chi_p, chi_df = float(chi.pvalue), int(chi.dof)
    else:
        chi_p, chi_df = math.nan, 0
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return {
        "ks_p": float(ks_2samp(a, b).pvalue),
        "chi_p": chi_p,
        "chi_df": chi_df,
        "z_mean": (b.mean() - a.mean()) / se if se > 0 else math.nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--catalog", type=Path, default=SHARED / "data" / "catalogs" / "qtm_sanjacinto_m1.csv"
    )
    parser.add_argument(
        "--polygon",
        type=Path,
        default=SHARED / "peers" / "earthquakenpp" / "SanJac_shape.npy",
        help="(lat, lon) vertices, .npy",
    )
    parser.add_argument("--mc", type=float, default=2.0)
    parser.add_argument("--max-magnitude", type=float, default=8.0)
    parser.add_argument("--history-start", default="2008-01-01")
    parser.add_argument("--start", default="2016-01-01", help="the window's start")
    parser.add_argument("--days", type=float, nargs="+", default=[1.0, 30.0])
    parser.add_argument("--b-from", default="2009-01-01", help="b-value from targets since")
    parser.add_argument("--framecast-simulations", type=int, default=10_000)
    parser.add_argument("--peer-simulations", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--peer-python", type=Path, default=ROOT / ".venv-etas" / "bin" / "python")
    parser.add_argument("--threads", type=int, default=1, help="threads of each code")
    args = parser.parse_args()

    missing = [
        str(path)
        for path in (args.peer_python, args.catalog, args.polygon)
        if not Path(path).is_file()
    ]
    if missing:
        print(
            "etas_peer_simulation: skipped, not found: "
            + ", ".join(missing)
            + ". Set up the peer's environment as the module docstring says "
            "(../shared/peers/README.md, plus seismostats) and give --catalog and --polygon."
        )
        return
    probe = subprocess.run(
        [str(args.peer_python), "-c", "import etas.simulation"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no message"])[-1]
        print(
            f"etas_peer_simulation: skipped, the peer's environment cannot import "
            f"etas.simulation ({last}); install the etas package and seismostats there "
            "as the module docstring says."
        )
        return

    from framecast.numerics import configure_torch
    from framecast.quake.catalog.magnitudes import aki_b_value
    from framecast.quake.catalog.readers import read_csv_catalog
    from framecast.quake.etas.parameters import ETASParameters
    from framecast.quake.etas.region import as_region
    from framecast.quake.etas.simulated_forecast import simulated_etas_forecast
    from framecast.quake.grid import Grid

    threads = configure_torch(args.threads)
    catalog = read_csv_catalog(args.catalog)
    polygon = np.load(args.polygon, allow_pickle=False)
    region = as_region(polygon)
    start = np.datetime64(args.start, "us")
    history_start = np.datetime64(args.history_start, "us")
    inside = region.contains(catalog.latitude, catalog.longitude)
    with np.errstate(invalid="ignore"):
        above = catalog.magnitude >= args.mc
    history = catalog.select(
        inside & above & (catalog.time >= history_start) & (catalog.time < start)
    ).sorted()
    targets = history.magnitude[history.time >= np.datetime64(args.b_from, "us")]
    b_value = aki_b_value(targets, args.mc)
    params = ETASParameters(**PEER_FIT, mc=args.mc, b_value=b_value)
    # a grid one cell beyond the polygon's box, so that every simulated event is counted
    cell = 0.1
    low = np.floor(polygon.min(axis=0) / cell) * cell - cell
    high = np.ceil(polygon.max(axis=0) / cell) * cell + cell
    grid = Grid(
        round(float(low[0]), 6),
        round(float(high[0]), 6),
        round(float(low[1]), 6),
        round(float(high[1]), 6),
        cell,
    )

    thread_env = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    command = " ".join(
        [f"{name}={os.environ[name]}" for name in thread_env if name in os.environ]
        + [".venv/bin/python", "benchmarks/etas_peer_simulation.py"]
        + [shlex.quote(a) for a in sys.argv[1:]]
    )
    print(f"# {command}")
    print(
        f"# {cpu_model()}, {os.cpu_count()} cores; {threads} thread(s) per code "
        f"(framecast numpy {np.__version__}; the peer with OMP/OPENBLAS/MKL_NUM_THREADS="
        f"{args.threads})"
    )
    print(
        f"# catalog {args.catalog.name}: history {len(history)} events with M >= {args.mc:g} in "
        f"polygon {args.polygon.name} from {args.history_start} to {args.start}; windows of "
        + ", ".join(f"{d:g}" for d in args.days)
        + f" days from {args.start}; max magnitude {args.max_magnitude:g}, delta_m 0"
    )
    print(
        "# parameters: the peer's fit (mc 2, delta_m 0, 2009-2015): "
        + ", ".join(f"{k} {v:g}" for k, v in PEER_FIT.items())
        + f"; b {b_value:.4f} (Aki-Utsu, targets from {args.b_from}); "
        f"η {params.branching_ratio(args.max_magnitude):.3f} (GR truncated at "
        f"{args.max_magnitude:g}), μ·area {params.mu * region.area_km2:.4f} per day\n"
    )

    # framecast: one call per window length, all simulations at once
    ours: dict[float, dict[str, Any]] = {}
    for days in args.days:
        wall, cpu = time.perf_counter(), time.process_time()
        forecast = simulated_etas_forecast(
            params,
            history,
            grid,
            np.array([start]),
            days,
            num_simulations=args.framecast_simulations,
            seed=args.seed,
            region=region,
            max_magnitude=args.max_magnitude,
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        counts = np.bincount(forecast.simulation, minlength=args.framecast_simulations)
        ours[days] = {
            "counts": counts,
            "magnitude_sum": float(forecast.magnitude.sum()),
            "large": int((forecast.magnitude >= args.mc + 1.0).sum()),
            "wall": wall,
            "cpu": cpu,
        }

    # the peer, published and aligned, in its own environment
    runs = [
        {"days": days, "aligned": aligned, "simulations": args.peer_simulations}
        for days in args.days
        for aligned in (False, True)
    ]
    with tempfile.TemporaryDirectory(prefix="etas_peer_sim_") as folder:
        driver = Path(folder) / "peer_simulation_driver.py"
        driver.write_text(_PEER_DRIVER)
        csv = Path(folder) / "history.csv"
        times = np.datetime_as_string(history.time, unit="ms")
        with csv.open("w") as handle:
            handle.write("latitude,longitude,time,magnitude\n")
            for lat, lon, when, magnitude in zip(
                history.latitude, history.longitude, times, history.magnitude, strict=True
            ):
                handle.write(f"{float(lat)!r},{float(lon)!r},{when},{float(magnitude)!r}\n")
        job = {
            "history": str(csv),
            "polygon": str(args.polygon.resolve()),
            "auxiliary_start": args.history_start,
            "start": args.start,
            "parameters": {name: PEER_FIT[name] for name in PEER_NAMES if name in PEER_FIT},
            "mc": args.mc,
            "beta": params.beta,
            "max_magnitude": args.max_magnitude,
            "large": args.mc + 1.0,
            "seed": args.seed,
            "runs": runs,
        }
        peer = run_peer(args.peer_python, driver, job, args.threads)
    if peer["n_history"] != len(history):
        raise SystemExit(f"the peer read {peer['n_history']} history events, not {len(history)}")
    theirs: dict[tuple[float, bool], dict[str, Any]] = {
        (run["days"], run["aligned"]): {**run, "counts": np.asarray(run["counts"], np.int64)}
        for run in peer["runs"]
    }

    columns = [("framecast", None), ("peer (published)", False), ("peer (aligned)", True)]
    for days in args.days:
        samples = [ours[days]] + [theirs[(days, aligned)] for _, aligned in columns[1:]]
        summaries = [count_summary(s["counts"]) for s in samples]
        print(f"## {days:g}-day window from {args.start}: events per simulated catalog\n")
        print("| quantity | " + " | ".join(label for label, _ in columns) + " |")
        print("|---|" + "---:|" * len(columns))
        print("| simulations | " + " | ".join(f"{len(s['counts']):,}" for s in samples) + " |")
        for key, title in (
            ("mean", "mean"),
            ("sd", "sd"),
            ("q05", "5 %"),
            ("q25", "25 %"),
            ("q50", "median"),
            ("q75", "75 %"),
            ("q95", "95 %"),
            ("max", "max"),
        ):
            digits = 3 if key in ("mean", "sd") else 0
            print(f"| {title} | " + " | ".join(f"{s[key]:.{digits}f}" for s in summaries) + " |")
        print(
            "| share of empty catalogs | "
            + " | ".join(f"{100 * s['empty']:.1f} %" for s in summaries)
            + " |"
        )
        print(
            "| mean magnitude of the simulated events | "
            + " | ".join(
                f"{s['magnitude_sum'] / max(int(s['counts'].sum()), 1):.3f}" for s in samples
            )
            + " |"
        )
        print(
            f"| share of events with M >= {args.mc + 1:g} | "
            + " | ".join(
                f"{100 * s['large'] / max(int(s['counts'].sum()), 1):.2f} %" for s in samples
            )
            + " |"
        )
        tests = [compare(samples[0]["counts"], s["counts"]) for s in samples[1:]]
        print(
            "| (peer - framecast) mean / SE | | "
            + " | ".join(f"{t['z_mean']:+.2f}" for t in tests)
            + " |"
        )
        print(
            "| KS two-sample p (conservative for counts) | | "
            + " | ".join(f"{t['ks_p']:.3f}" for t in tests)
            + " |"
        )
        print(
            "| chi-square p of binned counts (df) | | "
            + " | ".join(f"{t['chi_p']:.3f} ({t['chi_df']})" for t in tests)
            + " |"
        )
        per = [1000 * s["wall"] / len(s["counts"]) for s in samples]
        print(
            "| wall s (all simulations) | " + " | ".join(f"{s['wall']:.3f}" for s in samples) + " |"
        )
        print(
            "| CPU s (all simulations) | " + " | ".join(f"{s['cpu']:.3f}" for s in samples) + " |"
        )
        print("| wall ms per simulation | " + " | ".join(f"{p:.3g}" for p in per) + " |")
        print(
            "| speed ratio per simulation, peer / framecast | | "
            + " | ".join(f"{p / per[0]:,.0f}x" for p in per[1:])
            + " |\n"
        )

    print("Conventions (peer: etas 3.0.0, etas/simulation.py):\n")
    print(
        "- children outside the polygon: framecast drops them with their would-be "
        "descendants; the published peer keeps them as parents (simulate_catalog_continuation "
        "does not pass the polygon to generate_aftershocks) and filters only its output; "
        "'aligned' passes the polygon, which drops them as framecast does."
    )
    print(
        "- history: the same events in both (M >= mc in the polygon, "
        f"{args.history_start} to {args.start}); the peer draws each event's aftershocks over "
        "all time and keeps those inside the window, framecast draws only those inside the "
        "window (the same thinned Poisson process)."
    )
    print(
        "- magnitudes: continuous GR above mc, truncated at the maximum, excess m - mc in both "
        "(the peer with delta_m 0; with delta_m > 0 it would simulate above mc - delta_m/2)."
    )
    print(
        "- area and distances: the peer's background count uses its Albers area and its "
        "offsets haversine degree lengths (R 6378.1 km), framecast its local projection "
        "(R 6371 km); the background is uniform in both (the peer's in latitude-longitude, "
        "framecast's in its projection), with no declustered map."
    )
    print("- window: framecast [start, end), the peer (start, end]; no event sits on the ends.")


if __name__ == "__main__":
    sys.exit(main())
