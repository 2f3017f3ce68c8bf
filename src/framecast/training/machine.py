"""Whether a run's settings fit this machine, checked before any work.

Used by the commands that train (``framecast train`` and ``framecast
classify train``); imports neither torch nor Lightning until called.
"""

from __future__ import annotations

import sys


def check_accelerator(accelerator: str) -> None:
    """Refuse ``train.accelerator`` values this machine cannot run, before any work.

    Raises
    ------
    ValueError
        ``gpu``/``cuda`` without a CUDA device, or ``mps`` without Apple's MPS.
    """
    import torch

    name = str(accelerator).lower()
    if name in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"train.accelerator={accelerator} but this machine has no CUDA GPU that torch "
            "can use; use train.accelerator=cpu or auto"
        )
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"train.accelerator={accelerator} but MPS is not available here; "
            "use train.accelerator=cpu or auto"
        )


class LightningConfigErrors:
    """Turn Lightning's configuration errors into one-line ValueErrors (a context manager).

    Lightning raises ``MisconfigurationException`` for settings it cannot
    honour (an accelerator, device count or strategy this machine lacks).
    """

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, err: BaseException | None, tb: object) -> bool:
        if err is None or "lightning" not in sys.modules:
            return False
        from lightning.fabric.utilities.exceptions import MisconfigurationException

        if isinstance(err, MisconfigurationException):
            raise ValueError(f"the training settings do not fit this machine: {err}") from None
        return False
