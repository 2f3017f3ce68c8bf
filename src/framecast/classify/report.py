"""Classification reports: a Markdown table, metrics.json and PNG curves (ROC, PR, confusion)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from framecast.classify.metrics import UNDEFINED, ClassificationMetrics, format_score
from framecast.files import atomic_write

ROWS = ("precision", "recall", "f1", "roc_auc", "average_precision")


def format_metrics_table(metrics: ClassificationMetrics) -> str:
    """Markdown table: one row per class and a macro row; accuracy and counts below.

    Columns are precision, recall, F1, ROC AUC, average precision (area under
    the precision-recall curve) and support (true items of the class). A
    score the items cannot define reads :data:`~framecast.classify.metrics.UNDEFINED`.
    """
    header = "| class | precision | recall | F1 | ROC AUC | PR AUC (AP) | support |"
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
    for name in (*metrics.class_names, "macro"):
        values = [getattr(metrics, row)[name] for row in ROWS]
        support = metrics.support.get(name, metrics.count)
        cells = " | ".join(format_score(v) for v in values)
        label = "**macro**" if name == "macro" else name
        lines.append(f"| {label} | {cells} | {support} |")
    lines.append("")
    lines.append(f"accuracy {metrics.accuracy:.3f} on {metrics.count} items")
    if UNDEFINED in "\n".join(lines):
        lines.append(
            f"{UNDEFINED}: the items hold no item of the class, or only items of it, so its "
            "one-vs-rest curve has one class; the macro mean leaves it out"
        )
    return "\n".join(lines) + "\n"


def format_confusion(metrics: ClassificationMetrics) -> str:
    """Markdown confusion matrix: rows true class, columns predicted class."""
    names = metrics.class_names
    lines = [
        "| true \\ predicted | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for name, row in zip(names, metrics.confusion.tolist(), strict=True):
        lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def plot_curves(path: str | os.PathLike[str], metrics: ClassificationMetrics, title: str) -> Path:
    """ROC and precision-recall curves (one-vs-rest, a line per class), confusion matrix (PNG)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14, 4.5))
    roc_ax, pr_ax, cm_ax = fig.subplots(1, 3)
    for name in metrics.class_names:
        roc, pr = metrics.roc[name], metrics.pr[name]
        roc_ax.plot(roc.x, roc.y, label=f"{name} ({format_score(metrics.roc_auc[name])})")
        pr_ax.plot(pr.x, pr.y, label=f"{name} ({format_score(metrics.average_precision[name])})")
    roc_ax.plot([0, 1], [0, 1], "k:", lw=1)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (AUC)")
    pr_ax.set(xlabel="recall", ylabel="precision", title="precision-recall (AP)")
    for ax in (roc_ax, pr_ax):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, loc="best")
    confusion = metrics.confusion
    cm_ax.imshow(confusion, cmap="Blues")
    k = len(metrics.class_names)
    cm_ax.set_xticks(range(k), metrics.class_names, rotation=45, ha="right", fontsize=7)
    cm_ax.set_yticks(range(k), metrics.class_names, fontsize=7)
    cm_ax.set(xlabel="predicted", ylabel="true", title="confusion matrix")
    high = confusion.max() if confusion.size else 0
    for (i, j), value in np.ndenumerate(confusion):
        colour = "white" if value > high / 2 else "black"
        cm_ax.text(j, i, str(value), ha="center", va="center", fontsize=8, color=colour)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path) as partial:
        fig.savefig(partial, format="png", dpi=110)
    return path


def write_json(path: str | os.PathLike[str], payload: dict) -> Path:
    """Write ``payload`` as indented JSON, atomically."""
    path = Path(path)
    with atomic_write(path) as partial:
        partial.write_text(json.dumps(payload, indent=2, allow_nan=True) + "\n")
    return path


def write_markdown(path: str | os.PathLike[str], text: str) -> Path:
    """Write a Markdown report, atomically."""
    path = Path(path)
    with atomic_write(path) as partial:
        partial.write_text(text)
    return path
