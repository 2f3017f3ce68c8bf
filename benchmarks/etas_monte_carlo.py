"""Monte Carlo spread of the simulated ETAS baseline's log-likelihood, by simulation count.

Reads a finished ``framecast quake run`` folder (its ``etas_fit.json``,
``catalog.h5``, ``frames.h5`` and ``forecasts/etas_first_order.h5``), simulates
the test period's forecast again with several seeds at each simulation count,
and prints the log-likelihood of each, its standard deviation across seeds
(the Monte Carlo standard error of one forecast) and the wall time, measured
in this run. The forecast is the run's: exact first generation plus simulated
cascades (:meth:`~framecast.quake.catalog_forecast.CatalogForecast.expected_rates`).

    python benchmarks/etas_monte_carlo.py runs/quake/sanjacinto_etas_residual \
        --counts 1000 10000 50000 --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from framecast.quake.catalog.store import CatalogStore
from framecast.quake.experiment import load_experiment, region_history
from framecast.quake.frames import SeismicityFrames
from framecast.quake.rates import RateForecast
from framecast.quake.scores import observed_from_catalog
from framecast.quake.scores.likelihood import log_likelihood


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished quake run folder")
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()

    import json

    from framecast.quake.etas.background import BackgroundMap
    from framecast.quake.etas.parameters import ETASParameters
    from framecast.quake.etas.simulated_forecast import simulated_etas_forecast

    experiment = load_experiment(args.run / "experiment.yaml")
    frames = SeismicityFrames.load(args.run / "frames.h5")
    catalog = CatalogStore(args.run / "catalog.h5").read()
    saved = json.loads((args.run / "etas_fit.json").read_text())
    params = ETASParameters.from_dict(saved["params"])
    region = experiment.testing_region()
    background = BackgroundMap.from_dict(saved["background"], frames.grid, region)
    first_order = RateForecast.load(args.run / "forecasts" / "etas_first_order.h5")
    history = region_history(experiment, catalog, frames.mc)
    observed = observed_from_catalog(frames.events, first_order)
    mask = experiment.cell_mask()
    print(f"first order: log L {log_likelihood(first_order, observed).sum():.2f}")
    print("simulations  seed  log L      seconds")
    for count in args.counts:
        values = []
        for seed in args.seeds:
            began = time.perf_counter()
            simulated = simulated_etas_forecast(
                params,
                history,
                frames.grid,
                first_order.window_start,
                first_order.window_days,
                num_simulations=count,
                seed=seed,
                region=region,
                background=background,
            )
            rates = simulated.expected_rates(first_order=first_order)
            if mask is not None:
                rates = type(rates)(**{**rates.__dict__, "rates": rates.rates * mask})
            seconds = time.perf_counter() - began
            value = float(log_likelihood(rates, observed).sum())
            values.append(value)
            print(f"{count:>11}  {seed:>4}  {value:9.2f}  {seconds:7.1f}")
        spread = np.std(values, ddof=1) if len(values) > 1 else float("nan")
        print(
            f"{count:>11}  mean {np.mean(values):.2f}, sd across seeds {spread:.2f} nats "
            f"({spread / len(observed):.4f} per event, {len(observed)} events)"
        )


if __name__ == "__main__":
    main()
