"""The report's block on comparisons that allow for clustered events.

For each pair (forecast, baseline): the gain per earthquake with circular
block-bootstrap intervals at block lengths of 1, 7, 30 and 90 windows
(:func:`~framecast.quake.scores.moving_blocks.block_length_sensitivity`), the
Diebold-Mariano test with a Newey-West variance of the daily log-likelihood
differences (:func:`~framecast.quake.scores.diebold_mariano.diebold_mariano_test`),
and the gain without the busiest 30-day month
(:func:`~framecast.quake.scores.busiest_month.gain_without_busiest_month`).
These intervals hold the baseline's Monte Carlo draw and the network's
training seed fixed; the seed sweep's section gives the spread over seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from framecast.quake.rates import RateForecast
from framecast.quake.scores.busiest_month import gain_without_busiest_month
from framecast.quake.scores.diebold_mariano import diebold_mariano_test
from framecast.quake.scores.likelihood import window_information_gain
from framecast.quake.scores.moving_blocks import block_length_sensitivity
from framecast.quake.scores.observed import ObservedEvents

BLOCK_DAYS = (1.0, 7.0, 30.0, 90.0)
"""Block lengths in days; a block holds ``max(1, round(days / window_days))`` windows."""


def dependence_rows(
    forecast: RateForecast, baseline: RateForecast, observed: ObservedEvents, seed: int = 0
) -> list[str]:
    """One Markdown table row: gain, intervals by block length, DM test, without busiest month."""
    difference, events = window_information_gain(forecast, baseline, observed)  # [W], [W]
    windows = [max(1, round(days / forecast.window_days)) for days in BLOCK_DAYS]
    lengths = tuple(sorted({w for w in windows if w <= len(difference)}))
    rows = block_length_sensitivity(
        difference, events, block_lengths=lengths, seed=seed, window_days=forecast.window_days
    )
    by_length = {row.block_length: f"[{row.lower:+.3f}, {row.upper:+.3f}]" for row in rows}
    dm = diebold_mariano_test(difference, events)
    busiest = gain_without_busiest_month(difference, events, forecast.window_start)
    cells = [
        forecast.name,
        baseline.name,
        f"{float(difference.sum() / max(events.sum(), 1)):+.3f}",
        *(by_length.get(w, "n/a") for w in windows),
        (
            "n/a (the forecasts are identical)"
            if not difference.any()
            else f"{dm.statistic:+.2f} (p {dm.p_value:.2g}, lag {dm.lag})"
        ),
        f"{busiest.information_gain_without:+.3f} (−{busiest.removed_events} events "
        f"from {busiest.removed_start[:10]})",
    ]
    return ["| " + " | ".join(cells) + " |"]


def dependence_section(
    forecasts: Mapping[str, RateForecast],
    observed: ObservedEvents,
    pairs: Sequence[tuple[str, str]],
    seed: int = 0,
) -> str:
    """The Markdown section for ``pairs`` of forecast keys (forecast, baseline)."""
    header = (
        "| forecast | over | gain/eq | 1-day blocks | 7-day | 30-day | 90-day "
        "| Diebold-Mariano z | without busiest month |"
    )
    lines = [
        "## Comparisons allowing for clustered events",
        "",
        "Information gain per earthquake (nats) with 95 % circular block-bootstrap intervals "
        "(Politis & Romano 1992) at four block lengths: an interval that stays above zero as "
        "the blocks lengthen does not rest on treating aftershocks as independent. The "
        "Diebold-Mariano statistic uses a Newey-West variance of the daily log-likelihood "
        "differences. The last column drops the 30-day block with the most events. A block "
        "holds a whole number of forecast windows (n/a: longer than the test period). These "
        "intervals hold the baseline's Monte Carlo draw and the network's seed fixed.",
        "",
        header,
        "|" + "---|" * 9,
    ]
    for key, base in pairs:
        if key in forecasts and base in forecasts:
            lines += dependence_rows(forecasts[key], forecasts[base], observed, seed)
    return "\n".join(lines)


def comparison_pairs(keys: Sequence[str], baselines: Sequence[str]) -> list[tuple[str, str]]:
    """Every forecast against every baseline, and the baselines against each other once."""
    pairs = [(key, base) for key in keys if key not in baselines for base in baselines]
    pairs += [(a, b) for i, a in enumerate(baselines) for b in baselines[i + 1 :]]
    return [(a, b) for a, b in pairs if a != b]
