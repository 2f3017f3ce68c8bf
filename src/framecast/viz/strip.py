"""Prediction strips: a PNG grid of input, ground-truth (if known) and predicted frames.

Figures are drawn on a :class:`matplotlib.figure.Figure` with the Agg
canvas, so importing or calling this module never changes the user's
matplotlib backend.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from framecast.metrics.frame_metrics import check_data_range
from framecast.viz.frames import FrameInput, check_sequence_triple, output_path, save_figure


def _draw_frame(ax: Axes, frame: np.ndarray, data_range: float) -> None:
    """Show one ``(C, H, W)`` frame with a fixed value range (no per-image autoscale)."""
    if frame.shape[0] == 1:
        ax.imshow(frame[0], cmap="gray", vmin=0.0, vmax=data_range, interpolation="nearest")
    else:
        rgb = np.clip(np.transpose(frame, (1, 2, 0)) / data_range, 0.0, 1.0)  # (H, W, 3)
        ax.imshow(rgb, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def save_prediction_strip(
    path: str | os.PathLike[str],
    context: FrameInput,
    target: FrameInput | None,
    prediction: FrameInput,
    *,
    max_frames: int = 10,
    title: str | None = None,
    data_range: float = 1.0,
) -> Path:
    """Save a PNG grid of one sequence: rows input, ground truth, prediction.

    Columns are time steps. The input row shows the last ``max_frames``
    context frames, labelled ``t-k`` ... ``t``; the truth and prediction rows
    show the first ``max_frames`` forecast frames, labelled by lead time
    ``t+1``, ``t+2``, .... With ``target=None`` (a forecast with no ground
    truth) the ground-truth row is left out: two rows, input and
    prediction. Grayscale frames share the fixed range
    ``[0, data_range]``; RGB frames are divided by ``data_range``.

    Parameters
    ----------
    path : str or path-like
        Output file, ending in ``.png``; parent folders are created.
    context : Tensor or ndarray
        ``(T_in, C, H, W)`` input frames, ``C`` 1 or 3.
    target : Tensor or ndarray or None
        ``(T_out, C, H, W)`` true frames, or None when there is no ground
        truth.
    prediction : Tensor or ndarray
        ``(T_out, C, H, W)`` predicted frames, the shape of ``target`` and
        the ``(C, H, W)`` of ``context``.
    max_frames : int
        Most columns to draw per row.
    title : str, optional
        Figure title.
    data_range : float
        The largest pixel value.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    TypeError, ValueError
        Bad shapes, ``max_frames < 1``, a non-positive ``data_range`` or a
        path not ending in ``.png``.
    """
    context_arr, target_arr, prediction_arr = check_sequence_triple(context, target, prediction)
    data_range = check_data_range(data_range)
    if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
        raise ValueError(f"max_frames must be a positive integer, got {max_frames!r}")
    out = output_path(path, ".png")

    context_arr = context_arr[-max_frames:]  # (T_in', C, H, W), the frames nearest the forecast
    prediction_arr = prediction_arr[:max_frames]  # (T_out', C, H, W)
    n_context, n_target = len(context_arr), len(prediction_arr)
    n_cols = max(n_context, n_target)
    lead_labels = [f"t+{k + 1}" for k in range(n_target)]
    context_labels = [f"t-{n_context - 1 - k}" for k in range(n_context - 1)] + ["t"]
    rows = [("input", context_arr, context_labels)]
    if target_arr is not None:
        rows.append(("ground truth", target_arr[:max_frames], lead_labels))  # (T_out', C, H, W)
    rows.append(("prediction", prediction_arr, lead_labels))
    n_rows = len(rows)

    height, width = prediction_arr.shape[2:]
    cell = 1.2  # inches per frame along its longer side
    cell_w, cell_h = cell * width / max(height, width), cell * height / max(height, width)
    figure = Figure(
        figsize=(0.9 + cell_w * n_cols, (0.6 if title else 0.2) + n_rows * (cell_h + 0.3))
    )
    axes = figure.subplots(n_rows, n_cols, squeeze=False)
    for row, (label, frames, col_labels) in enumerate(rows):
        for col in range(n_cols):
            ax = axes[row, col]
            if col >= len(frames):
                ax.axis("off")
                continue
            _draw_frame(ax, frames[col], data_range)
            ax.set_title(col_labels[col], fontsize=8)
        axes[row, 0].set_ylabel(label, fontsize=9)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    save_figure(figure, out)
    return out
