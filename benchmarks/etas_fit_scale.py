"""Wall time of an ETAS fit at the scale of a national catalog.

Simulates ETAS with the default (Californian) :class:`ETASParameters` over a
lat/lon box for ``--years`` years after a year of auxiliary events (plus a
burn-in), fits it with :func:`framecast.quake.etas.fit.fit_etas` and prints a
Markdown table: targets, sources, pairs kept, seconds, iterations, η, and the
recovered parameters (± standard error) against the true ones. The default
box (8° x 10°, ~820,000 km²) and 16 years give about 19,000 targets with M >= 3.

    OMP_NUM_THREADS=2 flock /tmp/framecast-test.lock /usr/bin/time -v \\
        .venv/bin/python benchmarks/etas_fit_scale.py --seed 0

Peak memory: the ``Maximum resident set size`` of ``/usr/bin/time -v``.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import numpy as np
import torch

from framecast.quake import Grid
from framecast.quake.etas.fit import fit_etas
from framecast.quake.etas.likelihood import NO_CUTOFFS, PairCutoffs
from framecast.quake.etas.parameters import FREE_PARAMETERS, ETASParameters
from framecast.quake.etas.simulate import simulate_etas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lat", type=float, nargs=2, default=(30.0, 38.0), help="lat_min lat_max")
    parser.add_argument(
        "--lon", type=float, nargs=2, default=(-122.0, -112.0), help="lon_min lon_max"
    )
    parser.add_argument("--years", type=int, default=16, help="target period, years from 2000")
    parser.add_argument("--auxiliary-years", type=int, default=1, help="sources-only years")
    parser.add_argument("--mc", type=float, default=3.0)
    parser.add_argument("--log10-mu", type=float, default=None, help="override the true mu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--coppersmith-multiplier", type=float, default=100.0, help="0: none")
    parser.add_argument("--max-days", type=float, default=0.0, help="time cut-off; 0: none")
    parser.add_argument("--max-branching-ratio", type=float, default=None)
    parser.add_argument("--progress", action="store_true", help="print every iteration")
    args = parser.parse_args()

    truth = ETASParameters(mc=args.mc)
    if args.log10_mu is not None:
        truth = ETASParameters(log10_mu=args.log10_mu, mc=args.mc)
    box = Grid(args.lat[0], args.lat[1], args.lon[0], args.lon[1], 0.5)
    start, end = "2000-01-01", f"{2000 + args.years}-01-01"
    auxiliary = f"{2000 - args.auxiliary_years}-01-01"
    began = time.perf_counter()
    burn_in_days = 365.25 * max(10, args.auxiliary_years + 1)
    catalog = simulate_etas(
        truth, box, start, end, seed=args.seed, burn_in_days=burn_in_days, include_burn_in=True
    )
    simulated = time.perf_counter() - began
    if args.coppersmith_multiplier == 0 and args.max_days == 0:
        cutoffs = NO_CUTOFFS
    else:
        cutoffs = PairCutoffs(
            coppersmith_multiplier=args.coppersmith_multiplier or None,
            max_days=args.max_days or None,
        )
    fit = fit_etas(
        catalog,
        region=box,
        mc=args.mc,
        start=start,
        end=end,
        auxiliary_start=auxiliary,
        b_value=truth.b_value,
        cutoffs=cutoffs,
        max_branching_ratio=args.max_branching_ratio,
        progress=print if args.progress else None,
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"\n{platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}, "
        f"seed {args.seed}, box lat {args.lat} lon {args.lon}, {args.years} years "
        f"after {args.auxiliary_years} auxiliary, "
        f"M >= {args.mc:g}, simulated in {simulated:.1f} s, {cutoffs.describe()}\n"
    )
    print("| targets | sources | pairs kept | seconds | iterations | η fit | η true | peak MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {fit.n_target_events} | {fit.n_source_events} | {fit.n_pairs} | {fit.seconds:.1f} | "
        f"{fit.iterations} | {fit.branching_ratio:.3f} | {truth.branching_ratio():.3f} | "
        f"{peak_mb:.0f} |"
    )
    print("\n| parameter | true | fitted | ± s.e. | (fit - true) / s.e. |")
    print("|---|---:|---:|---:|---:|")
    for name in FREE_PARAMETERS:
        true, value, error = getattr(truth, name), getattr(fit.params, name), fit.stderr[name]
        z = (value - true) / error if np.isfinite(error) and error > 0 else float("nan")
        print(f"| {name} | {true:.3f} | {value:.3f} | {error:.3f} | {z:+.1f} |")
    print(f"\n{fit.summary()}")


if __name__ == "__main__":
    main()
