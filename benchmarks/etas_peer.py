"""framecast's ETAS fit beside the reference ``etas`` package, on the same catalog.

Fits ETAS to one catalog with :func:`framecast.quake.etas.fit.fit_etas` and
with the inversion of Mizrahi et al.'s ``etas`` package (ETH Zurich, MIT;
``etas.inversion.ETASParameterCalculation``, version 3.0.0 at 097f08b, as
used by EarthquakeNPP), and prints Markdown tables: every parameter of each
fit with framecast's standard errors and the difference in those errors,
the log-likelihood of each fit's parameters under both codes, targets,
sources, pairs, branching ratios (each code's own and framecast's
definition at both fits), and the wall and CPU time of each fit with their
ratio, measured in the same run on the machine ``lscpu`` names.

The peer is never a framecast dependency: it runs as a subprocess in its own
virtual environment (``--peer-python``, default ``.venv-etas/bin/python``)
from a driver written to a temporary folder. Set it up once from
``../shared/peers`` (see its README)::

    "$(pyenv root)/versions/3.12.1/bin/python" -m venv .venv-etas
    .venv-etas/bin/pip install geopandas numpy pandas pynverse scipy shapely tabulate
    mkdir -p build && tar xzf ../shared/peers/etas-3.0.0-097f08b.tar.gz -C build/
    .venv-etas/bin/pip install --no-deps -e build/etas-3.0.0

then, with one thread per code::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/etas_peer.py

The script exits 0 with a message when the peer's environment or the
catalog is missing. Four fits, two per magnitude convention, so that each
pair is fitted to the same events:

* **framecast conventions**: magnitudes as reported, events with M >= mc,
  magnitude excess m - mc. framecast's default fit, and the peer run with
  ``delta_m = 0`` (which makes it keep M >= mc and use m - mc).
* **peer conventions**: magnitudes rounded half up to ``delta_m``, events
  with rounded M >= mc (reported M >= mc - delta_m/2), excess measured from
  mc - delta_m/2. The peer's default run, and framecast's
  ``fit_etas(..., magnitude_bin=delta_m)`` with its own b-value (Aki-Utsu on
  the rounded targets, the half bin subtracted once). framecast rounds half
  up in decimal terms (2.05 -> 2.1); the peer's ``floor(m / delta_m + 0.5)``
  rounds the x.x5 values whose quotient binary floating point puts a hair
  below the half down (2.05 -> 2.0). So that both codes fit the same
  magnitudes, framecast is given the catalog as the peer rounds it (its own
  rounding leaves those values as they are); the run counts the events the
  two roundings bin differently and fits framecast's own rounding of the
  reported magnitudes too.

A profile of framecast's likelihood over ``log10_tau`` (fixed at the peer's
value and at 3.5-5) on the peer's events then shows where the two fits part.
The conventions that differ are printed at the end with the numbers of this
run; the module's ``CONVENTIONS`` names the file and line of each in the peer.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

import framecast  # noqa: F401  (sets OMP_WAIT_POLICY=PASSIVE before torch loads, as the CLI)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PEER_NAMES: tuple[str, ...] = (
    "log10_mu",
    "log10_iota",
    "log10_k0",
    "a",
    "log10_c",
    "omega",
    "log10_tau",
    "log10_d",
    "gamma",
    "rho",
)
"""The peer's parameter vector (``etas.inversion.parameter_dict2array``); iota is unused here."""

THETA_0: dict[str, float] = {
    "log10_mu": -5.8,
    "log10_k0": -2.6,
    "a": 1.8,
    "log10_c": -2.5,
    "omega": -0.02,
    "log10_tau": 3.5,
    "log10_d": -0.85,
    "gamma": 1.3,
    "rho": 0.66,
}
"""The peer's starting values: ``theta_0`` of EarthquakeNPP's ``SanJac_10.json``."""

CONVENTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "magnitudes",
        "rounded half up to delta_m, then rounded M >= mc "
        "(filter_catalog, inversion.py 1237-1244 and 1274; round_half_up, mc_b_est.py 21-24; "
        "again in calculate_distances 1507-1511), as floor(m / delta_m + 0.5) in binary "
        "floating point",
        "as reported, M >= mc (prepare_data); with magnitude_bin=delta_m rounded half up "
        "in decimal terms (round_half_up, magnitudes.py), rounded M >= mc",
    ),
    (
        "magnitude excess",
        "m - (mc - delta_m/2): every kernel gets mc_min = m_ref - delta_m/2 "
        "(invert 1134 and 1175, optimize_parameters 1368 and 1395)",
        "m - mc; with magnitude_bin, m - (mc - magnitude_bin/2) and params.mc = mc - bin/2",
    ),
    (
        "optimiser and stop",
        "EM: E-step, then scipy minimize (L-BFGS-B, numerical gradient, tol 1e-12) "
        "of the expected complete-data LL; stops when sum |change of theta| < 0.001 "
        "(invert 1124, calc_diff_to_before 647)",
        "L-BFGS-B on the observed LL, exact gradients, ftol 1e-12, gtol 1e-6",
    ),
    (
        "M-step objective",
        "Poisson term of l_hat_i with G_i integrated over the target window (460-473), but "
        "each aftershock's time density normalised over [0, inf): the term "
        "-log Gamma(-omega, c/tau) + omega log tau (neg_log_likelihood 475-495, line 478); "
        "the complete-data LL of a window needs the window's normalisation, so the EM "
        "maximises LL + sum_i l_hat_i log F_i (F_i: share of source i's time kernel "
        "inside the window), not LL",
        "the observed-data point-process LL (likelihood.py)",
    ),
    (
        "bounds",
        "log10_tau <= 12.26, log10_k0 in [-20, 10], a in [0.01, 20], "
        "gamma in [-1, 5] (inversion.py 38-47)",
        "log10_tau <= 5, log10_k0 in [-4, 0], a in [0.01, 5], gamma in [0.01, 5] (FIT_BOUNDS)",
    ),
    (
        "background rate",
        "mu = n_hat / (area T) in closed form after each E-step (optimize_parameters 1347)",
        "mu free in the joint maximisation (the same stationarity condition)",
    ),
    (
        "area",
        "Albers equal-area, standard parallels at the polygon's latitude bounds "
        "(polygon_surface 149-159)",
        "shoelace in a local equirectangular projection, R = 6371 km (region.py)",
    ),
    (
        "distances",
        "haversine, earth radius 6378.1 km (haversine 175-194)",
        "local equirectangular projection about the polygon's centroid, R = 6371 km",
    ),
    (
        "pair cut-off",
        "100 x Wells-Coppersmith SSRL, fault type 4: 10^(0.59 m - 2.44) km, "
        "rounded m (calculate_distances 1550-1554)",
        "the same formula (PairCutoffs), on the magnitudes given",
    ),
    (
        "time integral",
        "closed form, upper incomplete gamma (expected_aftershocks 384-436)",
        "Gauss-Legendre quadrature on log(t + c), 4 x 32 nodes (relative error < 1e-9)",
    ),
    (
        "targets",
        "time > start (prepare_target_events 1302)",
        "time >= start",
    ),
    (
        "b-value",
        "Tinti & Mulargia (1987) binned estimator on the targets (mc_b_est.py 27-41, "
        "prepare 1009-1014); only in the branching ratio",
        "Aki-Utsu from the lower edge of the lowest bin kept (the half bin once, first_bin_edge)",
    ),
    (
        "branching ratio",
        "branching_ratio (inversion.py 210-239): the same formula (untruncated GR, "
        "all time); only logged during invert, at the previous iteration's theta",
        "ETASParameters.branching_ratio(), reported with every fit",
    ),
)
"""(convention, the peer (file and line in etas 3.0.0, ``etas/``), framecast)."""

