"""The report's decisive comparison: the network over each ETAS variant, seeds and MC folded in.

Issue 21, item 6: the interval of the network's gain over ETAS must allow
for clustered events (circular blocks of 1, 7, 30 and 90 days), for the
training seed (at least five), and for the Monte Carlo error of a simulated
baseline. :func:`pooled_section` builds, for every ETAS variant, the
difference series ``D[s, m, w]`` of seed ``s`` over replicate ``m``
(:func:`~framecast.quake.scores.seed_pooling.window_differences`) and the
percentile interval of
:func:`~framecast.quake.scores.seed_pooling.pooled_block_bootstrap`, which
draws the blocks, a seed and a replicate per resample.
:func:`monte_carlo_section` reports the replicates' log-likelihoods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from framecast.quake.rates import RateForecast
from framecast.quake.report_dependence import BLOCK_DAYS
from framecast.quake.scores.likelihood import log_likelihood
from framecast.quake.scores.observed import ObservedEvents
from framecast.quake.scores.seed_pooling import pooled_block_bootstrap, window_differences


def monte_carlo_section(
    replicates: Sequence[RateForecast], mean: RateForecast, observed: ObservedEvents
) -> str:
    """Markdown: log L of each simulated replicate, their spread, and that of their mean."""
    values = np.array([log_likelihood(r, observed).sum() for r in replicates])  # [M]
    pooled = float(log_likelihood(mean, observed).sum())
    count = len(values)
    sd = float(values.std(ddof=1)) if count > 1 else float("nan")
    lines = [
        "## Monte Carlo error of the simulated ETAS baseline",
        "",
        f"{count} independent replicates of the simulated forecast (seeds derived from "
        "etas.seed): Poisson joint log L " + ", ".join(f"{v:,.1f}" for v in values) + ".",
    ]
    if count > 1:
        per_event = sd / max(len(observed), 1)
        lines += [
            f"Standard deviation across replicates {sd:.1f} nats ({per_event:.4f} nats per "
            f"earthquake); the baseline scored everywhere else is their mean (log L "
            f"{pooled:,.1f}), whose standard error is about {sd / np.sqrt(count):.1f} nats. "
            "The pooled intervals below draw one replicate per resample, so they carry the "
            "spread of a single replicate (conservative for the mean).",
        ]
    else:
        lines.append("One replicate: no Monte Carlo spread is measured (set etas.replicates).")
    return "\n".join(lines)


def pooled_section(
    networks: Sequence[RateForecast],
    baselines: Mapping[str, Sequence[RateForecast]],
    observed: ObservedEvents,
    *,
    seed: int = 0,
) -> str:
    """Markdown table: the seeds' gain over each baseline, intervals at four block lengths.

    Parameters
    ----------
    networks : sequence of RateForecast
        One test-period forecast per training seed.
    baselines : mapping of str to sequence of RateForecast
        For each baseline name, its replicates (one forecast for a
        deterministic baseline).
    observed : ObservedEvents
    seed : int
        Of the resampling.
    """
    window_days = networks[0].window_days
    header = "| over | seeds x replicates | gain/eq | " + " | ".join(
        f"{days:g}-day blocks" for days in BLOCK_DAYS
    )
    lines = [
        "## The network over each ETAS variant, seeds and Monte Carlo folded in",
        "",
        "Mean information gain per earthquake (nats) of the network over each baseline, "
        "averaged over training seeds and baseline replicates, with 95 % percentile "
        "intervals of a circular block bootstrap that also draws a training seed and a "
        "baseline replicate per resample (framecast.quake.scores.seed_pooling: the "
        "interval of one run, seed and replicate exchangeable, blocks as long as the "
        "dependence). The interval is decisive only if it stays above (or below) zero at "
        "every block length.",
        "",
        header + " |",
        "|" + "---|" * (3 + len(BLOCK_DAYS)),
    ]
    for name, replicates in baselines.items():
        difference, events = window_differences(networks, replicates, observed)  # [S, M, W]
        cells = []
        gain = float("nan")
        for days in BLOCK_DAYS:
            block = max(1, round(days / window_days))
            if block > difference.shape[-1]:
                cells.append("n/a")
                continue
            interval = pooled_block_bootstrap(
                difference, events, block_length=block, seed=seed, window_days=window_days
            )
            gain = interval.information_gain
            cells.append(f"[{interval.lower:+.3f}, {interval.upper:+.3f}]")
        shape = f"{difference.shape[0]} x {difference.shape[1]}"
        lines.append(f"| {name} | {shape} | {gain:+.3f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
