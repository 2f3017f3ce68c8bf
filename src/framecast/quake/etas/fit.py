"""Maximum-likelihood fitting of space-time ETAS.

Direct maximisation of the full log-likelihood of
:mod:`framecast.quake.etas.likelihood` over the nine free parameters of
Mizrahi, Nandan & Wiemer (2021, SRL; the parameterisation of
:mod:`framecast.quake.etas.parameters`), in their log10 form, with scipy's L-BFGS-B
inside the box bounds of Mizrahi et al.'s inversion code
(:data:`~framecast.quake.etas.parameters.FIT_BOUNDS`). Gradients are exact (torch
autograd in float64); standard errors come from the inverse of the observed
Fisher information, the Hessian of the negative log-likelihood at the optimum.

Options a seismologist needs on real catalogs: ``fixed`` holds named
parameters at given values (e.g. ``{"log10_tau": 3.5}``, as in Mizrahi et al.'s
constrained inversions); ``max_branching_ratio`` keeps η below a value (the
fit then runs scipy's SLSQP with the smooth nonlinear constraint of
:func:`~framecast.quake.etas.likelihood.branching_margin`, and the result is
checked and, if the optimiser overshot by rounding, scaled back in k0, to
which η is proportional); ``cutoffs`` limits the source-target pairs as in
Mizrahi et al.'s code (:class:`~framecast.quake.etas.likelihood.PairCutoffs`);
``progress`` receives one line per iteration. Every fit carries its
branching ratio and a list of warnings (supercritical, non-finite, at a
bound, not converged), which :func:`fit_etas` also logs.

Mizrahi et al.'s ``etas`` package fits by an EM-like scheme (expected
branching structure, then a numerical maximisation). Its maximisation step
normalises each aftershock's time density over all time while counting the
expected aftershocks inside the target window only, so it maximises the
log-likelihood plus ``Σ_i l_i log F_i`` (``F_i`` the share of source i's time
kernel inside the window), not the likelihood itself: on San Jacinto (M >= 2,
2009-2015) its fit lies about 30 nats below this direct maximum by either
code's likelihood, the gap along log10 τ and ω (``benchmarks/etas_peer.py``).
The direct route maximises the likelihood and gives the Hessian for free. The b-value is not part of
the likelihood (magnitudes enter only through the sources' productivity and
spatial scale): it is the Aki (1965) / Utsu (1966) estimate from the target
events unless given.

Magnitudes are used as reported (M >= mc, excess m - mc) unless
``magnitude_bin`` is given: then, as in the ``etas`` package, they are
rounded half up to that bin, events with rounded M >= mc are kept, the
excess is measured from ``mc - magnitude_bin / 2`` (the fit's
``params.mc``), and the b-value is the Aki-Utsu estimate of the rounded
target magnitudes with one half-bin correction.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import minimize

from framecast.quake.catalog.events import Catalog
from framecast.quake.catalog.magnitudes import aki_b_value
from framecast.quake.etas.background import BackgroundMap
from framecast.quake.etas.likelihood import (
    DEFAULT_CUTOFFS,
    ETASData,
    ETASLikelihood,
    PairCutoffs,
    branching_margin,
    prepare_data,
)
from framecast.quake.etas.parameters import FIT_BOUNDS, FREE_PARAMETERS, ETASParameters
from framecast.quake.etas.region import StudyRegion
from framecast.quake.grid import Grid

log = logging.getLogger(__name__)

_BOUND_MARGIN = 1e-6  # initial values are moved this far inside the bounds
_ACTIVE = 1e-5  # η within this relative distance of max_branching_ratio: the constraint is active


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
        information) over the parameters neither fixed nor at a bound, and
        projected onto the constraint surface when ``max_branching_ratio``
        is active; NaN for fixed parameters, parameters at a bound and
        where the Hessian is not positive definite.
    log_likelihood : float
    n_target_events, n_source_events : int
    branching_ratio : float
        η of the fitted parameters (untruncated Gutenberg-Richter).
    at_bounds : tuple of str
        Parameters (not fixed) that ended at (within 1e-4 of the range of) a
        bound of :data:`~framecast.quake.etas.parameters.FIT_BOUNDS`.
    converged : bool
        Whether the optimiser reported convergence.
    iterations : int
    message : str
        The optimiser's message.
    seconds : float
        Wall time of the fit, pairs and Hessian included.
    warnings : tuple of str
        Human-readable problems of the fit (see :func:`fit_warnings`); empty if none.
    fixed : dict of str to float
        The parameters held at given values.
    max_branching_ratio : float or None
        The constraint on η, if any.
    n_pairs : int
        Source-target pairs within the cut-offs.
    cutoffs : str
        The pair cut-offs, in words.
    magnitude_bin : float or None
        The bin the magnitudes were rounded to (None: as reported); with a
        bin, ``params.mc`` is the lower edge of the completeness bin.
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
    warnings: tuple[str, ...] = ()
    fixed: dict[str, float] = field(default_factory=dict)
    max_branching_ratio: float | None = None
    n_pairs: int = 0
    cutoffs: str = ""
    magnitude_bin: float | None = None

    @property
    def ok(self) -> bool:
        """True when the fit has no warnings."""
        return not self.warnings

    def summary(self) -> str:
        """One line: η, LL, targets, iterations, seconds and the warnings."""
        status = "ok" if self.ok else "WARNINGS: " + "; ".join(self.warnings)
        return (
            f"ETAS fit: branching ratio {self.branching_ratio:.3f}, "
            f"LL {self.log_likelihood:.2f}, {self.n_target_events} targets, "
            f"{self.iterations} iterations, {self.seconds:.1f} s, {status}"
        )

    def parameter_table(self) -> str:
        """The summary line, then one line per parameter: value ± standard error."""
        lines = [self.summary()]
        for name in FREE_PARAMETERS:
            if name in self.fixed:
                flag = "  (fixed)"
            elif name in self.at_bounds:
                flag = "  (at bound)"
            else:
                flag = ""
            lines.append(
                f"  {name:>10} = {getattr(self.params, name):8.4f} ± {self.stderr[name]:.4f}{flag}"
            )
        binned = (
            ""
            if self.magnitude_bin is None
            else f" (lower edge of the bin; magnitudes rounded to {self.magnitude_bin:g})"
        )
        lines.append(f"  {'mc':>10} = {self.params.mc:8.4f}{binned}, b = {self.params.b_value:.4f}")
        return "\n".join(lines)


def fit_warnings(
    params: ETASParameters,
    log_likelihood: float,
    at_bounds: tuple[str, ...],
    converged: bool,
    message: str,
    max_branching_ratio: float | None = None,
) -> tuple[str, ...]:
    """Human-readable problems of a fit, in the order: η, LL, bounds, constraint, convergence.

    * η >= 1: supercritical, the model explodes (forecasts grow without bound);
    * η or LL infinite or NaN;
    * a parameter at a bound of :data:`FIT_BOUNDS` (named with the bound value):
      the maximum lies outside the box and the parameter is not identified;
    * η at ``max_branching_ratio``: the constraint binds (the data want more);
    * the optimiser did not report convergence.
    """
    eta = params.branching_ratio()
    found: list[str] = []
    if not math.isfinite(eta):
        found.append(f"branching ratio is {eta} (beta <= a - gamma*rho: infinite productivity)")
    elif eta >= 1.0:
        found.append(f"supercritical: branching ratio {eta:.3f} >= 1")
    if not math.isfinite(log_likelihood):
        found.append(f"log-likelihood is {log_likelihood}")
    for name in at_bounds:
        low, high = FIT_BOUNDS[name]
        value = getattr(params, name)
        which, bound = ("lower", low) if value - low <= high - value else ("upper", high)
        found.append(f"{name} = {value:.4g} at its {which} bound {bound:g}")
    if (
        max_branching_ratio is not None
        and math.isfinite(eta)
        and eta >= max_branching_ratio * (1.0 - _ACTIVE)
    ):
        found.append(f"branching ratio {eta:.3f} held at the constraint {max_branching_ratio:g}")
    if not converged:
        found.append(f"not converged: {message}")
    return tuple(found)


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


def _check_fixed(fixed: Mapping[str, float] | None) -> dict[str, float]:
    """The fixed values as floats, checked against :data:`FREE_PARAMETERS` and the bounds."""
    checked: dict[str, float] = {}
    for name, value in (fixed or {}).items():
        if name not in FIT_BOUNDS:
            raise ValueError(
                f"cannot fix unknown ETAS parameter {name!r}; "
                f"expected one of {list(FREE_PARAMETERS)}"
            )
        low, high = FIT_BOUNDS[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ValueError(
                f"fixed {name} = {value!r} is outside the fit bounds [{low:g}, {high:g}]"
            )
        checked[name] = float(value)
    if len(checked) == len(FREE_PARAMETERS):
        raise ValueError("every ETAS parameter is fixed: nothing to fit")
    return checked


def standard_errors(hessian: np.ndarray) -> np.ndarray:
    """float64 ``[P]``: sqrt of the diagonal of the inverse Hessian (NaN where not positive).

    The inverse is taken on the eigenvalues of the symmetrised Hessian; a
    non-positive eigenvalue makes the errors of the parameters it involves NaN.
    """
    return np.sqrt(np.diag(_covariance(hessian)))


def _covariance(hessian: np.ndarray) -> np.ndarray:
    """float64 ``[P, P]``: inverse of the symmetrised Hessian; NaN rows/columns where singular."""
    symmetric = 0.5 * (hessian + hessian.T)
    values, vectors = np.linalg.eigh(symmetric)
    positive = values > 0
    covariance = (vectors[:, positive] / values[positive]) @ vectors[:, positive].T  # [P, P]
    bad = (np.abs(vectors[:, ~positive]) > 1e-6).any(axis=1)  # [P]
    covariance[bad, :] = np.nan
    covariance[:, bad] = np.nan
    return covariance


def _constrained_covariance(hessian: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """float64 ``[P, P]``: the covariance on the surface ``gradient · δθ = 0``.

    At an active equality constraint the estimate moves only within the
    constraint's tangent space; with ``Z`` its orthonormal basis ``[P, P-1]``
    the covariance is ``Z (Zᵀ H Z)^{-1} Zᵀ`` (the reduced Hessian).
    """
    basis = null_space(gradient[None, :])  # [P, P-1]
    return basis @ _covariance(basis.T @ hessian @ basis) @ basis.T


class _Objective:
    """-LL and its gradient over the free (not fixed) parameters, remembering the last value."""

    def __init__(self, likelihood: ETASLikelihood, full: np.ndarray, free: np.ndarray) -> None:
        self.likelihood = likelihood
        self.full = full.copy()  # [9]: fixed values in place
        self.free = free  # bool [9]
        self.last: tuple[np.ndarray, float] | None = None
        self.evaluations = 0

    def expand(self, x: np.ndarray) -> np.ndarray:
        """float64 ``[9]`` from the free values ``[F]``."""
        theta = self.full.copy()
        theta[self.free] = x
        return theta

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = self.likelihood.value_and_grad(self.expand(x))
        self.last = (x.copy(), value)
        self.evaluations += 1
        return value, gradient[self.free]

    def value_at(self, x: np.ndarray) -> float:
        """-LL at ``x``, from the last evaluation when it was there."""
        if self.last is not None and np.array_equal(self.last[0], x):
            return self.last[1]
        return -self.likelihood.log_likelihood(self.expand(x))


def _format_parameters(theta: np.ndarray) -> str:
    return " ".join(f"{n}={v:.4f}" for n, v in zip(FREE_PARAMETERS, theta, strict=True))


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
    fixed: Mapping[str, float] | None = None,
    max_branching_ratio: float | None = None,
    cutoffs: PairCutoffs = DEFAULT_CUTOFFS,
    progress: Callable[[str], None] | None = None,
    background: BackgroundMap | None = None,
    magnitude_bin: float | None = None,
) -> ETASFit:
    """Fit ETAS by maximum likelihood to the events of ``catalog``.

    Parameters
    ----------
    catalog : Catalog
    region : Grid, StudyRegion or array ``[V, 2]`` of (lat, lon) polygon vertices
        A grid stands for its lat/lon box. Events outside are ignored.
    mc : float
        Completeness magnitude: events with M >= mc are used (with
        ``magnitude_bin``: rounded M >= mc, and mc a multiple of the bin).
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
        magnitudes are rounded, or are rounded by ``magnitude_bin``: once).
    max_iter : int
        Optimiser iterations.
    chunk_pairs : int, optional
        Pairs per autograd graph (memory bound), default
        :data:`~framecast.quake.etas.likelihood.CHUNK_PAIRS`.
    fixed : mapping of str to float, optional
        Free parameters held at the given values (e.g. ``{"log10_tau": 3.5}``),
        which must lie within :data:`FIT_BOUNDS`; their standard error is NaN.
    max_branching_ratio : float, optional
        Keep η (untruncated GR, :func:`~framecast.quake.etas.parameters.branching_ratio`)
        at or below this value, e.g. 0.95: the fit then uses SLSQP with the
        constraint of :func:`~framecast.quake.etas.likelihood.branching_margin`
        instead of L-BFGS-B, and the result satisfies it.
    cutoffs : PairCutoffs
        Which source-target pairs enter λ (default: 100 Wells-Coppersmith
        rupture lengths, no time cut-off; ``NO_CUTOFFS`` for all pairs).
    progress : callable, optional
        Called with one line of text with the numbers of targets, sources and
        pairs, then one line per iteration (iteration, LL, η, parameters).
    background : BackgroundMap, optional
        The shape of a spatially variable background (μ stays its mean over the
        region); default uniform. :func:`fit_etas_declustered` estimates one.
    magnitude_bin : float, optional
        None (default): magnitudes as reported, M >= mc, excess m - mc. A bin
        width (e.g. 0.1): the convention of Mizrahi et al.'s ``etas`` package
        (its ``delta_m``), see
        :func:`~framecast.quake.etas.likelihood.prepare_data`; the fit's
        ``params.mc`` is then ``mc - magnitude_bin / 2``.

    Returns
    -------
    ETASFit
        With its warnings (also logged with ``logging.warning``).

    Raises
    ------
    ValueError
        No events with M >= mc in the region and target period, bad dates,
        unknown or out-of-bounds fixed parameters, ``max_branching_ratio <= 0``,
        or a ``magnitude_bin`` that is not a positive finite number or does not
        divide ``mc``.

    References
    ----------
    Mizrahi, L., Nandan, S. & Wiemer, S. (2021). The effect of declustering on
    the size distribution of mainshocks. Seismol. Res. Lett. 92(4), 2333-2342.
    Wells, D. L. & Coppersmith, K. J. (1994). New empirical relationships among
    magnitude, rupture length, rupture width, rupture area, and surface
    displacement. Bull. Seismol. Soc. Am. 84(4), 974-1002.
    """
    began = time.perf_counter()
    held = _check_fixed(fixed)
    if max_branching_ratio is not None and not (
        isinstance(max_branching_ratio, int | float) and max_branching_ratio > 0
    ):
        raise ValueError(f"max_branching_ratio must be > 0, got {max_branching_ratio!r}")
    data = prepare_data(
        catalog,
        region=region,
        mc=mc,
        start=start,
        end=end,
        auxiliary_start=auxiliary_start,
        background=background,
        magnitude_bin=magnitude_bin,
    )
    if b_value is None:
        # data.mc is the excess reference: mc, or the lower edge of mc's bin
        target_magnitudes = data.magnitude_excess[data.target_rows] + data.mc  # [J]
        if data.magnitude_bin is None:
            b_value = aki_b_value(target_magnitudes, mc)
        else:
            b_value = aki_b_value(target_magnitudes, mc, bin_width=data.magnitude_bin)
    if initial is None:
        initial = _default_initial(data, data.mc, b_value)
    initial = replace(initial, mc=data.mc, b_value=float(b_value), **held)
    beta = initial.beta
    likelihood = (
        ETASLikelihood(data, cutoffs=cutoffs)
        if chunk_pairs is None
        else ETASLikelihood(data, chunk_pairs=chunk_pairs, cutoffs=cutoffs)
    )
    first_line = (
        f"fitting ETAS to {data.n_targets} targets, {data.n_sources} sources, "
        f"{likelihood.n_pairs} pairs ({cutoffs.describe()})"
    )
    log.info(first_line)
    if progress is not None:
        progress(first_line)

    free = np.array([name not in held for name in FREE_PARAMETERS])  # [9]
    start_vector = _initial_vector(initial)  # [9]
    for i, name in enumerate(FREE_PARAMETERS):
        if name in held:
            start_vector[i] = held[name]
    if max_branching_ratio is not None and free[FREE_PARAMETERS.index("log10_k0")]:
        # start inside the constraint: η is proportional to k0
        eta0 = initial.with_free_vector(start_vector).branching_ratio()
        target = 0.9 * max_branching_ratio
        if not math.isfinite(eta0) or eta0 > target:
            k0_row = FREE_PARAMETERS.index("log10_k0")
            shift = math.log10(target / eta0) if math.isfinite(eta0) else -1.0
            low = FIT_BOUNDS["log10_k0"][0] + _BOUND_MARGIN
            start_vector[k0_row] = max(start_vector[k0_row] + shift, low)
    objective = _Objective(likelihood, start_vector, free)
    bounds = [FIT_BOUNDS[name] for name, f in zip(FREE_PARAMETERS, free, strict=True) if f]
    iteration = 0

    def report(x: np.ndarray) -> None:
        nonlocal iteration
        iteration += 1
        if progress is None:
            return
        theta = objective.expand(np.asarray(x, dtype=np.float64))
        eta = initial.with_free_vector(theta).branching_ratio()
        progress(
            f"iteration {iteration}: LL {-objective.value_at(np.asarray(x)):.4f}, "
            f"eta {eta:.4f}, {_format_parameters(theta)}"
        )

    if max_branching_ratio is None:
        result = minimize(
            objective,
            start_vector[free],
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            callback=report,
            options={"maxiter": max_iter, "ftol": 1e-12, "gtol": 1e-6, "maxcor": 20},
        )
    else:
        # SLSQP's tolerance is absolute: -LL per target event keeps it O(1)
        scale = 1.0 / data.n_targets

        def scaled(x: np.ndarray) -> tuple[float, np.ndarray]:
            value, gradient = objective(x)
            return value * scale, gradient * scale

        def margin(x: np.ndarray) -> float:
            return branching_margin(objective.expand(x), beta, max_branching_ratio)[0]

        def margin_gradient(x: np.ndarray) -> np.ndarray:
            return branching_margin(objective.expand(x), beta, max_branching_ratio)[1][free]

        result = minimize(
            scaled,
            start_vector[free],
            jac=True,
            method="SLSQP",
            bounds=bounds,
            constraints=[{"type": "ineq", "fun": margin, "jac": margin_gradient}],
            callback=report,
            options={"maxiter": max_iter, "ftol": 1e-10},
        )
    theta = objective.expand(result.x)  # [9]
    if max_branching_ratio is not None:
        theta = _enforce_branching_ratio(initial, theta, free, max_branching_ratio)
    params = initial.with_free_vector(theta)
    log_likelihood = likelihood.log_likelihood(theta)
    at_bounds = _at_bounds(theta) & free  # [9]
    estimated = free & ~at_bounds  # [9]
    # fixed parameters and those at a bound are held: the others' errors come from the rest
    errors = np.full(len(FREE_PARAMETERS), np.nan)
    if estimated.any():
        hessian = likelihood.hessian(theta)[estimated][:, estimated]
        eta = params.branching_ratio()
        if max_branching_ratio is not None and eta >= max_branching_ratio * (1.0 - _ACTIVE):
            gradient = branching_margin(theta, beta, max_branching_ratio)[1][estimated]
            covariance = _constrained_covariance(hessian, gradient)
        else:
            covariance = _covariance(hessian)
        errors[estimated] = np.sqrt(np.diag(covariance))
    at_bound_names = tuple(np.asarray(FREE_PARAMETERS)[at_bounds].tolist())
    converged, message = bool(result.success), str(result.message)
    warnings = fit_warnings(
        params, log_likelihood, at_bound_names, converged, message, max_branching_ratio
    )
    fit = ETASFit(
        params=params,
        stderr={name: float(e) for name, e in zip(FREE_PARAMETERS, errors, strict=True)},
        log_likelihood=log_likelihood,
        n_target_events=data.n_targets,
        n_source_events=data.n_sources,
        branching_ratio=params.branching_ratio(),
        at_bounds=at_bound_names,
        converged=converged,
        iterations=int(result.nit),
        message=message,
        seconds=time.perf_counter() - began,
        warnings=warnings,
        fixed=held,
        max_branching_ratio=None if max_branching_ratio is None else float(max_branching_ratio),
        n_pairs=likelihood.n_pairs,
        cutoffs=cutoffs.describe(),
        magnitude_bin=data.magnitude_bin,
    )
    for warning in warnings:
        log.warning("ETAS fit on %s: %s", data.description, warning)
    log.info(fit.summary())
    return fit


def _enforce_branching_ratio(
    initial: ETASParameters, theta: np.ndarray, free: np.ndarray, max_ratio: float
) -> np.ndarray:
    """``theta`` with k0 lowered so that η <= ``max_ratio`` exactly, if the optimiser overshot.

    SLSQP satisfies its constraints to a tolerance; η is proportional to k0,
    so a rounding overshoot is removed by scaling k0 (when k0 is free).
    """
    eta = initial.with_free_vector(theta).branching_ratio()
    k0_row = FREE_PARAMETERS.index("log10_k0")
    if eta <= max_ratio or not math.isfinite(eta) or not free[k0_row]:
        return theta
    theta = theta.copy()
    theta[k0_row] += math.log10(max_ratio / eta) - 1e-12
    theta[k0_row] = max(theta[k0_row], FIT_BOUNDS["log10_k0"][0])
    return theta
