"""Space-time ETAS: the parameters and the triggering kernel, in numpy.

The parameterisation is the one of Mizrahi, Nandan & Wiemer (2021),
"The effect of declustering on the size distribution of mainshocks",
Seismological Research Letters 92(4), 2333-2342 (their equations 1-3;
the same as in their ``etas`` package). With times in days, distances in
km and magnitudes above the completeness magnitude ``mc``, the conditional
intensity is

    λ(t, x, y) = μ + Σ_{i: t_i < t} g(m_i, t - t_i, r_i²),

    g(m, t, r²) = k0 e^{a(m - mc)} · e^{-t/τ} (t + c)^{-(1+ω)}
                  · (r² + d e^{γ(m - mc)})^{-(1+ρ)},

with a uniform background rate ``μ`` (events per day per km²) and
Gutenberg-Richter magnitudes above ``mc`` with ``β = b ln 10``.

Integrals of the kernel used throughout (``s = -ω``, ``D(m) = d e^{γ(m-mc)}``):

* space, over the whole plane: ``∫∫ (r² + D)^{-1-ρ} dx dy = π D^{-ρ} / ρ``;
* time, from ``t1`` to ``t2`` after the parent:
  ``e^{c/τ} τ^{-ω} [Γ(s, (t1 + c)/τ) - Γ(s, (t2 + c)/τ)]`` with ``Γ`` the
  upper incomplete gamma function, extended to ``s <= 0`` by the recurrence
  ``Γ(s, x) = (Γ(s + 1, x) - x^s e^{-x}) / s``;
* the branching ratio (mean number of direct aftershocks over the GR
  magnitudes): ``η = β k0 π d^{-ρ} τ^{-ω} e^{c/τ} Γ(-ω, c/τ) / (ρ (β - a + γρ))``.

This module is numpy/scipy only; the differentiable (torch) likelihood lives
in :mod:`framecast.quake.etas.likelihood`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

FREE_PARAMETERS: tuple[str, ...] = (
    "log10_mu",
    "log10_k0",
    "a",
    "log10_c",
    "omega",
    "log10_tau",
    "log10_d",
    "gamma",
    "rho",
)
"""The nine parameters a fit estimates, in the order of every parameter vector."""

FIT_BOUNDS: dict[str, tuple[float, float]] = {
    "log10_mu": (-10.0, 0.0),
    "log10_k0": (-4.0, 0.0),
    "a": (0.01, 5.0),
    "log10_c": (-8.0, 0.0),
    "omega": (-0.99, 1.0),
    "log10_tau": (0.01, 5.0),
    "log10_d": (-4.0, 3.0),
    "gamma": (0.01, 5.0),
    "rho": (0.01, 5.0),
}
"""Box constraints of the maximum-likelihood fit.

