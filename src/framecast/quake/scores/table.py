"""Scores of gridded Poisson rate forecasts, gathered into one table.

The pieces live in small modules, all re-exported here:

* :mod:`~framecast.quake.scores.observed`: :class:`ObservedEvents`, the target
  events binned on the forecast's windows and cells (:func:`observed_from_catalog`);
* :mod:`~framecast.quake.scores.likelihood`: Poisson log-likelihood per window,
  information gain per earthquake and the paired T-test (Rhoades et al. 2011);
* :mod:`~framecast.quake.scores.consistency`: the CSEP N-, M-, S- and L-tests
  (Zechar et al. 2010) through pyCSEP;
* :mod:`~framecast.quake.scores.binary`: ROC AUC, average precision and the
  Molchan diagram's area skill score for "an event of M >= m in this cell and
  window".

:func:`score_forecasts` runs all of them for several forecasts of the same
bins and returns a :class:`ScoreTable` with Markdown and JSON renderings.
"""

from __future__ import annotations

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
from framecast.quake.scores.consistency import (
    ConsistencyTest,
    l_test,
    likelihood_quantile,
    m_test,
    n_test,
    s_test,
)
from framecast.quake.scores.likelihood import (
    MAX_MAGNITUDE,
    PairedTTest,
    cumulative_information_gain,
    information_gain,
    log_likelihood,
    paired_t_test_from_rates,
    target_event_rates,
)
from framecast.quake.scores.observed import (
    ObservedEvents,
    check_compatible,
    check_observed,
    observed_from_catalog,
)

__all__ = [
    "BinarySkill",
    "ConsistencyTest",
    "ForecastScore",
    "MolchanCurve",
    "ObservedEvents",
    "PairedTTest",
    "RocCurve",
    "ScoreTable",
    "binary_skill",
    "check_compatible",
    "cumulative_information_gain",
    "event_probability",
    "information_gain",
    "l_test",
    "likelihood_quantile",
    "log_likelihood",
    "m_test",
    "molchan_curve",
    "molchan_diagram",
    "n_test",
    "observed_from_catalog",
    "paired_t_test_from_rates",
    "roc_curve",
    "s_test",
    "score_forecasts",
    "target_event_rates",
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


@dataclass(frozen=True)
class ForecastScore:
    """All scores of one forecast.

    Attributes
    ----------
    name : str
    n_forecast : float
        Expected number of M >= mc events over all windows.
    log_likelihood : float
        Poisson joint log-likelihood over all windows, window x cell bins, nats.
    log_likelihood_per_event : float
        ``log_likelihood`` / number of target events, nats per event.
    n_test, m_test, s_test, l_test : ConsistencyTest
    binary : BinarySkill
    """

    name: str
    n_forecast: float
    log_likelihood: float
    log_likelihood_per_event: float
    n_test: ConsistencyTest
    m_test: ConsistencyTest
    s_test: ConsistencyTest
    l_test: ConsistencyTest
    binary: BinarySkill

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_forecast": self.n_forecast,
            "log_likelihood": self.log_likelihood,
            "log_likelihood_per_event": self.log_likelihood_per_event,
            "n_test": self.n_test.to_dict(),
            "m_test": self.m_test.to_dict(),
            "s_test": self.s_test.to_dict(),
            "l_test": self.l_test.to_dict(),
            "binary": self.binary.to_dict(),
        }


@dataclass(frozen=True)
class ScoreTable:
    """Scores of several forecasts of the same bins, and their pairwise T-tests.

    Attributes
    ----------
    scores : tuple of ForecastScore
        One per forecast, in the order given.
    comparisons : tuple of PairedTTest
        Information gain of ``name_a`` over ``name_b`` for every forecast
        against the reference and each other baseline.
    reference : str
    n_events, num_windows, num_cells : int
    window_days, mc, alpha, binary_magnitude : float
    num_simulations, seed : int
    first_start, last_end : str
        The test period, ISO dates.
    """

    scores: tuple[ForecastScore, ...]
    comparisons: tuple[PairedTTest, ...]
    reference: str
    n_events: int
    num_windows: int
    num_cells: int
    window_days: float
    mc: float
    alpha: float
    binary_magnitude: float
    num_simulations: int
    seed: int
    first_start: str
    last_end: str

    @property
    def names(self) -> list[str]:
        return [score.name for score in self.scores]

    def __getitem__(self, name: str) -> ForecastScore:
        for score in self.scores:
            if score.name == name:
                return score
        raise KeyError(f"no forecast named {name!r}; the table has {self.names}")

    def comparison(self, name_a: str, name_b: str) -> PairedTTest:
        """The T-test of forecast ``name_a`` over baseline ``name_b``."""
        for test in self.comparisons:
            if (test.name_a, test.name_b) == (name_a, name_b):
                return test
        pairs = [(t.name_a, t.name_b) for t in self.comparisons]
        raise KeyError(f"no comparison of {name_a!r} over {name_b!r}; the table has {pairs}")

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
                "settings": {
                    "reference": self.reference,
                    "alpha": self.alpha,
                    "binary_magnitude": self.binary_magnitude,
                    "num_simulations": self.num_simulations,
                    "seed": self.seed,
                },
                "forecasts": {score.name: score.to_dict() for score in self.scores},
                "comparisons": [test.to_dict() for test in self.comparisons],
            }
        )

    def to_markdown(self) -> str:
        """A Markdown report: one row per forecast, a T-test table and a legend with units."""
        return "\n".join(_markdown_lines(self)) + "\n"


