"""FrameMetrics: frame-wise metrics accumulated over batches, per lead time.

A thin wrapper around the functions of :mod:`framecast.metrics.frame_metrics`:
it sums their ``(B, T)`` values over sequences, in float64 on the CPU, and
reports each metric's mean, its curve over lead times, and its unit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from framecast.metrics.frame_metrics import (
    bce_per_frame_sum,
    check_data_range,
    check_frame_pair,
    mae_per_frame_sum,
    mae_per_pixel,
    mse_per_frame_sum,
    mse_per_pixel,
    psnr_per_frame,
    ssim_per_frame,
)
from framecast.metrics.skimage_ssim import ssim_skimage_per_frame


@dataclass(frozen=True)
class MetricSpec:
    """How to compute one metric and how to name its unit.

    Attributes
    ----------
    compute : callable
        ``compute(pred, target, data_range) -> (B, T)`` tensor.
    unit : str
        Unit text; ``{data_range}`` is replaced by the accumulator's value.
    needs_range : bool
        Whether the metric needs a finite peak value (PSNR, SSIM).
    """

    compute: Callable[[Tensor, Tensor, float], Tensor]
    unit: str
    needs_range: bool = False


METRIC_SPECS: dict[str, MetricSpec] = {
    "mse_per_frame_sum": MetricSpec(
        lambda p, t, r: mse_per_frame_sum(p, t),
        "squared error summed over the C*H*W pixels of a frame, pixels in [0, {data_range}]",
    ),
    "mse_per_pixel": MetricSpec(
        lambda p, t, r: mse_per_pixel(p, t),
        "squared error averaged over the C*H*W pixels of a frame, pixels in [0, {data_range}]",
    ),
    "mae_per_frame_sum": MetricSpec(
        lambda p, t, r: mae_per_frame_sum(p, t),
        "absolute error summed over the C*H*W pixels of a frame, pixels in [0, {data_range}]",
    ),
    "mae_per_pixel": MetricSpec(
        lambda p, t, r: mae_per_pixel(p, t),
        "absolute error averaged over the C*H*W pixels of a frame, pixels in [0, {data_range}]",
    ),
    "psnr": MetricSpec(psnr_per_frame, "dB, peak value {data_range}", needs_range=True),
    "ssim": MetricSpec(ssim_per_frame, "unitless, [-1, 1]", needs_range=True),
    "bce_per_frame_sum": MetricSpec(
        lambda p, t, r: bce_per_frame_sum(p, t),
        "nats, binary cross-entropy summed over the C*H*W pixels of a frame, pixels in [0, 1]",
    ),
}

SSIM_DEFINITIONS: dict[str, MetricSpec] = {
    "gaussian": MetricSpec(
        ssim_per_frame,
        "unitless, [-1, 1]; SSIM 'gaussian': 11x11 Gaussian window, sigma 1.5, float frames "
        "(torchmetrics, Wang et al. 2004)",
        needs_range=True,
    ),
    "skimage": MetricSpec(
        ssim_skimage_per_frame,
        "unitless, [-1, 1]; SSIM 'skimage': scikit-image structural_similarity defaults "
        "(7x7 uniform window, sample covariance) on frames quantised to uint8, as the PredRNN "
        "authors score",
        needs_range=True,
    ),
}
"""The named SSIM definitions; ``FrameMetrics(ssim=...)`` chooses the one called ``ssim``."""

DEFAULT_METRICS: tuple[str, ...] = (
    "mse_per_frame_sum",
    "mse_per_pixel",
    "mae_per_frame_sum",
    "mae_per_pixel",
    "psnr",
    "ssim",
)


class FrameMetrics:
    """Accumulates frame-wise metrics per lead time over batches of sequences.

    Parameters
    ----------
    data_range : float or None
        The largest possible pixel value (pixels lie in ``[0, data_range]``);
        None for values without an upper bound (counts), which only the
        error sums can score.
    metrics : sequence of str
        Names from :data:`METRIC_SPECS`. ``"bce_per_frame_sum"`` is not in the
        default set and needs ``data_range == 1``.
    ssim : {"gaussian", "skimage"}
        The definition computed as ``"ssim"`` (:data:`SSIM_DEFINITIONS`); its
        unit text names it.

    Raises
    ------
    ValueError
        An unknown metric name or SSIM definition (the message lists the
        valid ones), a repeated or empty list of names, PSNR or SSIM without
        a ``data_range``, or ``"bce_per_frame_sum"`` with a ``data_range``
        other than 1.

    Examples
    --------
    >>> import torch
    >>> fm = FrameMetrics(data_range=1.0, metrics=("mse_per_frame_sum",))
    >>> fm.update(torch.zeros(2, 3, 1, 4, 4), torch.ones(2, 3, 1, 4, 4))
    >>> fm.compute()["mse_per_frame_sum"]["curve"]
    [16.0, 16.0, 16.0]
    """

    def __init__(
        self,
        data_range: float | None,
        metrics: Sequence[str] = DEFAULT_METRICS,
        ssim: str = "gaussian",
    ) -> None:
        self.data_range = None if data_range is None else check_data_range(data_range)
        if ssim not in SSIM_DEFINITIONS:
            raise ValueError(
                f"unknown SSIM definition {ssim!r}; expected one of {sorted(SSIM_DEFINITIONS)}"
            )
        self.ssim = ssim
        self.specs = {**METRIC_SPECS, "ssim": SSIM_DEFINITIONS[ssim]}
        if isinstance(metrics, str):
            raise TypeError(f"metrics must be a sequence of names, not the string {metrics!r}")
        names = [str(name) for name in metrics]
        if not names:
            raise ValueError(f"metrics is empty; expected names among {sorted(METRIC_SPECS)}")
        unknown = [name for name in names if name not in METRIC_SPECS]
        if unknown:
            raise ValueError(
                f"unknown metric name(s) {unknown}; expected names among {sorted(METRIC_SPECS)}"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"metrics names must be unique, got {names}")
        ranged = [name for name in names if self.specs[name].needs_range]
        if self.data_range is None and ranged:
            raise ValueError(
                f"metrics {ranged} need a finite data_range (a peak value), got None "
                "(values without an upper bound); score them with the error sums only"
            )
        if "bce_per_frame_sum" in names and self.data_range != 1.0:
            raise ValueError(
                "bce_per_frame_sum needs pixels in [0, 1] (data_range=1.0), "
                f"got data_range={self.data_range}"
            )
        self.metrics: tuple[str, ...] = tuple(names)
        self.reset()

    def reset(self) -> None:
        """Forget every accumulated value."""
        self.n_sequences = 0
        self.n_steps: int | None = None
        self._sums: dict[str, Tensor] = {}

    def update(self, pred: Tensor, target: Tensor) -> None:
        """Add a batch of predicted and true sequences.

        Parameters
        ----------
        pred, target : Tensor
            ``(B, T, C, H, W)`` float tensors; ``T`` must match earlier batches.

        Raises
        ------
        ValueError
            Bad shapes, or a number of frames ``T`` that differs from earlier batches.
        """
        check_frame_pair(pred, target)
        steps = pred.shape[1]
        if self.n_steps is not None and steps != self.n_steps:
            raise ValueError(
                f"this batch has {steps} frames per sequence, earlier batches had "
                f"{self.n_steps}; call reset() to start over with another horizon"
            )
        pred = pred.detach()
        target = target.detach()
        batch_sums = {}
        for name in self.metrics:
            values = self.specs[name].compute(pred, target, self.data_range)  # type: ignore[arg-type]
            batch_sums[name] = values.to("cpu", torch.float64).sum(dim=0)  # (T,)
        # add only once every metric succeeded, so a failed update changes nothing
        for name, sums in batch_sums.items():
            self._sums[name] = self._sums[name] + sums if name in self._sums else sums
        self.n_steps = steps
        self.n_sequences += pred.shape[0]

    def compute(self) -> dict[str, Any]:
        """Means, lead-time curves and units of the accumulated metrics.

        Returns
        -------
        dict
            ``{"n_sequences": int, name: {"mean": float, "curve": list[float],
            "unit": str}, ...}``. ``curve[k]`` is the metric averaged over
            sequences at lead time ``k + 1``; ``mean`` averages the curve.

        Raises
        ------
        RuntimeError
            No sequence has been added since construction or the last reset.
        """
        if self.n_sequences == 0:
            raise RuntimeError("FrameMetrics.compute() called before any sequence was added")
        result: dict[str, Any] = {"n_sequences": self.n_sequences}
        for name in self.metrics:
            curve = self._sums[name] / self.n_sequences  # (T,)
            result[name] = {
                "mean": float(curve.mean()),
                "curve": [float(v) for v in curve],
                "unit": self.specs[name].unit.format(
                    data_range="inf" if self.data_range is None else self.data_range
                ),
            }
        return result
