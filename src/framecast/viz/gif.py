"""Animated GIFs of one forecast: truth and prediction side by side, or the forecast alone."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from framecast.metrics.frame_metrics import check_data_range
from framecast.viz.frames import FrameInput, check_sequence_triple, output_path

HEADER_PX = 14  # label strip above the panels
GAP_PX = 4  # gap between the truth and prediction panels (two-panel GIFs only)
BAR_PX = 4  # progress bar below the panels
MIN_PANEL_PX = 128  # frames are upscaled until a panel is at least this wide
BACKGROUND = (32, 32, 32)
CONTEXT_COLOR = (160, 160, 160)
FORECAST_COLOR = (230, 80, 60)


def panel_scale(width: int) -> int:
    """Nearest-neighbour upscale factor that makes a ``width``-pixel frame visible."""
    return max(1, math.ceil(MIN_PANEL_PX / width))


def _to_rgb(frame: np.ndarray, data_range: float, scale: int) -> Image.Image:
    """A ``(C, H, W)`` frame in ``[0, data_range]`` as an upscaled RGB image."""
    pixels = np.clip(frame / data_range, 0.0, 1.0)  # (C, H, W)
    pixels = np.round(pixels * 255).astype(np.uint8)
    if pixels.shape[0] == 1:
        pixels = np.repeat(pixels, 3, axis=0)  # (3, H, W)
    image = Image.fromarray(np.ascontiguousarray(np.transpose(pixels, (1, 2, 0))))
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)


def save_prediction_gif(
    path: str | os.PathLike[str],
    context: FrameInput,
    target: FrameInput | None,
    prediction: FrameInput,
    *,
    fps: float = 4,
    data_range: float = 1.0,
    scale: int | None = None,
) -> Path:
    """Save an animated GIF: ground truth (left) and prediction (right), looping forever.

    The GIF has ``T_in + T_out`` frames. During the context part both panels
    show the input frame (labelled ``input t-k``); then the left panel shows
    the true frame and the right one the prediction (labelled ``t+k``). A bar
    at the bottom shows progress, grey over the context and red over the
    forecast.

    With ``target=None`` (a forecast with no ground truth) the GIF has a
    single panel: the context frames (``input t-k``), then the predicted
    frames (``prediction t+k``); it still has ``T_in + T_out`` frames and the
    progress bar.

    Parameters
    ----------
    path : str or path-like
        Output file, ending in ``.gif``; parent folders are created.
    context : Tensor or ndarray
        ``(T_in, C, H, W)`` input frames, ``C`` 1 or 3.
    target : Tensor or ndarray or None
        ``(T_out, C, H, W)`` true frames, or None when there is no ground
        truth.
    prediction : Tensor or ndarray
        ``(T_out, C, H, W)`` predicted frames, the shape of ``target`` and
        the ``(C, H, W)`` of ``context``.
    fps : float
        Frames per second.
    data_range : float
        The largest pixel value; values are clipped to ``[0, data_range]``.
    scale : int, optional
        Nearest-neighbour upscale factor; by default the smallest one that
        makes a panel at least 128 pixels wide. The GIF is
        ``2 * W * scale + 4`` pixels wide with a target, ``W * scale``
        without.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    TypeError, ValueError
        Bad shapes, a non-positive ``fps``, ``scale`` or ``data_range``, or a
        path not ending in ``.gif``.
    """
    context_arr, target_arr, prediction_arr = check_sequence_triple(context, target, prediction)
    data_range = check_data_range(data_range)
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps < math.inf:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    height, width = prediction_arr.shape[2:]
    if scale is None:
        scale = panel_scale(width)
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    out = output_path(path, ".gif")

    panel_w, panel_h = width * scale, height * scale
    n_panels = 1 if target_arr is None else 2
    canvas_size = (n_panels * panel_w + (n_panels - 1) * GAP_PX, HEADER_PX + panel_h + BAR_PX)
    n_context, n_target = len(context_arr), len(prediction_arr)
    n_total = n_context + n_target

    frames: list[Image.Image] = []
    for step in range(n_total):
        if step < n_context:
            lag = n_context - 1 - step
            when = f"t-{lag}" if lag else "t"
            image = _to_rgb(context_arr[step], data_range, scale)
            panels = [(image, f"input {when}")] * n_panels
        else:
            lead = step - n_context
            predicted = (
                _to_rgb(prediction_arr[lead], data_range, scale),
                f"prediction t+{lead + 1}",
            )
            if target_arr is None:
                panels = [predicted]
            else:
                truth = (_to_rgb(target_arr[lead], data_range, scale), f"truth t+{lead + 1}")
                panels = [truth, predicted]
        canvas = Image.new("RGB", canvas_size, BACKGROUND)
        draw = ImageDraw.Draw(canvas)
        for index, (image, label) in enumerate(panels):
            x = index * (panel_w + GAP_PX)
            canvas.paste(image, (x, HEADER_PX))
            draw.text((x + 2, 1), label, fill=(255, 255, 255))
        # progress bar: makes every GIF frame distinct, so PIL never merges two
        filled = round(canvas_size[0] * (step + 1) / n_total)
        color = CONTEXT_COLOR if step < n_context else FORECAST_COLOR
        draw.rectangle(
            (0, canvas_size[1] - BAR_PX, max(filled - 1, 0), canvas_size[1] - 1), fill=color
        )
        frames.append(canvas)

    frames[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=round(1000 / fps),
        loop=0,
    )
    return out
