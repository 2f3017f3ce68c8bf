"""The network trained once per seed on the same frames and ETAS stage, scored seed by seed.

One lucky initialisation can beat ETAS where another does not, so issue 13
asks for the spread over seeds. :func:`stage_seed_sweep` trains the network
of ``framecast quake run`` once per seed of ``seeds:`` (``train.seed``: the
initial weights and the order of the training windows), reusing the
catalog, frames, ETAS parameters and ETAS channel of the run; the seed of
the run's own network reuses ``network.ckpt``. Each seed's files live under
``seeds/seed_<s>/`` (``network.ckpt``, ``network.h5``, ``train/``), so a
finished seed is never retrained and an interrupted one resumes from its
last checkpoint.

:func:`score_seeds` scores every seed's forecast (information gain per
earthquake over ETAS and over the reference, Rhoades et al. 2011 eq. 17,
with 30-day block-bootstrap intervals; the Poisson joint log-likelihood and
the N-test, Zechar et al. 2010) and :func:`seed_sweep_markdown` writes the
report's table with the spread.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from framecast.cluster import current as current_cluster
from framecast.files import atomic_write
from framecast.quake.rates import RateForecast
from framecast.quake.settings import Log
from framecast.quake.stage_files import stage_forecast
from framecast.quake.stages import seed_dir

if TYPE_CHECKING:
    from framecast.quake.frames import SeismicityFrames
    from framecast.quake.settings import QuakeExperiment

BLOCK_DAYS = 30.0
"""Block length of the seed table's bootstrap intervals (the report's decisive interval)."""


@dataclass(frozen=True)
class GainInterval:
    """Information gain per earthquake of a forecast over a baseline, with its interval.

    Attributes
    ----------
    information_gain : float
        Nats per earthquake (Rhoades et al. 2011, eq. 17).
    lower, upper : float
        The block-bootstrap percentile interval.
    """

    information_gain: float
    lower: float
    upper: float

    @property
    def verdict(self) -> str:
        """ "above 0", "below 0" or "includes 0" (NaN bounds: "no interval")."""
        if math.isnan(self.lower) or math.isnan(self.upper):
            return "no interval"
        if self.lower > 0:
            return "above 0"
        if self.upper < 0:
            return "below 0"
        return "includes 0"


@dataclass(frozen=True)
class SeedScore:
    """The scores of one seed's network forecast.

    Attributes
    ----------
    seed : int
    log_likelihood : float
        Poisson joint log-likelihood over every window and cell, nats.
    n_forecast : float
        Expected number of events over the test period.
    n_quantiles : tuple of float
        The N-test's delta1 = P(X >= n_obs) and delta2 = P(X <= n_obs).
    n_passed : bool
        Two-sided N-test at the given alpha.
    over_etas : GainInterval or None
        Gain over the ETAS forecast (None when the run has no ETAS).
    over_reference : GainInterval
        Gain over the smoothed-seismicity reference.
    """

    seed: int
    log_likelihood: float
    n_forecast: float
    n_quantiles: tuple[float, float]
    n_passed: bool
    over_etas: GainInterval | None
    over_reference: GainInterval


def score_seeds(
    networks: dict[int, RateForecast],
    reference: RateForecast,
    etas: RateForecast | None,
    observed: Any,
    *,
    alpha: float = 0.05,
    seed: int = 0,
    block_days: float = BLOCK_DAYS,
) -> list[SeedScore]:
    """Score the network forecast of every seed.

    Parameters
    ----------
    networks : dict of int to RateForecast
        The test-period forecast of each seed's network.
    reference, etas : RateForecast
        The smoothed-seismicity reference and the ETAS forecast (None: no ETAS column).
    observed : ObservedEvents
        The target events on the forecasts' bins.
    alpha : float
        Of the N-test and the intervals (1 - confidence).
    seed : int
        Of the bootstrap resamples (the same for every network seed).
    block_days : float
        Block length of the bootstrap.

    Returns
    -------
    list of SeedScore
        In the order of ``networks``.

    Raises
    ------
    ValueError
        No network forecast, or forecasts on other bins than ``observed``.
    """
    from framecast.quake.scores import bootstrap_information_gain, log_likelihood, n_test

    if not networks:
        raise ValueError("no seed's network forecast to score")

    def gain(forecast: RateForecast, baseline: RateForecast) -> GainInterval:
        interval = bootstrap_information_gain(
            forecast, baseline, observed, block_days=block_days, alpha=alpha, seed=seed
        )
        return GainInterval(interval.information_gain, interval.lower, interval.upper)

    scores = []
    for network_seed, forecast in networks.items():
        test = n_test(forecast, observed, alpha=alpha)
        scores.append(
            SeedScore(
                seed=int(network_seed),
                log_likelihood=float(log_likelihood(forecast, observed).sum()),
                n_forecast=float(forecast.rates.sum()),
                n_quantiles=(float(test.quantile[0]), float(test.quantile[1])),
                n_passed=bool(test.passed),
                over_etas=None if etas is None else gain(forecast, etas),
                over_reference=gain(forecast, reference),
            )
        )
    return scores


def _interval(gain: GainInterval | None) -> str:
    if gain is None:
        return "-"
    return f"{gain.information_gain:+.3f} [{gain.lower:+.3f}, {gain.upper:+.3f}]"


def _spread(values: Sequence[float], digits: int = 3) -> str:
    array = np.asarray(values, dtype=np.float64)
    mean, low, high = (f"{v:+,.{digits}f}" for v in (array.mean(), array.min(), array.max()))
    return f"mean {mean}, min {low}, max {high}"


def _verdicts(gains: Sequence[GainInterval]) -> str:
    counts = {
        v: sum(g.verdict == v for g in gains) for v in dict.fromkeys(g.verdict for g in gains)
    }
    if len(counts) == 1:
        return f"every seed's interval: {next(iter(counts))}"
    return "; ".join(f"{n} of {len(gains)} seeds {verdict}" for verdict, n in counts.items())


def seed_sweep_markdown(
    scores: Sequence[SeedScore],
    *,
    n_observed: int,
    etas_name: str | None,
    reference_name: str,
    block_days: float = BLOCK_DAYS,
    alpha: float = 0.05,
) -> str:
    """The report's "Seed sweep" block: one row per seed, then the spread."""
    confidence = f"{100 * (1 - alpha):g} %"
    lines = [
        "## Seed sweep",
        "",
        f"The network trained once per seed (train.seed: initial weights and order of the "
        f"training windows) on the same frames and ETAS stage; {n_observed} target events. "
        f"Information gains in nats per earthquake with {confidence} {block_days:g}-day "
        f"block-bootstrap intervals; over ETAS = over {etas_name or 'no ETAS (not run)'}, "
        f"over reference = over {reference_name}. N-test: delta1 / delta2 "
        f"(passed when both >= {alpha / 2:g}).",
        "",
        "| seed | gain over ETAS | gain over reference | log L (nats) | N forecast | N-test |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        lines.append(
            f"| {s.seed} | {_interval(s.over_etas)} | {_interval(s.over_reference)} | "
            f"{s.log_likelihood:,.1f} | {s.n_forecast:.1f} | "
            f"{s.n_quantiles[0]:.3f} / {s.n_quantiles[1]:.3f} {'✓' if s.n_passed else '✗'} |"
        )
    lines += ["", f"Spread over {len(scores)} seeds:", ""]
    etas_gains = [s.over_etas for s in scores if s.over_etas is not None]
    if etas_gains:
        lines.append(
            f"- gain over ETAS: {_spread([g.information_gain for g in etas_gains])}; "
            f"{_verdicts(etas_gains)}."
        )
    reference_gains = [s.over_reference for s in scores]
    lines += [
        f"- gain over reference: {_spread([g.information_gain for g in reference_gains])}; "
        f"{_verdicts(reference_gains)}.",
        f"- log L: {_spread([s.log_likelihood for s in scores], digits=1)} nats.",
        f"- N-test passed by {sum(s.n_passed for s in scores)} of {len(scores)} seeds.",
    ]
    return "\n".join(lines)