_PEER_DRIVER = r'''
"""Runs the etas package's inversion for benchmarks/etas_peer.py; JSON in argv[1], out on stdout."""
import json
import logging
import sys
import time

import numpy as np

import etas.inversion as inv

job = json.loads(sys.argv[1])
logging.basicConfig(level=logging.WARNING)
NAMES = job["names"]
config = {
    "fn_catalog": job["catalog"],
    "shape_coords": job["polygon"],
    "auxiliary_start": job["auxiliary_start"],
    "timewindow_start": job["start"],
    "timewindow_end": job["end"],
    "mc": job["mc"],
    "delta_m": job["delta_m"],
    "coppersmith_multiplier": job["coppersmith_multiplier"],
    "theta_0": job["theta_0"],
}
wall0, cpu0 = time.perf_counter(), time.process_time()
calc = inv.ETASParameterCalculation(config)
calc.prepare()
wall1, cpu1 = time.perf_counter(), time.process_time()
theta = calc.invert()
wall2, cpu2 = time.perf_counter(), time.process_time()
mc_min = calc.m_ref - calc.delta_m / 2


def log_likelihood(values):
    """Observed-data LL from the peer's own pieces: its E-step gives each target's
    lambda = mu / P_background, its expected_aftershocks the integral."""
    vector = np.array([values.get(n) for n in NAMES], dtype=object)
    vector[1] = None
    _, targets, _, _, _ = calc.expectation_step(vector, mc_min)
    mu = 10.0 ** values["log10_mu"]
    rates = mu / targets["P_background"].to_numpy(dtype=float)
    src = calc.source_events
    productive = inv.expected_aftershocks(
        [
            src["source_magnitude"],
            src["pos_source_to_start_time_distance"],
            src["source_to_end_time_distance"],
        ],
        [np.array([values[n] for n in NAMES[2:]], dtype=float), mc_min],
    )
    integral = mu * calc.area * calc.timewindow_length + float(np.sum(productive))
    return float(np.sum(np.log(rates)) - integral)


fitted = {n: (None if theta[n] is None else float(theta[n])) for n in NAMES}
out = {
    "theta": fitted,
    "beta": float(calc.beta),
    "branching_ratio": float(inv.branching_ratio(inv.parameter_dict2array(theta), calc.beta)),
    "n_targets": int(len(calc.target_events)),
    "n_sources": int(len(calc.source_events)),
    "n_pairs": int(len(calc.distances)),
    "iterations": int(calc.i),
    "n_hat": float(calc.n_hat),
    "area_km2": float(calc.area),
    "prepare_wall": wall1 - wall0,
    "prepare_cpu": cpu1 - cpu0,
    "invert_wall": wall2 - wall1,
    "invert_cpu": cpu2 - cpu1,
}
out["log_likelihood"] = [log_likelihood(fitted)] + [
    log_likelihood(values) for values in job["evaluate"]
]
print("PEER-RESULT " + json.dumps(out))
'''


@dataclass(frozen=True)
class Setting:
    """One magnitude convention: framecast's ``magnitude_bin`` and the peer's ``delta_m``."""

    label: str
    catalog: Any  # the framecast.quake.catalog.events.Catalog framecast is given
    magnitude_bin: float | None  # given to fit_etas with mc (None: magnitudes as reported)
    peer_delta_m: float  # delta_m given to the peer


