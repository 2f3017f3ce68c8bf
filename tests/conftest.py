"""Suite-wide settings: one torch thread, denormals flushed, the longest files first."""

from __future__ import annotations

import pytest
import torch

from framecast.numerics import configure_torch

# Two torch threads collapse when another process holds a core (docs/speed.md).
configure_torch(num_threads=1)

LONGEST_FIRST = (
    "robustness/test_kill_loop.py",
    "experiments/test_compare.py",
    "tuning/test_shared_storage.py",
    "cluster/test_cluster_jobs.py",
    "robustness/test_signals.py",
    "experiments/test_compare_zoo.py",
    "tuning/test_study.py",
    "training/test_checkpoint_safety_sigkill.py",
    "test_cli.py",
)
"""The test files that take longest (``--durations``), run first: with ``make test``'s two
pytest-xdist workers a long test left for the end keeps one worker busy while the other
waits; started first, the short tests fill in around them."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.path.as_posix()
        return next(
            (i for i, name in enumerate(LONGEST_FIRST) if path.endswith("tests/" + name)),
            len(LONGEST_FIRST),
        )

    items.sort(key=rank)  # stable: the order within a file and among the others is kept


@pytest.fixture
def frames() -> torch.Tensor:
    """(B=2, T=5, C=1, H=8, W=8) random frames in [0, 1]."""
    return torch.rand(2, 5, 1, 8, 8, generator=torch.Generator().manual_seed(0))
