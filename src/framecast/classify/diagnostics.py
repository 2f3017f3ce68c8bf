"""A classifier's training diagnostics: curves per epoch, probability histograms, the report.

The three outputs of the seed material's sentiment tutorial, beyond the test
scores: the loss and accuracy per epoch on the training and validation data
(read from the run's ``logs/metrics.csv``), the histogram of the predicted
probability of each class's items on the training and the test data (its
check for overtraining: a model that has learnt the training reviews by
heart separates them far more sharply than the test reviews), and a
classification report (per-class precision, recall, F1 and support with the
macro and support-weighted averages, the layout of scikit-learn's
``classification_report``, written here from torchmetrics' scores to avoid a
dependency for a table).
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import Tensor

from framecast.classify.metrics import ClassificationMetrics
from framecast.files import atomic_write

EPOCH_COLUMNS = ("train_loss_epoch", "train_accuracy", "val_loss", "val_accuracy")
HISTOGRAM_BINS = 20


@dataclass(frozen=True)
class EpochRow:
    """The scores logged for one epoch (NaN where a score was not logged)."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float


def read_epoch_history(metrics_csv: str | os.PathLike[str]) -> list[EpochRow]:
    """Per-epoch training and validation loss and accuracy from a run's ``metrics.csv``.

    The validation scores of an epoch are its last validation's (a run that
    validates several times an epoch logs them all). Epochs with no score at
    all are left out; a missing file gives an empty history.

    Raises
    ------
    ValueError
        A file that is not a CSV with an ``epoch`` column.
    """
    path = Path(metrics_csv)
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and "epoch" not in rows[0]:
        raise ValueError(f"{str(path)!r} has no epoch column; not a framecast metrics.csv")
    by_epoch: dict[int, dict[str, float]] = {}
    for row in rows:
        try:
            epoch = int(float(row["epoch"]))
        except (TypeError, ValueError):
            continue
        scores = by_epoch.setdefault(epoch, {})
        for column in EPOCH_COLUMNS:
            value = row.get(column) or ""
            if value.strip():
                scores[column] = float(value)  # a later row (the epoch's last) wins
    return [
        EpochRow(epoch, *(scores.get(c, math.nan) for c in EPOCH_COLUMNS))
        for epoch, scores in sorted(by_epoch.items())
        if scores
    ]


def format_history(history: list[EpochRow]) -> str:
    """Markdown table of the per-epoch scores (epochs counted from 1)."""
    lines = [
        "| epoch | train loss | train accuracy | val loss | val accuracy |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in history:
        values = (row.train_loss, row.train_accuracy, row.val_loss, row.val_accuracy)
        cells = " | ".join("-" if math.isnan(v) else f"{v:.4f}" for v in values)
        lines.append(f"| {row.epoch + 1} | {cells} |")
    return "\n".join(lines) + "\n"


def plot_learning_curves(path: str | os.PathLike[str], history: list[EpochRow], title: str) -> Path:
    """Loss and accuracy per epoch, training and validation (PNG)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    loss_ax, acc_ax = fig.subplots(1, 2)
    epochs = [row.epoch + 1 for row in history]
    for ax, names, label in (
        (loss_ax, ("train_loss", "val_loss"), "loss (cross-entropy)"),
        (acc_ax, ("train_accuracy", "val_accuracy"), "accuracy"),
    ):
        for name, style in zip(names, ("o-", "s--"), strict=True):
            ax.plot(epochs, [getattr(r, name) for r in history], style, label=name.split("_")[0])
        ax.set(xlabel="epoch", ylabel=label)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path) as partial:
        fig.savefig(partial, format="png", dpi=110)
    return path


def probability_histograms(
    probabilities: Tensor, labels: Tensor, class_names: tuple[str, ...]
) -> dict[str, list[int]]:
    """Per true class, the counts of its items' probability of the last class, in 20 bins on [0, 1].

    For two classes (IMDB: neg, pos) that is the tutorial's histogram of the
    predicted probability of "positive" for the negative and the positive
    reviews; for more classes, each class's items' probability of their own
    class would be the analogue, so the probability shown is that of the
    true class when K > 2.
    """
    probs = probabilities.double().numpy()  # (N, K)
    truth = labels.numpy().astype(np.int64)  # (N,)
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    out: dict[str, list[int]] = {}
    for k, name in enumerate(class_names):
        column = probs[truth == k, -1 if len(class_names) == 2 else k]
        out[name] = np.histogram(column, bins=edges)[0].astype(int).tolist()
    return out


def plot_probability_histograms(
    path: str | os.PathLike[str],
    histograms: dict[str, dict[str, list[int]]],
    class_names: tuple[str, ...],
    title: str,
) -> Path:
    """One panel per split: the histograms of :func:`probability_histograms`, density-normalised."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5 * len(histograms), 4))
    axes = np.atleast_1d(fig.subplots(1, len(histograms)))
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    what = f"P({class_names[-1]})" if len(class_names) == 2 else "P(true class)"
    for ax, (split, counts) in zip(axes, histograms.items(), strict=True):
        for name, values in counts.items():
            total = max(1, sum(values))
            density = np.asarray(values, dtype=float) / total / np.diff(edges)
            ax.stairs(density, edges, label=f"{name} ({total})", fill=True, alpha=0.45)
        ax.set(xlabel=what, ylabel="density", title=f"{split} data")
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path) as partial:
        fig.savefig(partial, format="png", dpi=110)
    return path


def classification_report(metrics: ClassificationMetrics) -> str:
    """The per-class and averaged precision, recall, F1 and support, as a fixed-width table."""
    width = max(12, *(len(n) for n in metrics.class_names))
    head = f"{'':>{width}} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>9}"
    lines = [head, ""]
    for name in metrics.class_names:
        p, r, f = metrics.precision[name], metrics.recall[name], metrics.f1[name]
        lines.append(f"{name:>{width}} {p:9.4f} {r:9.4f} {f:9.4f} {metrics.support[name]:9d}")
    lines.append("")
    blank = " " * 9
    accuracy = f"{metrics.accuracy:9.4f} {metrics.count:9d}"
    lines.append(f"{'accuracy':>{width}} {blank} {blank} {accuracy}")
    for average, label in (("macro", "macro avg"), ("weighted", "weighted avg")):
        p, r, f = metrics.precision[average], metrics.recall[average], metrics.f1[average]
        lines.append(f"{label:>{width}} {p:9.4f} {r:9.4f} {f:9.4f} {metrics.count:9d}")
    return "\n".join(lines) + "\n"
