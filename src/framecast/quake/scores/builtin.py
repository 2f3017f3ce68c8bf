"""The built-in scores of the score table, one :class:`ScoreSpec` each.

The plugin table (:data:`framecast.plugins.PLUGINS`, kinds ``forecast score``
and ``pair score``) lists them in column order; the registries
:data:`~framecast.quake.scores.registry.FORECAST_SCORES` and
:data:`~framecast.quake.scores.registry.PAIR_SCORES` import this module when
a score is first asked for. A new score is one function decorated with
:func:`~framecast.quake.scores.registry.score_spec` in a module of its own,
plus its line in the plugin table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from framecast.quake.rates import RateForecast
from framecast.quake.scores import bootstrap, consistency, likelihood
from framecast.quake.scores.binary import BinarySkill, binary_skill
from framecast.quake.scores.bootstrap import BootstrapInterval
from framecast.quake.scores.consistency import ConsistencyTest, WindowTests
from framecast.quake.scores.likelihood import PairedTTest, WilcoxonTest
from framecast.quake.scores.markdown import interval, number, verdict
from framecast.quake.scores.observed import ObservedEvents
from framecast.quake.scores.registry import PAIR_SCORES, ScoreSettings, score_spec

if TYPE_CHECKING:
    from framecast.quake.scores.table import ScoreTable


@score_spec(
    "n_forecast",
    headers=("N forecast",),
    cells=lambda value: (number(value, 1),),
    legend=lambda table: (
        "- **N forecast**: expected number of M ≥ mc events summed over all "
        f"windows (observed: {table.n_events})."
    ),
)
def n_forecast(forecast: RateForecast, observed: ObservedEvents, settings: ScoreSettings) -> float:
    return float(forecast.rates.sum())


@score_spec(
    "log_likelihood",
    headers=("log L (nats)",),
    cells=lambda value: (number(value, 1),),
    legend=lambda table: (
        "- **log L**: Poisson joint log-likelihood Σ(−λ + n ln λ − ln n!) over "
        "every window and cell (Zechar et al. 2010); higher is better. Per event: divided by the "
        "number of observed events."
    ),
)
def log_likelihood(
    forecast: RateForecast, observed: ObservedEvents, settings: ScoreSettings
) -> float:
    return float(likelihood.log_likelihood(forecast, observed).sum())


@score_spec(
    "log_likelihood_per_event",
    headers=("log L / event (nats)",),
    cells=lambda value: (number(value),),
)
def log_likelihood_per_event(
    forecast: RateForecast, observed: ObservedEvents, settings: ScoreSettings
) -> float:
    total = float(likelihood.log_likelihood(forecast, observed).sum())
    return total / len(observed) if len(observed) else float("nan")


@score_spec(
    "n_test",
    headers=("N-test δ1 / δ2",),
    cells=lambda test: (verdict(test),),
    legend=lambda table: (
        "- **N-test** (Zechar et al. 2010): δ1 = P(X ≥ n_obs), "
        "δ2 = P(X ≤ n_obs) with X ~ Poisson(N forecast) over the whole period; ✓ when both "
        f"≥ α/2 = {table.alpha / 2:g}."
    ),
)
def n_test(
    forecast: RateForecast, observed: ObservedEvents, settings: ScoreSettings
) -> ConsistencyTest:
    return consistency.n_test(forecast, observed, alpha=settings.alpha)


@score_spec(
    "n_test_windows",
    headers=("N-test per window ✓",),
    cells=lambda tests: (
        f"{number(100 * tests.share_passed, 1)}% of {tests.num_windows}; "
        f"{number(100 * tests.share_passed_with_events, 1)}% of {tests.windows_with_events} "
        "with events",
    ),
    legend=lambda table: (
        "- **N-test per window**: the N-test of each window as its own "
        "forecast period; share of windows passing, of all windows and of the windows with at "
        "least one event."
    ),
)
def n_test_windows(
    forecast: RateForecast, observed: ObservedEvents, settings: ScoreSettings
) -> WindowTests:
    return consistency.n_test_per_window(forecast, observed, alpha=settings.alpha)


def _simulation(settings: ScoreSettings) -> dict[str, Any]:
    return {
        "alpha": settings.alpha,
        "num_simulations": settings.num_simulations,
        "seed": settings.seed,
    }


@score_spec(
    "m_test",
    headers=("M-test κ",),
    cells=lambda test: (verdict(test),),
    legend=lambda table: (
        "- **M-, S-, ST-, L-tests**: quantile of the observed joint "
        "log-likelihood among catalogs simulated from the forecast (pyCSEP's algorithm); ✓ when "
        f"≥ α = {table.alpha:g} (one-sided; a low quantile means the observations are less likely "
        "than the forecast's own simulations). M: magnitude-bin totals of the whole period; "
        "S: the period-summed map (rates summed over windows per cell), as pyCSEP's S-test of one "
        "forecast for the period; both normalised to the observed number. ST: the S-test "
        "statistic over window × cell bins, so it also tests when events occur (not a CSEP test). "
        "L: every window × cell × magnitude bin, Poisson catalog sizes."
    ),
)
def m_test(
    forecast: RateForecast, observed: ObservedEvents, settings: ScoreSettings
) -> ConsistencyTest:
    return consistency.m_test(
        forecast, observed, max_magnitude=settings.max_magnitude, **_simulation(settings)
    )


@score_spec("s_test", headers=("S-test ζ",), cells=lambda test: (verdict(test),))
def s_test(
    forecast: RateForecast, observed: ObservedEvents, settings: ScoreSettings
) -> ConsistencyTest:
    return consistency.s_test(forecast, observed, **_simulation(settings))


@score_spec("st_test", headers=("ST-test ζ_st",), cells=lambda test: (verdict(test),))
def st_test(
    forecast: RateForecast, observed: ObservedEvents, settings: ScoreSettings
) -> ConsistencyTest:
    return consistency.space_time_test(forecast, observed, **_simulation(settings))


@score_spec("l_test", headers=("L-test γ",), cells=lambda test: (verdict(test),))
def l_test(
    forecast: RateForecast, observed: ObservedEvents, settings: ScoreSettings
) -> ConsistencyTest:
    return consistency.l_test(
        forecast, observed, max_magnitude=settings.max_magnitude, **_simulation(settings)
    )


def _binary_legend(table: ScoreTable) -> str:
    prevalence = table.scores[0].binary.prevalence if table.scores else float("nan")
    return (
        f"- **ROC AUC, PR AUC, ASS**: skill at flagging the window × cell bins holding an "
        f"event of M ≥ {table.binary_magnitude:g}, with p = 1 − exp(−λ). ROC AUC: 0.5 "
        f"without skill, 1 perfect. PR AUC is the average precision; without skill it "
        f"equals the fraction of bins with events ({number(prevalence, 4)}). ASS is the "
        "Molchan area skill score (Zechar & Jordan 2008): 1 − area under the miss rate "
        "versus fraction of space-time alarmed; 0.5 without skill."
    )


@score_spec(
    "binary",
    headers=("ROC AUC", "PR AUC", "ASS"),
    cells=lambda skill: (
        number(skill.roc_auc),
        number(skill.pr_auc),
        number(skill.area_skill_score),
    ),
    legend=_binary_legend,
)
def binary(
    forecast: RateForecast, observed: ObservedEvents, settings: ScoreSettings
) -> BinarySkill:
    magnitude = forecast.mc if settings.binary_magnitude is None else settings.binary_magnitude
    return binary_skill(forecast, observed, magnitude=magnitude)


@score_spec(
    "t_test",
    headers=("T-test (assumes independent events)",),
    cells=interval,
    legend=lambda table: (
        "- **Information gain per earthquake** (Rhoades et al. 2011, eq. 17): "
        "mean log rate ratio at the target events minus the difference in expected numbers per "
        "event, over the window × cell × 0.1-magnitude bins. **T-test**: its interval "
        "IG ± t s/√N (pyCSEP's paired T-test); assumes the N events are independent."
    ),
)
def t_test(
    forecast_a: RateForecast,
    forecast_b: RateForecast,
    observed: ObservedEvents,
    settings: ScoreSettings,
) -> PairedTTest:
    return likelihood.information_gain(
        forecast_a,
        forecast_b,
        observed,
        alpha=settings.alpha,
        max_magnitude=settings.max_magnitude,
    )


@score_spec(
    "w_test",
    headers=("W-test p (median gain; assumes independent events)",),
    cells=lambda test: (f"{number(test.p_value)} ({number(test.median_gain)})",),
    legend=lambda table: (
        "- **W-test** (Rhoades et al. 2011; pyCSEP's w_test): Wilcoxon "
        "signed-rank test that the per-event log rate ratios are symmetric about "
        "(N_A − N_B)/N; two-sided p-value, with the median per-event gain (> 0 favours the "
        f"forecast); significant when p < α = {table.alpha:g}. Assumes independent events."
    ),
)
def w_test(
    forecast_a: RateForecast,
    forecast_b: RateForecast,
    observed: ObservedEvents,
    settings: ScoreSettings,
) -> WilcoxonTest:
    return likelihood.w_test(
        forecast_a,
        forecast_b,
        observed,
        alpha=settings.alpha,
        max_magnitude=settings.max_magnitude,
    )


def _bootstrap(
    block_days: float,
) -> Any:
    def compute(
        forecast_a: RateForecast,
        forecast_b: RateForecast,
        observed: ObservedEvents,
        settings: ScoreSettings,
    ) -> BootstrapInterval:
        return bootstrap.bootstrap_information_gain(
            forecast_a,
            forecast_b,
            observed,
            block_days=block_days,
            num_resamples=settings.num_resamples,
            alpha=settings.alpha,
            seed=settings.seed,
            max_magnitude=settings.max_magnitude,
        )

    return compute


bootstrap_1d = score_spec("bootstrap_1d", headers=("1-day blocks",), cells=interval)(
    _bootstrap(1.0)
)
bootstrap_30d = score_spec(
    "bootstrap_30d",
    headers=("30-day blocks",),
    cells=interval,
    legend=lambda table: (
        "- **1-day, 30-day blocks**: percentile intervals of the gain from "
        f"{table.settings.num_resamples} block-bootstrap resamples (seed {table.seed}) of whole "
        "days or 30-day blocks of windows, with replacement; each resample's gain is its summed "
        "window log-likelihood difference over its number of events. They assume independence "
        "between blocks and stationarity, not independent events, so they widen when events "
        "cluster in time. Significance (*) rests on the "
        f"{PAIR_SCORES[table.settings.decisive].headers[0]} interval."
    ),
)(_bootstrap(30.0))
