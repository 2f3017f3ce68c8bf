"""Scheduled sampling: which input steps see the true frame during training.

References
----------
S. Bengio, O. Vinyals, N. Jaitly, N. Shazeer, "Scheduled Sampling for
Sequence Prediction with Recurrent Neural Networks", NeurIPS 2015.
Y. Wang et al., "PredRNN: A Recurrent Neural Network for Spatiotemporal
Predictive Learning", TPAMI 2022 (PredRNN-V2), Sec. 4.2, reverse
scheduled sampling.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from framecast.config import SamplingConfig

SAMPLING_MODES = ("none", "linear", "reverse", "teacher")


def true_frame_probabilities(cfg: SamplingConfig, step: int) -> tuple[float, float]:
    """Probabilities of feeding the true frame at context and at future steps.

    Parameters
    ----------
    cfg : SamplingConfig
        The schedule.
    step : int
        Global training step.

    Returns
    -------
    (p_context, p_future) : tuple of float
    """
    if cfg.mode == "none":
        return 1.0, 0.0
    if cfg.mode == "teacher":  # teacher forcing throughout: next-frame training on true frames
        return 1.0, 1.0
    if cfg.mode == "linear":
        # PredRNN: eta starts at start_prob and drops by start_prob/stop_step per iteration
        return 1.0, max(0.0, cfg.start_prob * (1.0 - step / max(cfg.stop_step, 1)))
    if cfg.mode == "reverse":
        s1, s2 = cfg.reverse_start_step, cfg.reverse_stop_step
        if step < s1:
            return 0.5, 0.5
        if step < s2:
            p_ctx = 1.0 - 0.5 * math.exp(-(step - s1) / cfg.reverse_alpha)
            p_fut = 0.5 - 0.5 * (step - s1) / max(s2 - s1, 1)
            return p_ctx, p_fut
        return 1.0, 0.0
    raise ValueError(f"unknown sampling mode {cfg.mode!r}; expected one of {SAMPLING_MODES}")


def sample_true_mask(
    batch: int,
    n_context: int,
    horizon: int,
    p_context: float,
    p_future: float,
    generator: torch.Generator,
) -> Tensor:
    """Draw the (B, n_context + horizon - 2) 0/1 mask of :meth:`ForecastModel.rollout`.

    Entry ``[b, t-1]`` decides input step ``t``: steps before ``n_context``
    are context frames, the rest future frames. One draw per sequence and
    step, as in PredRNN (the whole frame is true or predicted).
    """
    total = n_context + horizon - 2
    u = torch.rand(batch, total, generator=generator)
    probs = torch.full((total,), p_future)
    probs[: n_context - 1] = p_context
    return (u < probs).float()
