"""How a study runs: :class:`TuneSettings`, checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PRUNERS = ("median", "hyperband", "none")


@dataclass(frozen=True)
class TuneSettings:
    """How a study runs.

    Attributes
    ----------
    trials : int
        Finished (complete or pruned) trials the study should hold in the end.
    out_dir : Path
        Trials' run folders, the best config, the summary and the plots.
    storage : str, optional
        Optuna storage: a database URL or ``journal:PATH``
        (:mod:`framecast.tuning.storage`); default ``sqlite:///<out_dir>/study.db``.
    study_name : str
    pruner : {"median", "hyperband", "none"}
    trial_minutes, trial_steps : optional
        Budget of each trial (``train.max_minutes`` / ``train.max_steps``).
    seed : int
        Seed of the TPE sampler; trial ``n`` trains with ``train.seed = seed + n``.
    warmup_steps : int, optional
        Steps before the pruner may stop a trial (early losses are noisy);
        default a quarter of ``trial_steps``, or 0 without a step budget.
    jobs : int, optional
        Trials trained at once, each in its own process with an equal share
        of the cores; default one per free core
        (:func:`framecast.numerics.default_jobs`).
    worker : int
        Index of this process among the parallel workers (seeds its sampler).
    heartbeat : int
        Seconds between a running trial's heartbeats; a trial silent for
        three times as long (its process killed, its machine lost) is
        marked failed and retried once with the same values.
    cluster : str, optional
        A Dask scheduler's address (``tcp://HOST:PORT``): the worker
        processes run as its tasks (:mod:`framecast.cluster`), ``jobs`` of
        them (default: one per worker thread of the cluster).
    """

    trials: int
    out_dir: Path
    storage: str | None = None
    study_name: str = "framecast"
    pruner: str = "median"
    trial_minutes: float | None = None
    trial_steps: int | None = None
    seed: int = 0
    warmup_steps: int | None = None
    jobs: int | None = None
    worker: int = 0
    heartbeat: int = 30
    cluster: str | None = None

    def warmup(self) -> int:
        if self.warmup_steps is not None:
            return self.warmup_steps
        return self.trial_steps // 4 if self.trial_steps is not None else 0

    def check(self) -> None:
        if isinstance(self.trials, bool) or not isinstance(self.trials, int) or self.trials < 1:
            raise ValueError(f"--trials must be a positive integer, got {self.trials!r}")
        if self.pruner not in PRUNERS:
            raise ValueError(f"--pruner must be one of {PRUNERS}, got {self.pruner!r}")
        if self.trial_minutes is not None and not self.trial_minutes > 0:
            raise ValueError(f"--trial-minutes must be > 0, got {self.trial_minutes!r}")
        if self.trial_steps is not None and self.trial_steps < 1:
            raise ValueError(f"--trial-steps must be >= 1, got {self.trial_steps!r}")
        if self.jobs is not None:
            from framecast.numerics import check_jobs

            check_jobs(self.jobs)
        beat = self.heartbeat
        if isinstance(beat, bool) or not isinstance(beat, int) or beat < 1:
            raise ValueError(f"--heartbeat must be a whole number of seconds >= 1, got {beat!r}")
        if self.storage is not None:
            from framecast.tuning.storage import check_storage_url

            check_storage_url(self.storage)
        if self.cluster is not None:
            from framecast.cluster import check_address

            check_address(self.cluster)

    def storage_url(self) -> str:
        """The storage URL given, or the SQLite file in ``out_dir``."""
        return self.storage or f"sqlite:///{(self.out_dir / 'study.db').resolve()}"
