"""Scores of gridded Poisson rate forecasts, gathered into one table.

The pieces live in small modules, all re-exported here:

* :mod:`~framecast.quake.scores.observed`: :class:`ObservedEvents`, the target
  events binned on the forecast's windows and cells (:func:`observed_from_catalog`);
* :mod:`~framecast.quake.scores.likelihood`: Poisson log-likelihood per window,
  information gain per earthquake, the paired T-test and the W-test (Rhoades
  et al. 2011);
* :mod:`~framecast.quake.scores.bootstrap`: block-bootstrap intervals of the
  information gain for events clustered in time;
* :mod:`~framecast.quake.scores.moving_blocks`,
  :mod:`~framecast.quake.scores.seed_pooling`: moving- and circular-block
  bootstrap intervals, their block-length sensitivity, and intervals that also
  draw training seeds and baseline replicates;
* :mod:`~framecast.quake.scores.diebold_mariano`: the Diebold-Mariano test of
  the daily log-likelihood differences with a Newey-West variance;
* :mod:`~framecast.quake.scores.busiest_month`: the gain without the month
  holding the most events;
* :mod:`~framecast.quake.scores.consistency`: the CSEP N-, M-, S- and L-tests
  (Zechar et al. 2010) as pyCSEP computes them, a space-time S-test and the
  N-test of every window;
* :mod:`~framecast.quake.scores.binary`: ROC AUC, average precision and the
  Molchan diagram's area skill score for "an event of M >= m in this cell and
  window";
* :mod:`~framecast.quake.scores.registry`: the list of scores the table runs.

:func:`score_forecasts` runs every registered score for several forecasts of
the same bins and returns a :class:`ScoreTable` with Markdown and JSON
renderings. The built-in scores are in :mod:`~framecast.quake.scores.builtin`;
to add one, see :mod:`.registry`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from framecast.quake.catalog.events import days_to_timedelta
from framecast.quake.rates import RateForecast
from framecast.quake.scores.binary import (
    BinarySkill,
    MolchanCurve,
    RocCurve,
    binary_skill,
    event_probability,
    molchan_curve,
    molchan_diagram,
    roc_curve,
)
from framecast.quake.scores.bootstrap import (
    BootstrapInterval,
    block_bootstrap,
    bootstrap_information_gain,
)
from framecast.quake.scores.busiest_month import (
    BusiestBlockRemoved,
    gain_without_busiest_block,
    information_gain_without_busiest_month,
)
from framecast.quake.scores.consistency import (
    ConsistencyTest,
    WindowTests,
    l_test,
    likelihood_quantile,
    m_test,
    n_test,
    n_test_per_window,
    s_test,
    space_time_test,
)
from framecast.quake.scores.diebold_mariano import (
    DieboldMarianoTest,
    default_lag,
    diebold_mariano_information_gain,
    diebold_mariano_test,
    newey_west_variance,
)
from framecast.quake.scores.likelihood import (
    PairedTTest,
    WilcoxonTest,
    cumulative_information_gain,
    information_gain,
    log_likelihood,
    paired_t_test_from_rates,
    target_event_rates,
    w_test,
    w_test_from_rates,
    window_information_gain,
)
from framecast.quake.scores.markdown import number
from framecast.quake.scores.moving_blocks import (
    BLOCK_METHODS,
    SENSITIVITY_BLOCK_LENGTHS,
    BlockBootstrapInterval,
    block_length_sensitivity,
    moving_block_bootstrap,
    moving_block_information_gain,
)
from framecast.quake.scores.observed import (
    ObservedEvents,
    check_compatible,
    check_observed,
    observed_from_catalog,
)
from framecast.quake.scores.registry import (
    FORECAST_SCORES,
    PAIR_SCORES,
    ScoreSettings,
    ScoreSpec,
    forecast_score,
    pair_score,
)
from framecast.quake.scores.seed_pooling import pooled_block_bootstrap, window_differences
from framecast.registry import Registry

__all__ = [
    "BLOCK_METHODS",
    "FORECAST_SCORES",
    "PAIR_SCORES",
    "SENSITIVITY_BLOCK_LENGTHS",
    "BinarySkill",
    "BlockBootstrapInterval",
    "BootstrapInterval",
    "BusiestBlockRemoved",
    "ConsistencyTest",
    "DieboldMarianoTest",
    "ForecastScore",
    "MolchanCurve",
    "ObservedEvents",
    "PairComparison",
    "PairedTTest",
    "RocCurve",
    "ScoreSettings",
    "ScoreSpec",
    "ScoreTable",
    "WilcoxonTest",
    "WindowTests",
    "binary_skill",
    "block_bootstrap",
    "block_length_sensitivity",
    "bootstrap_information_gain",
    "check_compatible",
    "cumulative_information_gain",
    "default_lag",
    "diebold_mariano_information_gain",
    "diebold_mariano_test",
    "event_probability",
    "forecast_score",
    "gain_without_busiest_block",
    "information_gain",
    "information_gain_without_busiest_month",
    "l_test",
    "likelihood_quantile",
    "log_likelihood",
    "m_test",
    "molchan_curve",
    "molchan_diagram",
    "moving_block_bootstrap",
    "moving_block_information_gain",
    "n_test",
    "n_test_per_window",
    "newey_west_variance",
    "observed_from_catalog",
    "pair_score",
    "paired_t_test_from_rates",
    "pooled_block_bootstrap",
    "roc_curve",
    "s_test",
    "score_forecasts",
    "space_time_test",
    "target_event_rates",
    "w_test",
    "w_test_from_rates",
    "window_differences",
    "window_information_gain",
]


def _plain(value: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json(result: Any) -> Any:
    return result.to_dict() if hasattr(result, "to_dict") else result


class _Results:
    """Attribute access to a ``results`` dict: ``score.n_test`` is ``score.results["n_test"]``."""

    results: dict[str, Any]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        results = self.__dict__.get("results", {})
        if key in results:
            return results[key]
        raise AttributeError(f"{type(self).__name__} has no score {key!r}; it has {list(results)}")


@dataclass(frozen=True)
class ForecastScore(_Results):
    """All registered scores of one forecast.

    Attributes
    ----------
    name : str
    results : dict of str to result
        By registry key, in registry order; each is also an attribute
        (``score.n_test``, ``score.binary``, ``score.log_likelihood``, ...).
    """

    name: str
    results: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **{key: _json(r) for key, r in self.results.items()}}


@dataclass(frozen=True)
class PairComparison(_Results):
    """All registered pair scores of forecast ``name_a`` over baseline ``name_b``.

    Attributes
    ----------
    name_a, name_b : str
    results : dict of str to result
        By registry key (``t_test``, ``w_test``, ``bootstrap_1d``, ...); each is
        also an attribute.
    decisive : str
        Key of the interval that decides :attr:`significant`.
    """

    name_a: str
    name_b: str
    results: dict[str, Any]
    decisive: str

    @property
    def information_gain(self) -> float:
        """Information gain per earthquake of A over B, nats (from the first result giving one)."""
        for result in self.results.values():
            if hasattr(result, "information_gain"):
                return float(result.information_gain)
        return float("nan")

    @property
    def significant(self) -> bool:
        """Whether the decisive interval excludes 0."""
        return bool(self.results[self.decisive].significant)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name_a": self.name_a,
            "name_b": self.name_b,
            "information_gain": self.information_gain,
            "significant": self.significant,
            "decided_by": self.decisive,
            **{key: _json(result) for key, result in self.results.items()},
        }


@dataclass(frozen=True)
class ScoreTable:
    """Scores of several forecasts of the same bins, and their pairwise comparisons.

    Attributes
    ----------
    scores : tuple of ForecastScore
        One per forecast, in the order given.
    comparisons : tuple of PairComparison
        Every forecast over the reference and over each other baseline.
    reference : str
    n_events, num_windows, num_cells : int
    window_days, mc : float
    settings : ScoreSettings
        With ``binary_magnitude`` resolved.
    forecast_keys, pair_keys : tuple of str
        The registered scores that were run, in column order.
    first_start, last_end : str
        The test period, ISO dates.
    """

    scores: tuple[ForecastScore, ...]
    comparisons: tuple[PairComparison, ...]
    reference: str
    n_events: int
    num_windows: int
    num_cells: int
    window_days: float
    mc: float
    settings: ScoreSettings
    forecast_keys: tuple[str, ...]
    pair_keys: tuple[str, ...]
    first_start: str
    last_end: str

    @property
    def alpha(self) -> float:
        return self.settings.alpha

    @property
    def binary_magnitude(self) -> float:
        return float(self.settings.binary_magnitude)  # type: ignore[arg-type]

    @property
    def num_simulations(self) -> int:
        return self.settings.num_simulations

    @property
    def seed(self) -> int:
        return self.settings.seed

    @property
    def names(self) -> list[str]:
        return [score.name for score in self.scores]

    def __getitem__(self, name: str) -> ForecastScore:
        for score in self.scores:
            if score.name == name:
                return score
        raise KeyError(f"no forecast named {name!r}; the table has {self.names}")

    def pair(self, name_a: str, name_b: str) -> PairComparison:
        """Every pair score of forecast ``name_a`` over baseline ``name_b``."""
        for pair in self.comparisons:
            if (pair.name_a, pair.name_b) == (name_a, name_b):
                return pair
        pairs = [(p.name_a, p.name_b) for p in self.comparisons]
        raise KeyError(f"no comparison of {name_a!r} over {name_b!r}; the table has {pairs}")

    def comparison(self, name_a: str, name_b: str) -> PairedTTest:
        """The T-test of forecast ``name_a`` over baseline ``name_b`` (see :meth:`pair`)."""
        return self.pair(name_a, name_b).results["t_test"]

    def headline(self) -> list[str]:
        """Markdown bullets: each forecast over the reference and over each baseline, with
        every interval.

        The verdict rests on the decisive interval (:attr:`ScoreSettings.decisive`).
        """
        decisive = PAIR_SCORES[self.settings.decisive].headers[0]
        confidence = f"{100 * (1 - self.alpha):g}%"
        lines = []
        for pair in self.comparisons:
            intervals = [
                f"{PAIR_SCORES[key].headers[0]} [{result.lower:+.3f}, {result.upper:+.3f}]"
                for key, result in pair.results.items()
                if hasattr(result, "lower") and hasattr(result, "upper")
            ]
            deciding = pair.results[self.settings.decisive]
            if not math.isfinite(pair.information_gain):
                verdict = "infinite: a forecast gives zero rate to an observed event"
            elif deciding.lower > 0:
                verdict = "above zero"
            elif deciding.upper < 0:
                verdict = "below zero"
            elif math.isnan(deciding.lower):
                verdict = "no interval: too few blocks with events"
            else:
                verdict = "not distinguishable from zero"
            lines.append(
                f"- **{pair.name_a}** over {pair.name_b}: information gain "
                f"{pair.information_gain:+.3f} nats per earthquake; {confidence} intervals: "
                f"{', '.join(intervals)} ({verdict}; by the {decisive}; {self.n_events} events)."
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable values (NaN and infinities become None)."""
        return _plain(
            {
                "test_period": {
                    "first_start": self.first_start,
                    "last_end": self.last_end,
                    "num_windows": self.num_windows,
                    "window_days": self.window_days,
                    "num_cells": self.num_cells,
                    "mc": self.mc,
                    "n_events": self.n_events,
                },
                "settings": {"reference": self.reference, **dataclasses.asdict(self.settings)},
                "forecasts": {score.name: score.to_dict() for score in self.scores},
                "comparisons": [pair.to_dict() for pair in self.comparisons],
            }
        )

    def to_markdown(self) -> str:
        """A Markdown report: one row per forecast, one per comparison, and a legend."""
        return "\n".join(_markdown_lines(self)) + "\n"


