"""Gutenberg-Richter b-value and magnitude-of-completeness estimation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def magnitude_bin_width(magnitudes: np.ndarray) -> float:
    """The rounding step of reported magnitudes (0.1, 0.01, ...), or 0 for continuous values."""
    values = np.asarray(magnitudes, np.float64)
    values = values[np.isfinite(values)]
    for width in (0.1, 0.01):
        if len(values) and np.allclose(values / width, np.round(values / width), atol=1e-6):
            return width
    return 0.0


def check_magnitude_bin(magnitude_bin: object) -> float:
    """``magnitude_bin`` as a float, refused in one line unless it is a positive finite number."""
    if (
        isinstance(magnitude_bin, bool)
        or not isinstance(magnitude_bin, int | float | np.floating | np.integer)
        or not (math.isfinite(magnitude_bin) and magnitude_bin > 0)
    ):
        raise ValueError(
            f"magnitude_bin must be a positive finite bin width (e.g. 0.1) or None, "
            f"got {magnitude_bin!r}"
        )
    return float(magnitude_bin)


_HALF_UP_SLACK = 1e-9  # in bins: 1.95 / 0.1 = 19.499999999999996 still rounds up to 2.0


def bin_index(magnitudes: np.ndarray, bin_width: float) -> np.ndarray:
    """float64 ``[N]``: ``k`` of the bin ``k * bin_width`` each magnitude rounds to, half up.

    Half up in decimal terms: a magnitude half a bin above a bin centre goes
    to the bin above, also where binary floating point puts ``m / bin_width``
    a hair below the half (1.95 / 0.1 = 19.4999...96 rounds to 20, not 19;
    the ``etas`` package's ``floor(m / delta_m + 0.5)`` rounds such values
    down). NaN stays NaN.
    """
    values = np.asarray(magnitudes, np.float64)
    return np.floor(values / bin_width + 0.5 + _HALF_UP_SLACK)


def round_half_up(magnitudes: np.ndarray, bin_width: float) -> np.ndarray:
    """float64 ``[N]``: magnitudes rounded half up to multiples of ``bin_width``.

    Half up as :func:`bin_index`; the result is rounded to 10 decimals so
    that bins print and compare as written (1.9, not 1.9000000000000001).
    """
    return np.round(bin_index(magnitudes, bin_width) * bin_width, 10)


def first_bin_edge(mc: float, bin_width: float) -> float:
    """Lower edge of the lowest bin >= ``mc`` of magnitudes rounded to ``bin_width``.

    ``mc`` on a bin centre (2.0 for 0.1 bins): ``mc - bin_width / 2`` (1.95);
    ``mc`` on an edge or between centres (1.95, 1.97): the edge below the
    next centre (1.95). The continuous case (``bin_width`` 0) is ``mc``.
    """
    if bin_width <= 0:
        return float(mc)
    lowest = math.ceil(mc / bin_width - 1e-6) * bin_width  # the smallest value >= mc
    return lowest - bin_width / 2


def aki_b_value(magnitudes: np.ndarray, mc: float, bin_width: float | None = None) -> float:
    """Maximum-likelihood b-value of the magnitudes >= mc (Aki 1965; Utsu 1966 bin correction).

    ``b = log10(e) / (mean(M) - M0)`` with ``M0`` the lower edge of the
    lowest magnitude bin kept (:func:`first_bin_edge`): ``mc - bin_width / 2``
    when ``mc`` is a value the rounded magnitudes take (2.0 for 0.1 bins),
    ``mc`` itself when it lies on a bin edge (1.95: the events kept are those
    rounded to 2.0 and up, the half bin is subtracted once, not twice), and
    ``mc`` for continuous magnitudes (``bin_width`` 0). ``bin_width`` None
    detects the rounding step of the magnitudes.

    Raises
    ------
    ValueError
        Fewer than two magnitudes >= mc, or all equal to the lowest bin.
    """
    values = np.asarray(magnitudes, np.float64)
    values = values[np.isfinite(values) & (values >= mc - 1e-9)]
    if len(values) < 2:
        raise ValueError(f"need at least 2 magnitudes >= mc={mc} to estimate b, got {len(values)}")
    width = magnitude_bin_width(values) if bin_width is None else bin_width
    excess = values.mean() - first_bin_edge(mc, width)
    if not excess > 0:
        raise ValueError(f"all magnitudes equal mc={mc}; b is undefined")
    return math.log10(math.e) / excess


def shi_bolt_uncertainty(magnitudes: np.ndarray, b_value: float) -> float:
    """Standard error of a maximum-likelihood b-value (Shi & Bolt 1982, BSSA 72(5), eq. 10).

    ``delta_b = 2.3 b^2 sqrt(sum((M_i - mean(M))^2) / (N (N - 1)))`` over the
    ``N`` magnitudes used for ``b_value`` (those >= mc).

    Raises
    ------
    ValueError
        Fewer than two magnitudes.
    """
    values = np.asarray(magnitudes, np.float64)
    if len(values) < 2:
        raise ValueError(f"need at least 2 magnitudes for the Shi & Bolt error, got {len(values)}")
    n = len(values)
    spread = float(((values - values.mean()) ** 2).sum())
    return 2.3 * b_value**2 * math.sqrt(spread / (n * (n - 1)))


COMPLETENESS_METHODS = ("maxc", "gft", "mbs")
"""Methods of :func:`estimate_completeness`: max. curvature, goodness of fit, b stability."""

MAXC_CORRECTION = 0.2
"""Added to the maximum-curvature Mc, which runs low (Woessner & Wiemer 2005, BSSA 95(2))."""

GFT_LEVELS = (95.0, 90.0)
"""Goodness-of-fit levels R (%) tried in turn (Wiemer & Wyss 2000, BSSA 90(4))."""

MBS_RANGE = 0.5
"""Magnitude range over which MBS averages b (Cao & Gao 2002; Woessner & Wiemer 2005)."""

MIN_EVENTS = 50
"""Fewest finite magnitudes :func:`estimate_completeness` accepts."""

MIN_FIT_EVENTS = 25
"""Fewest events >= a trial Mc for GFT or MBS to fit a b-value there."""


@dataclass(frozen=True)
class CompletenessEstimate:
    """Magnitudes of completeness of one catalog by several methods.

    Parameters
    ----------
    mc : dict of str to float
        Mc per method (``"maxc"``, ``"gft"``, ``"mbs"``); NaN where a method
        found none (GFT never reaching 90 %, MBS never stable).
    b_value, b_error : dict of str to float
        Aki-Utsu b of the magnitudes >= each Mc and its Shi & Bolt (1982) error.
    count : dict of str to int
        Number of events >= each Mc.
    total : int
        Number of magnitudes given.
    bin_width : float
        Rounding step of the magnitudes (0 for continuous values).
    gft_level : float or None
        The goodness-of-fit level (95 or 90 %) the GFT Mc reached, if run and found.
    """

    mc: dict[str, float]
    b_value: dict[str, float]
    b_error: dict[str, float]
    count: dict[str, int]
    total: int
    bin_width: float
    gft_level: float | None = None

    @property
    def value(self) -> float:
        """The largest Mc of the methods that found one: the conservative choice."""
        found = [mc for mc in self.mc.values() if math.isfinite(mc)]
        return max(found) if found else math.nan

    def summary(self) -> str:
        """One line: each method's Mc, b +- error and count, e.g. for a log or a report."""
        parts = []
        for method, mc in self.mc.items():
            label = f"gft{self.gft_level:g}%" if method == "gft" and self.gft_level else method
            if not math.isfinite(mc):
                parts.append(f"{label}: none found")
                continue
            b_value = self.b_value[method]
            b_text = (
                f"b={b_value:.2f}+-{self.b_error[method]:.2f}"
                if math.isfinite(b_value)
                else "b undefined"
            )
            parts.append(f"{label} Mc={mc:.2f} ({b_text}, {self.count[method]} events)")
        return f"completeness of {self.total} events: " + "; ".join(parts)


