"""Two non-neural ablations of the ETAS-residual network (issue 21, item 5).

The residual network forecasts ``rate = ETAS · exp(head(inner))``. If a much
simpler correction of ETAS scores as well, the recurrent network adds
nothing. ``ablations: [static_map, head_only]`` in a run's config adds:

* ``static_map``: first-order ETAS times a static map of multipliers, one per
  cell, ``rate_{t,c} = ETAS_{t,c} · m_c``. ``m_c`` is the Poisson maximum
  likelihood under a Gamma(α, α) prior centred on 1 (no correction):
  ``m_c = (N_c + α) / (R_c + α)``, with ``N_c`` the observed events and
  ``R_c`` the first-order ETAS expectation of cell ``c`` summed over the bins
  fitted (the conjugate Poisson-Gamma posterior mean; Gelman et al. 2013,
  Bayesian Data Analysis, ch. 2.6). α is chosen on the validation bins with
  ``m`` fitted on the training bins, then ``m`` is refitted on every bin
  before the test period with that α. Closed form: no library adds anything.
* ``head_only``: the residual's 1x1 head on the current frame alone,
  ``rate_{t+1,c} = ETAS_{t+1,c} · exp(w · x_{t,c} + b)``, a Poisson
  regression with log-ETAS offset on the frame's channels (counts,
  magnitudes, activity, log ETAS), trained by the network's own engine,
  data, loss and early stopping: the ``etas_residual`` model with the
  ``persistence`` model (which passes frame t on as it is) in place of the
  recurrent network.

Files: ``ablations/static_map.json`` (α, validation scores), and
``ablations/<name>.h5`` (the test-period forecast); the head's training
lives under ``train/network_head_only``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from framecast.files import atomic_write
from framecast.quake.rates import RateForecast
from framecast.quake.settings import Log
from framecast.quake.stage_files import reuse_or_build, stage_forecast

if TYPE_CHECKING:
    from framecast.config import Config
    from framecast.quake.frames import SeismicityFrames
    from framecast.quake.settings import QuakeExperiment

STRENGTHS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, math.inf)
"""Prior strengths α tried (pseudo-events; ``inf``: every multiplier 1, plain ETAS)."""
FOLDER = "ablations"


def static_multipliers(counts: np.ndarray, rates: np.ndarray, strength: float) -> np.ndarray:
    """float64 ``[H, X]``: ``(Σ_t n_tc + α) / (Σ_t r_tc + α)``; all ones for α = inf.

    ``counts`` and ``rates`` are ``[T, H, X]``: observed events and the
    first-order ETAS expectation of the same bins.
    """
    if not strength > 0:
        raise ValueError(f"the prior strength must be > 0, got {strength!r}")
    if math.isinf(strength):
        return np.ones(counts.shape[1:])
    return (counts.sum(axis=0) + strength) / (rates.sum(axis=0) + strength)  # [H, X]


def poisson_log_likelihood(counts: np.ndarray, rates: np.ndarray) -> float:
    """``Σ n log r - r - log n!`` over bins and cells, nats (rates > 0 where counts are)."""
    from scipy.special import gammaln

    with np.errstate(divide="ignore", invalid="ignore"):
        at_events = np.where(counts > 0, counts * np.log(rates), 0.0)
    return float(at_events.sum() - rates.sum() - gammaln(counts + 1.0).sum())


@dataclass(frozen=True)
class StaticMapFit:
    """The chosen prior strength and the map refitted on every bin before the test.

    Attributes
    ----------
    multiplier : numpy.ndarray
        ``[H, X]``.
    strength : float
        α chosen on validation.
    validation : dict of float to float
        Validation log-likelihood (nats) of each α tried.
    """

    multiplier: np.ndarray
    strength: float
    validation: dict[float, float]


def fit_static_map(
    counts: np.ndarray,
    rates: np.ndarray,
    val_start: int,
    test_start: int,
    strengths: tuple[float, ...] = STRENGTHS,
) -> StaticMapFit:
    """Choose α on bins ``val_start .. test_start - 1`` (map from the bins before), refit on all.

    Parameters
    ----------
    counts, rates : numpy.ndarray
        ``[T, H, X]`` observed events and first-order ETAS expectations of bins 0..T-1.
    val_start, test_start : int
        First validation and first test bin.

    Raises
    ------
    ValueError
        Mismatched shapes, or bins out of order.
    """
    if counts.shape != rates.shape or counts.ndim != 3:
        raise ValueError(
            f"counts and rates must be [T, H, X] arrays of one shape, got {counts.shape} and "
            f"{rates.shape}"
        )
    if not 0 < val_start < test_start <= len(counts):
        raise ValueError(
            f"need 0 < val_start < test_start <= {len(counts)} bins, got {val_start}, {test_start}"
        )
    train, val = slice(0, val_start), slice(val_start, test_start)
    scores = {
        alpha: poisson_log_likelihood(
            counts[val], rates[val] * static_multipliers(counts[train], rates[train], alpha)
        )
        for alpha in strengths
    }
    best = max(scores, key=lambda alpha: scores[alpha])
    before = slice(0, test_start)
    return StaticMapFit(static_multipliers(counts[before], rates[before], best), best, scores)


def stage_static_map(
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    first_order: RateForecast,
    out: Path,
    log: Log,
) -> RateForecast:
    """First-order ETAS of the test period times the static map (``ablations/static_map.h5``).

    The map is fitted on the ETAS channel of the run (``etas_channel.h5``:
    first-order forecasts of bins 1..T with the run's ETAS parameters).
    """
    return reuse_or_build(
        out / FOLDER / "static_map.h5",
        "ablation static_map",
        log,
        load=RateForecast.load,
        build=lambda path: _build_static_map(experiment, frames, first_order, out, path, log),
    )


def _build_static_map(
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    first_order: RateForecast,
    out: Path,
    path: Path,
    log: Log,
) -> RateForecast:
    channel = RateForecast.load(out / "etas_channel.h5")  # rates[k]: ETAS of bin k + 1
    counts = frames.channel("count")[1:]  # [T-1, H, X]: bins 1..T-1
    rates = channel.rates[:-1]  # [T-1, H, X]: their first-order ETAS
    val_bin = frames.bin_index(experiment.periods.val_start) - 1
    test_bin = frames.bin_index(experiment.periods.test_start) - 1
    fit = fit_static_map(counts, rates, val_bin, test_bin)
    alpha = "inf (no map)" if math.isinf(fit.strength) else f"{fit.strength:g}"
    forecast = dataclasses.replace(
        first_order,
        name="first-order ETAS x static map",
        rates=first_order.rates * fit.multiplier,  # [W, H, X]
        details=(
            f"{first_order.name} times a per-cell multiplier (N + α)/(R + α) fitted on every "
            f"bin before the test period, α = {alpha} pseudo-events chosen on validation; "
            f"multipliers {fit.multiplier.min():.2f} to {fit.multiplier.max():.2f}"
        ),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "strength": fit.strength if math.isfinite(fit.strength) else "inf",
        "validation_log_likelihood": {str(k): v for k, v in fit.validation.items()},
        "multiplier_range": [float(fit.multiplier.min()), float(fit.multiplier.max())],
    }
    with atomic_write(out / FOLDER / "static_map.json") as partial:
        partial.write_text(json.dumps(record, indent=2))
    forecast.save(path)
    log(f"ablation static_map: α {alpha}, {forecast.rates.sum():.1f} events expected -> {path}")
    return forecast


def stage_head_only(
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    network_frames: SeismicityFrames | None,
    out: Path,
    log: Log,
) -> RateForecast:
    """The residual's 1x1 head on the current frame alone, trained as the network is."""
    from framecast.quake.stages import stage_network, stage_network_forecast

    def head_only_config() -> Config:
        config = experiment.network.training_config(frames)
        config.model.options["model"] = "persistence"  # the residual's inner network: none
        config.model.options["options"] = {}
        config.train = dataclasses.replace(
            config.train, run_name=f"{config.train.run_name}_head_only"
        )
        return config

    def head_only() -> RateForecast:
        checkpoint = stage_network(out / FOLDER / "head_only.ckpt", log, head_only_config)
        forecast = stage_network_forecast(
            experiment, frames, network_frames, checkpoint, name_suffix=", 1x1 head alone"
        )
        return dataclasses.replace(forecast, name="1x1 head alone (ETAS x exp(w·x + b))")

    path = out / FOLDER / "head_only.h5"
    return stage_forecast(path, "ablation head_only", log, head_only, experiment.cell_mask())


def stage_ablations(
    experiment: QuakeExperiment,
    frames: SeismicityFrames,
    network_frames: SeismicityFrames | None,
    forecasts: dict[str, RateForecast],
    out: Path,
    log: Log,
) -> dict[str, RateForecast]:
    """The forecasts of ``experiment.ablations``, keyed by name."""
    result: dict[str, RateForecast] = {}
    for name in experiment.ablations:
        if name == "static_map":
            first_order = forecasts.get("etas_first_order", forecasts["etas"])
            result[name] = stage_static_map(experiment, frames, first_order, out, log)
        else:
            result[name] = stage_head_only(experiment, frames, network_frames, out, log)
    return result
