"""ETAS with a background estimated by stochastic declustering, iterated with the fit.

The operational recipe of Zhuang, Ogata & Vere-Jones (2002, JASA 97(458),
369-380, section 3): fit ETAS, give every target event its probability
φ_j of being a background event, smooth the φ-weighted events into a
background map (:func:`~framecast.quake.etas.background.smoothed_map`, the
bandwidth chosen on the fit's own events by
:func:`~framecast.quake.etas.background.choose_smoothing`), fit again with
that map, and repeat until the log-likelihood settles. The first fit has the
uniform background. Everything uses only the events of the fit's period.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from framecast.quake.catalog.events import Catalog
from framecast.quake.etas.background import BackgroundMap, choose_smoothing, smoothed_map
from framecast.quake.etas.fit import ETASFit, fit_etas
from framecast.quake.etas.likelihood import ETASLikelihood, PairCutoffs, prepare_data
from framecast.quake.etas.region import StudyRegion, as_region
from framecast.quake.grid import Grid

ITERATIONS = 4
"""Map-and-refit rounds after the uniform fit (Zhuang et al. report convergence in a few)."""
TOLERANCE = 0.5
"""Stop when a round changes the log-likelihood by less than this (nats)."""


@dataclass(frozen=True)
class DeclusteredFit:
    """The result of :func:`fit_etas_declustered`.

    Attributes
    ----------
    fit : ETASFit
        The last fit, with ``background``; its ``seconds`` count every round.
    background : BackgroundMap
        The background shape of the last fit.
    log_likelihoods : tuple of float
        The log-likelihood of each round, the uniform fit first.
    background_share : float
        Σ φ_j / J of the last fit: the share of targets that are background.
    smoothing : str
        The chosen bandwidth neighbour count and floor, with the score.
    """

    fit: ETASFit
    background: BackgroundMap
    log_likelihoods: tuple[float, ...]
    background_share: float
    smoothing: str

    def summary(self) -> str:
        steps = " -> ".join(f"{value:.1f}" for value in self.log_likelihoods)
        return (
            f"declustered background after {len(self.log_likelihoods) - 1} rounds "
            f"(LL {steps}); {100 * self.background_share:.0f} % of targets background; "
            f"smoothing {self.smoothing}; {self.fit.summary()}"
        )

    def record(self) -> dict[str, Any]:
        """JSON-ready: the fit's fields, the map and the rounds."""
        from dataclasses import asdict

        return {
            **asdict(self.fit),
            "background": self.background.to_dict(),
            "declustering": {
                "log_likelihoods": list(self.log_likelihoods),
                "background_share": self.background_share,
                "smoothing": self.smoothing,
            },
        }


