"""Evaluate a trained classifier on one split and write its report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from framecast.classify.alarms import (
    AlarmSkill,
    QuakeAlarms,
    compare_alarms,
    forecaster_probability,
    plot_alarm_comparison,
    recent_rate_probability,
)
from framecast.classify.checkpoint import load_classifier
from framecast.classify.config import classify_config_from_dict
from framecast.classify.data import build_labelled_dataset
from framecast.classify.diagnostics import (
    classification_report,
    format_history,
    plot_learning_curves,
    plot_probability_histograms,
    probability_histograms,
    read_epoch_history,
)
from framecast.classify.metrics import (
    ClassificationMetrics,
    classification_metrics,
    format_score,
)
from framecast.classify.report import (
    format_confusion,
    format_metrics_table,
    plot_curves,
    write_json,
    write_markdown,
)
from framecast.config import apply_overrides
from framecast.files import check_writable_dir


@dataclass
class ClassifierEvaluation:
    """The scores of a classifier on one split and the files written."""

    metrics: ClassificationMetrics
    table: str
    out_dir: Path
    files: list[Path]
    alarms: list[AlarmSkill] = field(default_factory=list)


def predict_probabilities(
    model: nn.Module, dataset: Dataset, batch_size: int = 64, max_batches: int | None = None
) -> tuple[Tensor, Tensor]:
    """(probabilities (N, K), labels (N,)) of ``model`` over ``dataset``, in order."""
    probs, labels = [], []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    with torch.no_grad():
        for number, (x, y) in enumerate(loader):
            if max_batches is not None and number >= max_batches:
                break
            probs.append(torch.softmax(model(x).float(), dim=-1))  # (B, K)
            labels.append(y)
    return torch.cat(probs), torch.cat(labels)


def alarm_table(skills: Sequence[AlarmSkill], windows: int, positives: int) -> str:
    """Markdown table of ROC AUC and Molchan area skill score per alarm score."""
    lines = [
        f"Alarms on {windows} windows ({positives} with a target event):",
        "",
        "| alarm score | ROC AUC | Molchan ASS |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {s.name} | {format_score(s.roc_auc)} | {format_score(s.area_skill_score)} |"
        for s in skills
    ]
    return "\n".join(lines) + "\n"


def evaluate_classifier(
    checkpoint: str | Path,
    *,
    split: str = "test",
    out_dir: Path | None = None,
    overrides: Sequence[str] = (),
    max_batches: int | None = None,
    rate_checkpoint: str | Path | None = None,
    b_value: float = 1.0,
    train_histogram: bool = True,
    verbose: bool = True,
) -> ClassifierEvaluation:
    """Score a classifier checkpoint on ``split`` and write its report and figures.

    Written to ``out_dir``: ``report.md`` (the scores table, the confusion
    matrix, the classification report with weighted averages and the loss
    and accuracy per epoch), ``classification_report.txt``, ``metrics.json``,
    ``curves.png`` (ROC, precision-recall, confusion), ``learning_curves.png``
    (loss and accuracy per epoch, training and validation, from the run's
    ``logs/metrics.csv``) and ``probability_histograms.png`` (the predicted
    probabilities per true class on the training data and on ``split``:
    the overtraining check of the IMDB tutorial).

    For ``quake_alarms`` data the classifier's probability of an event is
    compared on the same windows with the recent-rate Poisson forecast and,
    with ``rate_checkpoint``, a framecast rate network (alarms.png, and a
    table in report.md).

    Parameters
    ----------
    checkpoint : path
        A checkpoint of ``framecast classify train`` or its run folder.
    split : {"train", "val", "test"}
    out_dir : path, optional
        Default ``<run folder>/eval-<split>``.
    overrides : sequence of str
        ``data.*`` overrides (another ``data.options.path``, say).
    max_batches : int, optional
        Score only this many batches.
    rate_checkpoint : path, optional
        A rate network to compare with (quake alarms only).
    b_value : float
        Gutenberg-Richter b that scales the rate forecasts to the alarm magnitude.
    train_histogram : bool
        Also score the training split for the probability histograms (one
        more pass over the training data, ``max_batches`` of it at most).

    Raises
    ------
    ValueError
        Overrides outside ``data.``; a rate checkpoint for data that are not alarms.
    """
    loaded = load_classifier(checkpoint)
    bad = [o for o in overrides if not o.startswith("data.")]
    if bad:
        raise ValueError(f"classify evaluate takes only data.* overrides, got {bad}")
    config = classify_config_from_dict(apply_overrides(loaded.config.to_dict(), overrides))
    dataset = build_labelled_dataset(config.data, split, loaded.vocabulary)
    is_alarm = isinstance(dataset, QuakeAlarms)
    if rate_checkpoint is not None and not is_alarm:
        raise ValueError("--rate-checkpoint compares rate forecasts with quake_alarms data only")
    names = tuple(dataset.spec.class_names)  # type: ignore[attr-defined]
    if names != loaded.class_names:
        raise ValueError(f"the data's classes {list(names)} differ from the model's")
    out_dir = out_dir or loaded.path.parent.parent / f"eval-{split}"
    check_writable_dir(out_dir)
    probs, labels = predict_probabilities(
        loaded.model, dataset, config.data.batch_size, max_batches
    )
    metrics = classification_metrics(probs, labels, names)
    table = format_metrics_table(metrics)
    title = f"{config.model.name} ({config.model.options.get('cell', '')}) on {config.data.name}"
    report = classification_report(metrics)
    text = (
        f"# {title}, {split} split\n\n{table}\n{format_confusion(metrics)}\n"
        f"Classification report:\n\n```\n{report}```\n"
    )
    files = [
        plot_curves(out_dir / "curves.png", metrics, f"{title}, {split}"),
        write_markdown(out_dir / "classification_report.txt", report),
    ]
    history = read_epoch_history(loaded.path.parent.parent / "logs" / "metrics.csv")
    if history:
        text += f"\nLoss and accuracy per epoch (the run's logs):\n\n{format_history(history)}"
        files.append(plot_learning_curves(out_dir / "learning_curves.png", history, title))
    histograms: dict[str, dict[str, list[int]]] = {}  # the training data first, when scored
    if train_histogram and split != "train":
        train_data = build_labelled_dataset(config.data, "train", loaded.vocabulary)
        train_probs, train_labels = predict_probabilities(
            loaded.model, train_data, config.data.batch_size, max_batches
        )
        histograms["train"] = probability_histograms(train_probs, train_labels, names)
    histograms[split] = probability_histograms(probs, labels, names)
    files.append(
        plot_probability_histograms(
            out_dir / "probability_histograms.png", histograms, names, title
        )
    )
    skills: list[AlarmSkill] = []
    if is_alarm:
        n = len(labels)
        scores = {
            "classifier": probs[:, 1].double().numpy(),
            "recent-rate Poisson": recent_rate_probability(dataset, b_value)[:n],
        }
        if rate_checkpoint is not None:
            scores["rate network"] = forecaster_probability(
                rate_checkpoint, dataset, b_value=b_value
            )[:n]
        windows = dataset.windows
        skills = compare_alarms(scores, windows.labels[:n], windows.events[:n])
        text += "\n" + alarm_table(skills, n, int(windows.labels[:n].sum()))
        files.append(plot_alarm_comparison(out_dir / "alarms.png", skills))
    skipped = list(getattr(dataset, "skipped", []))
    if skipped:
        text += f"\nSkipped {len(skipped)} unreadable file(s): {'; '.join(skipped)}\n"
    payload = {
        "checkpoint": str(loaded.path),
        "split": split,
        "skipped": skipped,
        "metrics": metrics.to_dict(),
        "epochs": [vars(row) for row in history],
        "probability_histograms": histograms,
        "alarms": [
            {
                "name": s.name,
                "roc_auc": s.roc_auc if math.isfinite(s.roc_auc) else None,
                "area_skill_score": (
                    s.area_skill_score if math.isfinite(s.area_skill_score) else None
                ),
            }
            for s in skills
        ],
    }
    files += [
        write_json(out_dir / "metrics.json", payload),
        write_markdown(out_dir / "report.md", text),
    ]
    if verbose:
        print(text, end="")
        print(f"report: {out_dir / 'report.md'}")
    return ClassifierEvaluation(metrics, table, out_dir, files, skills)