# ------------------------------------------------------------------------- markdown
def _markdown_lines(table: ScoreTable) -> list[str]:
    forecast_specs = [FORECAST_SCORES[key] for key in table.forecast_keys]
    pair_specs = [PAIR_SCORES[key] for key in table.pair_keys]
    headers = [header for spec in forecast_specs for header in spec.headers]
    lines = [
        "## Forecast scores",
        "",
        f"Test period {table.first_start} to {table.last_end}: {table.num_windows} "
        f"window{'s' if table.num_windows != 1 else ''} of "
        f"{table.window_days:g} days, {table.num_cells} cells, target events M ≥ {table.mc:g}; "
        f"**{table.n_events} events observed**. Consistency tests at α = {table.alpha:g} with "
        f"{table.num_simulations} simulations (seed {table.seed}); reference forecast "
        f"**{table.reference}**.",
        "",
        "| Forecast | " + " | ".join(headers) + " |",
        "|---|" + "---:|" * len(headers),
    ]
    for score in table.scores:
        cells = [cell for spec in forecast_specs for cell in spec.cells(score.results[spec.key])]
        lines.append(f"| {score.name} | " + " | ".join(cells) + " |")
    if table.comparisons:
        decisive = PAIR_SCORES[table.settings.decisive].headers[0]
        pair_headers = [header for spec in pair_specs for header in spec.headers]
        lines += [
            "",
            "Information gain per earthquake (nats/event) of each forecast over each baseline, "
            f"with its {100 * (1 - table.alpha):g}% intervals (width in brackets); * marks a gain "
            f"whose {decisive} interval excludes 0. The T- and W-tests assume independent "
            "events; the block intervals allow for events clustered in time.",
            "",
            "| Forecast | over | gain | " + " | ".join(pair_headers) + " |",
            "|---|---|---:|" + "---:|" * len(pair_headers),
        ]
        for pair in table.comparisons:
            mark = " *" if pair.significant else ""
            cells = [cell for spec in pair_specs for cell in spec.cells(pair.results[spec.key])]
            lines.append(
                f"| {pair.name_a} | {pair.name_b} | {number(pair.information_gain)}{mark} | "
                + " | ".join(cells)
                + " |"
            )
    lines.append("")
    for spec in [*forecast_specs, *pair_specs]:
        if spec.legend is not None:
            lines.append(spec.legend(table))
    return lines


