"""framecast: recurrent video-prediction networks for sequences of gridded maps.

Frames cross every public boundary as ``(B, T, C, H, W)`` float tensors.
"""

from framecast.checkpoint import load

__all__ = ["__version__", "load"]
__version__ = "0.1.0"
