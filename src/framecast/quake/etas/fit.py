"""Maximum-likelihood fitting of space-time ETAS.

Direct maximisation of the full log-likelihood of
:mod:`framecast.quake.etas.likelihood` over the nine free parameters of
Mizrahi, Nandan & Wiemer (2021, SRL; the parameterisation of
:mod:`framecast.quake.etas.parameters`), in their log10 form, with scipy's L-BFGS-B
inside the box bounds of Mizrahi et al.'s inversion code
(:data:`~framecast.quake.etas.parameters.FIT_BOUNDS`). Gradients are exact (torch
autograd in float64); standard errors come from the inverse of the observed
Fisher information, the Hessian of the negative log-likelihood at the optimum.

Mizrahi et al. fit by an EM-like scheme (expected branching structure, then
a numerical maximisation); the direct route reaches the same maximum of the
same likelihood and gives the Hessian for free. The b-value is not part of
the likelihood (magnitudes enter only through the sources' productivity and
spatial scale): it is the Aki (1965) / Utsu (1966) estimate from the target
events unless given.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize

from framecast.quake.catalog.events import Catalog
from framecast.quake.catalog.magnitudes import aki_b_value
from framecast.quake.etas.likelihood import ETASData, ETASLikelihood, prepare_data
from framecast.quake.etas.parameters import FIT_BOUNDS, FREE_PARAMETERS, ETASParameters
from framecast.quake.etas.region import StudyRegion
from framecast.quake.grid import Grid

log = logging.getLogger(__name__)

_BOUND_MARGIN = 1e-6  # initial values are moved this far inside the bounds


@dataclass(frozen=True)
class ETASFit:
    """The result of :func:`fit_etas`.

    Parameters
    ----------
    params : ETASParameters
        The maximum-likelihood parameters (with the fit's mc and b-value).
    stderr : dict of str to float
        Standard error of each free parameter (log10 units for the log10
        ones), from the inverse Hessian of -LL (the observed Fisher
        information) over the parameters not at a bound; NaN for parameters
        at a bound and where the Hessian is not positive definite.
    log_likelihood : float
    n_target_events, n_source_events : int
    branching_ratio : float
        η of the fitted parameters (untruncated Gutenberg-Richter).
    at_bounds : tuple of str
        Parameters that ended at (within 1e-4 of the range of) a bound of
        :data:`~framecast.quake.etas.parameters.FIT_BOUNDS`.
    converged : bool
        Whether L-BFGS-B reported convergence.
    iterations : int
    message : str
        The optimiser's message.
    seconds : float
        Wall time of the fit, Hessian included.
    """

    params: ETASParameters
    stderr: dict[str, float]
    log_likelihood: float
    n_target_events: int
    n_source_events: int
    branching_ratio: float
    at_bounds: tuple[str, ...]
    converged: bool
    iterations: int
    message: str
    seconds: float

    def summary(self) -> str:
        """One line per parameter: value ± standard error."""
        lines = [
            f"ETAS fit: {self.n_target_events} target events ({self.n_source_events} sources), "
            f"LL {self.log_likelihood:.2f}, branching ratio {self.branching_ratio:.3f}, "
            f"{'converged' if self.converged else 'NOT converged'} in {self.iterations} "
            f"iterations, {self.seconds:.1f} s"
        ]
        for name in FREE_PARAMETERS:
            flag = "  (at bound)" if name in self.at_bounds else ""
            lines.append(
                f"  {name:>10} = {getattr(self.params, name):8.4f} ± {self.stderr[name]:.4f}{flag}"
            )
        lines.append(f"  {'mc':>10} = {self.params.mc:8.4f}, b = {self.params.b_value:.4f}")
        return "\n".join(lines)


def _initial_vector(initial: ETASParameters) -> np.ndarray:
    """float64 ``[9]``: the initial values clipped strictly inside :data:`FIT_BOUNDS`."""
    vector = initial.free_vector()
    for i, name in enumerate(FREE_PARAMETERS):
        low, high = FIT_BOUNDS[name]
        margin = _BOUND_MARGIN * (high - low)
        vector[i] = min(max(vector[i], low + margin), high - margin)
    return vector


def _default_initial(data: ETASData, mc: float, b_value: float) -> ETASParameters:
    """The California defaults, with μ set so that half the targets are background."""
    rate = 0.5 * data.n_targets / (data.area_km2 * data.duration_days)
    return ETASParameters(log10_mu=math.log10(rate), mc=mc, b_value=b_value)


def _at_bounds(vector: np.ndarray) -> np.ndarray:
    """bool ``[9]``: the free parameters within 1e-4 (relative to the range) of a bound."""
    low, high = np.array([FIT_BOUNDS[name] for name in FREE_PARAMETERS]).T  # [9] each
    return np.minimum(vector - low, high - vector) <= 1e-4 * (high - low)


def standard_errors(hessian: np.ndarray) -> np.ndarray:
    """float64 ``[P]``: sqrt of the diagonal of the inverse Hessian (NaN where not positive).

    The inverse is taken on the eigenvalues of the symmetrised Hessian; a
    non-positive eigenvalue makes the errors of the parameters it involves NaN.
    """
    symmetric = 0.5 * (hessian + hessian.T)
    values, vectors = np.linalg.eigh(symmetric)
    positive = values > 0
    inverse_diag = (vectors[:, positive] ** 2 / values[positive]).sum(axis=1)
    bad = (np.abs(vectors[:, ~positive]) > 1e-6).any(axis=1)
    errors = np.sqrt(inverse_diag)
    errors[bad] = np.nan
    return errors


def fit_etas(
    catalog: Catalog,
    *,
    region: Grid | StudyRegion | np.ndarray,
    mc: float,
    start: object,
    end: object,
    auxiliary_start: object | None = None,
    initial: ETASParameters | None = None,
    b_value: float | None = None,
    max_iter: int = 500,
    chunk_pairs: int | None = None,
) -> ETASFit:
    """Fit ETAS by maximum likelihood to the events of ``catalog``.

    Parameters
    ----------
    catalog : Catalog
    region : Grid, StudyRegion or array ``[V, 2]`` of (lat, lon) polygon vertices
        A grid stands for its lat/lon box. Events outside are ignored.
    mc : float
        Completeness magnitude: events with M >= mc are used.
    start, end : date-like
        The target period ``[start, end)``.
    auxiliary_start : date-like, optional
        Events from here to ``start`` trigger but are not targets (default ``start``).
    initial : ETASParameters, optional
        Starting point (its mc and b are replaced by the fit's); default: the
        California values of :class:`ETASParameters` with μ set so that half
        the targets would be background events.
    b_value : float, optional
        Gutenberg-Richter b; None estimates it from the target magnitudes
        (Aki-Utsu maximum likelihood with the half-bin correction when the
        magnitudes are rounded).
    max_iter : int
        L-BFGS-B iterations.
    chunk_pairs : int, optional
        Pairs per autograd graph (memory bound), default
        :data:`~framecast.quake.etas.likelihood.CHUNK_PAIRS`.

    Returns
    -------
    ETASFit

    Raises
    ------
    ValueError
        No events with M >= mc in the region and target period, or bad dates.

    References
    ----------
    Mizrahi, L., Nandan, S. & Wiemer, S. (2021). The effect of declustering on
    the size distribution of mainshocks. Seismol. Res. Lett. 92(4), 2333-2342.
    """
    began = time.perf_counter()
    data = prepare_data(
        catalog, region=region, mc=mc, start=start, end=end, auxiliary_start=auxiliary_start
    )
    if b_value is None:
        b_value = aki_b_value(data.magnitude_excess[data.target_rows] + mc, mc)
    if initial is None:
        initial = _default_initial(data, mc, b_value)
    initial = replace(initial, mc=float(mc), b_value=float(b_value))
    likelihood = (
        ETASLikelihood(data)
        if chunk_pairs is None
        else ETASLikelihood(data, chunk_pairs=chunk_pairs)
    )
    log.info(
        "fitting ETAS to %d targets, %d sources, %d pairs",
        data.n_targets,
        data.n_sources,
        likelihood.n_pairs,
    )
    result = minimize(
        likelihood.value_and_grad,
        _initial_vector(initial),
        jac=True,
        method="L-BFGS-B",
        bounds=[FIT_BOUNDS[name] for name in FREE_PARAMETERS],
        options={"maxiter": max_iter, "ftol": 1e-12, "gtol": 1e-6, "maxcor": 20},
    )
    params = initial.with_free_vector(result.x)
    at_bounds = _at_bounds(result.x)  # [9]
    # parameters at a bound are held there: the others' errors come from the rest of the Hessian
    errors = np.full(len(FREE_PARAMETERS), np.nan)
    errors[~at_bounds] = standard_errors(likelihood.hessian(result.x)[~at_bounds][:, ~at_bounds])
    return ETASFit(
        params=params,
        stderr={name: float(e) for name, e in zip(FREE_PARAMETERS, errors, strict=True)},
        log_likelihood=-float(result.fun),
        n_target_events=data.n_targets,
        n_source_events=data.n_sources,
        branching_ratio=params.branching_ratio(),
        at_bounds=tuple(np.asarray(FREE_PARAMETERS)[at_bounds].tolist()),
        converged=bool(result.success),
        iterations=int(result.nit),
        message=str(result.message),
        seconds=time.perf_counter() - began,
    )