# ------------------------------------------------------------------------- scoring
def _named(forecasts: Mapping[str, RateForecast] | Sequence[RateForecast]) -> dict[str, Any]:
    if isinstance(forecasts, Mapping):
        named = dict(forecasts)
    else:
        named = {}
        for forecast in forecasts:
            if forecast.name in named:
                raise ValueError(
                    f"two forecasts are named {forecast.name!r}; pass a mapping of unique names"
                )
            named[forecast.name] = forecast
    if not named:
        raise ValueError("no forecasts to score")
    for name, forecast in named.items():
        if not isinstance(forecast, RateForecast):
            raise TypeError(f"forecast {name!r} is a {type(forecast).__name__}, not a RateForecast")
    return named


def _selected(
    registry: Registry[ScoreSpec], keys: Sequence[str] | None, kind: str
) -> tuple[str, ...]:
    if keys is None:
        return tuple(registry)
    for key in keys:
        if key not in registry:
            raise ValueError(f"unknown {kind} score {key!r}; registered: {list(registry)}")
    return tuple(keys)


def _labelled(result: Any, name_a: str, name_b: str) -> Any:
    """The result labelled with the table's names (mapping keys may differ from forecast names)."""
    fields = (
        {f.name for f in dataclasses.fields(result)} if dataclasses.is_dataclass(result) else ()
    )
    if {"name_a", "name_b"} <= set(fields):
        return dataclasses.replace(result, name_a=name_a, name_b=name_b)
    return result


