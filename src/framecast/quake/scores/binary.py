"""Binary skill of a rate forecast: "an event of magnitude >= M in this cell in this window".

Each (window, cell) bin becomes a yes/no prediction with probability
``p = 1 - exp(-lambda_{>=M})`` (the Poisson probability of at least one
event), scored with

* the ROC curve and its area (AUC, 0.5 for no skill, 1 for a perfect ranking),
* precision-recall and its average precision (AP, equal to the fraction of
  bins with events for no skill), both from torchmetrics, and
* the Molchan diagram (Molchan 1991, "Structure of optimal strategies in
  earthquake prediction", Tectonophysics 193; Zechar & Jordan 2008, "Testing
  alarm-based earthquake predictions", GJI 172, 715-724): raising the alarm
  in every bin whose probability reaches a threshold, ``tau`` is the fraction
  of space-time under alarm (uniform over window x cell, or weighted by a
  reference forecast's rates) and ``nu`` the fraction of target earthquakes
  missed. The area skill score ``ASS = 1 - area under the trajectory`` is 0.5
  for an unskilled forecast and approaches 1 for a perfect one.

Bins with equal probability enter together at one threshold, and the curves
join consecutive thresholds by straight lines, the expected curve when ties
are broken at random; so a constant forecast gives AUC = ASS = 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framecast.quake.rates import RateForecast
from framecast.quake.scores.observed import ObservedEvents, check_compatible, check_observed


def event_probability(forecast: RateForecast, magnitude: float | None = None) -> np.ndarray:
    """float64 ``[W, H, X]``: P(at least one event of M >= ``magnitude``) = 1 - exp(-lambda).

    ``magnitude`` defaults to the forecast's mc; above it the rates scale by
    Gutenberg-Richter (:meth:`RateForecast.above`).
    """
    rates = forecast.above(forecast.mc if magnitude is None else magnitude)  # [W, H, X]
    return -np.expm1(-rates)  # exact for tiny rates, where 1 - exp(-x) rounds to 0


@dataclass(frozen=True)
class RocCurve:
    """ROC curve points, from (0, 0) to (1, 1), one per distinct probability.

    Attributes
    ----------
    false_positive_rate, true_positive_rate : numpy.ndarray
        float64 ``[K + 1]``.
    thresholds : numpy.ndarray
        float64 ``[K + 1]``: an alarm where ``p >= threshold``; +inf first (no alarm).
    """

    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    thresholds: np.ndarray

    @property
    def area(self) -> float:
        """Trapezoidal area under the curve (the AUC)."""
        return float(np.trapezoid(self.true_positive_rate, self.false_positive_rate))


@dataclass(frozen=True)
class MolchanCurve:
    """Molchan trajectory, from (tau=0, nu=1) to (tau=1, nu=0).

    Attributes
    ----------
    tau : numpy.ndarray
        float64 ``[K + 1]``: fraction of space-time (reference measure) under alarm.
    nu : numpy.ndarray
        float64 ``[K + 1]``: fraction of target earthquakes missed.
    thresholds : numpy.ndarray
        float64 ``[K + 1]``: alarm where ``p >= threshold``; +inf first (no alarm).
    area_skill_score : float
        ``1 - integral of nu d tau``; 0.5 without skill (Zechar & Jordan 2008).
    n_events : int
        Target earthquakes.
    """

    tau: np.ndarray
    nu: np.ndarray
    thresholds: np.ndarray
    area_skill_score: float
    n_events: int


@dataclass(frozen=True)
class _TieGroups:
    """Bins sorted by decreasing score, cut into groups of equal scores."""

    order: np.ndarray  # int64 [n]: bin indices, highest score first
    group_end: np.ndarray  # int64 [K]: position in `order` of each group's last bin
    thresholds: np.ndarray  # float64 [K]: each group's score, decreasing

    @classmethod
    def of(cls, score: np.ndarray) -> _TieGroups:
        order = np.argsort(-score)  # [n]; ties are grouped below, so stability is moot
        ordered = score[order]  # [n]
        group_end = np.append(np.flatnonzero(np.diff(ordered) != 0), len(ordered) - 1)  # [K]
        return cls(order, group_end, ordered[group_end])

    def cumulative(self, weight: np.ndarray) -> np.ndarray:
        """float64 ``[K]``: total weight of the bins with score >= each threshold.

        Bins with equal scores enter together: the running sum is read only at
        the last bin of each group.
        """
        return np.cumsum(weight[self.order], dtype=np.float64)[self.group_end]


def _roc(groups: _TieGroups, label: np.ndarray) -> RocCurve:
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = np.concatenate(([0.0], groups.cumulative(label) / label.sum()))  # [K + 1]
        fpr = np.concatenate(([0.0], groups.cumulative(~label) / (~label).sum()))  # [K + 1]
    return RocCurve(fpr, tpr, np.concatenate(([np.inf], groups.thresholds)))


def roc_curve(probability: np.ndarray, label: np.ndarray) -> RocCurve:
    """ROC curve of scores ``probability`` ``[n]`` against boolean ``label`` ``[n]``.

    Tied scores form one point. Rates are NaN when a class is absent.
    """
    probability = np.asarray(probability, np.float64).reshape(-1)  # [n]
    return _roc(_TieGroups.of(probability), np.asarray(label, bool).reshape(-1))


def _reference_weights(
    forecast: RateForecast, reference: RateForecast | np.ndarray | None
) -> np.ndarray:
    """float64 ``[W*H*X]``: the measure of space-time that ``tau`` counts."""
    shape = forecast.rates.shape
    if reference is None:
        return np.ones(int(np.prod(shape)))
    if isinstance(reference, RateForecast):
        check_compatible([forecast, reference])
        weights = reference.rates
    else:
        weights = np.asarray(reference, np.float64)
        if weights.shape != shape:
            raise ValueError(
                f"reference measure has shape {weights.shape}; expected the forecast's {shape}"
            )
    if not np.isfinite(weights).all() or (weights < 0).any() or not weights.sum() > 0:
        raise ValueError("the reference measure must be finite, >= 0 and not all zero")
    return weights.reshape(-1)


def _molchan(groups: _TieGroups, events: np.ndarray, weights: np.ndarray) -> MolchanCurve:
    total_events = events.sum()
    tau = np.concatenate(([0.0], groups.cumulative(weights) / weights.sum()))  # [K + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        nu = np.concatenate(([1.0], 1.0 - groups.cumulative(events) / total_events))  # [K + 1]
    tau[-1] = 1.0  # every bin under alarm, whatever the rounding
    if total_events > 0:
        nu[-1] = 0.0
    area = float(np.trapezoid(nu, tau)) if total_events > 0 else float("nan")
    return MolchanCurve(
        tau=tau,
        nu=nu,
        thresholds=np.concatenate(([np.inf], groups.thresholds)),
        area_skill_score=1.0 - area,
        n_events=int(total_events),
    )


def molchan_curve(
    probability: np.ndarray, events: np.ndarray, weights: np.ndarray | None = None
) -> MolchanCurve:
    """Molchan trajectory of alarm scores ``probability`` ``[n]`` for event counts ``events`` [n].

    ``weights`` ``[n]`` is the reference measure of each bin (uniform if None).
    With no events ``nu`` and the score are NaN.
    """
    probability = np.asarray(probability, np.float64).reshape(-1)  # [n]
    events = np.asarray(events, np.float64).reshape(-1)  # [n]
    weights = np.ones_like(probability) if weights is None else np.asarray(weights, np.float64)
    return _molchan(_TieGroups.of(probability), events, weights.reshape(-1))


def _target_counts(
    forecast: RateForecast, observed: ObservedEvents, magnitude: float
) -> np.ndarray:
    """int64 ``[W*H*X]``: target events of M >= ``magnitude`` per window and cell."""
    check_observed(observed, forecast)
    return observed.above(magnitude).counts(forecast.rates.shape).reshape(-1)


def molchan_diagram(
    forecast: RateForecast,
    observed: ObservedEvents,
    *,
    magnitude: float | None = None,
    reference: RateForecast | np.ndarray | None = None,
) -> MolchanCurve:
    """Molchan diagram of a forecast for events of M >= ``magnitude`` (default mc).

    Alarms are raised in the (window, cell) bins with the highest probability
    :func:`event_probability` first, tied bins together. ``tau`` is the fraction
    of the reference measure under alarm: uniform over (window, cell) by
    default, or proportional to ``reference``'s rates (a :class:`RateForecast`
    with the same bins, or a float ``[W, H, X]`` array), which makes an
    unskilled forecast the reference itself (Zechar & Jordan 2008). ``nu`` counts
    missed earthquakes, so a bin with two events weighs twice.
    """
    magnitude = forecast.mc if magnitude is None else magnitude
    return molchan_curve(
        event_probability(forecast, magnitude).reshape(-1),
        _target_counts(forecast, observed, magnitude),
        _reference_weights(forecast, reference),
    )


@dataclass(frozen=True)
class BinarySkill:
    """Skill of a forecast at predicting which (window, cell) bins hold an event of M >= magnitude.

    Attributes
    ----------
    magnitude : float
    roc_auc : float
        Area under the ROC curve (torchmetrics ``binary_auroc``); NaN if every
        or no bin holds an event.
    pr_auc : float
        Average precision (torchmetrics ``binary_average_precision``), the
        area under the precision-recall curve; no skill gives ``prevalence``.
    area_skill_score : float
        Molchan area skill score; 0.5 without skill.
    prevalence : float
        Fraction of bins holding at least one target event.
    n_positive, n_bins, n_events : int
    roc : RocCurve
    molchan : MolchanCurve
    """

    magnitude: float
    roc_auc: float
    pr_auc: float
    area_skill_score: float
    prevalence: float
    n_positive: int
    n_bins: int
    n_events: int
    roc: RocCurve = field(repr=False)
    molchan: MolchanCurve = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The scalars, as plain Python values (curves left out)."""
        return {
            "magnitude": float(self.magnitude),
            "roc_auc": float(self.roc_auc),
            "pr_auc": float(self.pr_auc),
            "area_skill_score": float(self.area_skill_score),
            "prevalence": float(self.prevalence),
            "n_positive": int(self.n_positive),
            "n_bins": int(self.n_bins),
            "n_events": int(self.n_events),
        }


