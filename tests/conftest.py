"""Suite-wide settings: one torch thread, denormals flushed."""

from __future__ import annotations

import pytest
import torch

from framecast.numerics import configure_torch

# Two torch threads collapse when another process holds a core (docs/speed.md).
configure_torch(num_threads=1)


@pytest.fixture
def frames() -> torch.Tensor:
    """(B=2, T=5, C=1, H=8, W=8) random frames in [0, 1]."""
    return torch.rand(2, 5, 1, 8, 8, generator=torch.Generator().manual_seed(0))
