"""framecast: recurrent video-prediction networks for sequences of gridded maps.

Frames cross every public boundary as ``(B, T, C, H, W)`` float tensors.
``framecast.load`` is imported on first use, so that ``import framecast``
(and ``framecast --help``) does not import torch.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

# OpenMP threads that spin while waiting collapse when another process wants a core
# (framecast.numerics has the measurements); the policy is read when torch loads.
if "torch" not in sys.modules:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if TYPE_CHECKING:
    from framecast.checkpoint import load

__all__ = ["__version__", "load"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "load":
        from framecast.checkpoint import load

        return load
    raise AttributeError(f"module 'framecast' has no attribute {name!r}")
