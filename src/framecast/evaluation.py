"""Evaluate forecasting models on a data loader, side by side, in one pass."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader

from framecast.metrics import (
    DEFAULT_FSS_SCALES,
    DEFAULT_METRICS,
    METRIC_SPECS,
    CategoricalMetrics,
    FrameMetrics,
    categorical_metric_names,
    clamp_to_range,
    dataset_data_range,
)
from framecast.models import ForecastModel

FROM_DATASET = "dataset"
"""``evaluate(data_range=FROM_DATASET)``: take the range from the loader's dataset."""


@dataclass
class Evaluation:
    """Metrics per model, plus the first sequence of the first batch for pictures.

    ``data_range`` is the range the predictions were clamped to and PSNR and
    SSIM used (None: values without an upper bound); ``ssim`` names the SSIM
    definition (:data:`framecast.metrics.SSIM_DEFINITIONS`). ``thresholds``
    and ``fss_scales`` name the CSI and FSS scored
    (:class:`framecast.metrics.CategoricalMetrics`; none when empty).
    """

    results: dict[str, dict[str, Any]]
    example_context: Tensor  # (Tc, C, H, W)
    example_target: Tensor  # (Tf, C, H, W)
    example_predictions: dict[str, Tensor] = field(default_factory=dict)  # name -> (Tf, C, H, W)
    seconds: dict[str, float] = field(default_factory=dict)
    data_range: float | None = 1.0
    ssim: str = "gaussian"
    thresholds: tuple[float, ...] = ()
    fss_scales: tuple[int, ...] = ()

    @property
    def categorical_metrics(self) -> list[str]:
        """The names of the CSI and FSS scored, in table order (empty without thresholds)."""
        return categorical_metric_names(self.thresholds, self.fss_scales)

    def save_json(self, path: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
        """Write the metrics (and ``extra`` keys) as JSON, atomically.

        With thresholds, ``thresholds`` and ``fss_scales`` are written too;
        an undefined CSI or FSS (NaN: no event in either field) is null.
        """
        from framecast.files import atomic_write

        path = Path(path)
        payload = {
            **(extra or {}),
            "data_range": self.data_range,
            "ssim_definition": self.ssim,
        }
        if self.thresholds:
            payload |= {"thresholds": list(self.thresholds), "fss_scales": list(self.fss_scales)}
        payload |= {"models": self.results, "inference_seconds": self.seconds}
        with atomic_write(path) as partial:
            partial.write_text(json.dumps(_nan_to_none(payload), indent=2))
        return path


def _nan_to_none(value: Any) -> Any:
    """``value`` with every float NaN inside dicts and lists replaced by None (JSON null)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {key: _nan_to_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(item) for item in value]
    return value


def autocast_context(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Autocast to bf16 for ``bf16-mixed``, fp16 for ``16-mixed``, nothing otherwise."""
    if precision == "bf16-mixed":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "16-mixed":
        return torch.autocast(device.type, dtype=torch.float16)
    return contextlib.nullcontext()


def _batches(loader: DataLoader, max_batches: int | None) -> Iterator[tuple[Tensor, Tensor]]:
    for i, batch in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            return
        yield batch


@torch.no_grad()
def evaluate(
    models: Mapping[str, ForecastModel],
    loader: DataLoader,
    *,
    data_range: float | str | None = FROM_DATASET,
    metrics: Sequence[str] = DEFAULT_METRICS,
    ssim: str = "gaussian",
    device: str | torch.device = "cpu",
    precision: str = "32",
    max_batches: int | None = None,
    thresholds: Sequence[float] = (),
    fss_scales: Sequence[int] = DEFAULT_FSS_SCALES,
) -> Evaluation:
    """Forecast every batch's target with every model and score the forecasts.

    Parameters
    ----------
    models : mapping of str to ForecastModel
        Named models, e.g. ``{"predrnn": model, "persistence": Persistence(1)}``.
    loader : DataLoader
        Yields ``(context, target)`` batches, (B, T, C, H, W) each.
    data_range : float, None or "dataset"
        Predictions are clamped to ``[0, data_range]`` before scoring (the
        rule validation follows too), and PSNR and SSIM use it as the peak.
        Default: the loader's dataset's range
        (:func:`framecast.metrics.dataset_data_range`: 1.0 for video, None
        for seismicity counts). With None, predictions are clamped at 0 only
        and the metrics that need a peak (PSNR, SSIM) are left out.
    metrics : sequence of str
        Metric names of :data:`framecast.metrics.METRIC_SPECS`.
    ssim : {"gaussian", "skimage"}
        The SSIM definition (``evaluation.ssim`` of a config).
    precision : str
        ``32``, ``bf16-mixed`` or ``16-mixed``.
    max_batches : int, optional
        Stop after this many batches.
    thresholds : sequence of float
        Event thresholds of the CSI and the FSS
        (:mod:`framecast.metrics.categorical`, pySTEPS definitions), in the
        units of the scored frames; meant for radar-like frames (the
        ``prepared`` dataset of a ``frame_series``), opt-in for any. Empty:
        neither is scored.
    fss_scales : sequence of int
        FSS neighbourhood sides in pixels (used with ``thresholds``).

    Raises
    ------
    ValueError
        A threshold outside ``[0, data_range]`` (refused before any batch
        is scored), bad FSS scales, or a loader that yields no batch.
    """
    import time

    device = torch.device(device)
    if isinstance(data_range, str):
        if data_range != FROM_DATASET:
            raise ValueError(
                f"data_range must be a number, None or {FROM_DATASET!r}, got {data_range!r}"
            )
        data_range = dataset_data_range(loader.dataset)
    if data_range is None:
        metrics = [m for m in metrics if m not in METRIC_SPECS or not METRIC_SPECS[m].needs_range]
    accumulators = {name: FrameMetrics(data_range, metrics, ssim) for name in models}
    categorical = (
        {name: CategoricalMetrics(thresholds, fss_scales, data_range) for name in models}
        if len(thresholds) > 0
        else {}
    )  # built before the first batch: a bad threshold is refused before any scoring
    seconds = dict.fromkeys(models, 0.0)
    example: dict[str, Tensor] = {}
    ctx0 = tgt0 = None
    for model in models.values():
        model.eval().to(device)
    for context, target in _batches(loader, max_batches):
        context, target = context.to(device), target.to(device)
        horizon = target.shape[1]
        for name, model in models.items():
            start = time.perf_counter()
            with autocast_context(precision, device):
                pred = model(context, horizon)  # (B, Tf, C, H, W)
            pred = clamp_to_range(pred.float(), data_range)  # the rule validation follows
            seconds[name] += time.perf_counter() - start
            accumulators[name].update(pred, target.float())
            if categorical:
                categorical[name].update(pred, target.float())
            if name not in example:
                example[name] = pred[0].cpu()
        if ctx0 is None:
            ctx0, tgt0 = context[0].cpu(), target[0].cpu()
    if ctx0 is None or tgt0 is None:
        raise ValueError("the data loader yielded no batch to evaluate")
    results = {name: acc.compute() for name, acc in accumulators.items()}
    for name, scores in categorical.items():
        results[name].update(scores.compute())
    first = next(iter(categorical.values()), None)
    return Evaluation(
        results=results,
        example_context=ctx0,
        example_target=tgt0,
        example_predictions=example,
        seconds=seconds,
        data_range=data_range,
        ssim=ssim,
        thresholds=first.thresholds if first is not None else (),
        fss_scales=first.fss_scales if first is not None else (),
    )


def format_table(
    results: Mapping[str, Mapping[str, Any]], metrics: Sequence[str], *, skill: bool = True
) -> str:
    """A Markdown table of metric means, one row per model ("-" where a metric was not scored).

    Where trivial baselines (:data:`framecast.baselines.TRIVIAL_BASELINES`)
    were scored and ``skill`` is true, a last column gives each row's MSE
    skill score against the best of them, ``1 - MSE / MSE_best``
    (:func:`framecast.baselines.skill_scores`). An undefined score (a CSI or
    FSS without events) reads ``nan``.
    """
    from framecast.baselines import skill_scores

    best, skills = skill_scores(results) if skill else (None, {})
    header = "| model | " + " | ".join(metrics) + " |"
    rule = "|---|" + "---:|" * len(metrics)
    if best is not None:
        header += f" skill vs best trivial ({best}) |"
        rule += "---:|"
    rows = []
    for name, res in results.items():
        row = (
            f"| {name} | "
            + " | ".join(f"{res[m]['mean']:.4g}" if m in res else "-" for m in metrics)
            + " |"
        )
        if best is not None:
            skill = skills.get(name, math.nan)
            row += f" {skill:.3f} |" if math.isfinite(skill) else " - |"
        rows.append(row)
    return "\n".join([header, rule, *rows])
