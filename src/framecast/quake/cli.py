"""``framecast quake ...``: fetch, grid, simulate and fit ETAS, run an experiment, evaluate."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml


def box_polygon(region: tuple[float, float, float, float]) -> np.ndarray:
    """(lat, lon) vertices ``[4, 2]`` of the box ``lat_min, lat_max, lon_min, lon_max``."""
    lat_min, lat_max, lon_min, lon_max = region
    return np.array(
        [[lat_min, lon_min], [lat_min, lon_max], [lat_max, lon_max], [lat_max, lon_min]]
    )


def _cmd_fetch(args: argparse.Namespace) -> int:
    from framecast.quake.fetch import run_fetch

    return run_fetch(args)


def _cmd_grid(args: argparse.Namespace) -> int:
    from framecast.quake.frames import grid_catalog
    from framecast.quake.grid import Grid
    from framecast.quake.readers import read_catalog

    grid = Grid.from_region(args.region, args.cell, args.unit)  # checked before reading
    catalog = read_catalog(args.catalog)
    frames = grid_catalog(
        catalog,
        grid,
        start=args.start,
        end=args.end,
        bin_days=args.bin_days,
        mc=args.mc,
        channels=args.channels,
    )
    frames.save(args.out)
    print(
        f"{args.out}: {frames.num_bins} bins x {len(frames.channels)} channels "
        f"{list(frames.channels)} on a {grid.shape[0]}x{grid.shape[1]} grid, "
        f"{len(frames.events)} events with M >= {args.mc:g}"
    )
    return 0


def _etas_parameters(overrides: list[str], mc: float) -> Any:
    from framecast.quake.etas import ETASParameters

    values: dict[str, Any] = {"mc": mc}
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"ETAS parameter {item!r} must look like name=value (log10_mu=-6)")
        key, raw = item.split("=", 1)
        values[key.strip()] = yaml.safe_load(raw)
    return ETASParameters.from_dict(values)


def _cmd_etas_simulate(args: argparse.Namespace) -> int:
    from framecast.quake.etas_simulate import simulate_etas
    from framecast.quake.grid import parse_region
    from framecast.quake.store import write_catalog

    params = _etas_parameters(args.overrides, args.mc)
    catalog = simulate_etas(
        params,
        box_polygon(parse_region(args.region)),
        args.start,
        args.end,
        burn_in_days=args.burn_in_days,
        seed=args.seed,
        include_burn_in=True,
    )
    write_catalog(
        args.out,
        catalog,
        metadata={"source": "ETAS simulation", "parameters": json.dumps(params.to_dict())},
    )
    print(f"{args.out}: {len(catalog)} simulated events (incl. {args.burn_in_days:g} burn-in days)")
    return 0


def _cmd_etas_fit(args: argparse.Namespace) -> int:
    from framecast.quake.etas_fit import fit_etas
    from framecast.quake.grid import parse_region
    from framecast.quake.readers import read_catalog

    catalog = read_catalog(args.catalog)
    fit = fit_etas(
        catalog,
        region=box_polygon(parse_region(args.region)),
        mc=args.mc,
        start=args.start,
        end=args.end,
        auxiliary_start=args.auxiliary_start,
    )
    text = json.dumps(dataclasses.asdict(fit), indent=2)
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from framecast.quake.experiment import load_experiment, run_experiment

    experiment = load_experiment(args.config, args.overrides)
    run_experiment(experiment, restart=args.restart)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from framecast.quake.frames import SeismicityFrames
    from framecast.quake.rates import RateForecast
    from framecast.quake.report import write_quake_report

    frames = SeismicityFrames.load(args.frames)
    forecasts = {Path(p).stem: RateForecast.load(p) for p in args.forecast}
    reference = Path(args.reference).stem
    forecasts.setdefault(reference, RateForecast.load(args.reference))
    report = write_quake_report(
        forecasts,
        frames,
        args.out,
        reference=reference,
        baselines=[Path(p).stem for p in args.baseline],
        binary_magnitude=args.binary_magnitude,
        num_simulations=args.num_simulations,
        seed=args.seed,
    )
    print(f"report: {report}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from framecast.quake.csep_io import export_csep
    from framecast.quake.rates import RateForecast

    paths = export_csep(RateForecast.load(args.forecast), args.out)
    print(f"{len(paths)} pyCSEP forecast files in {args.out}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from framecast.quake.demo import run_quake_demo

    run_quake_demo(args.out, minutes=args.minutes, restart=args.restart)
    return 0


def _add_etas_commands(sub: Any) -> None:
    p = sub.add_parser("etas-simulate", help="simulate an ETAS catalog in a box (no network)")
    p.add_argument("--region", required=True, help="lat_min,lat_max,lon_min,lon_max")
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--mc", type=float, default=2.0, help="magnitude of completeness")
    p.add_argument("--burn-in-days", type=float, default=3650.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="catalog store (.h5)")
    p.add_argument("overrides", nargs="*", help="ETAS parameters, e.g. log10_mu=-6.0 a=1.8")
    p.set_defaults(func=_cmd_etas_simulate)

    p = sub.add_parser("etas-fit", help="fit ETAS by maximum likelihood")
    p.add_argument("--catalog", required=True, help="catalog file (csv, FDSN text, QuakeML, .h5)")
    p.add_argument("--region", required=True, help="lat_min,lat_max,lon_min,lon_max")
    p.add_argument("--mc", type=float, required=True)
    p.add_argument("--start", required=True, help="first day of the target period")
    p.add_argument("--end", required=True, help="end of the target period (excluded)")
    p.add_argument("--auxiliary-start", help="earlier events act as sources only")
    p.add_argument("--out", help="write the fit (JSON) here")
    p.set_defaults(func=_cmd_etas_fit)


def add_quake_commands(sub: Any) -> None:
    """Add ``framecast quake`` and its subcommands to the top-level subparsers."""
    from framecast.quake.fetch import add_fetch_arguments

    quake = sub.add_parser("quake", help="earthquake forecasting: fetch, grid, ETAS, run, evaluate")
    qsub = quake.add_subparsers(dest="quake_command", required=True)

    p = qsub.add_parser("fetch", help="fetch an FDSN catalog into an HDF5 store (resumable)")
    add_fetch_arguments(p)
    p.set_defaults(func=_cmd_fetch)

    p = qsub.add_parser("grid", help="turn a catalog into seismicity frames (HDF5)")
    p.add_argument("--catalog", required=True, help="catalog file (csv, FDSN text, QuakeML, .h5)")
    p.add_argument("--region", required=True, help="lat_min,lat_max,lon_min,lon_max")
    p.add_argument("--cell", type=float, required=True, help="cell size in --unit")
    p.add_argument("--unit", choices=("deg", "km"), default="deg")
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--bin-days", type=float, default=1.0, help="time bin in days")
    p.add_argument("--mc", type=float, required=True, help="magnitude of completeness")
    p.add_argument(
        "--channels",
        default="count",
        help="comma-separated: count, log_energy, max_magnitude, mean_depth",
    )
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_cmd_grid)

    _add_etas_commands(qsub)

    p = qsub.add_parser("run", help="catalog -> frames -> network -> forecasts -> report")
    p.add_argument("--config", required=True, help="experiment YAML (configs/quake/*.yaml)")
    p.add_argument("--restart", action="store_true", help="discard the out_dir's earlier run")
    p.add_argument("overrides", nargs="*", help="section.key=value")
    p.set_defaults(func=_cmd_run)

    p = qsub.add_parser("evaluate", help="score rate forecasts and write a Markdown report")
    p.add_argument("--frames", required=True, help="frames file the forecasts were made on")
    p.add_argument("--forecast", action="append", required=True, help="forecast .h5 (repeat)")
    p.add_argument("--reference", required=True, help="the reference forecast .h5")
    p.add_argument(
        "--baseline", action="append", default=[], help="another forecast to compare with (ETAS)"
    )
    p.add_argument("--binary-magnitude", type=float, help="M of the ROC/Molchan events")
    p.add_argument("--num-simulations", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="report folder")
    p.set_defaults(func=_cmd_evaluate)

    p = qsub.add_parser("export", help="write a forecast as pyCSEP gridded-forecast files")
    p.add_argument("--forecast", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_cmd_export)

    p = qsub.add_parser(
        "demo", help="the whole chain on a simulated ETAS catalog (no internet needed)"
    )
    p.add_argument("--out", type=Path, default=Path("runs/quake-demo"))
    p.add_argument("--minutes", type=float, default=4.0, help="network training budget")
    p.add_argument("--restart", action="store_true")
    p.set_defaults(func=_cmd_demo)
