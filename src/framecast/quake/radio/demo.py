"""``framecast quake radio demo``: does a synthetic radio precursor survive the whole chain?

An ETAS catalog (the quake demo's parameters and region, on a coarser
16 x 16 grid of 0.3 degree cells), daily frames from 1990 to 2016, and a
synthetic VLF receiver (:mod:`.synthetic`) whose 8-14 kHz band rises by
12 dB during the day before 80 % of the M >= 3 events (mc + 1), over a
diurnal swing, noise and 5 % outages. The same ConvLSTM rate network
trains with, without and with the radio series shuffled in time: same
seed, same initial weights of the ConvLSTM, same batches and the same
number of steps (``steps``), then forecasts 2010-2015 one day ahead; the
report gives the information gain of each radio network over the one
without, and of the real radio over the shuffled one, with 95 % 30-day
block-bootstrap intervals.

The radio reaches the network through the ``log_rate`` injection of
:mod:`framecast.models.side_inputs`: each bin's side image (2 x 16 rows x
24 hourly slots), averaged over 4-hour blocks, goes through a small MLP to
2 numbers, and a linear map of them, starting at zero, shifts the log rate
of the next day's whole map. The ConvLSTM itself is the one without radio:
the radio can only say "more (or fewer) events tomorrow", which is all the
synthetic precursor knows. ``seed`` changes the catalog, the receiver, the
networks' initial weights and batches, and the shuffle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framecast.quake.defaults import BURN_IN_DAYS
from framecast.quake.experiment import QuakeExperiment
from framecast.quake.radio.experiment import AuxSection, compare_aux
from framecast.quake.settings import experiment_from_dict

DEMO_STEPS = 1000
"""Training steps of each of the three networks (equal, so no network is starved)."""


def radio_demo_settings(
    out_dir: Path,
    steps: int = DEMO_STEPS,
    synthetic: dict[str, Any] | None = None,
    seed: int = 0,
) -> tuple[QuakeExperiment, AuxSection]:
    """The demo's experiment and aux settings (sized for 2 cores and 10 minutes).

    Raises
    ------
    ValueError
        ``steps`` or ``seed`` not a non-negative integer (steps >= 1), or a
        synthetic option out of range.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    settings: dict[str, Any] = {
        "out_dir": str(out_dir),
        "catalog": {"simulate": True, "seed": seed, "burn_in_days": BURN_IN_DAYS},
        "frames": {
            "region": "31.0,35.8,-119.0,-114.2",
            "cell": 0.3,
            "unit": "deg",
            "start": "1990-01-01",
            "end": "2016-01-01",
            "bin_days": 1.0,
            "mc": 2.0,
            "channels": ["count"],
        },
        "periods": {"val_start": "2008-01-01", "test_start": "2010-01-01"},
        "network": {
            "model": {
                "name": "predrnn",
                "options": {
                    "cell": "convlstm",
                    "hidden_channels": 16,
                    "num_layers": 1,
                    "kernel_size": 3,
                    "patch_size": 4,
                    "output_activation": "exp",
                },
            },
            "data": {"n_context": 8, "batch_size": 32},
            "optim": {"lr": 2e-3, "scheduler": "none"},
            "train": {
                "max_steps": steps,
                "max_minutes": None,
                "val_every_n_steps": 100,
                "limit_val_batches": 1.0,
                "log_every_n_steps": 50,
                "seed": seed,
            },
        },
        "etas": {"mode": "none"},
        "evaluation": {"binary_magnitude": 3.0, "num_simulations": 200, "seed": 0, "maps": 2},
    }
    experiment = experiment_from_dict(settings)
    aux = AuxSection(  # checked as it is built
        synthetic={"seed": seed, **(synthetic or {})},
        injection="log_rate",
        encoder="mlp",
        encoder_options={"pool_input": [1, 4], "hidden": 16},
        side_dim=2,
        shuffle_seed=seed + 1,
    )
    return experiment, aux


def run_radio_demo(
    out_dir: Path,
    steps: int = DEMO_STEPS,
    synthetic: dict[str, Any] | None = None,
    seed: int = 0,
    restart: bool = False,
) -> Path:
    """Run the demo comparison; returns the report's path."""
    experiment, aux = radio_demo_settings(out_dir, steps, synthetic, seed)
    return compare_aux(experiment, aux, restart=restart)
