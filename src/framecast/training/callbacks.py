"""Lightning callbacks of framecast's own."""

from __future__ import annotations

import statistics
import time
from typing import Any

import lightning as L


class BatchTimer(L.Callback):
    """Wall time of every training batch (forward, backward and optimiser step).

    The first ``skip`` batches (warm-up, allocator growth) are left out of
    :attr:`seconds_per_batch`.
    """

    def __init__(self, skip: int = 2) -> None:
        self.skip = skip
        self.durations: list[float] = []
        self._start = 0.0

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: Any, batch: Any, idx: int
    ) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, idx: int
    ) -> None:
        self.durations.append(time.perf_counter() - self._start)

    @property
    def seconds_per_batch(self) -> float | None:
        """Median seconds per batch after the warm-up, None before any."""
        timed = self.durations[self.skip :] or self.durations
        return statistics.median(timed) if timed else None
