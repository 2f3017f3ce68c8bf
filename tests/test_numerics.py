import pytest
import torch

from framecast.numerics import configure_torch, resolve_precision


def test_flush_denormal_is_on_after_configure():
    torch.set_flush_denormal(False)
    assert torch.tensor([1e-40], dtype=torch.float32).item() != 0.0
    configure_torch()
    assert torch.tensor([1e-40], dtype=torch.float32).item() == 0.0


def test_resolve_precision():
    assert resolve_precision("32", "cpu") == "32"
    assert resolve_precision("bf16-mixed", "cpu") == "bf16-mixed"
    assert resolve_precision("auto", "cpu") in ("32", "bf16-mixed")
    with pytest.raises(ValueError, match="'fp8'"):
        resolve_precision("fp8", "cpu")