Narrower than the ``etas`` package's (its ``inversion.py``): there log10 τ may
reach 12.26, log10 k0 [-20, 10], a [0.01, 20] and γ [-1, 5]. With a uniform
background on a clustered catalog the likelihood can keep rising with τ (San
Jacinto: +0.19 nats from log10 τ 4.5 to 5), and with ω < 0 the branching ratio
then grows with the bound, not the data: the fit flags a parameter on a bound."""

_FORMAT = "framecast etas parameters 1"
_S_ZERO = 1e-12  # |s| below which Γ(s, x) is taken as Γ(0, x) = E1(x)


@dataclass(frozen=True)
class ETASParameters:
    """ETAS parameters in the parameterisation of Mizrahi, Nandan & Wiemer (2021).

    The defaults are a published fit to Californian seismicity (the values
    quoted in the issue); they give a branching ratio of about 0.91.

    Parameters
    ----------
    log10_mu : float
        log10 of the background rate μ, events per day per km².
    log10_k0 : float
        log10 of the productivity constant k0.
    a : float
        Productivity exponent (natural-log base): k(m) = k0 e^{a(m - mc)}.
    log10_c : float
        log10 of the Omori-law offset c, days.
    omega : float
        Omori exponent minus one: the time kernel decays as (t + c)^{-(1+ω)}.
    log10_tau : float
        log10 of the exponential taper time τ, days.
    log10_d : float
        log10 of the spatial scale d, km².
    gamma : float
        Growth of the spatial scale with magnitude: D(m) = d e^{γ(m - mc)}.
    rho : float
        Spatial decay exponent: the kernel decays as (r² + D)^{-(1+ρ)}.
    mc : float
        Completeness magnitude (keyword only: it belongs to the catalog, not
        to the published fit, so it has no default).
    b_value : float
        Gutenberg-Richter b of the magnitudes above mc (β = b ln 10).

    Raises
    ------
    ValueError
        A non-finite value, ``rho <= 0``, ``omega <= -1``, ``a < 0``,
        ``gamma < 0`` or ``b_value <= 0``.
    """

    log10_mu: float = -6.3
    log10_k0: float = -2.7
    a: float = 1.5
    log10_c: float = -2.8
    omega: float = -0.06
    log10_tau: float = 3.7
    log10_d: float = -0.9
    gamma: float = 1.1
    rho: float = 0.55
    mc: float = field(kw_only=True)
    b_value: float = 1.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
                raise ValueError(f"ETAS parameter {item.name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"ETAS parameter {item.name} must be finite, got {value!r}")
            object.__setattr__(self, item.name, float(value))
        checks = (
            ("rho", self.rho > 0, "> 0 (the spatial kernel must be integrable)"),
            ("omega", self.omega > -1, "> -1"),
            ("a", self.a >= 0, ">= 0"),
            ("gamma", self.gamma >= 0, ">= 0"),
            ("b_value", self.b_value > 0, "> 0"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(
                    f"ETAS parameter {name} must be {expected}, got {getattr(self, name)!r}"
                )

    # ------------------------------------------------------------ derived values
    @property
    def mu(self) -> float:
        """Background rate, events per day per km²."""
        return 10.0**self.log10_mu

    @property
    def k0(self) -> float:
        return 10.0**self.log10_k0

    @property
    def c(self) -> float:
        """Omori offset, days."""
        return 10.0**self.log10_c

    @property
    def tau(self) -> float:
        """Exponential taper time, days."""
        return 10.0**self.log10_tau

    @property
    def d(self) -> float:
        """Spatial scale at mc, km²."""
        return 10.0**self.log10_d

    @property
    def beta(self) -> float:
        """β = b ln 10."""
        return self.b_value * math.log(10.0)

    def branching_ratio(self, max_magnitude: float | None = None) -> float:
        """See :func:`branching_ratio`."""
        return branching_ratio(self, max_magnitude)

    # ---------------------------------------------------------------- vectors
    def free_vector(self) -> np.ndarray:
        """float64 ``[9]``: the fitted parameters in :data:`FREE_PARAMETERS` order."""
        return np.array([getattr(self, name) for name in FREE_PARAMETERS], dtype=np.float64)

    def with_free_vector(self, vector: np.ndarray) -> ETASParameters:
        """A copy with the :data:`FREE_PARAMETERS` taken from ``vector`` ``[9]``."""
        values = np.asarray(vector, dtype=np.float64)
        if values.shape != (len(FREE_PARAMETERS),):
            raise ValueError(
                f"expected {len(FREE_PARAMETERS)} parameters, got shape {values.shape}"
            )
        return replace(self, **{n: float(v) for n, v in zip(FREE_PARAMETERS, values, strict=True)})

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ETASParameters:
        """Parameters from a dict such as :meth:`to_dict` writes (missing keys take defaults).

        Raises
        ------
        ValueError
            Unknown keys, a missing ``mc`` or invalid values.
        """
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown ETAS parameters {unknown}; expected some of {sorted(known)}")
        if "mc" not in values:
            raise ValueError("ETAS parameters need 'mc', the completeness magnitude")
        return cls(**values)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the parameters as JSON."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"format": _FORMAT, **self.to_dict()}, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ETASParameters:
        """Read parameters written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"ETAS parameter file not found: {str(path)!r}")
        values = json.loads(path.read_text())
        if not isinstance(values, dict) or values.pop("format", None) != _FORMAT:
            raise ValueError(f"{str(path)!r} is not a framecast ETAS parameter file")
        return cls.from_dict(values)