def write_seed_scores(scores: Sequence[SeedScore], path: Path) -> Path:
    """Write the seed table as JSON (NaN becomes null)."""

    def plain(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    document = {"seeds": [plain(dataclasses.asdict(s)) for s in scores]}
    with atomic_write(path) as partial:
        partial.write_text(json.dumps(document, indent=2))
    return path


def stage_seed_sweep(
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    network_frames: SeismicityFrames | None,
    forecasts: dict[str, RateForecast],
    out: Path,
    log: Log,
) -> dict[int, RateForecast]:
    """Train (or reuse) the network of every seed of ``experiment.seeds`` and forecast with it.

    Under ``quake run --cluster`` (:func:`framecast.cluster.current`) each
    seed other than the run's own is a task of the cluster (:func:`seed_task`),
    the same job as here; the workers write under ``out`` (a shared folder).

    Parameters
    ----------
    experiment : QuakeExperiment
    frames : SeismicityFrames
        The frames of the run (their bins set the test windows).
    network_frames : SeismicityFrames or None
        The frames the network reads (with the ETAS channel); None: ``frames``.
    forecasts : dict of str to RateForecast
        The run's forecasts; ``forecasts["network"]`` is the network of the
        run's own seed (``train.seed``), reused for that seed.
    out : path
        The run folder.
    log : callable

    Returns
    -------
    dict of int to RateForecast
        The test-period forecast of each seed, in the order of ``experiment.seeds``.
    """
    main_seed = experiment.network.seed
    result: dict[int, RateForecast] = {}
    others = [seed for seed in experiment.seeds if seed != main_seed]
    built: dict[int, RateForecast] = {}
    cluster = current_cluster()
    if cluster is not None and others:  # each seed a task of the cluster (quake run --cluster)
        log(f"seed sweep: {len(others)} seed(s) as tasks of the Dask cluster at {cluster.address}")

        def done(_: int, outcome: tuple[RateForecast, list[str]]) -> None:
            for line in outcome[1]:
                log(line)

        shared = {
            "experiment": experiment,
            "frames": frames,
            "network_frames": network_frames,
            "out": out.resolve(),
        }
        outcomes = cluster.map(seed_task, others, shared=shared, done=done)
        built = {seed: forecast for seed, (forecast, _) in zip(others, outcomes, strict=True)}
    for seed in experiment.seeds:
        if seed == main_seed:
            log(f"seed {seed}: the run's own network (train.seed {main_seed})")
            result[seed] = forecasts["network"]
        elif seed in built:
            result[seed] = built[seed]
        else:
            result[seed] = seed_forecast(seed, experiment, frames, network_frames, out, log)
    return result


def seed_forecast(
    seed: int,
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    network_frames: SeismicityFrames | None,
    out: Path,
    log: Log,
) -> RateForecast:
    """The forecast of one seed's network: ``seeds/seed_<seed>/network.h5`` reused, or the
    network trained (or reused) and its forecast written there."""
    from framecast.quake.stages import stage_network_forecast, stage_train

    def network() -> RateForecast:
        checkpoint = stage_train(experiment, frames, out, log, seed=seed)
        return stage_network_forecast(
            experiment, frames, network_frames, checkpoint, name_suffix=f", seed {seed}"
        )

    return stage_forecast(seed_dir(out, seed) / "network.h5", f"seed {seed}", log, network)


def seed_task(
    seed: int,
    *,
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    network_frames: SeismicityFrames | None,
    out: Path,
) -> tuple[RateForecast, list[str]]:
    """:func:`seed_forecast` as a task on a cluster worker: the forecast and its log lines."""
    lines: list[str] = []
    return seed_forecast(seed, experiment, frames, network_frames, out, lines.append), lines