def background_probabilities(
    fit: ETASFit,
    catalog: Catalog,
    *,
    region: StudyRegion,
    start: object,
    end: object,
    auxiliary_start: object | None,
    cutoffs: PairCutoffs,
    background: BackgroundMap | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(latitude, longitude, days since start, φ) ``[J]`` of the fit's target events.

    The events are those of the fit, with its magnitude convention
    (:attr:`ETASFit.magnitude_bin`: with a bin, ``params.mc`` is the lower
    edge of the completeness bin).
    """
    mc = fit.params.mc
    if fit.magnitude_bin is not None:
        mc = fit.params.mc + fit.magnitude_bin / 2
    data = prepare_data(
        catalog,
        region=region,
        mc=mc,
        start=start,
        end=end,
        auxiliary_start=auxiliary_start,
        background=background,
        magnitude_bin=fit.magnitude_bin,
    )
    phi = ETASLikelihood(data, cutoffs=cutoffs).background_probabilities(fit.params.free_vector())
    rows = data.target_rows
    latitude, longitude = region.unproject(data.x_km[rows], data.y_km[rows])
    return latitude, longitude, data.time_days[rows], phi


def fit_etas_declustered(
    catalog: Catalog,
    *,
    grid: Grid,
    region: Grid | StudyRegion | np.ndarray,
    mc: float,
    start: object,
    end: object,
    auxiliary_start: object | None = None,
    cutoffs: PairCutoffs | None = None,
    iterations: int = ITERATIONS,
    tolerance: float = TOLERANCE,
    progress: Callable[[str], None] | None = None,
    magnitude_bin: float | None = None,
    **options: Any,
) -> DeclusteredFit:
    """Fit ETAS with a background map estimated by stochastic declustering.

    Parameters
    ----------
    catalog : Catalog
    grid : Grid
        The cells of the background map (those of the forecasts).
    region : Grid, StudyRegion or polygon vertices
        The study region.
    mc, start, end, auxiliary_start
        As for :func:`~framecast.quake.etas.fit.fit_etas`.
    cutoffs : PairCutoffs, optional
        Default: :data:`~framecast.quake.etas.likelihood.DEFAULT_CUTOFFS`.
    iterations : int
        At most this many map-and-refit rounds after the uniform fit.
    tolerance : float
        Stop early when a round changes the log-likelihood by less (nats).
    progress : callable, optional
        One line per round.
    magnitude_bin : float, optional
        The magnitude convention of every fit and of the declustering
        probabilities (see :func:`~framecast.quake.etas.fit.fit_etas`): None,
        magnitudes as reported; a bin width, rounded half up to it with the
        excess from ``mc - magnitude_bin / 2``.
    **options
        Passed to every :func:`fit_etas` (``fixed``, ``max_branching_ratio``, ...).

    Raises
    ------
    ValueError
        ``iterations < 1`` and every error of :func:`fit_etas`.
    """
    from framecast.quake.etas.likelihood import DEFAULT_CUTOFFS

    if not iterations >= 1:
        raise ValueError(f"iterations must be >= 1, got {iterations!r}")
    began = time.perf_counter()
    area = as_region(region)
    cutoffs = DEFAULT_CUTOFFS if cutoffs is None else cutoffs
    uniform = BackgroundMap.uniform(grid, area)
    initial = options.pop("initial", None)
    period = {"start": start, "end": end, "auxiliary_start": auxiliary_start}
    say = progress or (lambda line: None)

    def one_fit(background: BackgroundMap, initial: Any) -> ETASFit:
        return fit_etas(
            catalog,
            region=area,
            mc=mc,
            cutoffs=cutoffs,
            background=background,
            initial=initial,
            magnitude_bin=magnitude_bin,
            **period,
            **options,
        )

    fit = one_fit(uniform, initial)
    background = uniform
    values = [fit.log_likelihood]
    say(
        f"declustering: uniform background, LL {fit.log_likelihood:.2f}, "
        f"η {fit.branching_ratio:.3f}"
    )
    smoothing = "none (uniform)"
    share = float("nan")
    for round_ in range(1, iterations + 1):
        latitude, longitude, days, phi = background_probabilities(
            fit, catalog, region=area, cutoffs=cutoffs, background=background, **period
        )
        share = float(phi.mean())
        choice = choose_smoothing(latitude, longitude, phi, days, uniform)
        smoothing = choice.describe()
        candidate = smoothed_map(
            latitude, longitude, phi, uniform, neighbours=choice.neighbours, floor=choice.floor
        )
        refit = one_fit(candidate, fit.params)
        say(
            f"declustering round {round_}: {100 * share:.0f} % background, {smoothing}; "
            f"LL {refit.log_likelihood:.2f}, η {refit.branching_ratio:.3f}"
        )
        change = refit.log_likelihood - fit.log_likelihood
        fit, background = refit, candidate
        values.append(fit.log_likelihood)
        if abs(change) < tolerance:
            break
    _, _, _, phi = background_probabilities(
        fit, catalog, region=area, cutoffs=cutoffs, background=background, **period
    )
    fit = replace(fit, seconds=time.perf_counter() - began)
    return DeclusteredFit(fit, background, tuple(values), float(phi.mean()), smoothing)