# ------------------------------------------------------------------------- markdown
def _number(value: float, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "n/a" if value is None or math.isnan(value) else ("∞" if value > 0 else "-∞")
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 10 ** (-digits)):
        return f"{value:.{digits}g}"
    return f"{value:,.{digits}f}"


def _verdict(test: ConsistencyTest) -> str:
    quantiles = " / ".join(_number(q) for q in test.quantile)
    return f"{quantiles} {'✓' if test.passed else '✗'}"


def _markdown_lines(table: ScoreTable) -> list[str]:
    confidence = f"{100 * (1 - table.alpha):g}%"
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
        "| Forecast | N forecast | log L (nats) | log L / event (nats) | N-test δ1 / δ2 "
        "| M-test κ | S-test ζ | L-test γ | ROC AUC | PR AUC | ASS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for score in table.scores:
        binary = score.binary
        lines.append(
            f"| {score.name} | {_number(score.n_forecast, 1)} | "
            f"{_number(score.log_likelihood, 1)} | {_number(score.log_likelihood_per_event)} | "
            f"{_verdict(score.n_test)} | {_verdict(score.m_test)} | {_verdict(score.s_test)} | "
            f"{_verdict(score.l_test)} | {_number(binary.roc_auc)} | {_number(binary.pr_auc)} | "
            f"{_number(binary.area_skill_score)} |"
        )
    baselines = list(dict.fromkeys(test.name_b for test in table.comparisons))
    if baselines:
        lines += [
            "",
            f"Information gain per earthquake (nats/event) of each row's forecast over each "
            f"column's baseline, with its {confidence} T-test interval; * marks an interval "
            "that excludes 0.",
            "",
            "| Forecast | " + " | ".join(f"vs {name}" for name in baselines) + " |",
            "|---|" + "---:|" * len(baselines),
        ]
        for name in table.names:
            cells = []
            for baseline in baselines:
                try:
                    test = table.comparison(name, baseline)
                except KeyError:
                    cells.append("—")
                    continue
                mark = " *" if test.significant else ""
                cells.append(
                    f"{_number(test.information_gain)} "
                    f"[{_number(test.lower)}, {_number(test.upper)}]{mark}"
                )
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    prevalence = table.scores[0].binary.prevalence if table.scores else float("nan")
    lines += [
        "",
        "- **N forecast**: expected number of M ≥ mc events summed over all windows "
        f"(observed: {table.n_events}).",
        "- **log L**: Poisson joint log-likelihood Σ(−λ + n ln λ − ln n!) over every window "
        "and cell (Zechar et al. 2010); higher is better. Per event: divided by the number "
        "of observed events.",
        "- **N-test** (Zechar et al. 2010): δ1 = P(X ≥ n_obs), δ2 = P(X ≤ n_obs) with "
        f"X ~ Poisson(N forecast); ✓ when both ≥ α/2 = {table.alpha / 2:g}.",
        "- **M-, S-, L-tests**: quantile of the observed joint log-likelihood among catalogs "
        "simulated from the forecast (pyCSEP's algorithm); M uses the magnitude "
        "distribution, S the window × cell distribution (both normalised to the observed "
        "number), L every window × cell × magnitude bin; ✓ when ≥ α "
        f"= {table.alpha:g} (one-sided). A low quantile means the observations are less "
        "likely than the forecast's own simulations.",
        "- **Information gain per earthquake** (Rhoades et al. 2011): mean log rate ratio "
        "at the target events minus the difference in expected numbers per event; over the "
        "window × cell × 0.1-magnitude bins, as pyCSEP's paired T-test.",
        f"- **ROC AUC, PR AUC, ASS**: skill at flagging the window × cell bins holding an "
        f"event of M ≥ {table.binary_magnitude:g}, with p = 1 − exp(−λ). ROC AUC: 0.5 "
        f"without skill, 1 perfect. PR AUC is the average precision; without skill it "
        f"equals the fraction of bins with events ({_number(prevalence, 4)}). ASS is the "
        "Molchan area skill score (Zechar & Jordan 2008): 1 − area under the miss rate "
        "versus fraction of space-time alarmed; 0.5 without skill.",
    ]
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


