"""Classification metrics through torchmetrics: per class, macro, confusion matrix, ROC and PR.

Every number comes from :mod:`torchmetrics.functional.classification`
(multiclass, one-vs-rest for the curves), so a two-class problem is scored
exactly like a six-class one: accuracy over all items; precision, recall
and F1 per class and their unweighted (macro) mean; the confusion matrix
(rows true class, columns predicted); the ROC curve and its area and the
precision-recall curve and its average precision per class, with their
macro means.

A class's ROC AUC is undefined when the scored items hold no item of it or
only items of it (one class in its one-vs-rest split), and its average
precision when they hold none of it; torchmetrics scores these 0 (or -0),
here they are NaN, printed as :data:`UNDEFINED`, and the macro mean is
taken over the classes where the score is defined.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

UNDEFINED = "n/a (one class)"
"""How a report prints a score that the items cannot define (an AUC over one class)."""


def format_score(value: float) -> str:
    """``0.873``, or :data:`UNDEFINED` for NaN (never ``0.000`` or ``-0.000``).

    Parameters
    ----------
    value : float

    Returns
    -------
    str
    """
    return f"{value:.3f}" if math.isfinite(value) else UNDEFINED


def _json_scores(values: dict[str, float]) -> dict[str, float | None]:
    """Scores for JSON: an undefined (NaN) score is null."""
    return {name: (v if math.isfinite(v) else None) for name, v in values.items()}


@dataclass(frozen=True)
class Curve:
    """One curve, ``x`` and ``y`` arrays: ROC false/true positive rate, PR recall/precision."""

    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class ClassificationMetrics:
    """The scores of one set of predictions.

    Attributes
    ----------
    class_names : tuple of str
    accuracy : float
        Fraction of items whose most probable class is the true one.
    precision, recall, f1, roc_auc, average_precision : dict of str to float
        Per class name, plus ``"macro"`` (their unweighted mean); precision,
        recall and F1 also ``"weighted"`` (their mean weighted by support, the
        "weighted" scores of the IMDB tutorial; weighted recall is the accuracy). ROC AUC and
        average precision are NaN for a class where they are undefined (see
        the module), and their macro mean leaves those classes out.
    support : dict of str to int
        True items per class.
    confusion : numpy.ndarray
        int64 ``[K, K]``: rows true class, columns predicted class.
    roc, pr : dict of str to Curve
        One-vs-rest ROC and precision-recall curves per class.
    count : int
        Items scored.
    """

    class_names: tuple[str, ...]
    accuracy: float
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    roc_auc: dict[str, float]
    average_precision: dict[str, float]
    support: dict[str, int]
    confusion: np.ndarray
    roc: dict[str, Curve]
    pr: dict[str, Curve]
    count: int

    def to_dict(self) -> dict[str, Any]:
        """The scalars and the confusion matrix as plain Python values (curves left out)."""
        return {
            "class_names": list(self.class_names),
            "count": self.count,
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "roc_auc": _json_scores(self.roc_auc),
            "average_precision": _json_scores(self.average_precision),
            "support": self.support,
            "confusion": self.confusion.tolist(),
        }


def _per_class(
    values: Tensor,
    names: tuple[str, ...],
    defined: list[bool] | None = None,
    weights: Tensor | None = None,
) -> dict[str, float]:
    """Scores by class name, their macro mean and (with ``weights``) their weighted mean.

    NaN where ``defined`` says False.
    """
    out = {name: float(v) for name, v in zip(names, values.tolist(), strict=True)}
    if defined is None:
        out["macro"] = float(np.mean(list(out.values())))
        if weights is not None:
            out["weighted"] = float((values.double() * weights).sum())
        return out
    out = {
        name: (v if ok else math.nan) for (name, v), ok in zip(out.items(), defined, strict=True)
    }
    kept = [v for v in out.values() if math.isfinite(v)]
    out["macro"] = float(np.mean(kept)) if kept else math.nan
    return out


def classification_metrics(
    probabilities: Tensor | np.ndarray, labels: Tensor | np.ndarray, class_names: tuple[str, ...]
) -> ClassificationMetrics:
    """Score class probabilities ``[N, K]`` against true labels ``[N]``.

    Parameters
    ----------
    probabilities : Tensor or numpy.ndarray
        float ``[N, K]``: each row a distribution over the K classes.
    labels : Tensor or numpy.ndarray
        int ``[N]`` in ``0..K-1``.
    class_names : tuple of str
        K names.

    Raises
    ------
    ValueError
        Shapes that disagree, no item, or labels outside ``0..K-1``.
    """
    from torchmetrics.functional.classification import (
        multiclass_accuracy,
        multiclass_auroc,
        multiclass_average_precision,
        multiclass_confusion_matrix,
        multiclass_f1_score,
        multiclass_precision,
        multiclass_precision_recall_curve,
        multiclass_recall,
        multiclass_roc,
    )

    probs = torch.as_tensor(probabilities, dtype=torch.float32)  # (N, K)
    target = torch.as_tensor(labels, dtype=torch.int64).reshape(-1)  # (N,)
    k = len(class_names)
    if probs.dim() != 2 or probs.shape[1] != k or probs.shape[0] != target.shape[0]:
        raise ValueError(
            f"need probabilities [N, {k}] and labels [N]; got {tuple(probs.shape)} and "
            f"{tuple(target.shape)}"
        )
    if target.numel() == 0:
        raise ValueError("no predictions to score")
    if int(target.min()) < 0 or int(target.max()) >= k:
        raise ValueError(
            f"labels must lie in 0..{k - 1}, got {int(target.min())}..{int(target.max())}"
        )
    kw: dict[str, Any] = {"num_classes": k}
    with warnings.catch_warnings():
        # a class absent from the labels has no ROC/PR curve: torchmetrics warns and scores 0
        warnings.filterwarnings("ignore", message=".*(no positive|no negative|are not present).*")
        accuracy = float(multiclass_accuracy(probs, target, average="micro", **kw))
        precision = multiclass_precision(probs, target, average=None, **kw)
        recall = multiclass_recall(probs, target, average=None, **kw)
        f1 = multiclass_f1_score(probs, target, average=None, **kw)
        auroc = multiclass_auroc(probs, target, average=None, **kw)
        ap = multiclass_average_precision(probs, target, average=None, **kw)
        confusion = multiclass_confusion_matrix(probs, target, **kw)  # (K, K)
        fpr, tpr, _ = multiclass_roc(probs, target, **kw)
        pr_precision, pr_recall, _ = multiclass_precision_recall_curve(probs, target, **kw)
    support = torch.bincount(target, minlength=k)
    count = int(target.numel())
    weights = support.double() / count  # (K,): the support-weighted averages of the tutorial
    two_sided = [0 < s < count for s in support.tolist()]  # positives and negatives
    has_positives = [s > 0 for s in support.tolist()]
    return ClassificationMetrics(
        class_names=tuple(class_names),
        accuracy=accuracy,
        precision=_per_class(precision, class_names, weights=weights),
        recall=_per_class(recall, class_names, weights=weights),
        f1=_per_class(f1, class_names, weights=weights),
        roc_auc=_per_class(auroc, class_names, two_sided),
        average_precision=_per_class(ap, class_names, has_positives),
        support={n: int(s) for n, s in zip(class_names, support.tolist(), strict=True)},
        confusion=confusion.numpy().astype(np.int64),
        roc={n: Curve(fpr[i].numpy(), tpr[i].numpy()) for i, n in enumerate(class_names)},
        pr={
            n: Curve(pr_recall[i].numpy(), pr_precision[i].numpy())
            for i, n in enumerate(class_names)
        },
        count=int(target.numel()),
    )