def _torchmetrics_scores(probability: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    """(ROC AUC, average precision) from torchmetrics; NaN when a class is absent."""
    positives = int(label.sum())
    if positives == 0:
        return float("nan"), float("nan")
    if positives == len(label):  # every bin holds an event: no ranking to judge
        return float("nan"), 1.0
    import torch
    from torchmetrics.functional.classification import (
        binary_auroc,
        binary_average_precision,
    )

    preds = torch.from_numpy(np.ascontiguousarray(probability, np.float64))  # [n] in [0, 1]
    target = torch.from_numpy(label.astype(np.int64))  # [n]
    return (
        float(binary_auroc(preds, target)),
        float(binary_average_precision(preds, target)),
    )


def binary_skill(
    forecast: RateForecast,
    observed: ObservedEvents,
    *,
    magnitude: float | None = None,
    reference: RateForecast | np.ndarray | None = None,
) -> BinarySkill:
    """ROC AUC, average precision and Molchan area skill score for M >= ``magnitude``.

    Parameters
    ----------
    forecast : RateForecast
    observed : ObservedEvents
    magnitude : float, optional
        Target magnitude (default the forecast's mc); rates above mc are scaled
        by Gutenberg-Richter.
    reference : RateForecast or numpy.ndarray, optional
        Reference measure of the Molchan diagram (see :func:`molchan_diagram`).
    """
    magnitude = forecast.mc if magnitude is None else float(magnitude)
    probability = event_probability(forecast, magnitude).reshape(-1)  # [n]
    events = _target_counts(forecast, observed, magnitude)  # [n]
    label = events > 0  # [n]
    roc_auc, average_precision = _torchmetrics_scores(probability, label)
    groups = _TieGroups.of(probability)  # one sort for both curves
    molchan = _molchan(groups, events.astype(np.float64), _reference_weights(forecast, reference))
    return BinarySkill(
        magnitude=magnitude,
        roc_auc=roc_auc,
        pr_auc=average_precision,
        area_skill_score=molchan.area_skill_score,
        prevalence=float(label.mean()) if len(label) else float("nan"),
        n_positive=int(label.sum()),
        n_bins=len(label),
        n_events=int(events.sum()),
        roc=_roc(groups, label),
        molchan=molchan,
    )
