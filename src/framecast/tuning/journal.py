"""Optuna's journal file storage with a heartbeat: a shared study without a database server.

Optuna's :class:`~optuna.storages.JournalStorage` appends every change of a
study to one log file (locked with a symlink, which works on NFS), but
keeps no heartbeat, so a trial whose process was killed would stay
"running" for ever and never be retried. :class:`HeartbeatJournalStorage`
adds the heartbeat Optuna's database storage has: each running trial
writes the time every ``heartbeat_interval`` seconds (a trial system
attribute, one line of the log), and a trial silent for ``grace_period``
seconds is stale; Optuna then marks it failed and calls the retry callback,
as it does for a database.

The times are the writers' clocks, so machines sharing a journal file
should keep their clocks in step (NTP) to well within the grace period.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import JournalStorage
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

HEARTBEAT_KEY = "framecast:heartbeat"
"""The trial system attribute holding the Unix time of its last heartbeat."""


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """A journal file storage whose running trials beat, so a dead worker's trial is retried.

    Parameters
    ----------
    path : Path
        The journal file; created if missing (its folder must exist).
    heartbeat_interval : int
        Seconds between a running trial's heartbeats.
    grace_period : int
        Seconds without a heartbeat after which a running trial is stale.
    stale_trial_callback : callable, optional
        Called with the study and each trial marked failed for being stale
        (e.g. Optuna's ``RetryHeartbeatStaleTrialCallback``).
    """

    def __init__(
        self,
        path: Path,
        *,
        heartbeat_interval: int,
        grace_period: int,
        stale_trial_callback: Callable[[Any, Any], None] | None = None,
    ) -> None:
        super().__init__(JournalFileBackend(str(path)))
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.stale_trial_callback = stale_trial_callback

    def record_heartbeat(self, trial_id: int) -> None:
        # another worker may have failed this trial as stale: nothing left to beat for
        with contextlib.suppress(UpdateFinishedTrialError):
            self.set_trial_system_attr(trial_id, HEARTBEAT_KEY, time.time())

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now = time.time()
        running = self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        return [
            trial._trial_id
            for trial in running
            if HEARTBEAT_KEY in trial.system_attrs
            and now - float(trial.system_attrs[HEARTBEAT_KEY]) > self.grace_period
        ]

    def get_heartbeat_interval(self) -> int | None:
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> Callable[[Any, Any], None] | None:
        return self.stale_trial_callback

    def get_failed_trial_callback(self) -> Callable[[Any, Any], None] | None:
        """The same callback, under the name Optuna before 4.9 asks for."""
        return self.stale_trial_callback
