"""The trivial baselines of every table, their fitting, and skill against the best of them.

A learnt forecast shows skill only where it beats every forecast that needs
no learning: persistence, the blank frame, the training-mean frame, the
best constant and optical-flow extrapolation (:mod:`framecast.models.trivial`).
On sparse frames such as Moving MNIST the blank frame beats persistence
(issue 22), so tables report the skill score against the best trivial
forecast, ``1 - MSE / MSE_best`` (the MSE skill score of weather
verification, Murphy 1988, with the best trivial forecast as reference).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from framecast.config import DataConfig
    from framecast.models import ForecastModel

TRIVIAL_BASELINES = ("persistence", "blank", "mean_frame", "best_constant", "flow")
"""Registered model names of the trivial forecasts, in table order."""
SKILL_METRIC = "mse_per_frame_sum"
"""The metric the best trivial baseline and the skill score are taken on."""
FIT_SEQUENCES = 256
"""Training sequences (evenly spaced over the split) the mean frame and constant are fitted on."""


def fit_training_means(
    dataset: Dataset, max_sequences: int = FIT_SEQUENCES
) -> tuple[np.ndarray, list[float]]:
    """The per-pixel mean frame and the per-channel mean intensity of training frames.

    Every frame (context and target) of up to ``max_sequences`` sequences,
    evenly spaced over ``dataset``, counts once per sequence it appears in.
    The mean intensity is the constant that minimises the MSE over those
    frames (``argmin_c mean((x - c)^2) = mean(x)``).

    Parameters
    ----------
    dataset : Dataset
        Items ``(context, target)``, (Tc, C, H, W) and (Tf, C, H, W) each.
    max_sequences : int
        At most this many sequences are read.

    Returns
    -------
    mean_frame : ndarray
        (C, H, W) float64.
    constant : list of float
        One value per channel.

    Raises
    ------
    ValueError
        An empty dataset, ``max_sequences`` < 1, or frames of different sizes.
    """
    if isinstance(max_sequences, bool) or not isinstance(max_sequences, int) or max_sequences < 1:
        raise ValueError(f"max_sequences must be a positive integer, got {max_sequences!r}")
    n = len(dataset)  # type: ignore[arg-type]
    if n == 0:
        raise ValueError("the training split has no sequences to fit the baselines on")
    indices = np.unique(np.linspace(0, n - 1, min(n, max_sequences)).round().astype(int))
    total: np.ndarray | None = None
    frames = 0
    for i in indices:
        context, target = dataset[int(i)]
        seq = np.concatenate([np.asarray(context), np.asarray(target)], axis=0)  # (T, C, H, W)
        if total is not None and seq.shape[1:] != total.shape:
            raise ValueError(
                f"training frames differ in shape: {tuple(total.shape)} and "
                f"{tuple(seq.shape[1:])} (sequence {int(i)})"
            )
        part = seq.astype(np.float64).sum(axis=0)  # (C, H, W)
        total = part if total is None else total + part
        frames += seq.shape[0]
    assert total is not None
    mean = total / frames  # (C, H, W)
    return mean, [float(v) for v in mean.reshape(mean.shape[0], -1).mean(axis=1)]


def trivial_baselines(
    data: DataConfig,
    channels: int,
    *,
    names: Sequence[str] | None = None,
    max_sequences: int = FIT_SEQUENCES,
) -> dict[str, ForecastModel]:
    """Every trivial baseline for a dataset, the fitted ones fitted on its training split.

    Parameters
    ----------
    data : DataConfig
        The dataset; its ``train`` split fits ``mean_frame`` and ``best_constant``.
    channels : int
        Channels per frame.
    names : sequence of str, optional
        Baselines to build, from :data:`TRIVIAL_BASELINES`. Default: all of
        them that the data can serve (``flow`` needs two context frames).
    max_sequences : int
        Training sequences read for the fit (:func:`fit_training_means`).

    Returns
    -------
    dict of str to ForecastModel
        In :data:`TRIVIAL_BASELINES` order.

    Raises
    ------
    ValueError
        An unknown name, or ``flow`` asked of data with one context frame.
    """
    from framecast.models import build_model

    if names is None:
        wanted = [n for n in TRIVIAL_BASELINES if n != "flow" or data.n_context >= 2]
    else:
        unknown = [n for n in names if n not in TRIVIAL_BASELINES]
        if unknown:
            raise ValueError(
                f"unknown trivial baseline(s) {unknown}; expected some of {TRIVIAL_BASELINES}"
            )
        if "flow" in names and data.n_context < 2:
            raise ValueError(
                f"flow needs at least 2 context frames, got data.n_context={data.n_context}"
            )
        wanted = [n for n in TRIVIAL_BASELINES if n in names]
    options: dict[str, dict[str, Any]] = {n: {} for n in wanted}
    if "mean_frame" in wanted or "best_constant" in wanted:
        from framecast.training.loaders import make_dataset

        mean, constant = fit_training_means(make_dataset(data, "train"), max_sequences)
        options["mean_frame"] = {"frame": mean.tolist()}
        options["best_constant"] = {"value": constant}
    return {n: build_model(n, channels, options[n]) for n in wanted}


def with_baselines(
    models: Mapping[str, ForecastModel], baselines: Mapping[str, ForecastModel]
) -> dict[str, ForecastModel]:
    """``models`` followed by the baselines whose names they do not already use."""
    return {**models, **{k: v for k, v in baselines.items() if k not in models}}


def best_trivial(
    results: Mapping[str, Mapping[str, Any]],
    metric: str = SKILL_METRIC,
    higher_is_better: bool = False,
) -> str | None:
    """The trivial baseline in ``results`` with the best mean ``metric`` (None: none scored)."""
    scored = [n for n in TRIVIAL_BASELINES if n in results and metric in results[n]]
    if not scored:
        return None
    sign = -1.0 if higher_is_better else 1.0
    return min(scored, key=lambda n: sign * float(results[n][metric]["mean"]))


def skill_score(value: float, reference: float) -> float:
    """``1 - value / reference``: 1 perfect, 0 no better than the reference, < 0 worse.

    NaN where the reference is 0 (a perfect trivial forecast leaves no skill to show).
    """
    return 1.0 - value / reference if reference > 0 else math.nan


def skill_scores(
    results: Mapping[str, Mapping[str, Any]], metric: str = SKILL_METRIC
) -> tuple[str | None, dict[str, float]]:
    """The best trivial baseline by ``metric`` and every row's skill score against it."""
    best = best_trivial(results, metric)
    if best is None:
        return None, {}
    reference = float(results[best][metric]["mean"])
    return best, {
        name: skill_score(float(res[metric]["mean"]), reference)
        for name, res in results.items()
        if metric in res
    }


def verdict_lines(results: Mapping[str, Mapping[str, Any]], name: str) -> list[str]:
    """Whether ``name`` beats the best trivial baseline on MSE per frame (and on SSIM).

    Examples
    --------
    ``predrnn beats the best trivial baseline, blank, on MSE per frame
    (160.7 vs 175.2; skill 0.083).``
    """
    lines = []
    best, skills = skill_scores(results)
    if best is not None and name != best:
        ours, base = results[name][SKILL_METRIC]["mean"], results[best][SKILL_METRIC]["mean"]
        beats = ours < base
        lines.append(
            f"{name} {'beats' if beats else 'does NOT beat'} the best trivial baseline, {best}, "
            f"on MSE per frame ({ours:.4g} vs {base:.4g}; skill {skills[name]:.3f})."
        )
    best_ssim = best_trivial(results, "ssim", higher_is_better=True)
    if best_ssim is not None and name != best_ssim and "ssim" in results[name]:
        ours, base = results[name]["ssim"]["mean"], results[best_ssim]["ssim"]["mean"]
        lines.append(
            f"{name} {'beats' if ours > base else 'does NOT beat'} the best trivial baseline "
            f"on SSIM, {best_ssim} ({ours:.3f} vs {base:.3f})."
        )
    return lines
