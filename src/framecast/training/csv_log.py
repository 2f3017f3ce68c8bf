"""A ``metrics.csv`` that keeps the rows of every segment of a resumed run.

Lightning's ``CSVLogger`` deletes ``metrics.csv`` when its folder is not
empty, so a resumed run would lose the rows of the segments before it.
:class:`ResumableCSVLogger` appends instead; :func:`keep_rows_before`
first drops the rows a killed segment logged after its last checkpoint, so
the file matches the state the run resumes from.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment

from framecast.files import atomic_write

METRICS_FILE = ExperimentWriter.NAME_METRICS_FILE


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


class ResumableCSVLogger(CSVLogger):
    """``CSVLogger`` that appends to the ``metrics.csv`` it finds rather than deleting it."""

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment


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
