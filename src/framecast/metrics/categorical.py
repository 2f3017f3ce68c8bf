"""Threshold scores of radar nowcasting: the critical success index and the fractions skill score.

Both scores turn the forecast and the observed field into events at an
intensity threshold, with the definitions of pySTEPS [1]_ (a deterministic
forecast, no ensemble):

- **CSI** (critical success index, threat score; ``det_cat_fct`` of
  ``pysteps.verification.detcatscores``): an event is a pixel whose value
  is strictly *above* the threshold (``value > thr``, as pySTEPS's
  ``det_cat_fct_accum``), and ``CSI = H / (H + M + F)`` with H hits (event
  forecast and observed), M misses (observed only) and F false alarms
  (forecast only) [2]_. 1 is perfect, 0 no hit; undefined (NaN) where
  neither field has an event.
- **FSS** (fractions skill score, Roberts & Lean 2008 [3]_;
  ``fss_accum`` / ``fss_compute`` of ``pysteps.verification.spatialscores``):
  an event is a pixel *at or above* the threshold (``value >= thr``, as
  pySTEPS's ``fss_accum``). The binary fields ``I_f`` and ``I_o`` become
  fractions ``P_f``, ``P_o`` of events in the ``scale x scale`` square
  around each pixel (``scipy.ndimage.uniform_filter(I, size=scale,
  mode="constant", cval=0.0)``: zeros beyond the edge, the window of an
  even ``scale`` one pixel longer before the centre than after), and
  ``FSS = 1 - sum (P_f - P_o)^2 / (sum P_f^2 + sum P_o^2)`` (Roberts & Lean
  eqs. 5-7: the fractions Brier score over its no-overlap reference). 1 is
  perfect, 0 no overlap at that scale; undefined (NaN) where neither field
  has an event.

pySTEPS itself uses ``>`` for the contingency table and ``>=`` for the FSS,
and so does this module; at a threshold between two values the frames can
take (a uint8-quantised radar field has steps of 1/255), the two agree.

Scores over a split are *accumulated, then computed*, as pySTEPS's
``*_accum`` / ``*_compute`` pairs do: the hits, misses and false alarms, and
the three FSS sums, are summed over every sequence, channel and pixel (per
lead time, and over all lead times), and the score is computed once from the
totals. A split's CSI is therefore not the mean of per-frame CSIs (which
would give a frame with one event pixel the weight of a frame with a storm,
and be undefined wherever a frame has none).

Fields are ``(B, T, C, H, W)`` tensors; each ``(H, W)`` image of a channel
is one two-dimensional field. The fractions are computed on integral images
in float64, so the neighbourhood counts are exact and the cost does not grow
with ``scale``.

References
----------
.. [1] S. Pulkkinen et al., "Pysteps: an open-source Python library for
   probabilistic precipitation nowcasting (v1.0)", Geosci. Model Dev. 12,
   4185-4219, 2019.
.. [2] J. T. Schaefer, "The critical success index as an indicator of
   warning skill", Wea. Forecasting 5, 570-575, 1990 (CSI = H / (H + M + F)).
.. [3] N. M. Roberts and H. W. Lean, "Scale-selective verification of
   rainfall accumulations from high-resolution forecasts of convective
   events", Mon. Wea. Rev. 136, 78-97, 2008, eqs. 5-7.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from framecast.metrics.frame_metrics import check_frame_pair

DEFAULT_FSS_SCALES: tuple[int, ...] = (1, 3, 9)
"""Neighbourhood sides in pixels scored by default when thresholds are given."""

CSI_UNIT = (
    "unitless, [0, 1]; CSI = hits / (hits + misses + false alarms), event: value > {threshold} "
    "(pySTEPS det_cat_fct); counts summed over the split, then one score"
)
FSS_UNIT = (
    "unitless, [0, 1]; FSS (Roberts & Lean 2008), event: value >= {threshold}, fractions over "
    "{scale}x{scale} pixels, zero beyond the edge (pySTEPS fss); sums over the split, "
    "then one score"
)


def csi_name(threshold: float) -> str:
    """The metric name of the CSI at ``threshold``, e.g. ``csi@0.1``."""
    return f"csi@{threshold:g}"


def fss_name(threshold: float, scale: int) -> str:
    """The metric name of the FSS at ``threshold`` and ``scale`` pixels, e.g. ``fss@0.1/3px``."""
    return f"fss@{threshold:g}/{scale}px"


def categorical_metric_names(thresholds: Sequence[float], scales: Sequence[int]) -> list[str]:
    """Metric names in table order: per threshold, its CSI, then its FSS at each scale."""
    names = []
    for threshold in thresholds:
        names.append(csi_name(threshold))
        names.extend(fss_name(threshold, scale) for scale in scales)
    return names


def check_thresholds(thresholds: Sequence[float], data_range: float | None) -> tuple[float, ...]:
    """Thresholds as floats, refused when outside ``[0, data_range]`` of the scored frames.

    The evaluation clamps predictions to ``[0, data_range]``
    (:func:`framecast.metrics.clamp_to_range`; ``[0, inf)`` when
    ``data_range`` is None), and frames lie in that range, so a threshold
    below 0 makes every pixel an event and one above ``data_range`` none.

    Parameters
    ----------
    thresholds : sequence of float
        Values in the units the frames are scored in.
    data_range : float or None
        The largest value of the frames (None: no upper bound).

    Returns
    -------
    tuple of float

    Raises
    ------
    TypeError
        ``thresholds`` is a single number or string, or holds a non-number.
    ValueError
        A threshold that is NaN, below 0 or above ``data_range`` (the message
        names the value and the range), or a repeated threshold.
    """
    if isinstance(thresholds, str | bytes) or not isinstance(thresholds, Sequence):
        raise TypeError(f"thresholds must be a sequence of numbers, got {thresholds!r}")
    high = math.inf if data_range is None else float(data_range)
    checked = []
    for value in thresholds:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"a threshold must be a number, got {value!r}")
        value = float(value)
        if not 0.0 <= value <= high:  # also refuses NaN
            raise ValueError(
                f"threshold {value:g} is outside the data range [0, {high:g}] of the scored "
                "frames; thresholds are in the frames' units as evaluated"
            )
        checked.append(value)
    if len(set(checked)) != len(checked):
        raise ValueError(f"thresholds must be unique, got {[f'{v:g}' for v in checked]}")
    return tuple(checked)


def check_fss_scales(scales: Sequence[int]) -> tuple[int, ...]:
    """FSS neighbourhood sides as ints, refused unless unique positive integers.

    Raises
    ------
    TypeError
        A single number, or an entry that is not an integer (a bool is not).
    ValueError
        An empty sequence, a scale below 1, or a repeated scale.
    """
    if isinstance(scales, str | bytes) or not isinstance(scales, Sequence):
        raise TypeError(f"FSS scales must be a sequence of integers, got {scales!r}")
    checked = []
    for scale in scales:
        if isinstance(scale, bool) or not isinstance(scale, int):
            raise TypeError(f"an FSS scale must be an integer number of pixels, got {scale!r}")
        if scale < 1:
            raise ValueError(f"an FSS scale must be at least 1 pixel, got {scale}")
        checked.append(int(scale))
    if not checked:
        raise ValueError("FSS scales are empty; give at least one, e.g. 1 3 9")
    if len(set(checked)) != len(checked):
        raise ValueError(f"FSS scales must be unique, got {checked}")
    return tuple(checked)


def contingency_counts(pred: Tensor, target: Tensor, threshold: float) -> Tensor:
    """Hits, misses, false alarms and correct negatives per lead time.

    The event is ``value > threshold`` in both fields (pySTEPS
    ``det_cat_fct_accum``).

    Parameters
    ----------
    pred, target : Tensor
        Forecast and observed fields, ``(B, T, C, H, W)``.
    threshold : float
        The event threshold.

    Returns
    -------
    Tensor
        ``(4, T)`` int64 on the CPU: hits, misses, false alarms, correct
        negatives, each summed over ``B, C, H, W``.
    """
    check_frame_pair(pred, target)
    forecast = pred > threshold  # (B, T, C, H, W) bool
    observed = target > threshold  # (B, T, C, H, W) bool
    tables = torch.stack(
        [
            forecast & observed,  # hits
            ~forecast & observed,  # misses
            forecast & ~observed,  # false alarms
            ~forecast & ~observed,  # correct negatives
        ]
    )  # (4, B, T, C, H, W)
    return tables.sum(dim=(1, 3, 4, 5)).to("cpu", torch.int64)  # (4, T)


def csi_from_counts(counts: Tensor) -> Tensor:
    """CSI ``H / (H + M + F)`` from :func:`contingency_counts` rows (NaN where ``H + M + F = 0``).

    Parameters
    ----------
    counts : Tensor
        ``(4, ...)``: hits, misses, false alarms, correct negatives.

    Returns
    -------
    Tensor
        ``(...)`` float64.
    """
    hits, misses, false_alarms = counts[0].double(), counts[1].double(), counts[2].double()
    return hits / (hits + misses + false_alarms)  # 0 / 0 = NaN: no event in either field


def critical_success_index(pred: Tensor, target: Tensor, threshold: float) -> float:
    """The CSI of all fields together (counts summed over batch, lead times and pixels).

    Examples
    --------
    >>> import torch
    >>> obs = torch.zeros(1, 1, 1, 4, 4); obs[..., 1, 1] = 1.0
    >>> critical_success_index(obs, obs, 0.5)
    1.0
    """
    return float(csi_from_counts(contingency_counts(pred, target, threshold).sum(dim=1)))


def _box_sum(values: Tensor, scale: int, dim: int) -> Tensor:
    """Sums of ``values`` over windows of ``scale`` along ``dim``, zeros beyond the edge.

    The window at index ``i`` covers ``[i - scale // 2, i - scale // 2 + scale - 1]``,
    the placement of ``scipy.ndimage.uniform_filter`` (origin 0). Computed as
    differences of a cumulative sum (an integral image), so the cost does not
    depend on ``scale``; exact for counts in float64.
    """
    moved = values.movedim(dim, -1)  # (..., N)
    before = scale // 2
    after = scale - 1 - before
    # one extra zero in front, so that cumsum[k + scale] - cumsum[k] is the window at k
    padded = torch.nn.functional.pad(moved, (before + 1, after))  # (..., N + scale)
    cumulative = padded.cumsum(dim=-1)  # (..., N + scale)
    sums = cumulative[..., scale:] - cumulative[..., :-scale]  # (..., N)
    return sums.movedim(-1, dim)


def neighbourhood_fractions(events: Tensor, scale: int) -> Tensor:
    """Fraction of event pixels in the ``scale x scale`` square around each pixel.

    Equal to ``scipy.ndimage.uniform_filter(events, size=scale,
    mode="constant", cval=0.0)`` applied to each ``(H, W)`` field (Roberts &
    Lean 2008, eq. 2; pixels beyond the edge count as no event).

    Parameters
    ----------
    events : Tensor
        ``(..., H, W)`` binary (bool or 0/1) fields.
    scale : int
        The side of the square in pixels (1: the binary field itself).

    Returns
    -------
    Tensor
        ``(..., H, W)`` float64 fractions in ``[0, 1]``.
    """
    counts = events.to(torch.float64)  # (..., H, W)
    if scale == 1:
        return counts
    counts = _box_sum(counts, scale, dim=-1)  # (..., H, W): along rows
    counts = _box_sum(counts, scale, dim=-2)  # (..., H, W): then along columns
    return counts / float(scale * scale)


def fss_sums(pred: Tensor, target: Tensor, threshold: float, scale: int) -> Tensor:
    """The three sums of the FSS per lead time, as pySTEPS ``fss_accum`` keeps them.

    Parameters
    ----------
    pred, target : Tensor
        Forecast and observed fields, ``(B, T, C, H, W)``; event ``value >= threshold``.
    threshold : float
    scale : int
        Neighbourhood side in pixels.

    Returns
    -------
    Tensor
        ``(3, T)`` float64 on the CPU: ``sum P_f^2``, ``sum P_f P_o``,
        ``sum P_o^2``, each over ``B, C, H, W``.
    """
    check_frame_pair(pred, target)
    forecast = neighbourhood_fractions(pred >= threshold, scale)  # (B, T, C, H, W) P_f
    observed = neighbourhood_fractions(target >= threshold, scale)  # (B, T, C, H, W) P_o
    sums = torch.stack(
        [forecast * forecast, forecast * observed, observed * observed]
    )  # (3, B, T, C, H, W)
    return sums.sum(dim=(1, 3, 4, 5)).to("cpu", torch.float64)  # (3, T)


def fss_from_sums(sums: Tensor) -> Tensor:
    """FSS from :func:`fss_sums` rows, as pySTEPS ``fss_compute``.

    ``FSS = 1 - (S_ff - 2 S_fo + S_oo) / (S_ff + S_oo)`` with ``S_ff = sum
    P_f^2``, ``S_fo = sum P_f P_o``, ``S_oo = sum P_o^2`` (Roberts & Lean
    2008, eqs. 5-7; the pixel count cancels). NaN where neither field has an
    event.

    Parameters
    ----------
    sums : Tensor
        ``(3, ...)``.

    Returns
    -------
    Tensor
        ``(...)`` float64.
    """
    fct_sq, fct_obs, obs_sq = sums[0].double(), sums[1].double(), sums[2].double()
    numerator = fct_sq - 2.0 * fct_obs + obs_sq  # sum (P_f - P_o)^2
    denominator = fct_sq + obs_sq  # the no-overlap reference
    return 1.0 - numerator / denominator  # 0 / 0 = NaN: no event in either field


def fractions_skill_score(pred: Tensor, target: Tensor, threshold: float, scale: int) -> float:
    """The FSS of all fields together (sums over batch, lead times and pixels).

    Examples
    --------
    >>> import torch
    >>> obs = torch.zeros(1, 1, 1, 5, 5); obs[..., 2, 1] = 1.0
    >>> fcst = torch.zeros(1, 1, 1, 5, 5); fcst[..., 2, 3] = 1.0
    >>> [fractions_skill_score(fcst, obs, 0.5, scale) for scale in (1, 5, 9)]
    [0.0, 0.75, 1.0]
    """
    return float(fss_from_sums(fss_sums(pred, target, threshold, scale).sum(dim=1)))


class CategoricalMetrics:
    """CSI and FSS at named thresholds, accumulated over batches, then computed.

    Meant for radar-like frames (a ``frame_series`` of echo maps prepared
    into the ``prepared`` dataset); any dataset can opt in. Thresholds are
    in the units the frames are scored in: ``[0, 1]`` for framecast's
    video and radar datasets, where a prepared radar value ``v`` stands for
    ``offset + span * v`` in the source's units (the preparation's ``clip``
    range: with ``clip=(0, 70)`` dBZ, 20 dBZ is the threshold 20 / 70).

    Parameters
    ----------
    thresholds : sequence of float
        Event thresholds within ``[0, data_range]`` (:func:`check_thresholds`).
    fss_scales : sequence of int
        FSS neighbourhood sides in pixels.
    data_range : float or None
        The largest value of the frames; None for no upper bound.

    Raises
    ------
    TypeError, ValueError
        Bad thresholds or scales (:func:`check_thresholds`,
        :func:`check_fss_scales`).
    """

    def __init__(
        self,
        thresholds: Sequence[float],
        fss_scales: Sequence[int] = DEFAULT_FSS_SCALES,
        data_range: float | None = 1.0,
    ) -> None:
        self.thresholds = check_thresholds(thresholds, data_range)
        self.fss_scales = check_fss_scales(fss_scales)
        self.names = categorical_metric_names(self.thresholds, self.fss_scales)
        self.reset()

    def reset(self) -> None:
        """Forget every accumulated count and sum."""
        self.n_sequences = 0
        self._counts: dict[float, Tensor] = {}  # threshold -> (4, T) int64
        self._sums: dict[tuple[float, int], Tensor] = {}  # (threshold, scale) -> (3, T) float64

    def update(self, pred: Tensor, target: Tensor) -> None:
        """Add a batch of forecast and observed sequences, ``(B, T, C, H, W)`` each.

        Raises
        ------
        ValueError
            Bad shapes, or a number of frames ``T`` that differs from earlier batches.
        """
        check_frame_pair(pred, target)
        if self._counts:
            steps = next(iter(self._counts.values())).shape[1]
            if pred.shape[1] != steps:
                raise ValueError(
                    f"this batch has {pred.shape[1]} frames per sequence, earlier batches had "
                    f"{steps}; call reset() to start over with another horizon"
                )
        pred, target = pred.detach(), target.detach()
        counts = {t: contingency_counts(pred, target, t) for t in self.thresholds}
        sums = {
            (t, s): fss_sums(pred, target, t, s) for t in self.thresholds for s in self.fss_scales
        }
        for key, value in counts.items():
            self._counts[key] = self._counts[key] + value if key in self._counts else value
        for key, value in sums.items():
            self._sums[key] = self._sums[key] + value if key in self._sums else value
        self.n_sequences += pred.shape[0]

    def compute(self) -> dict[str, dict[str, Any]]:
        """The scores of the accumulated split.

        Returns
        -------
        dict
            ``{name: {"mean": float, "curve": list[float], "unit": str, ...}}``
            in :func:`categorical_metric_names` order. ``mean`` is the score
            of the totals over every lead time (not the mean of ``curve``);
            ``curve[k]`` the score of lead time ``k + 1``; NaN where neither
            field has an event. CSI entries also give the totals ``hits``,
            ``misses``, ``false_alarms`` and ``correct_negatives``.

        Raises
        ------
        RuntimeError
            No sequence has been added since construction or the last reset.
        """
        if self.n_sequences == 0:
            raise RuntimeError("CategoricalMetrics.compute() called before any sequence was added")
        result: dict[str, dict[str, Any]] = {}
        for threshold in self.thresholds:
            counts = self._counts[threshold]  # (4, T)
            totals = counts.sum(dim=1)  # (4,)
            result[csi_name(threshold)] = {
                "mean": float(csi_from_counts(totals)),
                "curve": [float(v) for v in csi_from_counts(counts)],
                "unit": CSI_UNIT.format(threshold=f"{threshold:g}"),
                "hits": int(totals[0]),
                "misses": int(totals[1]),
                "false_alarms": int(totals[2]),
                "correct_negatives": int(totals[3]),
            }
            for scale in self.fss_scales:
                sums = self._sums[(threshold, scale)]  # (3, T)
                result[fss_name(threshold, scale)] = {
                    "mean": float(fss_from_sums(sums.sum(dim=1))),
                    "curve": [float(v) for v in fss_from_sums(sums)],
                    "unit": FSS_UNIT.format(threshold=f"{threshold:g}", scale=scale),
                }
        return result
