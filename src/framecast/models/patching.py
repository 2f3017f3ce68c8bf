"""Space-to-depth patching of frame sequences (PredRNN's ``patch_size``)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def check_patchable(height: int, width: int, patch_size: int) -> None:
    """Raise ValueError unless both sides are multiples of ``patch_size``."""
    if height % patch_size or width % patch_size:
        raise ValueError(
            f"frames of {height}x{width} do not fit patch_size={patch_size}: "
            f"height and width must be multiples of {patch_size}"
        )


def patch(frames: Tensor, patch_size: int) -> Tensor:
    """(B, T, C, H, W) -> (B, T, C*p*p, H/p, W/p), lossless."""
    if patch_size == 1:
        return frames
    b, t, c, h, w = frames.shape
    check_patchable(h, w, patch_size)
    out = F.pixel_unshuffle(frames.reshape(b * t, c, h, w), patch_size)
    return out.reshape(b, t, *out.shape[1:])


def unpatch(frames: Tensor, patch_size: int) -> Tensor:
    """Inverse of :func:`patch`: (B, T, C*p*p, h, w) -> (B, T, C, h*p, w*p)."""
    if patch_size == 1:
        return frames
    b, t = frames.shape[:2]
    out = F.pixel_shuffle(frames.reshape(b * t, *frames.shape[2:]), patch_size)
    return out.reshape(b, t, *out.shape[1:])
