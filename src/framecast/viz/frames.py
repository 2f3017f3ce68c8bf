"""Input helpers shared by the viz modules: frame checks, output paths, saving figures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

FrameInput = torch.Tensor | np.ndarray


def frames_to_array(frames: FrameInput, name: str) -> np.ndarray:
    """Return one sequence ``(T, C, H, W)`` as a float64 array, checking its shape.

    Parameters
    ----------
    frames : Tensor or ndarray
        ``(T, C, H, W)`` frames of one sequence, ``C`` 1 or 3, ``T >= 1``.
    name : str
        What the frames are, for error messages.

    Returns
    -------
    ndarray
        The frames as float64, shape ``(T, C, H, W)``.

    Raises
    ------
    TypeError
        ``frames`` is neither a tensor nor an array.
    ValueError
        ``frames`` is not ``(T, C, H, W)`` with ``T >= 1`` and ``C`` in ``{1, 3}``.
    """
    if isinstance(frames, torch.Tensor):
        array = frames.detach().to("cpu", torch.float64).numpy()
    elif isinstance(frames, np.ndarray):
        array = frames.astype(np.float64)
    else:
        raise TypeError(
            f"{name} must be a torch.Tensor or numpy.ndarray, got {type(frames).__name__}"
        )
    if array.ndim != 4:
        raise ValueError(
            f"{name} must have shape (T, C, H, W) for one sequence (4 dimensions), got shape "
            f"{array.shape}; index a batch first, e.g. frames[0]"
        )
    if array.shape[0] < 1 or array.shape[2] < 1 or array.shape[3] < 1:
        raise ValueError(f"{name} has an empty dimension: shape {array.shape}")
    if array.shape[1] not in (1, 3):
        raise ValueError(
            f"{name} must have 1 (grayscale) or 3 (RGB) channels, got {array.shape[1]} "
            f"(shape {array.shape})"
        )
    return array


def check_sequence_triple(
    context: FrameInput, target: FrameInput | None, prediction: FrameInput
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Convert and cross-check the context, target and prediction of one sequence.

    Parameters
    ----------
    context : Tensor or ndarray
        ``(T_in, C, H, W)`` input frames.
    target : Tensor or ndarray or None
        ``(T_out, C, H, W)`` true frames, or None when there is no ground
        truth (a forecast of the future).
    prediction : Tensor or ndarray
        ``(T_out, C, H, W)`` predicted frames.

    Returns
    -------
    tuple of ndarray
        ``context (T_in, C, H, W)``, ``target (T_out, C, H, W)`` (None when
        ``target`` is None) and ``prediction (T_out, C, H, W)``.

    Raises
    ------
    TypeError
        A frame input is neither a tensor nor an array.
    ValueError
        A frame input has a bad shape, ``target`` and ``prediction`` differ in
        shape, or ``context`` differs from ``prediction`` in ``(C, H, W)``.
    """
    context_arr = frames_to_array(context, "context")
    target_arr = None if target is None else frames_to_array(target, "target")
    prediction_arr = frames_to_array(prediction, "prediction")
    if target_arr is not None and target_arr.shape != prediction_arr.shape:
        raise ValueError(
            f"target and prediction must have the same shape, got target {target_arr.shape} "
            f"and prediction {prediction_arr.shape}"
        )
    if context_arr.shape[1:] != prediction_arr.shape[1:]:
        what = "prediction's" if target_arr is None else "target's"
        raise ValueError(
            f"context frames must have the {what} (C, H, W) = {prediction_arr.shape[1:]}, "
            f"got {context_arr.shape[1:]}"
        )
    return context_arr, target_arr, prediction_arr


def output_path(path: str | os.PathLike[str], suffix: str) -> Path:
    """Return ``path`` as a Path with its parent folders created.

    Parameters
    ----------
    path : str or path-like
        The output file.
    suffix : str
        The lower-case suffix it must end in, e.g. ``".png"`` (case-insensitive).

    Returns
    -------
    Path
        ``path`` as a Path; its parent folder exists.

    Raises
    ------
    TypeError
        ``path`` is not a str or path-like.
    ValueError
        ``path`` does not end in ``suffix``.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or path-like, got {type(path).__name__}")
    out = Path(path)
    if out.suffix.lower() != suffix:
        raise ValueError(f"path must end in {suffix!r}, got {str(out)!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def save_figure(figure: Figure, path: Path) -> None:
    """Write ``figure`` as a PNG with the Agg canvas (the user's backend is untouched).

    Parameters
    ----------
    figure : Figure
        The figure to write.
    path : Path
        The output file.
    """
    FigureCanvasAgg(figure)
    figure.savefig(path, format="png")
