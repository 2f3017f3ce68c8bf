"""The ETAS baselines of a run beside the main one: Monte Carlo replicates and the uniform fit.

Issue 21 asks that every forecast be compared with every ETAS variant and
that the simulated baseline's Monte Carlo error enter the intervals:

* :func:`stage_simulated_replicates` simulates the test period
  ``etas.replicates`` times with independent seeds, ``etas.num_simulations``
  catalogs per window each (:mod:`framecast.quake.etas.converged_forecast`),
  one file per replicate under ``forecasts/etas_replicates/`` so that an
  interrupted run keeps the finished ones. The run's ``etas`` forecast is
  their mean; their spread is the Monte Carlo error of one replicate.
* :func:`stage_uniform_variant`: with a declustered background, ETAS is also
  fitted with a uniform background on the same events, and its first-order
  forecast (``etas_uniform_first_order``) shows what the background map is
  worth. It is not simulated: a uniform fit can be supercritical (San
  Jacinto's is, branching ratio 1.50), and its cascades would not end.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

from framecast.quake.catalog.events import Catalog
from framecast.quake.rates import RateForecast
from framecast.quake.settings import Log
from framecast.quake.stage_files import reuse_or_build

if TYPE_CHECKING:
    from framecast.quake.catalog_forecast import CatalogForecast
    from framecast.quake.frames import SeismicityFrames
    from framecast.quake.settings import QuakeExperiment
    from framecast.quake.stages import EtasBaseline

REPLICATES_FOLDER = "forecasts/etas_replicates"
UNIFORM_FIT = "etas_fit_uniform.json"
UNIFORM_KEY = "etas_uniform_first_order"


def replicate_paths(out: Path, replicates: int) -> list[Path]:
    """``forecasts/etas_replicates/replicate_<r>.h5`` for ``r = 0 .. replicates - 1``."""
    return [out / REPLICATES_FOLDER / f"replicate_{r}.h5" for r in range(replicates)]


def stage_simulated_replicates(
    experiment: QuakeExperiment,
    baseline: EtasBaseline,
    history: Catalog,
    first_order: RateForecast,
    out: Path,
    log: Log,
    *,
    keep_catalogs: int,
) -> tuple[list[RateForecast], CatalogForecast]:
    """Simulate (or reuse) every replicate of the simulated ETAS forecast.

    Replicate 0 also writes ``forecasts/etas_catalogs.h5``, the catalogs of
    its first ``keep_catalogs`` simulations (CSEP's catalog-based tests),
    before its rates, so a replicate whose rates exist has its catalogs too.

    Returns
    -------
    replicates : list of RateForecast
        Masked like ``first_order`` (zero outside the testing region).
    catalogs : CatalogForecast
    """
    from framecast.quake.catalog_forecast import CatalogForecast
    from framecast.quake.etas.converged_forecast import replicate_seed, simulated_rate_forecast

    section = experiment.etas
    catalogs_path = out / "forecasts" / "etas_catalogs.h5"
    region = None if baseline.background is None else baseline.background.region
    mask = experiment.cell_mask()

    def simulate(r: int, path: Path) -> RateForecast:
        log(
            f"forecast etas: replicate {r + 1}/{section.replicates}, "
            f"{section.num_simulations:,} simulations per window"
        )
        forecast, kept = simulated_rate_forecast(
            baseline.params,
            history,
            first_order,
            num_simulations=section.num_simulations,
            seed=replicate_seed(section.seed, r),
            keep_catalogs=keep_catalogs if r == 0 else 0,
            region=region,
            background=baseline.background,
            progress=log,
            name=f"{baseline.name}, simulated",
        )
        if kept is not None:
            kept.save(catalogs_path)
        if mask is not None:
            forecast = dataclasses.replace(forecast, rates=forecast.rates * mask)
        forecast = dataclasses.replace(
            forecast,
            details=f"{baseline.details}; replicate {r} of {section.replicates}: "
            + forecast.details,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        forecast.save(path)
        return forecast

    def replicate(r: int, path: Path) -> RateForecast:
        build = functools.partial(simulate, r)
        note = f"replicate {r}"
        return reuse_or_build(
            path, "forecast etas", log, load=RateForecast.load, build=build, note=lambda _: note
        )

    paths = replicate_paths(out, section.replicates)
    return [replicate(r, p) for r, p in enumerate(paths)], CatalogForecast.load(catalogs_path)


def mean_of_replicates(
    replicates: list[RateForecast], baseline: EtasBaseline, num_simulations: int
) -> RateForecast:
    """The run's ``etas`` forecast: the mean of the replicates."""
    from framecast.quake.etas.converged_forecast import mean_forecast

    return mean_forecast(
        replicates,
        name=f"{baseline.name}, simulated",
        details=(
            f"{baseline.details}; the mean of {len(replicates)} independent replicates of "
            f"{num_simulations:,} simulated catalogs per window (exact first-order expectation "
            "+ simulated mean of the cascades inside each window)"
        ),
    )


def stage_uniform_variant(
    experiment: QuakeExperiment,
    catalog: Catalog,
    frames: SeismicityFrames,
    windows: object,
    b_value: float,
    out: Path,
    log: Log,
) -> RateForecast:
    """First-order forecast of ETAS with a uniform background (``etas_fit_uniform.json``).

    Fitted on the same events, periods and region as the run's declustered
    fit; only the background differs.
    """
    from framecast.quake.etas.background import BackgroundMap
    from framecast.quake.etas.forecast import etas_rate_forecast
    from framecast.quake.etas.parameters import ETASParameters
    from framecast.quake.stages import fit_etas_stage, region_history

    region = experiment.testing_region()
    path = out / UNIFORM_FIT
    fit_start = experiment.etas.fit_start or experiment.frames.start
    fit_end = getattr(experiment.periods, experiment.etas.fit_end)

    def fit(path: Path) -> ETASParameters:
        uniform = dataclasses.replace(
            experiment, etas=dataclasses.replace(experiment.etas, background="uniform")
        )
        return fit_etas_stage(uniform, catalog, frames, region, fit_start, fit_end, path, log)[0]

    params = reuse_or_build(
        path,
        "ETAS, uniform background",
        log,
        load=lambda path: ETASParameters.from_dict(json.loads(path.read_text())["params"]),
        build=fit,
    )
    eta = params.branching_ratio()
    history = region_history(experiment, catalog, frames.mc)
    forecast = etas_rate_forecast(
        params,
        history,
        frames.grid,
        windows,
        frames.bin_days,
        name="ETAS (fitted, uniform background), first order",
        background=BackgroundMap.uniform(frames.grid, region),
    )
    details = (
        f"fitted on {fit_start} to {fit_end} with a uniform background (branching ratio "
        f"{eta:.3f}); first order: background + direct aftershocks of past events"
    )
    return dataclasses.replace(forecast, b_value=b_value, details=details)
