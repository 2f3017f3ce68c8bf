"""A real Dask cluster for the ``--cluster`` tests: a scheduler and 2 worker processes.

Started once per session on 127.0.0.1 (``LocalCluster(n_workers=2,
threads_per_worker=1, processes=True)``: two processes, one task at a time
each, as ``dask worker --nthreads 1`` on two machines), closed at the end.
The tests skip, with the reason, where Dask's ``distributed`` package is
not installed (the ``cluster`` extra; ``make test`` installs it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def cluster_address() -> Iterator[str]:
    """The scheduler address (``tcp://127.0.0.1:PORT``) of a 2-worker local cluster."""
    distributed = pytest.importorskip(
        "distributed", reason="Dask's distributed is not installed (pip install '.[cluster]')"
    )
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()