def _fmd_step(bin_width: float) -> float:
    """Bin width of the frequency-magnitude distribution: the rounding step, at least 0.1."""
    return bin_width if bin_width >= 0.1 - 1e-9 else 0.1


class _Fmd:
    """Frequency-magnitude distribution with the sums the b-value fits need, per trial Mc.

    Trial Mc ``k`` is ``mc[k] = (first + k) * step``; events in bin ``k`` are
    those with ``mc[k] <= M < mc[k + 1]`` (reported, rounded magnitudes).
    Suffix sums give the Aki-Utsu b and the Shi & Bolt error of the events
    >= every trial Mc in one pass (a loop calling :func:`aki_b_value` per
    trial would be quadratic in the catalog size).
    """

    def __init__(self, values: np.ndarray, bin_width: float) -> None:
        self.bin_width = bin_width
        self.step = _fmd_step(bin_width)
        index = np.floor((values + bin_width / 2) / self.step + 1e-9).astype(np.int64)  # [N]
        first = int(index.min())
        index -= first
        self.mc = np.round((first + np.arange(index.max() + 1)) * self.step, 10)  # [K]
        self.counts = np.bincount(index).astype(np.float64)  # [K]
        shifted = values - values.min()  # [N] centred for the sums of squares
        s1 = np.bincount(index, weights=shifted, minlength=len(self.mc))  # [K]
        s2 = np.bincount(index, weights=shifted**2, minlength=len(self.mc))  # [K]
        self.n_above = np.cumsum(self.counts[::-1])[::-1]  # [K] events >= mc[k]
        sum1 = np.cumsum(s1[::-1])[::-1]
        sum2 = np.cumsum(s2[::-1])[::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = sum1 / self.n_above + values.min()  # [K] mean magnitude >= mc[k]
            excess = mean - (self.mc - bin_width / 2)
            self.b = np.where(excess > 0, math.log10(math.e) / excess, np.nan)  # [K]
            spread = np.maximum(sum2 - sum1**2 / self.n_above, 0.0)  # [K] sum (M - mean)^2
            self.b_error = 2.3 * self.b**2 * np.sqrt(spread / (self.n_above * (self.n_above - 1)))

    def fittable(self) -> np.ndarray:
        """bool ``[K]``: enough events >= mc[k] and a finite b."""
        return (self.n_above >= MIN_FIT_EVENTS) & np.isfinite(self.b)


def _maxc(fmd: _Fmd, correction: float) -> float:
    """Maximum curvature: the most populated FMD bin plus ``correction`` (Wiemer & Wyss 2000)."""
    return round(float(fmd.mc[int(np.argmax(fmd.counts))]) + correction, 10)


def _gft_residuals(fmd: _Fmd) -> np.ndarray:
    """float64 ``[K]``: goodness-of-fit R (%) of a Gutenberg-Richter fit at each trial Mc.

    ``R = 100 - 100 sum_i |B_i - S_i| / sum_i B_i`` over the bins ``i`` from
    the trial Mc up, with ``B_i`` the observed and ``S_i`` the fitted
    cumulative counts (Wiemer & Wyss 2000, BSSA 90(4), p. 861);
    ``S_i = N(Mc) 10^(-b (M_i - Mc))`` with the Aki-Utsu b, so the a-value
    matches the count at Mc (as ZMAP's ``calc_McBest``). NaN where no b fits.
    """
    residual = np.full(len(fmd.mc), np.nan)  # [K]
    for k in np.flatnonzero(fmd.fittable()):
        observed = fmd.n_above[k:]  # [K - k] cumulative counts
        fitted = fmd.n_above[k] * 10.0 ** (-fmd.b[k] * (fmd.mc[k:] - fmd.mc[k]))
        residual[k] = 100.0 - 100.0 * np.abs(observed - fitted).sum() / observed.sum()
    return residual


def _gft(fmd: _Fmd) -> tuple[float, float | None]:
    residual = _gft_residuals(fmd)
    for level in GFT_LEVELS:
        reached = np.flatnonzero(residual >= level)
        if len(reached):
            return float(fmd.mc[reached[0]]), level
    return math.nan, None


def _mbs(fmd: _Fmd) -> float:
    """b-value stability (Cao & Gao 2002; Woessner & Wiemer 2005, BSSA 95(2), eq. 6).

    The smallest trial Mc whose b lies within its Shi & Bolt error of the
    mean b of the trial Mcs ``Mc, Mc + step, ...`` spanning :data:`MBS_RANGE`
    (five b-values for 0.1 bins, as ZMAP).
    """
    span = max(round(MBS_RANGE / fmd.step), 1)
    ok = fmd.fittable()
    for k in range(len(fmd.mc) - span + 1):
        if not ok[k : k + span].all():
            continue
        mean_b = fmd.b[k : k + span].mean()
        if abs(mean_b - fmd.b[k]) <= fmd.b_error[k]:
            return float(fmd.mc[k])
    return math.nan


def estimate_completeness(
    magnitudes: np.ndarray,
    *,
    bin_width: float | None = None,
    methods: Sequence[str] = ("maxc", "gft", "mbs"),
    maxc_correction: float = MAXC_CORRECTION,
) -> CompletenessEstimate:
    """Magnitude of completeness Mc of a catalog's magnitudes by several methods.

    - ``"maxc"``: maximum curvature, the bin of the most events in the
      frequency-magnitude distribution (Wiemer & Wyss 2000, BSSA 90(4)),
      plus ``maxc_correction`` = 0.2 (Woessner & Wiemer 2005, BSSA 95(2)).
    - ``"gft"``: goodness of fit, the smallest Mc where a Gutenberg-Richter
      fit explains 95 % (else 90 %) of the cumulative distribution above it
      (Wiemer & Wyss 2000), see ``_gft_residuals``.
    - ``"mbs"``: b-value stability, the smallest Mc where b is within its
      Shi & Bolt (1982) error of the mean b over the next 0.5 magnitude units
      (Cao & Gao 2002, GRL 29(9); Woessner & Wiemer 2005 eq. 6).

    Implemented here because neither SciPy nor pyCSEP estimates Mc.
    Continuous magnitudes are binned at 0.1 for the distribution.

    Parameters
    ----------
    magnitudes : numpy.ndarray
        ``[N]`` magnitudes, all finite.
    bin_width : float, optional
        Rounding step of the magnitudes (0 = continuous); None detects it
        with :func:`magnitude_bin_width`.
    methods : sequence of str
        Any of :data:`COMPLETENESS_METHODS`.
    maxc_correction : float

    Raises
    ------
    ValueError
        Unknown method, NaN or infinite magnitudes, fewer than
        :data:`MIN_EVENTS` magnitudes, or a negative bin width.
    """
    unknown = [method for method in methods if method not in COMPLETENESS_METHODS]
    if unknown or not methods:
        raise ValueError(
            f"unknown completeness method(s) {unknown or list(methods)}; "
            f"expected some of {list(COMPLETENESS_METHODS)}"
        )
    values = np.asarray(magnitudes, np.float64).reshape(-1)
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise ValueError(
            f"{bad} of {len(values)} magnitudes are NaN or infinite; drop events without a "
            "magnitude before estimating the magnitude of completeness"
        )
    if len(values) < MIN_EVENTS:
        raise ValueError(
            f"need at least {MIN_EVENTS} magnitudes to estimate the magnitude of completeness, "
            f"got {len(values)}"
        )
    width = magnitude_bin_width(values) if bin_width is None else float(bin_width)
    if not width >= 0:
        raise ValueError(f"bin_width must be >= 0 (0 = continuous magnitudes), got {bin_width!r}")
    fmd = _Fmd(values, width)
    mc: dict[str, float] = {}
    gft_level = None
    for method in methods:
        if method == "maxc":
            mc[method] = _maxc(fmd, maxc_correction)
        elif method == "gft":
            mc[method], gft_level = _gft(fmd)
        else:
            mc[method] = _mbs(fmd)
    b_value, b_error, count = {}, {}, {}
    for method, value in mc.items():
        above = values[values >= value - 1e-9] if math.isfinite(value) else values[:0]
        count[method] = len(above)
        try:
            b_value[method] = aki_b_value(above, value, width)
            b_error[method] = shi_bolt_uncertainty(above, b_value[method])
        except ValueError:  # too few events above, or none found
            b_value[method] = b_error[method] = math.nan
    return CompletenessEstimate(
        mc=mc,
        b_value=b_value,
        b_error=b_error,
        count=count,
        total=len(values),
        bin_width=width,
        gft_level=gft_level,
    )


def check_completeness(chosen_mc: float, estimate: CompletenessEstimate) -> str | None:
    """A warning sentence when ``chosen_mc`` is below an estimated Mc, else None.

    Compared with every method's Mc (to the nearest 1e-6); the sentence names
    those above ``chosen_mc``.
    """
    above = {
        method: mc
        for method, mc in estimate.mc.items()
        if math.isfinite(mc) and chosen_mc < mc - 1e-6
    }
    if not above:
        return None
    listed = ", ".join(f"{method} {mc:.2f}" for method, mc in above.items())
    return (
        f"the chosen magnitude of completeness {chosen_mc:g} is below the catalog's estimated "
        f"Mc ({listed}); events just above {chosen_mc:g} are missing from the catalog, so rates "
        "and b-values fitted there are biased low"
    )
