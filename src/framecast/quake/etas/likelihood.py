"""The ETAS log-likelihood, differentiable in torch (float64) for fitting and scoring.

For target events ``j`` in ``[start, end)`` inside the region and source
events ``i`` (the targets plus the auxiliary events from ``auxiliary_start``),
the log-likelihood of the point process (Daley & Vere-Jones; Mizrahi,
Nandan & Wiemer 2021, SRL, with the kernel of their eq. 2) is

    LL = Σ_j log λ(t_j, x_j, y_j) - ∫_start^end ∫∫_region λ dx dy dt,

    λ(t_j, x_j, y_j) = μ + Σ_{i: t_i < t_j} g(m_i, t_j - t_i, r_ij²),

    ∫∫∫ λ ≈ μ · area · T + Σ_i k(m_i) · π D(m_i)^{-ρ}/ρ
                                · ∫_{max(t_i, start)}^{end} time kernel(t - t_i) dt.

The spatial integral of each source's kernel is taken over the whole plane
rather than the region: the standard approximation (Schoenberg 2013;
Mizrahi et al.'s code), slightly overestimating the integral for sources
near the boundary. The time integral has a closed form in the upper
incomplete gamma function, but torch cannot differentiate Γ(s, x) in
``s = -ω``; it is computed by Gauss-Legendre quadrature on
``u = log(t + c)``, where the integrand ``exp(-(e^u - c)/τ - ω u)`` is smooth
(4 panels of 32 nodes; relative error below 1e-9 against scipy's
incomplete gamma over the fit bounds, see tests).

Pairs and cut-offs (:class:`PairCutoffs`): as in the inversion code of Mizrahi
et al. (the ``etas`` package, ``calculate_distances``), only source-target
pairs closer than a multiple of the Wells & Coppersmith (1994) subsurface
rupture length of the source (``coppersmith_multiplier``, 100 in their
configurations) enter the sum in λ, and optionally only pairs less than
``max_days`` apart; the integral term stays exact (every source's kernel over
the whole plane and the whole target period). The cut-offs thus drop the
far tails of the kernel from λ only; :data:`NO_CUTOFFS` keeps every pair
``t_i < t_j``. Pairs are found block by block of targets (vectorised, memory
bounded by :data:`CANDIDATE_BLOCK` candidates at a time) and kept as 24
bytes each; the likelihood processes them in chunks of whole targets so that
one autograd graph stays small.

This is the only ETAS module that imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from framecast.quake.catalog.events import Catalog, timedelta_to_days, to_datetime64
from framecast.quake.catalog.magnitudes import bin_index, check_magnitude_bin, round_half_up
from framecast.quake.defaults import PAIR_CUTOFF
from framecast.quake.etas.background import BackgroundMap
from framecast.quake.etas.parameters import FREE_PARAMETERS, ETASParameters
from framecast.quake.etas.region import StudyRegion, as_region
from framecast.quake.grid import Grid

DTYPE = torch.float64
CHUNK_PAIRS = 500_000
"""Pairs per chunk of the likelihood: bounds the memory of one autograd graph."""
CANDIDATE_BLOCK = 4_000_000
"""Candidate pairs examined at once while applying the cut-offs (bounds their memory)."""
QUADRATURE_NODES = 32
QUADRATURE_PANELS = 4
_TAIL_TAUS = 50.0  # the time kernel beyond 50 τ after the lower limit is below e^{-50}
_LN10 = math.log(10.0)


# ------------------------------------------------------------------------ data
@dataclass(frozen=True, eq=False)
class ETASData:
    """Source and target events of a likelihood, in days and km.

    Parameters
    ----------
    time_days : numpy.ndarray
        float64 ``[S]``: source times, days since ``start`` (auxiliary ones < 0), sorted.
    x_km, y_km : numpy.ndarray
        float64 ``[S]``: source positions in the region's projection.
    magnitude_excess : numpy.ndarray
        float64 ``[S]``: m - mc (with ``magnitude_bin``: the rounded m minus the
        lower edge of the first bin, ``mc`` being that edge).
    target_rows : numpy.ndarray
        int64 ``[J]``: rows of the sources that are targets (time >= 0).
    duration_days : float
        ``end - start``.
    area_km2 : float
    mc : float
        The reference magnitude of the excess: the completeness magnitude
        given, or with ``magnitude_bin`` the lower edge of its bin
        (``mc - magnitude_bin / 2``).
    description : str
        The region and period, for messages.
    background_weight : numpy.ndarray, optional
        float64 ``[J]``: ``A · u(x_j)`` of a spatially variable background
        (:mod:`~framecast.quake.etas.background`) at the targets, so that the
        background intensity there is ``μ · background_weight``; None: uniform (1).
    magnitude_bin : float or None
        The bin the magnitudes were rounded to (None: as reported).
    """

    time_days: np.ndarray
    x_km: np.ndarray
    y_km: np.ndarray
    magnitude_excess: np.ndarray
    target_rows: np.ndarray
    duration_days: float
    area_km2: float
    mc: float
    description: str
    background_weight: np.ndarray | None = None
    magnitude_bin: float | None = None

    @property
    def n_sources(self) -> int:
        return len(self.time_days)

    @property
    def n_targets(self) -> int:
        return len(self.target_rows)


def prepare_data(
    catalog: Catalog,
    *,
    region: Grid | StudyRegion | np.ndarray,
    mc: float,
    start: object,
    end: object,
    auxiliary_start: object | None = None,
    background: BackgroundMap | None = None,
    magnitude_bin: float | None = None,
) -> ETASData:
    """Select the sources and targets of an ETAS likelihood.

    Sources: events with M >= mc inside the region in ``[auxiliary_start, end)``;
    targets: those of them in ``[start, end)``. Events outside the region are
    ignored altogether (neither targets nor sources), as in the simulation.
    With ``background``, the targets carry the map's density ratio
    (:attr:`ETASData.background_weight`); the map's region must be ``region``.

    Magnitude conventions: ``magnitude_bin`` None uses the magnitudes as
    reported, keeps M >= mc and measures the excess as m - mc. A bin width
    (e.g. 0.1) selects the convention of Mizrahi et al.'s ``etas`` package:
    magnitudes rounded half up to the bin
    (:func:`~framecast.quake.catalog.magnitudes.round_half_up`), events with
    rounded M >= mc kept (so reported M >= mc - bin/2), and the excess
    measured from the lower edge of mc's bin, ``mc - magnitude_bin / 2``,
    which becomes :attr:`ETASData.mc`. ``mc`` must then be a bin centre (a
    multiple of ``magnitude_bin``).

    Raises
    ------
    ValueError
        ``end <= start``, ``auxiliary_start > start``, no target events, a
        ``magnitude_bin`` that is not a positive finite number, or an ``mc``
        that is not a multiple of it.
    """
    bin_width = None if magnitude_bin is None else check_magnitude_bin(magnitude_bin)
    if bin_width is not None:
        mc_bin = round(mc / bin_width)
        if abs(mc / bin_width - mc_bin) > 1e-6:
            raise ValueError(
                f"mc {mc:g} is not a multiple of magnitude_bin {bin_width:g}: "
                "with binned magnitudes mc must be a bin centre"
            )
    area = as_region(region)
    start64, end64 = to_datetime64(start), to_datetime64(end)
    aux64 = start64 if auxiliary_start is None else to_datetime64(auxiliary_start)
    if not end64 > start64:
        raise ValueError(f"end {end64} must be after start {start64}")
    if aux64 > start64:
        raise ValueError(f"auxiliary_start {aux64} must not be after start {start64}")
    keep = (catalog.time >= aux64) & (catalog.time < end64)
    with np.errstate(invalid="ignore"):
        if bin_width is None:
            keep &= catalog.magnitude >= mc
        else:
            keep &= bin_index(catalog.magnitude, bin_width) >= mc_bin
    keep &= area.contains(catalog.latitude, catalog.longitude)
    events = catalog.select(keep).sorted()
    if bin_width is None:
        reference, magnitudes = float(mc), events.magnitude
    else:
        reference = round(mc_bin * bin_width - bin_width / 2, 10)
        magnitudes = round_half_up(events.magnitude, bin_width)  # [S]
    time_days = events.days_since(start64)  # [S]
    target_rows = np.flatnonzero(time_days >= 0)
    description = f"{area.description} between {start64} and {end64}"
    if not len(target_rows):
        rounded = "" if bin_width is None else f" (rounded to {bin_width:g})"
        raise ValueError(f"no events with M{rounded} >= {mc:g} in {description}")
    x, y = area.project(events.latitude, events.longitude)
    weight = None
    if background is not None:
        targets = events.select(time_days >= 0)
        weight = background.density_ratio(targets.latitude, targets.longitude)  # [J]
        if not (weight > 0).all():
            raise ValueError(
                f"the background map is zero at {int((weight <= 0).sum())} target events: "
                "it must cover the region (mix in a floor of the uniform map)"
            )
    return ETASData(
        time_days=time_days,
        x_km=x,
        y_km=y,
        magnitude_excess=magnitudes - reference,
        target_rows=target_rows,
        duration_days=float(float(timedelta_to_days(end64 - start64))),
        area_km2=area.area_km2,
        mc=reference,
        description=description,
        background_weight=weight,
        magnitude_bin=bin_width,
    )


@dataclass(frozen=True)
class PairCutoffs:
    """Which source-target pairs enter the triggering sum of λ.

    A pair (i, j) with ``t_i < t_j`` is kept when its distance is at most
    ``coppersmith_multiplier`` times the subsurface rupture length of the
    source, ``10^(0.59 m_i - 2.44)`` km (Wells & Coppersmith 1994, all slip
    types; the cut-off of Mizrahi et al.'s ``etas`` inversion, whose example
    configurations use a multiplier of 100: 21 km at M3, 330 km at M5, 5,000 km
    at M7), and when ``t_j - t_i <= max_days``. None switches a cut-off off.

    Parameters
    ----------
    coppersmith_multiplier : float or None
        Spatial cut-off in rupture lengths (default 100).
    max_days : float or None
        Time cut-off in days (default None: all earlier sources).

    Raises
    ------
    ValueError
        A cut-off that is not a positive number.
    """

    coppersmith_multiplier: float | None = PAIR_CUTOFF
    max_days: float | None = None

    def __post_init__(self) -> None:
        for name in ("coppersmith_multiplier", "max_days"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and value > 0):
                raise ValueError(
                    f"PairCutoffs.{name} must be a positive number or None, got {value!r}"
                )

    def max_distance_km(self, magnitudes: np.ndarray) -> np.ndarray:
        """float64 ``[S]``: the distance cut-off of sources of these magnitudes (inf: none)."""
        magnitudes = np.asarray(magnitudes, dtype=np.float64)
        if self.coppersmith_multiplier is None:
            return np.full(magnitudes.shape, np.inf)
        return self.coppersmith_multiplier * 10.0 ** (0.59 * magnitudes - 2.44)

    def describe(self) -> str:
        space = (
            "no distance cut-off"
            if self.coppersmith_multiplier is None
            else f"distance <= {self.coppersmith_multiplier:g} rupture lengths"
        )
        time = "no time cut-off" if self.max_days is None else f"time <= {self.max_days:g} days"
        return f"{space}, {time}"


NO_CUTOFFS = PairCutoffs(coppersmith_multiplier=None, max_days=None)
"""Every pair with t_i < t_j: the exact likelihood (memory O(N²))."""
DEFAULT_CUTOFFS = PairCutoffs()
"""100 Wells-Coppersmith rupture lengths, no time cut-off (Mizrahi et al.'s inversion)."""


@dataclass(frozen=True, eq=False)
class _PairChunk:
    """The pairs of a run of consecutive targets; tensors of length P unless noted."""

    target: torch.Tensor  # int32 [P]: index of the target within the chunk
    source: torch.Tensor  # int32 [P]: row of the source
    dt: torch.Tensor  # float64 [P]: t_j - t_i > 0, days
    r2: torch.Tensor  # float64 [P]: squared distance, km²
    n_targets: int
    first_target: int  # index (into data.target_rows) of the chunk's first target
    background_weight: torch.Tensor  # float64 [J']: A·u at the chunk's targets (ones: uniform)


def triggering_pairs(
    data: ETASData, cutoffs: PairCutoffs, *, block: int = CANDIDATE_BLOCK
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The source-target pairs within the cut-offs, sorted by target.

    Candidates (all earlier sources, or those within ``max_days``, found by
    binary search on the sorted times) are examined ``block`` at a time, so
    memory stays bounded; the loop runs over blocks of targets, not events.

    Returns
    -------
    target : numpy.ndarray
        int64 ``[P]``: index of the target (into ``data.target_rows``), non-decreasing.
    source : numpy.ndarray
        int64 ``[P]``: row of the source.
    dt : numpy.ndarray
        float64 ``[P]``: t_j - t_i > 0, days.
    r2 : numpy.ndarray
        float64 ``[P]``: squared distance, km².
    """
    t = data.time_days
    target_t = t[data.target_rows]  # [J]
    upper = np.searchsorted(t, target_t, side="left")  # [J]: sources strictly earlier
    if cutoffs.max_days is None:
        lower = np.zeros_like(upper)
    else:
        lower = np.searchsorted(t, target_t - cutoffs.max_days, side="left")  # [J]
    counts = upper - lower  # [J]
    max_r2 = cutoffs.max_distance_km(data.magnitude_excess + data.mc) ** 2  # [S]
    ends = np.cumsum(counts)  # [J]
    parts: list[tuple[np.ndarray, ...]] = []
    first = 0
    while first < data.n_targets:
        base = ends[first - 1] if first else 0
        last = int(np.searchsorted(ends, base + block, side="right"))
        last = min(max(last, first + 1), data.n_targets)
        block_counts = counts[first:last]  # [J']
        total = int(block_counts.sum())
        local = np.repeat(np.arange(last - first), block_counts)  # [C]
        offsets = np.cumsum(block_counts) - block_counts  # [J']
        source = lower[first:last][local] + np.arange(total) - np.repeat(offsets, block_counts)
        rows = data.target_rows[first:last][local]  # [C]
        r2 = (data.x_km[rows] - data.x_km[source]) ** 2 + (data.y_km[rows] - data.y_km[source]) ** 2
        keep = r2 <= max_r2[source]  # [C]
        source, rows = source[keep], rows[keep]
        parts.append((local[keep] + first, source, t[rows] - t[source], r2[keep]))
        first = last
    if not parts:
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0, np.float64)
        return empty_i, empty_i, empty_f, empty_f
    target, source, dt, r2 = (np.concatenate(column) for column in zip(*parts, strict=True))
    return target.astype(np.int64), source.astype(np.int64), dt, r2


def _pair_chunks(data: ETASData, chunk_pairs: int, cutoffs: PairCutoffs) -> list[_PairChunk]:
    """The pairs of :func:`triggering_pairs` in chunks of whole targets of about ``chunk_pairs``."""
    target, source, dt, r2 = triggering_pairs(data, cutoffs)
    # pairs per target -> chunk boundaries at whole targets
    ends = np.cumsum(np.bincount(target, minlength=data.n_targets))  # [J]
    weight = (
        np.ones(data.n_targets) if data.background_weight is None else data.background_weight
    )  # [J]
    chunks: list[_PairChunk] = []
    first = 0
    while first < data.n_targets:
        base = int(ends[first - 1]) if first else 0
        last = int(np.searchsorted(ends, base + chunk_pairs, side="right"))
        last = min(max(last, first + 1), data.n_targets)
        rows = slice(base, int(ends[last - 1]))
        chunks.append(
            _PairChunk(
                target=torch.from_numpy((target[rows] - first).astype(np.int32)),
                source=torch.from_numpy(source[rows].astype(np.int32)),
                dt=torch.from_numpy(dt[rows]),
                r2=torch.from_numpy(r2[rows]),
                n_targets=last - first,
                first_target=first,
                background_weight=torch.from_numpy(np.ascontiguousarray(weight[first:last])),
            )
        )
        first = last
    return chunks


# ------------------------------------------------------------------ quadrature
def time_integral_quadrature(
    t_start: torch.Tensor,
    t_end: torch.Tensor,
    c: torch.Tensor,
    omega: torch.Tensor,
    tau: torch.Tensor,
    *,
    nodes: int = QUADRATURE_NODES,
    panels: int = QUADRATURE_PANELS,
) -> torch.Tensor:
    """∫_{t_start}^{t_end} e^{-t/τ} (t + c)^{-(1+ω)} dt, differentiable in c, ω and τ.

    Gauss-Legendre quadrature on ``u = log(t + c)`` (``dt = e^u du``), where the
    integrand becomes ``exp(-(e^u - c)/τ - ω u)``; ``panels`` equal panels of
    ``nodes`` nodes. The upper limit is capped at ``t_start + 50 τ`` (the rest
    is below e^{-50} of the integral).

    Parameters
    ----------
    t_start, t_end : torch.Tensor
        float64 ``[N]``, days after the parent, ``0 <= t_start <= t_end`` (``inf`` allowed).
    c, omega, tau : torch.Tensor
        float64 scalars.

    Returns
    -------
    torch.Tensor
        float64 ``[N]``.
    """
    x, w = np.polynomial.legendre.leggauss(nodes)
    # panel p covers [p, p+1]/panels of [0, 1]; nodes mapped from [-1, 1]
    fractions = ((np.arange(panels)[:, None] + 0.5 * (x[None, :] + 1.0)) / panels).ravel()  # [Q]
    weights = np.tile(w, panels) / (2.0 * panels)  # [Q], sum 1
    fractions_t = torch.as_tensor(fractions, dtype=DTYPE)
    weights_t = torch.as_tensor(weights, dtype=DTYPE)
    upper = torch.minimum(t_end, t_start + _TAIL_TAUS * tau)
    u0 = torch.log(t_start + c)  # [N]
    u1 = torch.log(upper + c)  # [N]
    width = u1 - u0  # [N]
    u = u0[:, None] + width[:, None] * fractions_t[None, :]  # [N, Q]
    integrand = torch.exp(-(torch.exp(u) - c) / tau - omega * u)  # [N, Q]
    return width * (integrand @ weights_t)  # [N]


# ------------------------------------------------------------------ likelihood
def _unpack(theta: torch.Tensor) -> dict[str, torch.Tensor]:
    """Natural parameters from the free vector ``[9]`` (log10 ones exponentiated)."""
    values = dict(zip(FREE_PARAMETERS, theta.unbind(), strict=True))
    for name in ("mu", "k0", "c", "tau", "d"):
        values[name] = torch.exp(_LN10 * values.pop(f"log10_{name}"))
    return values


class ETASLikelihood:
    """The ETAS log-likelihood of fixed data as a function of the 9 free parameters.

    Parameters
    ----------
    data : ETASData
    chunk_pairs : int
        Pairs per autograd graph.
    cutoffs : PairCutoffs
        Which pairs enter λ (default: Mizrahi et al.'s 100 rupture lengths, no time cut-off).

    Notes
    -----
    ``theta`` is always the float64 vector ``[9]`` of :data:`FREE_PARAMETERS`
    (log10 values for μ, k0, c, τ, d).
    """

    def __init__(
        self,
        data: ETASData,
        *,
        chunk_pairs: int = CHUNK_PAIRS,
        cutoffs: PairCutoffs = DEFAULT_CUTOFFS,
    ) -> None:
        if not chunk_pairs >= 1:
            raise ValueError(f"chunk_pairs must be >= 1, got {chunk_pairs!r}")
        self.data = data
        self.cutoffs = cutoffs
        self._chunks = _pair_chunks(data, chunk_pairs, cutoffs)
        self._excess = torch.from_numpy(data.magnitude_excess)  # [S]
        time = torch.from_numpy(data.time_days)
        self._lower = torch.clamp(-time, min=0.0)  # [S]: from max(t_i, start)
        self._upper = data.duration_days - time  # [S]: to end

    @property
    def n_pairs(self) -> int:
        return sum(len(chunk.dt) for chunk in self._chunks)

    # pieces -----------------------------------------------------------------
    def integral(self, theta: torch.Tensor) -> torch.Tensor:
        """∫∫∫ λ over [start, end) x region (whole-plane spatial integral per source)."""
        p = _unpack(theta)
        spatial_scale = p["d"] * torch.exp(p["gamma"] * self._excess)  # [S]
        total_productivity = (
            p["k0"]
            * torch.exp(p["a"] * self._excess)
            * math.pi
            * spatial_scale ** (-p["rho"])
            / p["rho"]
        )  # [S]
        time_part = time_integral_quadrature(
            self._lower, self._upper, p["c"], p["omega"], p["tau"]
        )  # [S]
        background = p["mu"] * self.data.area_km2 * self.data.duration_days
        return background + (total_productivity * time_part).sum()

    def _chunk_parts(
        self, theta: torch.Tensor, chunk: _PairChunk
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(background, triggered) intensity ``[J']`` at the targets of one chunk."""
        p = _unpack(theta)
        log_k = torch.log(p["k0"]) + p["a"] * self._excess  # [S]
        spatial_scale = p["d"] * torch.exp(p["gamma"] * self._excess)  # [S]
        log_g = (
            log_k[chunk.source]
            - chunk.dt / p["tau"]
            - (1.0 + p["omega"]) * torch.log(chunk.dt + p["c"])
            - (1.0 + p["rho"]) * torch.log(chunk.r2 + spatial_scale[chunk.source])
        )  # [P]
        triggered = torch.zeros(chunk.n_targets, dtype=DTYPE).index_add(
            0, chunk.target, torch.exp(log_g)
        )  # [J']
        return p["mu"] * chunk.background_weight, triggered

    def _chunk_log_intensity(self, theta: torch.Tensor, chunk: _PairChunk) -> torch.Tensor:
        """Σ_j log λ(t_j, x_j, y_j) over the targets of one chunk."""
        background, triggered = self._chunk_parts(theta, chunk)
        return torch.log(background + triggered).sum()

    # public -----------------------------------------------------------------
    def log_likelihood(self, theta: np.ndarray) -> float:
        """LL at ``theta`` ``[9]``."""
        with torch.no_grad():
            theta_t = torch.as_tensor(theta, dtype=DTYPE)
            total = -self.integral(theta_t)
            for chunk in self._chunks:
                total = total + self._chunk_log_intensity(theta_t, chunk)
        return float(total)

    def background_probabilities(self, theta: np.ndarray) -> np.ndarray:
        """float64 ``[J]``: φ_j = μ(x_j) / λ(t_j, x_j), the probability that target j is a
        background event (Zhuang, Ogata & Vere-Jones 2002, eq. 9)."""
        phi = np.empty(self.data.n_targets)
        with torch.no_grad():
            theta_t = torch.as_tensor(theta, dtype=DTYPE)
            for chunk in self._chunks:
                background, triggered = self._chunk_parts(theta_t, chunk)
                first = chunk.first_target
                phi[first : first + chunk.n_targets] = (
                    background / (background + triggered)
                ).numpy()
        return phi

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """(-LL, its gradient ``[9]``) at ``theta``: one backward pass per chunk."""
        theta_t = torch.tensor(theta, dtype=DTYPE, requires_grad=True)
        loss = self.integral(theta_t)
        loss.backward()
        value = float(loss.detach())
        for chunk in self._chunks:
            part = -self._chunk_log_intensity(theta_t, chunk)
            part.backward()
            value += float(part.detach())
        assert theta_t.grad is not None
        return value, theta_t.grad.numpy().copy()

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """float64 ``[9, 9]``: Hessian of -LL at ``theta`` (exact, by double autograd)."""
        theta_t = torch.as_tensor(theta, dtype=DTYPE)
        total = torch.autograd.functional.hessian(self.integral, theta_t)
        for chunk in self._chunks:
            total = total - torch.autograd.functional.hessian(
                lambda th, chunk=chunk: self._chunk_log_intensity(th, chunk), theta_t
            )
        return total.numpy()


def log_likelihood(
    params: ETASParameters,
    catalog: Catalog,
    *,
    region: Grid | StudyRegion | np.ndarray,
    start: object,
    end: object,
    auxiliary_start: object | None = None,
    cutoffs: PairCutoffs = DEFAULT_CUTOFFS,
    background: BackgroundMap | None = None,
    magnitude_bin: float | None = None,
) -> float:
    """ETAS log-likelihood of the catalog's events in ``[start, end)`` (M >= ``params.mc``).

    Parameters
    ----------
    params : ETASParameters
    catalog : Catalog
    region : Grid, StudyRegion or array ``[V, 2]`` of (lat, lon) polygon vertices
    start, end : date-like
        The target period.
    auxiliary_start : date-like, optional
        Earlier events from here on trigger but are not scored (default ``start``).
    cutoffs : PairCutoffs
        Pairs in λ (:data:`NO_CUTOFFS` for the exact sum over all earlier events).
    background : BackgroundMap, optional
        A spatially variable background (default uniform in the region).
    magnitude_bin : float, optional
        The magnitude bin of a fit with ``magnitude_bin``
        (:attr:`~framecast.quake.etas.fit.ETASFit.magnitude_bin`): the events
        are those rounded to ``params.mc + magnitude_bin / 2`` and up, their
        excess measured from ``params.mc`` (see :func:`prepare_data`).

    Returns
    -------
    float
        ``Σ_j log λ(t_j, x_j, y_j) - ∫∫∫ λ`` (see the module docstring).

    Raises
    ------
    ValueError
        No events with M >= mc in the region and period, or a bad ``magnitude_bin``.
    """
    mc = params.mc
    if magnitude_bin is not None:
        mc = params.mc + check_magnitude_bin(magnitude_bin) / 2
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
    return ETASLikelihood(data, cutoffs=cutoffs).log_likelihood(params.free_vector())


def branching_margin(theta: np.ndarray, beta: float, max_ratio: float) -> tuple[float, np.ndarray]:
    """A smooth form of the constraint η(θ) <= ``max_ratio``, and its gradient ``[9]``.

    With η = β k0 π d^{-ρ} I / (ρ (β - a + γρ)) (Mizrahi et al. 2021; ``I`` the
    all-time integral of the time kernel, :func:`time_integral_quadrature`),
    the margin ``max_ratio (β - a + γρ)/β - k0 π d^{-ρ} I / ρ`` is >= 0 exactly
    when η <= ``max_ratio`` with a finite η (it is negative where
    ``β <= a - γρ``, where η is infinite), and is smooth everywhere, unlike η.
    """
    theta_t = torch.tensor(theta, dtype=DTYPE, requires_grad=True)
    p = _unpack(theta_t)
    zero = torch.zeros(1, dtype=DTYPE)
    time_part = time_integral_quadrature(
        zero, torch.full((1,), math.inf, dtype=DTYPE), p["c"], p["omega"], p["tau"]
    )[0]
    margin = max_ratio * (beta - p["a"] + p["gamma"] * p["rho"]) / beta - (
        p["k0"] * math.pi * p["d"] ** (-p["rho"]) * time_part / p["rho"]
    )
    margin.backward()
    assert theta_t.grad is not None
    return float(margin.detach()), theta_t.grad.numpy().copy()