def _settings(settings: ScoreSettings | None, changes: Mapping[str, Any]) -> ScoreSettings:
    """``settings`` (default: the defaults) with the fields ``changes`` changed."""
    names = [item.name for item in dataclasses.fields(ScoreSettings)]
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise TypeError(f"unknown score setting(s) {unknown}; ScoreSettings has {names}")
    return dataclasses.replace(settings or ScoreSettings(), **changes)


def score_forecasts(
    forecasts: Mapping[str, RateForecast] | Sequence[RateForecast],
    observed: ObservedEvents,
    *,
    reference: str,
    baselines: Sequence[str] | None = None,
    settings: ScoreSettings | None = None,
    forecast_scores: Sequence[str] | None = None,
    pair_scores: Sequence[str] | None = None,
    **changes: Any,
) -> ScoreTable:
    """Score forecasts of the same bins against the observed events.

    Runs every registered forecast score (:data:`FORECAST_SCORES`: expected
    number, log-likelihood, the N-test over the period and per window, the M-,
    S-, ST- and L-tests, ROC AUC, average precision, Molchan area skill score)
    for every forecast, and every registered pair score (:data:`PAIR_SCORES`:
    information gain per earthquake with its T-test interval, the W-test,
    1-day and 30-day block-bootstrap intervals; Rhoades et al. 2011) of every
    forecast over the reference and over each baseline.

    Parameters
    ----------
    forecasts : mapping of name to RateForecast, or sequence of RateForecast
        A sequence is keyed by each forecast's ``name``.
    observed : ObservedEvents
        Target events binned on the forecasts' bins (:func:`observed_from_catalog`).
    reference : str
        Name of the reference forecast (e.g. a Poisson smoothed-seismicity model).
    baselines : sequence of str, optional
        Further forecasts to compare every forecast against (e.g. ``["ETAS"]``);
        None compares every pair.
    settings : ScoreSettings, optional
        What every score runs with (significance level, simulations and their
        seed, binary magnitude, bootstrap resamples, the decisive interval);
        None: the defaults. An unset ``binary_magnitude`` becomes the
        forecasts' mc.
    forecast_scores, pair_scores : sequence of str, optional
        Registry keys to run; None runs all.
    **changes
        Fields of :class:`ScoreSettings` to change in ``settings``
        (``num_simulations=100``).

    Raises
    ------
    TypeError
        A keyword that is not a field of :class:`ScoreSettings`.
    ValueError
        Forecasts that differ in grid, windows, window length or mc; an unknown
        reference, baseline or score; events outside the forecasts' bins.
    """
    settings = _settings(settings, changes)
    named = _named(forecasts)
    for role, names in (("reference", [reference]), ("baseline", list(baselines or []))):
        for name in names:
            if name not in named:
                raise ValueError(f"{role} {name!r} is not among the forecasts {list(named)}")
    members = list(named.values())
    check_compatible(members)
    first = members[0]
    check_observed(observed, first)
    forecast_keys = _selected(FORECAST_SCORES, forecast_scores, "forecast")
    pair_keys = _selected(PAIR_SCORES, pair_scores, "pair")
    decisive = settings.decisive
    if decisive not in pair_keys:
        raise ValueError(f"decisive score {decisive!r} is not among the pair scores {pair_keys}")
    magnitude = settings.binary_magnitude
    settings = dataclasses.replace(
        settings, binary_magnitude=first.mc if magnitude is None else float(magnitude)
    )
    scores = tuple(
        ForecastScore(
            name,
            {
                key: FORECAST_SCORES[key].compute(forecast, observed, settings)
                for key in forecast_keys
            },
        )
        for name, forecast in named.items()
    )
    order = [reference, *(named if baselines is None else baselines)]
    comparisons = tuple(
        PairComparison(
            name_a,
            name_b,
            {
                key: _labelled(
                    PAIR_SCORES[key].compute(named[name_a], named[name_b], observed, settings),
                    name_a,
                    name_b,
                )
                for key in pair_keys
            },
            decisive,
        )
        for name_b in dict.fromkeys(order)
        for name_a in named
        if name_a != name_b
    )
    window_length = days_to_timedelta(first.window_days)
    return ScoreTable(
        scores=scores,
        comparisons=comparisons,
        reference=reference,
        n_events=len(observed),
        num_windows=first.num_windows,
        # cells some forecast covers: a testing region's masked cells are zero in every forecast
        num_cells=int(np.any([(m.rates > 0).any(axis=0) for m in members], axis=0).sum()),
        window_days=float(first.window_days),
        mc=float(first.mc),
        settings=settings,
        forecast_keys=forecast_keys,
        pair_keys=pair_keys,
        first_start=_iso(first.window_start.min()),
        last_end=_iso(first.window_start.max() + window_length),
    )


def _iso(time: np.datetime64) -> str:
    """ISO date, with the time of day only when it is not midnight."""
    day = time.astype("datetime64[D]")
    return str(day) if day == time else np.datetime_as_string(time, unit="s")
