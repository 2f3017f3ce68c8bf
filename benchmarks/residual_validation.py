"""Validation-only design study: does a learned correction move ETAS forward on held-out data?

Issue 21, item 8 asks for the network's route past the strongest ETAS, chosen
on training and validation data only and frozen before any test. This script
never forecasts the test period. For one experiment file (default the frozen
recipe) it builds the run's frames and ETAS channel (first-order or
simulated, ``etas_input.forecast``), trains each candidate correction with
the run's own engine, loss, data and early stopping, and prints the Poisson
log-likelihood of the validation bins (``periods.val_start`` to
``periods.test_start``, testing-region cells only) of:

* the ETAS channel alone (the residual's starting point), and
* each candidate: ``convlstm`` (the recipe's network) or ``head_only`` (the
  1x1 head on the current frame), at each learning rate and seed given.

A candidate that scores below its own starting point has learned nothing
that carries over from the training years to the validation years::

    .venv/bin/python benchmarks/residual_validation.py --channel first_order \\
        --models convlstm head_only --lrs 1e-3 1e-4 --seeds 0

Runs live in ``runs/quake/residual_validation_<channel>/`` and are reused.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from framecast.checkpoint import load
from framecast.quake.experiment import (
    _claim_out_dir,
    load_experiment,
    network_channels,
    stage_catalog,
    stage_etas_input,
    stage_etas_parameters,
    stage_frames,
    train_network,
)
from framecast.quake.network import network_forecast
from framecast.quake.rates import RateForecast
from framecast.quake.residual_ablations import poisson_log_likelihood

FROZEN = "configs/quake/frozen/etas_residual_v1.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=FROZEN)
    parser.add_argument("--channel", choices=("first_order", "simulated"), default="first_order")
    parser.add_argument(
        "--models", nargs="+", choices=("convlstm", "head_only"), default=["convlstm"]
    )
    parser.add_argument("--lrs", nargs="+", type=float, default=[1e-3])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--val-every", type=int, default=100)
    args = parser.parse_args()

    out = Path(f"runs/quake/residual_validation_{args.channel}")
    experiment = load_experiment(
        args.config,
        [f"out_dir={out}", f"etas_input.forecast={args.channel}", "seeds=[]", "ablations=[]"],
    )
    log = print
    _claim_out_dir(experiment, False, log)
    catalog = stage_catalog(experiment, out, log)
    frames = stage_frames(experiment, catalog, out, log)
    baseline = stage_etas_parameters(experiment, catalog, frames, out, log)
    informed = stage_etas_input(experiment, catalog, frames, baseline, out, log)
    mask = experiment.cell_mask()
    val = frames.bin_index(experiment.periods.val_start)
    test = frames.bin_index(experiment.periods.test_start)
    counts = frames.channel("count")[val:test] * mask  # [V, H, X]
    channel = RateForecast.load(out / "etas_channel.h5").rates  # [T, H, X]: ETAS of bin k + 1
    start = poisson_log_likelihood(counts, channel[val - 1 : test - 1] * mask)
    rows = [("ETAS channel alone", "", "", "", start)]
    for model in args.models:
        for lr in args.lrs:
            for seed in args.seeds:
                config = experiment.network.training_config(frames)
                if model == "head_only":
                    config.model.options["model"] = "persistence"
                    config.model.options["options"] = {}
                config.optim = dataclasses.replace(config.optim, lr=lr)
                name = f"{model}_lr{lr:g}_val{args.val_every}_seed{seed}"
                config.train = dataclasses.replace(
                    config.train, seed=seed, val_every_n_steps=args.val_every, run_name=name
                )
                checkpoint = train_network(config, out / "candidates" / f"{name}.ckpt", log)
                loaded, config = load(checkpoint)
                forecast = network_forecast(
                    loaded,
                    informed,
                    channels=network_channels(experiment),
                    n_context=config.data.n_context,
                    first_bin=val,
                    stop_bin=test,
                    name=name,
                )
                score = poisson_log_likelihood(counts, forecast.rates * mask)
                rows.append((model, f"{lr:g}", str(args.val_every), str(seed), score))
    events = int(counts.sum())
    print(
        f"\nvalidation {experiment.periods.val_start} to {experiment.periods.test_start}: "
        f"{events} events; ETAS channel: {args.channel}; config {args.config}\n"
    )
    print("| candidate | lr | val every | seed | validation log L | minus ETAS alone (nats/eq) |")
    print("|---|---:|---:|---:|---:|---:|")
    for model, lr, every, seed, score in rows:
        print(
            f"| {model} | {lr} | {every} | {seed} | {score:,.2f} | "
            f"{(score - start) / max(events, 1):+.4f} |"
        )
    record = out / "residual_validation.json"
    previous = json.loads(record.read_text()) if record.is_file() else []
    previous += [
        dict(zip(("model", "lr", "val_every", "seed", "log_l"), r, strict=True)) for r in rows
    ]
    record.write_text(json.dumps(previous, indent=1))


if __name__ == "__main__":
    main()