# --------------------------------------------------------------------- special
def upper_incomplete_gamma(s: float, x: np.ndarray | float) -> np.ndarray:
    """Γ(s, x) = ∫_x^∞ v^{s-1} e^{-v} dv for any real ``s`` and ``x > 0``.

    scipy's ``gammaincc`` covers ``s > 0`` only; below, the recurrence
    ``Γ(s, x) = (Γ(s + 1, x) - x^s e^{-x}) / s`` (Mizrahi et al. 2021, the
    time integral of their eq. 2) brings ``s`` up, and ``s = 0`` is the
    exponential integral ``E1(x)``.

    Parameters
    ----------
    s : float
        First argument (``-ω`` for the ETAS time kernel).
    x : array_like
        float64 ``[...]``, > 0 (may be ``inf``, giving 0).
    """
    x = np.asarray(x, dtype=np.float64)
    if s > _S_ZERO:
        # scipy's gammaincc is ~50x slower for small s and x in (1e-3, 1) than its
        # lower-gamma series there, so Q = 1 - P below x = 1 (at most ~2 digits lost).
        small = x < 1.0
        regularised = np.empty_like(x)
        regularised[small] = 1.0 - special.gammainc(s, x[small])
        regularised[~small] = special.gammaincc(s, x[~small])
        return special.gamma(s) * regularised
    if abs(s) <= _S_ZERO:
        return special.exp1(x)
    with np.errstate(over="ignore", invalid="ignore"):
        tail = np.where(np.isinf(x), 0.0, x**s * np.exp(-x))
    return (upper_incomplete_gamma(s + 1.0, x) - tail) / s


# --------------------------------------------------------------------- kernels
def magnitude_excess(params: ETASParameters, magnitudes: np.ndarray) -> np.ndarray:
    """float64 ``[N]``: m - mc."""
    return np.asarray(magnitudes, dtype=np.float64) - params.mc


def productivity(params: ETASParameters, magnitudes: np.ndarray) -> np.ndarray:
    """float64 ``[N]``: k(m) = k0 e^{a(m - mc)} (Mizrahi et al. 2021, eq. 2 prefactor)."""
    return params.k0 * np.exp(params.a * magnitude_excess(params, magnitudes))


def spatial_scale(params: ETASParameters, magnitudes: np.ndarray) -> np.ndarray:
    """float64 ``[N]``: D(m) = d e^{γ(m - mc)}, km²."""
    return params.d * np.exp(params.gamma * magnitude_excess(params, magnitudes))


def spatial_integral(params: ETASParameters, magnitudes: np.ndarray) -> np.ndarray:
    """float64 ``[N]``: ∫∫ (r² + D(m))^{-1-ρ} over the plane = π D(m)^{-ρ} / ρ."""
    return math.pi * spatial_scale(params, magnitudes) ** (-params.rho) / params.rho


def spatial_kernel_cdf(
    params: ETASParameters, magnitudes: np.ndarray, r2: np.ndarray
) -> np.ndarray:
    """Fraction of the spatial kernel of an event of magnitude m within squared distance r².

    ``1 - (1 + r²/D(m))^{-ρ}``; broadcasts ``magnitudes`` against ``r2``.
    """
    return 1.0 - (1.0 + np.asarray(r2, np.float64) / spatial_scale(params, magnitudes)) ** (
        -params.rho
    )


def spatial_kernel_quantile_r2(
    params: ETASParameters, magnitudes: np.ndarray, quantile: np.ndarray | float
) -> np.ndarray:
    """Squared radius r² holding ``quantile`` of the kernel: D(m) ((1 - q)^{-1/ρ} - 1)."""
    q = np.asarray(quantile, np.float64)
    return spatial_scale(params, magnitudes) * np.expm1(-np.log1p(-q) / params.rho)


