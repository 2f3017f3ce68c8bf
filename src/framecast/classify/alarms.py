"""Earthquake alarms: "an event of M >= M0 in the region in the next window", from frames.

An item is the ``n_context`` seismicity frames before window ``k`` (the
frames of ``framecast quake grid``, ``log1p`` of the values by default) and
the label 1 when at least one event of magnitude >= ``magnitude`` falls in
the region in bins ``[k, k + window_bins)``, else 0. An alarm classifier's
probability of class 1 then ranks windows exactly as a rate forecaster's
``p = 1 - exp(-lambda_{>=M0})`` does, so both are scored on the same windows
with the Molchan diagram and the ROC curve (:func:`compare_alarms`, the
array functions of :mod:`framecast.quake.scores.binary`).

Two rate forecasters come with it: the recent-rate Poisson forecast
(:func:`recent_rate_probability`: the mean count per bin over the context,
scaled to the window and to M0 by Gutenberg-Richter) and any framecast rate
network trained on the same frames (:func:`forecaster_probability`).

References
----------
G. M. Molchan, "Structure of optimal strategies in earthquake prediction",
Tectonophysics 193, 1991.

J. D. Zechar, T. H. Jordan, "Testing alarm-based earthquake predictions",
Geophys. J. Int. 172, 715-724, 2008 (the area skill score).

B. Gutenberg, C. F. Richter, "Frequency of earthquakes in California",
BSSA 34, 1944 (log10 N(>= M) = a - b M).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from framecast.classify.models import InputSpec
from framecast.classify.text import SPLITS


@dataclass(frozen=True)
class AlarmWindows:
    """The windows of one split: first target bin, label and target events of each.

    Attributes
    ----------
    starts : numpy.ndarray
        int64 ``[N]``: first bin of each target window.
    labels : numpy.ndarray
        int64 ``[N]``: 1 when the window holds an event of M >= magnitude.
    events : numpy.ndarray
        int64 ``[N]``: events of M >= magnitude in each window (Molchan's nu counts them).
    """

    starts: np.ndarray
    labels: np.ndarray
    events: np.ndarray


def window_events(
    event_bins: np.ndarray, num_bins: int, starts: np.ndarray, window_bins: int
) -> np.ndarray:
    """int64 ``[N]``: events whose bin lies in ``[start, start + window_bins)`` for each start.

    Parameters
    ----------
    event_bins : numpy.ndarray
        int ``[E]``: the bin of each target event.
    num_bins : int
        Bins of the frames.
    starts : numpy.ndarray
        int ``[N]``: window starts, with ``start + window_bins <= num_bins``.
    window_bins : int
    """
    per_bin = np.bincount(event_bins, minlength=num_bins)  # [T]
    cumulative = np.concatenate(([0], np.cumsum(per_bin)))  # [T + 1]
    return cumulative[starts + window_bins] - cumulative[starts]  # [N]


class QuakeAlarms(Dataset[tuple[Tensor, Tensor]]):
    """Context frames and "M >= magnitude in the region in the next window" labels.

    Parameters
    ----------
    split : str
        "train", "val" or "test" (periods from ``val_start`` and ``test_start``,
        as the ``seismicity`` dataset; a window's target bins lie in its split).
    path : path
        Frames written by ``framecast quake grid``.
    val_start, test_start : date-like
    magnitude : float
        M0, at least the frames' mc.
    n_context : int
        Frames of context.
    window_bins : int
        Bins of the target window.
    stride : int
        Bins between window starts (default: ``window_bins``, windows that do not overlap).
    channels : sequence of str, optional
        Channels of the context (default all the file holds).
    log1p : bool
        Feed ``log(1 + value)`` (counts span orders of magnitude).

    Raises
    ------
    FileNotFoundError
        No frames file.
    ValueError
        ``magnitude`` below mc, bad lengths, unknown channels, a split too
        short for one window, or a split whose windows are all of one class.
    """

    def __init__(
        self,
        split: str,
        path: str | os.PathLike[str],
        *,
        val_start: object,
        test_start: object,
        magnitude: float,
        n_context: int = 16,
        window_bins: int = 7,
        stride: int | None = None,
        channels: Sequence[str] | None = None,
        log1p: bool = True,
    ) -> None:
        from framecast.quake.dataset import split_bins
        from framecast.quake.frames import SeismicityFrames

        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
        for name, value in (("n_context", n_context), ("window_bins", window_bins)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        stride = window_bins if stride is None else stride
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ValueError(f"stride must be a positive integer, got {stride!r}")
        self.path = Path(path)
        frames = SeismicityFrames.load(self.path)
        if not isinstance(magnitude, int | float) or magnitude < frames.mc:
            raise ValueError(
                f"magnitude must be at least the frames' mc {frames.mc} (smaller events were "
                f"not gridded), got {magnitude!r}"
            )
        names = list(frames.channels) if channels is None else list(channels)
        missing = [c for c in names if c not in frames.channels]
        if missing or not names:
            raise ValueError(
                f"channels {missing or names} not in {str(self.path)!r}; it holds "
                f"{list(frames.channels)}"
            )
        self.frames = frames
        self.magnitude, self.n_context, self.window_bins = float(magnitude), n_context, window_bins
        index = [frames.channels.index(c) for c in names]
        data = frames.frames[:, index]  # (T, C, H, W)
        self.data = np.log1p(np.maximum(data, 0.0)) if log1p else np.ascontiguousarray(data)
        first, stop = split_bins(frames, val_start, test_start)[split]
        starts = np.arange(max(first, n_context), stop - window_bins + 1, stride, dtype=np.int64)
        if not len(starts):
            raise ValueError(
                f"the {split} period of {str(self.path)!r} (bins {first}..{stop}) is too short "
                f"for {n_context} context bins and a window of {window_bins} bins"
            )
        big = frames.events.magnitude >= self.magnitude  # [E]
        event_bins = np.floor(frames.events.days_since(frames.start)[big] / frames.bin_days)
        events = window_events(event_bins.astype(np.int64), frames.num_bins, starts, window_bins)
        self.windows = AlarmWindows(starts, (events > 0).astype(np.int64), events)
        self.class_names = ("quiet", f"M>={self.magnitude:g}")
        channels_, height, width = self.data.shape[1:]
        self.spec = InputSpec("frames", self.class_names, frame_shape=(channels_, height, width))
        self.skipped: list[str] = []

    @property
    def labels(self) -> Tensor:
        """int64 ``(N,)``: the label of every window."""
        return torch.from_numpy(self.windows.labels.copy())

    def __len__(self) -> int:
        return len(self.windows.starts)

    def __getitem__(self, item: int) -> tuple[Tensor, Tensor]:
        k = int(self.windows.starts[item])
        context = torch.from_numpy(np.array(self.data[k - self.n_context : k], dtype=np.float32))
        return context, torch.tensor(int(self.windows.labels[item]), dtype=torch.int64)


def quake_alarms(
    split: str,
    *,
    vocabulary: object = None,
    path: str | None = None,
    val_start: str | None = None,
    test_start: str | None = None,
    magnitude: float | None = None,
    n_context: int = 16,
    window_bins: int = 7,
    stride: int | None = None,
    channels: Sequence[str] | None = None,
    log1p: bool = True,
) -> QuakeAlarms:
    """Earthquake alarms from seismicity frames (:class:`QuakeAlarms`)."""
    for name, value in (
        ("path", path),
        ("val_start", val_start),
        ("test_start", test_start),
        ("magnitude", magnitude),
    ):
        if value is None:
            raise ValueError(f"dataset 'quake_alarms' needs data.options.{name}")
    return QuakeAlarms(
        split,
        str(path),
        val_start=val_start,
        test_start=test_start,
        magnitude=float(magnitude),  # type: ignore[arg-type]
        n_context=n_context,
        window_bins=window_bins,
        stride=stride,
        channels=channels,
        log1p=log1p,
    )


def gutenberg_richter_factor(magnitude: float, mc: float, b_value: float) -> float:
    """Fraction of events of M >= mc that have M >= ``magnitude``: ``10^(-b (M - mc))``."""
    return float(10.0 ** (-b_value * (magnitude - mc)))


def recent_rate_probability(alarms: QuakeAlarms, b_value: float = 1.0) -> np.ndarray:
    """float64 ``[N]``: P(an event of M >= M0 in each window) of the recent-rate Poisson forecast.

    The rate of M >= mc events in the region is the mean count per bin over
    the ``n_context`` bins before the window; over ``window_bins`` bins and
    scaled to M0 by Gutenberg-Richter with ``b_value`` it is ``lambda``, and
    ``p = 1 - exp(-lambda)``.

    Raises
    ------
    ValueError
        Frames without a ``count`` channel.
    """
    counts = alarms.frames.channel("count").sum(axis=(1, 2)).astype(np.float64)  # [T]
    cumulative = np.concatenate(([0.0], np.cumsum(counts)))  # [T + 1]
    starts, n = alarms.windows.starts, alarms.n_context
    per_bin = (cumulative[starts] - cumulative[starts - n]) / n  # [N]
    rate = per_bin * alarms.window_bins
    rate *= gutenberg_richter_factor(alarms.magnitude, alarms.frames.mc, b_value)
    return -np.expm1(-rate)


def forecaster_probability(
    checkpoint: str | os.PathLike[str],
    alarms: QuakeAlarms,
    *,
    b_value: float = 1.0,
    batch_size: int = 32,
) -> np.ndarray:
    """float64 ``[N]``: P(M >= M0 in each window) from a framecast rate network.

    The network (trained by ``framecast train`` or ``framecast quake run`` on
    the same frames, with a rate output) forecasts ``window_bins`` frames
    from its own context and channels; the ``count`` channel summed over the
    window and the region is ``lambda_{>=mc}``, scaled to M0 by Gutenberg-Richter.

    Raises
    ------
    ValueError
        A checkpoint without a count channel, or one needing more context
        than a window has.
    """
    from framecast.checkpoint import load

    model, config = load(checkpoint)
    options = config.data.options
    names = list(options.get("channels") or alarms.frames.channels)
    if "count" not in names:
        raise ValueError(
            f"checkpoint {str(checkpoint)!r} forecasts channels {names}; a rate forecast needs "
            "the count channel"
        )
    index = [alarms.frames.channels.index(c) for c in names]
    data = alarms.frames.frames[:, index]  # (T, C, H, W) raw values, as the network trained
    n = config.data.n_context
    starts = alarms.windows.starts
    if int(starts.min()) < n:
        raise ValueError(
            f"the network needs {n} context bins but a window starts at bin {int(starts.min())}"
        )
    rates = []
    with torch.no_grad():
        for first in range(0, len(starts), batch_size):
            chunk = starts[first : first + batch_size]
            context = torch.from_numpy(
                np.stack([data[k - n : k] for k in chunk]).astype(np.float32)
            )  # (B, n, C, H, W)
            future = model(context, alarms.window_bins)  # (B, window, C, H, W)
            rates.append(future[:, :, names.index("count")].sum(dim=(1, 2, 3)).double().numpy())
    rate = np.concatenate(rates)  # [N] expected M >= mc events in the window
    rate = np.maximum(rate, 0.0) * gutenberg_richter_factor(
        alarms.magnitude, alarms.frames.mc, b_value
    )
    return -np.expm1(-rate)


@dataclass(frozen=True)
class AlarmSkill:
    """ROC and Molchan diagram of one alarm score on the windows.

    Attributes
    ----------
    name : str
    roc_auc : float
    area_skill_score : float
        Molchan area skill score (0.5 without skill, Zechar & Jordan 2008).
    roc, molchan
        The curves of :mod:`framecast.quake.scores.binary`.
    """

    name: str
    roc_auc: float
    area_skill_score: float
    roc: object
    molchan: object


def compare_alarms(
    scores: Mapping[str, np.ndarray], labels: np.ndarray, events: np.ndarray
) -> list[AlarmSkill]:
    """ROC curve and Molchan diagram of each alarm score on the same windows.

    Parameters
    ----------
    scores : mapping of str to numpy.ndarray
        Name -> ``[N]`` probability (or any score) of an event, e.g. the
        classifier's, the recent-rate forecast's, a rate network's.
    labels : numpy.ndarray
        ``[N]`` 1 when the window holds an event.
    events : numpy.ndarray
        ``[N]`` target events per window (Molchan's nu counts events).

    Raises
    ------
    ValueError
        A score of another length than ``labels``.
    """
    from framecast.quake.scores.binary import molchan_curve, roc_curve

    results = []
    for name, score in scores.items():
        score = np.asarray(score, np.float64).reshape(-1)
        if score.shape != np.shape(labels):
            raise ValueError(
                f"alarm score {name!r} has {score.size} values for {np.size(labels)} windows"
            )
        roc = roc_curve(score, np.asarray(labels) > 0)
        molchan = molchan_curve(score, events)
        results.append(AlarmSkill(name, roc.area, molchan.area_skill_score, roc, molchan))
    return results


def plot_alarm_comparison(path: str | os.PathLike[str], skills: Sequence[AlarmSkill]) -> Path:
    """Molchan diagram and ROC curves of the compared alarm scores, side by side (PNG)."""
    from matplotlib.figure import Figure

    from framecast.classify.metrics import format_score
    from framecast.files import atomic_write

    fig = Figure(figsize=(10, 4.5))
    molchan_ax, roc_ax = fig.subplots(1, 2)
    for skill in skills:
        m, r = skill.molchan, skill.roc
        molchan_ax.plot(
            m.tau, m.nu, label=f"{skill.name} (ASS {format_score(skill.area_skill_score)})"
        )
        roc_ax.plot(
            r.false_positive_rate,
            r.true_positive_rate,
            label=f"{skill.name} (AUC {format_score(skill.roc_auc)})",
        )
    molchan_ax.plot([0, 1], [1, 0], "k:", lw=1, label="no skill")
    roc_ax.plot([0, 1], [0, 1], "k:", lw=1, label="no skill")
    molchan_ax.set(
        xlabel="tau (fraction of windows under alarm)",
        ylabel="nu (fraction missed)",
        title="Molchan diagram",
    )
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    for ax in (molchan_ax, roc_ax):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path) as partial:
        fig.savefig(partial, format="png", dpi=110)
    return path