def cpu_model() -> str:
    """The ``Model name`` line of ``lscpu`` (or the platform's processor string)."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()
    for line in text.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def peer_round_half_up(magnitudes: np.ndarray, delta_m: float) -> np.ndarray:
    """float64 ``[N]``: magnitudes rounded as the peer does: ``floor(m / delta_m + 0.5)``."""
    return np.floor(np.asarray(magnitudes, np.float64) / delta_m + 0.5) * delta_m


def write_peer_catalog(catalog: Any, path: Path) -> None:
    """The catalog as the peer reads it: columns id, latitude, longitude, time, magnitude."""
    times = np.datetime_as_string(catalog.time, unit="ms")
    with path.open("w") as handle:
        handle.write("id,latitude,longitude,time,magnitude\n")
        for row in zip(
            catalog.event_id,
            catalog.latitude,
            catalog.longitude,
            times,
            catalog.magnitude,
            strict=True,
        ):
            event_id, lat, lon, when, magnitude = row
            handle.write(f"{event_id},{float(lat)!r},{float(lon)!r},{when},{float(magnitude)!r}\n")


def run_peer(python: Path, driver: Path, job: dict[str, Any], threads: int) -> dict[str, Any]:
    """Run the driver in the peer's environment; its JSON result plus the process wall time."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    began = time.perf_counter()
    done = subprocess.run(
        [str(python), str(driver), json.dumps(job)],
        capture_output=True,
        text=True,
        env=env,
        cwd=driver.parent,
    )
    seconds = time.perf_counter() - began
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("PEER-RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(
            f"the peer failed (exit {done.returncode}):\n"
            f"{done.stderr[-3000:]}\n{done.stdout[-1000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("PEER-RESULT "))
    result["process_wall"] = seconds
    return result


def timed_fit(catalog: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """(ETASFit, wall s, CPU s) of one :func:`fit_etas` call."""
    from framecast.quake.etas.fit import fit_etas

    wall, cpu = time.perf_counter(), time.process_time()
    fit = fit_etas(catalog, **kwargs)
    return fit, time.perf_counter() - wall, time.process_time() - cpu


def fmt(value: float, digits: int = 3) -> str:
    """A number, or "nan"."""
    return f"{value:.{digits}f}" if math.isfinite(value) else "nan"


def z_score(peer: float, ours: float, error: float) -> str:
    """(peer - framecast) / framecast's standard error, or why there is none."""
    if not (math.isfinite(error) and error > 0):
        return "n/a (no SE: at bound)"
    return f"{(peer - ours) / error:+.1f}"


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
    parser.add_argument("--delta-m", type=float, default=0.1, help="the peer's magnitude bin")
    parser.add_argument("--auxiliary-start", default="2008-01-01")
    parser.add_argument("--start", default="2009-01-01")
    parser.add_argument("--end", default="2016-01-01")
    parser.add_argument("--coppersmith-multiplier", type=float, default=100.0)
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
            "etas_peer: skipped, not found: "
            + ", ".join(missing)
            + ". Set up the peer's environment as the module docstring says "
            "(../shared/peers/README.md) and give --catalog and --polygon."
        )
        return

    import torch

    from framecast.numerics import configure_torch
    from framecast.quake.catalog.magnitudes import aki_b_value, round_half_up
    from framecast.quake.catalog.readers import read_csv_catalog
    from framecast.quake.etas.likelihood import (
        ETASLikelihood,
        PairCutoffs,
        log_likelihood,
        prepare_data,
        triggering_pairs,
    )
    from framecast.quake.etas.parameters import (
        FREE_PARAMETERS,
        ETASParameters,
        time_kernel_integral,
        time_kernel_tail,
        triggering_kernel,
    )
    from framecast.quake.etas.region import as_region

    threads = configure_torch(args.threads)
    catalog = read_csv_catalog(args.catalog)
    polygon = np.load(args.polygon, allow_pickle=False)
    half = args.delta_m / 2
    # the peer's rounding, which framecast's round_half_up leaves unchanged (checked below)
    peer_binned = replace(catalog, magnitude=peer_round_half_up(catalog.magnitude, args.delta_m))
    settings = (
        Setting("framecast conventions", catalog, None, 0.0),
        Setting("peer conventions", peer_binned, args.delta_m, args.delta_m),
    )
    period = {"start": args.start, "end": args.end, "auxiliary_start": args.auxiliary_start}
    cutoffs = PairCutoffs(coppersmith_multiplier=args.coppersmith_multiplier)
    duration_days = float(
        (np.datetime64(args.end, "D") - np.datetime64(args.start, "D")) / np.timedelta64(1, "D")
    )

    print(
        f"# {cpu_model()}, {os.cpu_count()} cores; {threads} thread(s) per code "
        f"(torch {torch.__version__}; the peer with OMP/OPENBLAS/MKL_NUM_THREADS={args.threads})"
    )
    print(
        f"# catalog {args.catalog.name} ({len(catalog)} events), polygon {args.polygon.name}, "
        f"mc {args.mc:g}, delta_m {args.delta_m:g}, auxiliary from {args.auxiliary_start}, "
        f"targets {args.start} to {args.end}, pairs within "
        f"{args.coppersmith_multiplier:g} rupture lengths\n"
    )

    # framecast first: its parameters are then evaluated by the peer's likelihood
    fits: dict[str, Any] = {}
    for setting in settings:
        fit, wall, cpu = timed_fit(
            setting.catalog,
            region=polygon,
            mc=args.mc,
            magnitude_bin=setting.magnitude_bin,
            cutoffs=cutoffs,
            **period,
        )
        fits[setting.label] = {"fit": fit, "wall": wall, "cpu": cpu}
    # framecast's own rounding of the reported magnitudes
    own_rounding, _, _ = timed_fit(
        catalog, region=polygon, mc=args.mc, magnitude_bin=args.delta_m, cutoffs=cutoffs, **period
    )
    unchanged = np.array_equal(
        round_half_up(peer_binned.magnitude, args.delta_m),
        np.round(peer_binned.magnitude, 10),
        equal_nan=True,
    )
    if not unchanged:
        raise SystemExit("framecast's round_half_up moves magnitudes the peer rounded")
    # the hand-made route of earlier runs: the rounded catalog, mc at the bin edge, Aki-Utsu
    hand = prepare_data(peer_binned, region=polygon, mc=args.mc - half, **period)
    hand_b = aki_b_value(hand.magnitude_excess[hand.target_rows] + hand.mc, args.mc - half)
    # where the two roundings differ, among the events of the period in the region
    inside = as_region(polygon).contains(catalog.latitude, catalog.longitude)
    inside &= catalog.time >= np.datetime64(args.auxiliary_start)
    inside &= catalog.time < np.datetime64(args.end)
    reported = catalog.magnitude[inside]  # [N]
    ours_rounded = round_half_up(reported, args.delta_m)  # [N]
    peer_rounded = peer_round_half_up(reported, args.delta_m)  # [N]
    differ = np.abs(ours_rounded - peer_rounded) > 1e-6  # [N]
    used = ours_rounded >= args.mc - 1e-9  # [N] the sources of the binned fit
    rounding = {
        "sources_differ": int((differ & used).sum()),
        "sources": int(used.sum()),
        "dropped_by_peer": int((used & (peer_rounded < args.mc - 1e-9)).sum()),
        "values": sorted({round(float(m), 4) for m in reported[differ & used]}),
    }

    with tempfile.TemporaryDirectory(prefix="etas_peer_") as folder:
        driver = Path(folder) / "peer_driver.py"
        driver.write_text(_PEER_DRIVER)
        csv = Path(folder) / "catalog.csv"
        write_peer_catalog(catalog, csv)
        peers: dict[str, dict[str, Any]] = {}
        for setting in settings:
            ours = fits[setting.label]["fit"].params
            job = {
                "names": list(PEER_NAMES),
                "catalog": str(csv),
                "polygon": str(args.polygon.resolve()),
                "auxiliary_start": args.auxiliary_start,
                "start": args.start,
                "end": args.end,
                "mc": args.mc,
                "delta_m": setting.peer_delta_m,
                "coppersmith_multiplier": args.coppersmith_multiplier,
                "theta_0": THETA_0,
                "evaluate": [{name: getattr(ours, name) for name in FREE_PARAMETERS}],
            }
            peers[setting.label] = run_peer(args.peer_python, driver, job, args.threads)

    # framecast's likelihood at the peer's parameters, on the same events and excess reference
    rows: dict[str, dict[str, Any]] = {}
    for setting in settings:
        fit = fits[setting.label]["fit"]
        peer = peers[setting.label]
        peer_params = ETASParameters(
            **{name: peer["theta"][name] for name in FREE_PARAMETERS},
            mc=fit.params.mc,
            b_value=fit.params.b_value,
        )
        peer_ll_framecast = log_likelihood(
            peer_params,
            setting.catalog,
            region=polygon,
            cutoffs=cutoffs,
            magnitude_bin=setting.magnitude_bin,
            **period,
        )
        rows[setting.label] = {"peer_params": peer_params, "peer_ll_framecast": peer_ll_framecast}

    def in_window(params: Any) -> float:
        """η times the share of the time kernel within the target period's length."""
        share = float(time_kernel_integral(params, 0.0, duration_days)) / float(
            time_kernel_tail(params, 0.0)
        )
        return params.branching_ratio() * share

    labels = [s.label for s in settings]
    header = ["quantity"]
    for label in labels:
        header += [f"framecast ({label})", f"peer ({label})", "(peer - fc) / fc SE"]
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    for name in FREE_PARAMETERS:
        cells = [name]
        for label in labels:
            fit = fits[label]["fit"]
            ours, error = getattr(fit.params, name), fit.stderr[name]
            theirs = peers[label]["theta"][name]
            flag = " (bound)" if name in fit.at_bounds else ""
            cells += [
                f"{ours:.3f} ± {fmt(error)}{flag}",
                f"{theirs:.3f}",
                z_score(theirs, ours, error),
            ]
        print("| " + " | ".join(cells) + " |")

    def row(title: str, values: list[tuple[str, str]]) -> None:
        cells = [title]
        for ours, theirs in values:
            cells += [ours, theirs, ""]
        print("| " + " | ".join(cells) + " |")

    row(
        "log L, framecast's likelihood",
        [
            (f"{fits[lb]['fit'].log_likelihood:.2f}", f"{rows[lb]['peer_ll_framecast']:.2f}")
            for lb in labels
        ],
    )
    row(
        "log L, peer's likelihood (its E-step + integral)",
        [
            (f"{peers[lb]['log_likelihood'][1]:.2f}", f"{peers[lb]['log_likelihood'][0]:.2f}")
            for lb in labels
        ],
    )
    row(
        "targets / sources / pairs",
        [
            (
                f"{fits[lb]['fit'].n_target_events} / {fits[lb]['fit'].n_source_events} / "
                f"{fits[lb]['fit'].n_pairs}",
                f"{peers[lb]['n_targets']} / {peers[lb]['n_sources']} / {peers[lb]['n_pairs']}",
            )
            for lb in labels
        ],
    )
    row(
        "b-value (framecast: Aki-Utsu; peer: Tinti)",
        [
            (
                f"{fits[lb]['fit'].params.b_value:.4f}",
                f"{peers[lb]['beta'] / math.log(10.0):.4f}",
            )
            for lb in labels
        ],
    )
    row(
        "branching ratio, each code's own",
        [
            (f"{fits[lb]['fit'].branching_ratio:.3f}", f"{peers[lb]['branching_ratio']:.3f}")
            for lb in labels
        ],
    )
    row(
        "branching ratio, framecast's definition and b",
        [
            (
                f"{fits[lb]['fit'].params.branching_ratio():.3f}",
                f"{rows[lb]['peer_params'].branching_ratio():.3f}",
            )
            for lb in labels
        ],
    )
    row(
        f"η within {duration_days:.0f} days (η x kernel share)",
        [
            (
                f"{in_window(fits[lb]['fit'].params):.3f}",
                f"{in_window(rows[lb]['peer_params']):.3f}",
            )
            for lb in labels
        ],
    )
    row(
        "iterations (L-BFGS-B / EM)",
        [(str(fits[lb]["fit"].iterations), str(peers[lb]["iterations"])) for lb in labels],
    )
    row(
        "fit wall s (peer: prepare + invert)",
        [
            (
                f"{fits[lb]['wall']:.2f}",
                f"{peers[lb]['prepare_wall'] + peers[lb]['invert_wall']:.2f}",
            )
            for lb in labels
        ],
    )
    row(
        "fit CPU s",
        [
            (f"{fits[lb]['cpu']:.2f}", f"{peers[lb]['prepare_cpu'] + peers[lb]['invert_cpu']:.2f}")
            for lb in labels
        ],
    )
    row(
        "peer process wall s (imports, fit, 2 LL evaluations)",
        [("", f"{peers[lb]['process_wall']:.2f}") for lb in labels],
    )
    ratios = {
        lb: (peers[lb]["prepare_wall"] + peers[lb]["invert_wall"]) / fits[lb]["wall"]
        for lb in labels
    }
    row("speed ratio, peer wall / framecast wall", [("", f"{ratios[lb]:.0f}x") for lb in labels])

    # where the fits part: framecast's profile over log10_tau on the peer's events
    peer_setting = settings[1]
    peer_tau = peers[peer_setting.label]["theta"]["log10_tau"]
    print(
        f"\nframecast's profile likelihood over log10_tau ({peer_setting.label}: the peer's "
        "events and excess reference; the other eight parameters refitted)\n"
    )
    print("| log10_tau fixed at | log L | η | omega | log10_c | a |")
    print("|---:|---:|---:|---:|---:|---:|")
    b_peer = fits[peer_setting.label]["fit"].params.b_value
    for tau in (peer_tau, 3.5, 4.0, 4.5, 5.0):
        profile, _, _ = timed_fit(
            peer_setting.catalog,
            region=polygon,
            mc=args.mc,
            magnitude_bin=peer_setting.magnitude_bin,
            b_value=b_peer,
            cutoffs=cutoffs,
            fixed={"log10_tau": tau},
            **period,
        )
        p = profile.params
        print(
            f"| {tau:.3f} | {profile.log_likelihood:.2f} | {profile.branching_ratio:.3f} | "
            f"{p.omega:.3f} | {p.log10_c:.2f} | {p.a:.3f} |"
        )

    # why: the gradient of framecast's LL at the peer's fit against the term the peer omits
    peer_params = rows[peer_setting.label]["peer_params"]
    data = prepare_data(
        peer_setting.catalog,
        region=polygon,
        mc=args.mc,
        magnitude_bin=peer_setting.magnitude_bin,
        **period,
    )
    _, gradient = ETASLikelihood(data, cutoffs=cutoffs).value_and_grad(peer_params.free_vector())
    target, source, dt, r2 = triggering_pairs(data, cutoffs)
    g = triggering_kernel(peer_params, data.magnitude_excess[source] + data.mc, dt, r2)  # [P]
    rate = peer_params.mu + np.bincount(target, weights=g, minlength=data.n_targets)  # [J]
    l_hat = np.bincount(source, weights=g / rate[target], minlength=data.n_sources)  # [S]
    lower = np.clip(-data.time_days, 0.0, None)  # [S]
    upper = data.duration_days - data.time_days  # [S]

    def omitted(vector: np.ndarray) -> float:
        """Σ_i l_hat_i log F_i: the term the peer's M-step adds to the LL."""
        params = peer_params.with_free_vector(vector)
        share = time_kernel_integral(params, lower, upper) / time_kernel_tail(params, 0.0)
        return float(np.sum(l_hat * np.log(share)))

    theta = peer_params.free_vector()
    print(
        f"\nAt the peer's fit ({peer_setting.label}): Σ_i l_hat_i log F_i = "
        f"{omitted(theta):.2f} nats over Σ l_hat = {l_hat.sum():.1f} triggered events. "
        "An EM fixed point of LL + that term has ∇LL = -∇(Σ l_hat log F):\n"
    )
    print("| parameter | ∂LL/∂θ, framecast, at the peer's fit | -∂(Σ l_hat log F)/∂θ |")
    print("|---|---:|---:|")
    for name in ("log10_c", "omega", "log10_tau"):
        i = FREE_PARAMETERS.index(name)
        step = np.zeros_like(theta)
        step[i] = 1e-5
        derivative = (omitted(theta + step) - omitted(theta - step)) / 2e-5
        print(f"| {name} | {-gradient[i]:+.2f} | {-derivative:+.2f} |")
    others = ", ".join(
        f"{name} {-gradient[i]:+.2f}"
        for i, name in enumerate(FREE_PARAMETERS)
        if name not in ("log10_c", "omega", "log10_tau")
    )
    print(f"\n(∂LL/∂θ of the other parameters there, which the term does not involve: {others})")

    # the numbers behind the conventions
    fc_fit = fits[settings[0].label]["fit"]
    peer_fit = fits[settings[1].label]["fit"]
    fc_area = as_region(polygon).area_km2
    peer_area = peers[settings[1].label]["area_km2"]
    ll_gap = [rows[lb]["peer_ll_framecast"] - peers[lb]["log_likelihood"][0] for lb in labels]
    print("\nConventions that differ (peer: etas 3.0.0, etas/inversion.py unless named):\n")
    for name, theirs, ours in CONVENTIONS:
        print(f"- {name}: peer {theirs}; framecast {ours}.")
    print("\nTheir effects in this run:\n")
    print(
        f"- Binning keeps {peer_fit.n_target_events - fc_fit.n_target_events} more targets "
        f"({peer_fit.n_target_events} against {fc_fit.n_target_events}) and "
        f"{peer_fit.n_source_events - fc_fit.n_source_events} more sources; with the excess "
        f"from mc - delta_m/2, k0 and d refer to M {args.mc - half:g}: at equal kernels "
        f"log10_k0 differs by a*delta_m/2/ln10 = {peer_fit.params.a * half / math.log(10):.4f} and "
        f"log10_d by gamma*delta_m/2/ln10 = {peer_fit.params.gamma * half / math.log(10):.4f}."
    )
    shifts = []
    for name in FREE_PARAMETERS:
        error = fc_fit.stderr[name]
        if not (math.isfinite(error) and error > 0):
            continue
        moved = getattr(peer_fit.params, name) - getattr(fc_fit.params, name)
        if name == "log10_k0":  # the same kernel referred to mc - delta_m/2
            moved += peer_fit.params.a * half / math.log(10)
        elif name == "log10_d":
            moved += peer_fit.params.gamma * half / math.log(10)
        shifts.append((abs(moved) / error, name))
    largest, which = max(shifts)
    own_shift, own_which = max(
        (abs(getattr(own_rounding.params, n) - getattr(peer_fit.params, n)) / peer_fit.stderr[n], n)
        for n in FREE_PARAMETERS
        if math.isfinite(peer_fit.stderr[n]) and peer_fit.stderr[n] > 0
    )
    peer_runs = [peers[lb] for lb in labels]
    print(
        f"- Binning's effect on the fits: framecast's η {fc_fit.branching_ratio:.3f} -> "
        f"{peer_fit.branching_ratio:.3f}, the peer's {peer_runs[0]['branching_ratio']:.3f} -> "
        f"{peer_runs[1]['branching_ratio']:.3f}; framecast's parameters move at most "
        f"{largest:.2f} SE ({which}, k0 and d compared at one reference magnitude)."
    )
    profile_gap = rows[peer_setting.label]["peer_ll_framecast"]
    print(
        f"- The peer's fit is framecast's maximum with log10_tau held at the peer's value: "
        f"framecast's LL at the peer's parameters {profile_gap:.2f}, framecast's profile "
        "maximum there in the first row of the profile table; the rest of the gap is "
        "log10_tau (and omega with it), where the two objectives differ by Σ l_hat log F."
    )
    print(
        "- Same events, same conventions, both codes' likelihoods: framecast's fit is "
        + ", ".join(
            f"{fits[lb]['fit'].log_likelihood - rows[lb]['peer_ll_framecast']:+.2f} nats "
            f"(framecast's LL) / "
            f"{peers[lb]['log_likelihood'][1] - peers[lb]['log_likelihood'][0]:+.2f}"
            f" (peer's LL) above the peer's fit ({lb})"
            for lb in labels
        )
        + "."
    )
    print(
        "- The two likelihood codes at the same parameters differ by "
        + ", ".join(f"{gap:+.2f} nats ({lb})" for gap, lb in zip(ll_gap, labels, strict=True))
        + f" (framecast minus peer): areas {fc_area:.2f} against {peer_area:.2f} km² "
        f"({100 * (fc_area / peer_area - 1):+.3f} %), distances (R 6371 against 6378.1 km, "
        f"projection) and {peer_fit.n_pairs - peers[settings[1].label]['n_pairs']:+d} pairs "
        f"({peer_setting.label})."
    )
    print(
        f"- b-value: fit_etas with magnitude_bin={args.delta_m:g} estimates "
        f"{peer_fit.params.b_value:.4f} (Aki-Utsu on the rounded targets from the bin edge "
        f"{args.mc - half:g}, the half bin once); on the catalog rounded beforehand with "
        f"mc {args.mc - half:g} (a bin edge) aki_b_value gives {hand_b:.4f} (it used to "
        "subtract the half bin a second time there); the peer's Tinti estimate is "
        f"{peers[settings[1].label]['beta'] / math.log(10.0):.4f}. b enters only η."
    )
    print(
        f"- Rounding: of the {rounding['sources']} events framecast's binned fit uses "
        f"(region, {args.auxiliary_start} to {args.end}), {rounding['sources_differ']} "
        "get a different bin from the peer's floor(m / delta_m + 0.5) (reported "
        + ", ".join(f"{m:g}" for m in rounding["values"])
        + f": framecast rounds them up, the peer down); {rounding['dropped_by_peer']} of them "
        "fall below mc in the peer's rounding. The fits above give framecast the peer's "
        "rounding; fitted to its own rounding of the reported magnitudes, framecast's "
        f"fit has log L {own_rounding.log_likelihood:.2f}, b {own_rounding.params.b_value:.4f}, "
        f"η {own_rounding.branching_ratio:.3f}, {own_rounding.n_pairs} pairs, and its "
        f"parameters move at most {own_shift:.2f} SE ({own_which}) from the fit to the "
        "peer's rounding."
    )


if __name__ == "__main__":
    sys.exit(main())