def time_kernel(params: ETASParameters, t: np.ndarray) -> np.ndarray:
    """float64: e^{-t/τ} (t + c)^{-(1+ω)} at times ``t >= 0`` days after the parent."""
    t = np.asarray(t, dtype=np.float64)
    return np.exp(-t / params.tau) * (t + params.c) ** (-(1.0 + params.omega))


def time_kernel_tail(params: ETASParameters, t: np.ndarray | float) -> np.ndarray:
    """∫_t^∞ e^{-u/τ} (u + c)^{-(1+ω)} du = e^{c/τ} τ^{-ω} Γ(-ω, (t + c)/τ), for ``t >= 0``."""
    t = np.asarray(t, dtype=np.float64)
    scale = math.exp(params.c / params.tau) * params.tau ** (-params.omega)
    return scale * upper_incomplete_gamma(-params.omega, (t + params.c) / params.tau)


def time_kernel_integral(
    params: ETASParameters, t_start: np.ndarray | float, t_end: np.ndarray | float = math.inf
) -> np.ndarray:
    """∫_{t_start}^{t_end} e^{-t/τ} (t + c)^{-(1+ω)} dt, times in days after the parent (>= 0)."""
    return time_kernel_tail(params, t_start) - time_kernel_tail(params, t_end)


def triggering_kernel(
    params: ETASParameters, magnitudes: np.ndarray, t: np.ndarray, r2: np.ndarray
) -> np.ndarray:
    """g(m, t, r²) of Mizrahi et al. (2021), eq. 2: rate density per day per km² (broadcasts)."""
    return (
        productivity(params, magnitudes)
        * time_kernel(params, t)
        * (np.asarray(r2, np.float64) + spatial_scale(params, magnitudes)) ** (-(1.0 + params.rho))
    )


def expected_aftershocks(
    params: ETASParameters,
    magnitudes: np.ndarray,
    t_start: np.ndarray | float = 0.0,
    t_end: np.ndarray | float = math.inf,
) -> np.ndarray:
    """Expected number of direct aftershocks (M >= mc) over the whole plane.

    ``k(m) · π D(m)^{-ρ}/ρ · ∫_{t_start}^{t_end} time kernel``, times in days
    after the parent; the defaults give all time, i.e.
    ``k0 e^{a(m-mc)} π (d e^{γ(m-mc)})^{-ρ}/ρ · τ^{-ω} e^{c/τ} Γ(-ω, c/τ)``.
    """
    return (
        productivity(params, magnitudes)
        * spatial_integral(params, magnitudes)
        * time_kernel_integral(params, t_start, t_end)
    )


def branching_ratio(params: ETASParameters, max_magnitude: float | None = None) -> float:
    """η: mean number of direct aftershocks of an event with a Gutenberg-Richter magnitude.

    Untruncated GR (``max_magnitude`` None):
    ``η = β k0 π d^{-ρ} τ^{-ω} e^{c/τ} Γ(-ω, c/τ) / (ρ (β - a + γρ))``, infinite
    when ``β <= a - γρ``. With GR truncated at ``max_magnitude`` (as in
    simulation) the magnitude average ``β/(1 - e^{-βM}) ∫_0^M e^{(a-γρ-β)x} dx``,
    ``M = max_magnitude - mc``, replaces ``β/(β - a + γρ)``.
    """
    alpha = params.a - params.gamma * params.rho  # growth of the total productivity with m
    beta = params.beta
    base = (
        params.k0
        * math.pi
        * params.d ** (-params.rho)
        / params.rho
        * float(time_kernel_tail(params, 0.0))
    )
    if max_magnitude is None:
        if beta <= alpha:
            return math.inf
        return base * beta / (beta - alpha)
    span = float(max_magnitude) - params.mc
    if not span > 0:
        raise ValueError(f"max_magnitude {max_magnitude} must exceed mc {params.mc}")
    rate = alpha - beta
    mean_factor = span if abs(rate) < 1e-12 else math.expm1(rate * span) / rate
    return base * beta * mean_factor / -math.expm1(-beta * span)
