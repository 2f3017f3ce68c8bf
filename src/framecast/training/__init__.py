"""Training: the LightningModule, losses, scheduled sampling, the run driver.

Names load on first use (PEP 562): the loss registry (``framecast.training.losses``)
is read by ``framecast list`` and the README tables, which should not pay for
importing Lightning.
"""

from __future__ import annotations

from framecast.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "LOSSES": "framecast.training.losses",
    "ForecastModule": "framecast.training.module",
    "TrainResult": "framecast.training.run",
    "train": "framecast.training.run",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
