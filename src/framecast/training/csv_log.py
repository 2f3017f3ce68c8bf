"""A ``metrics.csv`` that keeps the rows of every segment of a resumed run.

Lightning's ``CSVLogger`` deletes ``metrics.csv`` when its folder is not
empty, so a resumed run would lose the rows of the segments before it.
:class:`ResumableCSVLogger` appends instead; :func:`keep_rows_before`
first drops the rows a killed segment logged after its last checkpoint, so
the file matches the state the run resumes from. Rows are written as they
are logged (Lightning keeps up to 100 in memory, which a SIGKILL loses),
and the rewrite Lightning does when a new column appears is atomic.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from lightning.fabric.utilities.apply_func import convert_tensors_to_scalars
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from torch import Tensor

from framecast.files import atomic_write

METRICS_FILE = ExperimentWriter.NAME_METRICS_FILE
_RowKey = tuple[int, tuple[tuple[str, Any], ...]]


class _AppendingWriter(ExperimentWriter):
    """Lightning's CSV writer, appending to an existing ``metrics.csv`` under its header."""

    def __init__(self, log_dir: str) -> None:
        super().__init__(log_dir=log_dir)
        if os.path.isfile(self.metrics_file_path):
            with open(self.metrics_file_path, newline="") as handle:
                self.metrics_keys = list(csv.DictReader(handle).fieldnames or [])

    def _check_log_dir_exists(self) -> None:
        # Lightning's version deletes metrics.csv; keep the earlier segments' rows
        pass

    def _rewrite_with_new_header(self, fieldnames: list[str]) -> None:
        # Lightning's version truncates the file first: a kill then would lose every row
        with open(self.metrics_file_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        with atomic_write(self.metrics_file_path) as partial, open(partial, "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=fieldnames)
            writer.writeheader()
            writer.writerows(rows)


class ResumableCSVLogger(CSVLogger):
    """``CSVLogger`` that appends to the ``metrics.csv`` it finds rather than deleting it.

    Every logged row is written at once (``flush_logs_every_n_steps=1``), so
    that a checkpoint never holds a step whose row is only in memory; a row
    written ahead by :func:`write_step_row_now` is not written again.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("flush_logs_every_n_steps", 1)
        super().__init__(*args, **kwargs)
        self._written_ahead: _RowKey | None = None

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment

    @staticmethod
    def _row_key(metrics: dict[str, Any], step: int | None) -> _RowKey:
        values = {k: float(v) if isinstance(v, Tensor) else v for k, v in metrics.items()}
        return int(step if step is not None else -1), tuple(sorted(values.items()))

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        """Write a row of metrics, unless :meth:`write_ahead` wrote this very row already."""
        if self._written_ahead is not None and self._row_key(metrics, step) == self._written_ahead:
            self._written_ahead = None
            return
        super().log_metrics(metrics, step)

    @rank_zero_only
    def write_ahead(self, metrics: dict[str, Any], step: int) -> None:
        """Write the row Lightning is about to log now, and skip it when Lightning logs it."""
        super().log_metrics(metrics, step)
        self.save()
        self._written_ahead = self._row_key(metrics, step)

    @rank_zero_only
    def log_metrics_once(self, metrics: dict[str, Any], step: int) -> None:
        """Write a row unless ``metrics.csv`` holds these metrics at ``step`` already."""
        self.save()
        path = self.experiment.metrics_file_path
        if os.path.isfile(path):
            with open(path, newline="") as handle:
                for row in csv.DictReader(handle):
                    same = row.get("step") and int(float(row["step"])) == step
                    if same and all(row.get(name) for name in metrics):
                        return
        super().log_metrics(metrics, step)
        self.save()


def write_step_row_now(trainer: Any) -> None:
    """Write the row of the step that just ended before a checkpoint is taken in its hook.

    Lightning logs a step's row after the ``on_train_batch_end`` hooks, where
    a checkpoint every ``n`` steps is written; a SIGKILL between the two
    left a checkpoint at step ``g`` and no row for step ``g - 1``, a row the
    resumed run never logs again. This writes that row first (to the
    :class:`ResumableCSVLogger` loggers), as Lightning would compute it
    (``trainer._logger_connector``, Lightning 2.x); Lightning's own call
    then skips it. Anything unexpected in Lightning's internals leaves the
    row to Lightning, as before.
    """
    loggers = [lg for lg in trainer.loggers if isinstance(lg, ResumableCSVLogger)]
    if not loggers:
        return
    try:
        connector = trainer._logger_connector
        accumulating = trainer.fit_loop._should_accumulate()
        if accumulating and trainer.lightning_module.automatic_optimization:
            return
        if not connector.should_update_logs:
            return
        metrics = convert_tensors_to_scalars(connector.metrics["log"])
        if not metrics:
            return
        step = metrics.pop("step", None)
        if step is None:
            metrics.setdefault("epoch", trainer.current_epoch)
            step = trainer.fit_loop.epoch_loop._batches_that_stepped
    except (AttributeError, KeyError, TypeError, AssertionError):
        return
    for logger in loggers:
        logger.write_ahead(metrics, int(step))


def keep_rows_before(metrics_csv: str | os.PathLike[str], step: int) -> int:
    """Keep only the rows of ``metrics_csv`` logged before global step ``step``.

    Lightning logs the metrics of the update that leads to global step
    ``g`` (and a validation at ``g``) with ``step = g - 1``, so these are the
    rows of a run up to a checkpoint at ``step``. With ``step=0`` the file
    is removed. Rewritten atomically.

    Returns
    -------
    int
        The number of rows kept.
    """
    path = Path(metrics_csv)
    if not path.is_file():
        return 0
    if step <= 0:
        path.unlink()
        return 0
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = [r for r in reader if r.get("step") and int(float(r["step"])) < step]
    with atomic_write(path) as partial, open(partial, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
