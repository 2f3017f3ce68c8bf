"""The registry of scores that :func:`~framecast.quake.scores.table.score_forecasts` runs.

Two kinds of score:

* a *forecast score* rates one forecast: ``compute(forecast, observed, settings)``;
* a *pair score* compares forecast A with baseline B:
  ``compute(forecast_a, forecast_b, observed, settings)``.

Each is a :class:`ScoreSpec`: the function, its Markdown column headers, a
function turning its result into those cells, and a legend line. The score
table, its Markdown and its JSON read only the two registries below, which
read the plugin table (:data:`framecast.plugins.PLUGINS`, kinds ``forecast
score`` and ``pair score``, in column order). Adding a score is one function
in a module of its own::

    @score_spec("max_rate", headers=("max λ",), cells=lambda r: (f"{r:.3g}",),
                legend=lambda table: "- **max λ**: the largest bin rate.")
    def max_rate(forecast, observed, settings):
        return float(forecast.rates.max())

plus its line in the plugin table, ``"max_rate": "my_module:max_rate"``. The
decorators :func:`forecast_score` and :func:`pair_score` register a score
held by user code at run time instead.

A result is a plain number or an object with ``to_dict()`` (for JSON). A pair
score whose result has ``lower``, ``upper`` and ``significant`` is an interval
that the headline lists, and :attr:`ScoreSettings.decisive` names the one that
decides significance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from framecast.plugins import PLUGINS
from framecast.quake.defaults import NUM_SIMULATIONS, SCORE_SEED
from framecast.quake.scores.bootstrap import NUM_RESAMPLES
from framecast.quake.scores.likelihood import MAX_MAGNITUDE
from framecast.registry import Registry


@dataclass(frozen=True)
class ScoreSettings:
    """Options shared by every registered score: the one object that carries them from the
    settings (an experiment's ``evaluation:``, ``framecast quake evaluate``'s options) to the
    scores (:func:`~framecast.quake.scores.table.score_forecasts`). A new setting is a field
    here, read by the score that uses it.

    Attributes
    ----------
    alpha : float
        Significance level of the tests and 1 - confidence of the intervals.
    num_simulations, seed : int
        Simulated catalogs of the simulation-based consistency tests, their
        seed; the seed also drives the bootstrap resamples.
    max_magnitude : float
        Left edge of the last, open-ended 0.1-magnitude bin.
    binary_magnitude : float, optional
        Target magnitude of the binary scores; None: the forecasts' mc.
    num_resamples : int
        Block-bootstrap resamples.
    decisive : str
        Key of the pair score whose interval decides "significant" in the
        table and the headline (default the 30-day block bootstrap).
    """

    alpha: float = 0.05
    num_simulations: int = NUM_SIMULATIONS
    seed: int = SCORE_SEED
    max_magnitude: float = MAX_MAGNITUDE
    binary_magnitude: float | None = None
    num_resamples: int = NUM_RESAMPLES
    decisive: str = "bootstrap_30d"

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha!r}")
        if self.num_simulations < 1:
            raise ValueError(f"num_simulations must be >= 1, got {self.num_simulations!r}")
        if self.num_resamples < 1:
            raise ValueError(f"num_resamples must be >= 1, got {self.num_resamples!r}")


@dataclass(frozen=True)
class ScoreSpec:
    """One registered score.

    Attributes
    ----------
    key : str
        Attribute and JSON key of its result (``table["model"].n_test``).
    compute : callable
        ``(forecast, observed, settings)`` for forecast scores,
        ``(forecast_a, forecast_b, observed, settings)`` for pair scores.
    headers : tuple of str
        Markdown column headers; empty: JSON only.
    cells : callable
        Result -> one Markdown cell per header.
    legend : callable, optional
        ScoreTable -> one Markdown legend line (units, pass rule, reference).
    """

    key: str
    compute: Callable[..., Any]
    headers: tuple[str, ...]
    cells: Callable[[Any], tuple[str, ...]]
    legend: Callable[[Any], str] | None = None


FORECAST_SCORES: Registry[ScoreSpec] = Registry("forecast score", PLUGINS["forecast score"])
"""The forecast scores, in column order."""

PAIR_SCORES: Registry[ScoreSpec] = Registry("pair score", PLUGINS["pair score"])
"""The pair scores (comparisons of two forecasts), in column order."""


def score_spec(
    key: str,
    *,
    headers: tuple[str, ...] = (),
    cells: Callable[[Any], tuple[str, ...]] = lambda result: (),
    legend: Callable[[Any], str] | None = None,
) -> Callable[[Callable[..., Any]], ScoreSpec]:
    """Decorator: the :class:`ScoreSpec` of score ``key`` computed by the decorated function.

    Raises
    ------
    ValueError
        ``key`` is not a lower-case Python identifier.
    """
    if not key.isidentifier() or key != key.lower():
        raise ValueError(f"a score key must be a lower-case Python identifier, got {key!r}")

    def spec(compute: Callable[..., Any]) -> ScoreSpec:
        return ScoreSpec(key, compute, tuple(headers), cells, legend)

    return spec


def _register(
    registry: Registry[ScoreSpec],
    key: str,
    headers: tuple[str, ...],
    cells: Callable[[Any], tuple[str, ...]],
    legend: Callable[[Any], str] | None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    make_spec = score_spec(key, headers=headers, cells=cells, legend=legend)

    def register(compute: Callable[..., Any]) -> Callable[..., Any]:
        registry.register(key)(make_spec(compute))
        return compute

    return register


def forecast_score(
    key: str,
    *,
    headers: tuple[str, ...] = (),
    cells: Callable[[Any], tuple[str, ...]] = lambda result: (),
    legend: Callable[[Any], str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register ``compute(forecast, observed, settings)`` as forecast score ``key``."""
    return _register(FORECAST_SCORES, key, headers, cells, legend)


def pair_score(
    key: str,
    *,
    headers: tuple[str, ...] = (),
    cells: Callable[[Any], tuple[str, ...]] = lambda result: (),
    legend: Callable[[Any], str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register ``compute(forecast_a, forecast_b, observed, settings)`` as ``key``."""
    return _register(PAIR_SCORES, key, headers, cells, legend)
