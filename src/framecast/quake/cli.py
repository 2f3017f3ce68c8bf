"""``framecast quake ...``: fetch, grid, simulate and fit ETAS, run an experiment, evaluate."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from framecast.cluster import CLUSTER_HELP
from framecast.files import atomic_write
from framecast.quake.defaults import BURN_IN_DAYS, NUM_SIMULATIONS, PAIR_CUTOFF, SCORE_SEED


def _add_fetch_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the options of ``framecast quake fetch`` to ``parser`` (returned)."""
    from framecast.quake.catalog.providers import PROVIDERS

    parser.add_argument(
        "--provider",
        required=True,
        help=f"FDSN event service: {', '.join(PROVIDERS)}, or the URL of an FDSN /query endpoint",
    )
    parser.add_argument("--start", required=True, help="first day, UTC (e.g. 2005-01-01)")
    parser.add_argument("--end", required=True, help="end, UTC, excluded (e.g. 2018-01-01)")
    parser.add_argument("--region", help="lat_min,lat_max,lon_min,lon_max in degrees")
    parser.add_argument("--min-magnitude", type=float)
    parser.add_argument("--max-magnitude", type=float)
    parser.add_argument("--min-depth", type=float, help="km")
    parser.add_argument("--max-depth", type=float, help="km")
    parser.add_argument(
        "--event-type", help="FDSN eventtype filter (default: every type; the store keeps all)"
    )
    parser.add_argument("--out", type=Path, required=True, help="catalog store to write/resume")
    parser.add_argument(
        "--block", default="month", help="day, week, month (default), year or a number of days"
    )
    parser.add_argument("--page-size", type=int, default=10000, help="rows per request")
    parser.add_argument(
        "--max-block-events", type=int, default=20000, help="split blocks with more rows"
    )
    parser.add_argument("--max-retries", type=int, default=6)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument(
        "--rate-limit", type=float, help="requests per second (default: the service's header)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    return parser


def _cmd_fetch(args: argparse.Namespace) -> int:
    """Run ``framecast quake fetch``: 0 when done, 1 when the service failed.

    Bad options raise ValueError (the CLI prints it as a usage error).
    """
    from framecast.quake.catalog.fetch import FetchError, FetchQuery, fetch_catalog
    from framecast.quake.catalog.region import parse_region

    query = FetchQuery(
        start=args.start,
        end=args.end,
        region=parse_region(args.region) if args.region else None,
        min_magnitude=args.min_magnitude,
        max_magnitude=args.max_magnitude,
        min_depth=args.min_depth,
        max_depth=args.max_depth,
        event_type=args.event_type,
    )
    try:
        report = fetch_catalog(
            args.provider,
            query,
            args.out,
            block=args.block,
            page_size=args.page_size,
            max_block_events=args.max_block_events,
            max_retries=args.max_retries,
            timeout=args.timeout,
            rate_limit=args.rate_limit,
            progress=not args.quiet,
        )
    except FetchError as error:
        print(f"framecast quake fetch: error: {error}", file=sys.stderr)
        return 1
    print(f"{args.out}: {report.summary()}")
    return 0


def _check_out(args: argparse.Namespace, *inputs: str) -> None:
    """Refuse ``--out`` when it is one of the ``inputs`` options, or exists without --overwrite.

    Raises
    ------
    ValueError
        One line naming the file; nothing is read or written then.
    """
    from framecast.runfolder import check_output_file

    given = [(option, getattr(args, option[2:].replace("-", "_"), None)) for option in inputs]
    check_output_file(args.out, inputs=given, overwrite=args.overwrite)


def _notice(line: str) -> None:
    """A line about the input (duplicates removed, a partial bin dropped), on stderr."""
    print(line, file=sys.stderr)


def _cmd_grid(args: argparse.Namespace) -> int:
    _check_out(args, "--catalog")
    from framecast.quake.catalog.readers import load_catalog
    from framecast.quake.frames import check_frames_size, grid_catalog
    from framecast.quake.grid import Grid

    grid = Grid.from_region(args.region, args.cell, args.unit)  # checked before reading
    check_frames_size(grid, args.start, args.end, args.bin_days, args.channels)
    # the notices are printed once the frames are written: a refused catalog (no event left,
    # say) used to print them before its error, two lines or more for one refusal (issue 23)
    notices: list[str] = []
    catalog = load_catalog(args.catalog, log=notices.append)
    frames = grid_catalog(
        catalog,
        grid,
        start=args.start,
        end=args.end,
        bin_days=args.bin_days,
        mc=args.mc,
        channels=args.channels,
        log=notices.append,
    )
    frames.save(args.out)
    for line in notices:
        _notice(line)
    print(
        f"{args.out}: {frames.num_bins} bins x {len(frames.channels)} channels "
        f"{list(frames.channels)} on a {grid.shape[0]}x{grid.shape[1]} grid, "
        f"{len(frames.events)} events with M >= {args.mc:g}"
    )
    return 0


def _parameter_values(items: list[str], what: str) -> dict[str, float]:
    """``name=value`` items (ETAS parameters) as a dict of floats; one line for a bad item."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        try:
            values[name.strip()] = float(raw)
        except ValueError:
            raise ValueError(f"{what} takes name=value (log10_tau=3.5), got {item!r}") from None
        if not sep or not name.strip():
            raise ValueError(f"{what} takes name=value (log10_tau=3.5), got {item!r}")
    return values


def _etas_parameters(overrides: list[str], mc: float) -> Any:
    from framecast.quake.etas.parameters import ETASParameters

    return ETASParameters.from_dict({"mc": mc, **_parameter_values(overrides, "an ETAS parameter")})


def _cmd_etas_simulate(args: argparse.Namespace) -> int:
    _check_out(args)
    from framecast.quake.catalog.region import parse_region
    from framecast.quake.catalog.store import write_catalog
    from framecast.quake.etas.region import box_region
    from framecast.quake.etas.simulate import simulate_etas

    params = _etas_parameters(args.overrides, args.mc)
    catalog = simulate_etas(
        params,
        box_region(parse_region(args.region)),
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
    if args.out:
        _check_out(args, "--catalog")
    from framecast.quake.catalog.readers import load_catalog
    from framecast.quake.catalog.region import parse_region
    from framecast.quake.etas.fit import fit_etas
    from framecast.quake.etas.likelihood import PairCutoffs
    from framecast.quake.etas.region import box_region

    fixed = _parameter_values(args.fix, "--fix")
    catalog = load_catalog(args.catalog, log=_notice)
    fit = fit_etas(
        catalog,
        region=box_region(parse_region(args.region)),
        mc=args.mc,
        start=args.start,
        end=args.end,
        auxiliary_start=args.auxiliary_start,
        fixed=fixed or None,
        max_branching_ratio=args.max_branching_ratio,
        cutoffs=PairCutoffs(
            coppersmith_multiplier=None if args.pair_cutoff <= 0 else args.pair_cutoff,
            max_days=args.max_pair_days,
        ),
        progress=None if args.quiet else lambda line: print(line, file=sys.stderr),
    )
    text = json.dumps(dataclasses.asdict(fit), indent=2, default=str)
    if args.out:
        with atomic_write(args.out) as partial:
            partial.write_text(text)
    print(fit.summary())
    for warning in fit.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from framecast.cluster import check_address, session
    from framecast.quake.experiment import load_experiment, run_experiment
    from framecast.quake.recipe import read_recipe

    if args.cluster is not None:
        check_address(args.cluster)
    experiment = load_experiment(args.config, args.overrides)
    with session(args.cluster):  # the seed sweep and the ETAS simulations run as its tasks
        run_experiment(
            experiment, restart=args.restart, recipe=read_recipe(args.config, args.overrides)
        )
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from framecast.quake.frames import SeismicityFrames
    from framecast.quake.rates import RateForecast
    from framecast.quake.report import write_quake_report
    from framecast.quake.scores.registry import ScoreSettings

    settings = ScoreSettings(  # refused before any file is read
        num_simulations=args.num_simulations,
        seed=args.seed,
        binary_magnitude=args.binary_magnitude,
    )
    frames = SeismicityFrames.load(args.frames)
    forecasts = {Path(p).stem: RateForecast.load(p) for p in args.forecast}
    reference = Path(args.reference).stem
    forecasts.setdefault(reference, RateForecast.load(args.reference))
    for folder in args.import_csep:
        from framecast.quake.scores.pycsep_io import import_csep

        key = Path(folder).name or str(folder)
        if key in forecasts:
            raise ValueError(f"--import {folder!r}: a forecast named {key!r} is already given")
        forecasts[key] = import_csep(folder, like=forecasts[reference], name=key)
    report = write_quake_report(
        forecasts,
        frames,
        args.out,
        reference=reference,
        baselines=[Path(p).stem for p in args.baseline],
        score_settings=settings,
    )
    print(f"report: {report}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from framecast.quake.rates import RateForecast

    forecast = RateForecast.load(args.forecast)
    if args.format == "netcdf":
        from framecast.quake.netcdf_io import export_netcdf

        print(f"NetCDF forecast (CF-1.8): {export_netcdf(forecast, args.out)}")
        return 0
    from framecast.quake.scores.pycsep_io import export_csep, testing_mask

    mask = testing_mask(forecast)  # cells outside the run's polygon are zero in every window
    paths = export_csep(forecast, args.out, mask=mask)
    outside = int(mask.size - mask.sum())
    print(
        f"{len(paths)} pyCSEP forecast files in {args.out}"
        + (f" ({outside} cells outside the testing region, flag 0)" if outside else "")
    )
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
    p.add_argument("--burn-in-days", type=float, default=BURN_IN_DAYS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="catalog store (.h5)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("overrides", nargs="*", help="ETAS parameters, e.g. log10_mu=-6.0 a=1.8")
    p.set_defaults(func=_cmd_etas_simulate)

    p = sub.add_parser("etas-fit", help="fit ETAS by maximum likelihood")
    p.add_argument("--catalog", required=True, help="catalog file (csv, FDSN text, QuakeML, .h5)")
    p.add_argument("--region", required=True, help="lat_min,lat_max,lon_min,lon_max")
    p.add_argument("--mc", type=float, required=True)
    p.add_argument("--start", required=True, help="first day of the target period")
    p.add_argument("--end", required=True, help="end of the target period (excluded)")
    p.add_argument("--auxiliary-start", help="earlier events act as sources only")
    p.add_argument(
        "--fix", action="append", default=[], help="hold a parameter: name=value (repeat)"
    )
    p.add_argument(
        "--max-branching-ratio", type=float, help="keep the fit below this branching ratio"
    )
    p.add_argument(
        "--pair-cutoff",
        type=float,
        default=PAIR_CUTOFF,
        help="keep triggering pairs within this many rupture lengths (0: no cut-off)",
    )
    p.add_argument("--max-pair-days", type=float, help="keep pairs less than this many days apart")
    p.add_argument("--quiet", action="store_true", help="no progress line per iteration")
    p.add_argument("--out", help="write the fit (JSON) here")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=_cmd_etas_fit)


def add_quake_commands(sub: Any) -> None:
    """Add ``framecast quake`` and its subcommands to the top-level subparsers."""
    quake = sub.add_parser("quake", help="earthquake forecasting: fetch, grid, ETAS, run, evaluate")
    qsub = quake.add_subparsers(dest="quake_command", required=True)

    p = qsub.add_parser("fetch", help="fetch an FDSN catalog into an HDF5 store (resumable)")
    _add_fetch_arguments(p)
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
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=_cmd_grid)

    _add_etas_commands(qsub)

    from framecast.quake.radio.cli import add_radio_commands

    add_radio_commands(qsub)

    p = qsub.add_parser("run", help="catalog -> frames -> network -> forecasts -> report")
    p.add_argument("--config", required=True, help="experiment YAML (configs/quake/*.yaml)")
    p.add_argument("--restart", action="store_true", help="discard the out_dir's earlier run")
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help=CLUSTER_HELP.format(jobs="seed sweep's networks and the ETAS simulation chunks"),
    )
    p.add_argument("overrides", nargs="*", help="section.key=value")
    p.set_defaults(func=_cmd_run)

    p = qsub.add_parser("evaluate", help="score rate forecasts and write a Markdown report")
    p.add_argument("--frames", required=True, help="frames file the forecasts were made on")
    p.add_argument("--forecast", action="append", default=[], help="forecast .h5 (repeat)")
    p.add_argument(
        "--import",
        dest="import_csep",
        action="append",
        default=[],
        metavar="FOLDER",
        help="a forecast made elsewhere, as pyCSEP gridded-forecast .dat files (repeat)",
    )
    p.add_argument("--reference", required=True, help="the reference forecast .h5")
    p.add_argument(
        "--baseline", action="append", default=[], help="another forecast to compare with (ETAS)"
    )
    p.add_argument("--binary-magnitude", type=float, help="M of the ROC/Molchan events")
    p.add_argument("--num-simulations", type=int, default=NUM_SIMULATIONS)
    p.add_argument("--seed", type=int, default=SCORE_SEED)
    p.add_argument("--out", type=Path, required=True, help="report folder")
    p.set_defaults(func=_cmd_evaluate)

    p = qsub.add_parser(
        "export", help="write a forecast as pyCSEP gridded-forecast files or CF NetCDF"
    )
    p.add_argument("--forecast", required=True)
    p.add_argument(
        "--format",
        choices=["csep", "netcdf"],
        default="csep",
        help="csep: a folder of pyCSEP files; netcdf: one CF-1.8 .nc file (xarray, GIS)",
    )
    p.add_argument("--out", type=Path, required=True, help="folder (csep) or .nc file (netcdf)")
    p.set_defaults(func=_cmd_export)

    p = qsub.add_parser(
        "demo", help="the whole chain on a simulated ETAS catalog (no internet needed)"
    )
    p.add_argument("--out", type=Path, default=Path("runs/quake-demo"))
    p.add_argument("--minutes", type=float, default=4.0, help="network training budget")
    p.add_argument("--restart", action="store_true")
    p.set_defaults(func=_cmd_demo)
