"""Lightning callbacks of framecast's own."""

from __future__ import annotations

import signal
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def _metric(metrics: dict[str, Any], *names: str) -> float | None:
    for name in names:
        if name in metrics:
            return float(metrics[name])
    return None


class ConsoleReport(L.Callback):
    """One line per validation: step, latest training loss, validation loss, best, minutes.

    Parameters
    ----------
    best : callable, optional
        Returns the best validation loss so far (e.g. that of a
        ``ModelCheckpoint``, which survives a resume); None uses this segment's.
    print_fn : callable
        Where the lines go (default ``print``).
    """

    def __init__(
        self,
        best: Callable[[], float | None] | None = None,
        print_fn: Callable[[str], None] = print,
    ) -> None:
        self.best = best
        self.print_fn = print_fn
        self.segment_best: float | None = None
        self._start = time.perf_counter()

    def on_fit_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        self._start = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = trainer.callback_metrics
        train_loss = _metric(metrics, "train_loss_step", "train_loss")
        val_loss = _metric(metrics, "val_loss")
        if val_loss is not None and (self.segment_best is None or val_loss < self.segment_best):
            self.segment_best = val_loss
        best = self.best() if self.best is not None else None
        # the checkpoint callback may update its best after this callback has run
        known = [v for v in (best, self.segment_best) if v is not None]
        best = min(known) if known else None
        parts = [f"step {trainer.global_step}"]
        if train_loss is not None:
            parts.append(f"train_loss {train_loss:.5g}")
        if val_loss is not None:
            parts.append(f"val_loss {val_loss:.5g}")
        if best is not None:
            parts.append(f"best {best:.5g}")
        parts.append(f"{(time.perf_counter() - self._start) / 60:.1f} min")
        self.print_fn("  ".join(parts))


SIGNAL_NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}
"""The signals after which training stops cleanly (the first) or at once (the second)."""


class StopRequest(L.Callback):
    """Ends training cleanly at the end of the current step once :meth:`request` was called.

    Training then ends as at ``max_steps``: the final checkpoint is written
    and ``fit`` returns. :attr:`signal` keeps the signal that asked for the
    stop (None for a stop requested in code), so that the command line can
    exit with ``128 + signal`` (143 for SIGTERM, 130 for Ctrl-C) as
    schedulers and shells expect of a process stopped by a signal.
    """

    def __init__(self) -> None:
        self.requested = False
        self.signal: int | None = None
        self._handlers: dict[int, Any] = {}

    def request(self, signum: int | None = None) -> None:
        """Stop after the step in progress; ``signum`` is the signal that asked, if any."""
        self.requested = True
        if signum is not None and self.signal is None:
            self.signal = signum

    def install(self, handlers: dict[int, Any]) -> None:
        """Remember the signal handlers that :meth:`on_train_start` sets again."""
        self._handlers = dict(handlers)

    def on_train_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        # Lightning sets its own SIGTERM handler when fit starts, which ends the run at
        # once with status 0, no stop checkpoint and no summary: put ours back over it
        # (Lightning restores the handlers it found when fit ends)
        if threading.current_thread() is threading.main_thread():
            for signum, handler in self._handlers.items():
                signal.signal(signum, handler)
        self._validate_on_schedule_only(trainer)

    def _validate_on_schedule_only(self, trainer: L.Trainer) -> None:
        """Keep Lightning from validating at a requested stop, as it does after early stopping.

        That extra validation wrote the stop checkpoint at its end, a place
        Lightning's resume misreads off the validation schedule: the resumed
        run logged a step twice (and at an epoch's end retrained one, so the
        weights differed), and the extra validation could change the best
        checkpoint. Found by the kill loop (issue 23). Without the extra
        validation the stop checkpoint is the step's own, which a resume
        continues exactly. Lightning 2.x internals; absent, nothing changes.
        """
        loop = getattr(getattr(trainer, "fit_loop", None), "epoch_loop", None)
        scheduled = getattr(loop, "_should_check_val_fx", None)
        if scheduled is None or getattr(scheduled, "framecast_stop", False):
            return

        def should_check_val(*args: Any, **kwargs: Any) -> bool:
            if not self.requested:
                return bool(scheduled(*args, **kwargs))
            should_stop = trainer.should_stop
            trainer.should_stop = False  # what the schedule alone says
            try:
                return bool(scheduled(*args, **kwargs))
            finally:
                trainer.should_stop = should_stop

        should_check_val.framecast_stop = True  # type: ignore[attr-defined]
        loop._should_check_val_fx = should_check_val  # type: ignore[union-attr]

    def _agree(self, trainer: L.Trainer, pl_module: Any) -> None:
        """In a multi-process run, a stop any process was asked for is every process's stop.

        A signal reaches the processes of several nodes at different
        moments: the one that stopped a step before the others left them
        waiting in that step's gradient exchange. The processes exchange the
        request and its signal (the largest number) after every step.
        """
        if trainer.world_size <= 1:
            return
        import torch

        mine = torch.tensor(
            [float(self.requested), float(self.signal or 0)], device=pl_module.device
        )
        agreed = trainer.strategy.reduce(mine, reduce_op="max")
        if bool(agreed[0] > 0) and not self.requested:
            self.request(int(agreed[1]) or None)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, idx: int
    ) -> None:
        self._agree(trainer, pl_module)
        if self.requested:
            trainer.should_stop = True

    def on_validation_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        self._agree(trainer, pl_module)
        if self.requested:
            trainer.should_stop = True  # a signal during validation: no further step


@contextmanager
def stop_on_interrupt(stop: StopRequest, print_fn: Callable[[str], None] = print) -> Iterator[None]:
    """While inside, a first Ctrl-C (SIGINT) or SIGTERM asks ``stop`` to end after this step.

    The step in progress finishes, ``last.ckpt`` is written, the logs are
    flushed and the summary printed; :attr:`StopRequest.signal` tells the
    caller which signal it was. A second signal interrupts at once
    (KeyboardInterrupt). Outside the main thread, where no signal handler
    can be set, it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.request(signum)
        name = SIGNAL_NAMES.get(signum, f"signal {signum}")
        print_fn(f"{name}: stopping after this step and saving last.ckpt (send it again to abort)")

    handlers = dict.fromkeys(SIGNAL_NAMES, handler)
    previous = {signum: signal.signal(signum, handler) for signum in handlers}
    stop.install(handlers)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
