"""Training: the LightningModule, losses, scheduled sampling, the run driver.

Names load on first use (PEP 562): the loss registry (``framecast.training.losses``)
is read by ``framecast list`` and the README tables, which should not pay for
importing Lightning.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "LOSSES": "framecast.training.losses",
    "ForecastModule": "framecast.training.module",
    "TrainResult": "framecast.training.run",
    "train": "framecast.training.run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'framecast.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