def _score_one(
    name: str,
    forecast: RateForecast,
    observed: ObservedEvents,
    *,
    alpha: float,
    binary_magnitude: float,
    num_simulations: int,
    seed: int,
    max_magnitude: float,
) -> ForecastScore:
    simulation: dict[str, Any] = {"alpha": alpha, "num_simulations": num_simulations, "seed": seed}
    total = float(log_likelihood(forecast, observed).sum())
    return ForecastScore(
        name=name,
        n_forecast=float(forecast.rates.sum()),
        log_likelihood=total,
        log_likelihood_per_event=total / len(observed) if len(observed) else float("nan"),
        n_test=n_test(forecast, observed, alpha=alpha),
        m_test=m_test(forecast, observed, max_magnitude=max_magnitude, **simulation),
        s_test=s_test(forecast, observed, **simulation),
        l_test=l_test(forecast, observed, max_magnitude=max_magnitude, **simulation),
        binary=binary_skill(forecast, observed, magnitude=binary_magnitude),
    )


def score_forecasts(
    forecasts: Mapping[str, RateForecast] | Sequence[RateForecast],
    observed: ObservedEvents,
    *,
    reference: str,
    baselines: Sequence[str] | None = None,
    alpha: float = 0.05,
    binary_magnitude: float | None = None,
    num_simulations: int = 1000,
    seed: int = 0,
    max_magnitude: float = MAX_MAGNITUDE,
) -> ScoreTable:
    """Score forecasts of the same bins against the observed events.

    For every forecast: total and per-event Poisson log-likelihood
    (:func:`log_likelihood`), the N-, M-, S- and L-tests (:func:`n_test` etc.),
    ROC AUC, average precision and Molchan area skill score
    (:func:`binary_skill`); and the information gain per earthquake with its
    T-test interval (:func:`information_gain`, Rhoades et al. 2011) of every
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
    alpha : float
        Significance level of the consistency tests and 1 - confidence of the
        T-test intervals.
    binary_magnitude : float, optional
        Target magnitude of the binary scores; default the forecasts' mc.
    num_simulations, seed : int
        Simulated catalogs of the M-, S- and L-tests and their seed.
    max_magnitude : float
        Left edge of the last, open-ended 0.1-magnitude bin.

    Raises
    ------
    ValueError
        Forecasts that differ in grid, windows, window length or mc; an unknown
        reference or baseline; events outside the forecasts' bins.
    """
    named = _named(forecasts)
    for role, names in (("reference", [reference]), ("baseline", list(baselines or []))):
        for name in names:
            if name not in named:
                raise ValueError(f"{role} {name!r} is not among the forecasts {list(named)}")
    members = list(named.values())
    check_compatible(members)
    first = members[0]
    check_observed(observed, first)
    magnitude = first.mc if binary_magnitude is None else float(binary_magnitude)
    scores = tuple(
        _score_one(
            name,
            forecast,
            observed,
            alpha=alpha,
            binary_magnitude=magnitude,
            num_simulations=num_simulations,
            seed=seed,
            max_magnitude=max_magnitude,
        )
        for name, forecast in named.items()
    )
    order = [reference, *(named if baselines is None else baselines)]
    comparisons = tuple(
        _renamed(
            information_gain(
                named[name_a], named[name_b], observed, alpha=alpha, max_magnitude=max_magnitude
            ),
            name_a,
            name_b,
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
        num_cells=int(np.prod(first.grid.shape)),
        window_days=float(first.window_days),
        mc=float(first.mc),
        alpha=alpha,
        binary_magnitude=magnitude,
        num_simulations=num_simulations,
        seed=seed,
        first_start=_iso(first.window_start.min()),
        last_end=_iso(first.window_start.max() + window_length),
    )


def _iso(time: np.datetime64) -> str:
    """ISO date, with the time of day only when it is not midnight."""
    day = time.astype("datetime64[D]")
    return str(day) if day == time else np.datetime_as_string(time, unit="s")


def _renamed(test: PairedTTest, name_a: str, name_b: str) -> PairedTTest:
    """The test labelled with the table's names (mapping keys may differ from forecast names)."""
    values = test.to_dict()
    values.update(name_a=name_a, name_b=name_b)
    return PairedTTest(**values)
