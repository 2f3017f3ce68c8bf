"""MIM (Wang et al. 2019): non-stationary differences, MIM blocks, the bottom cell."""

from __future__ import annotations

import pytest
import torch
from framecast_testing import learning_check

from framecast.models import build_model

TINY = {"hidden_channels": 4, "num_layers": 3, "kernel_size": 3, "patch_size": 2}


def test_mim_n_reads_layer_one_differences(frames):
    torch.manual_seed(0)
    model = build_model("mim", 1, TINY)
    bottom_h: list[torch.Tensor] = []
    mim_n_in: list[torch.Tensor] = []
    model.bottom.register_forward_hook(lambda mod, args, out: bottom_h.append(out[0]) and None)
    model.non_stationary[0].register_forward_hook(
        lambda mod, args, out: mim_n_in.append(args[0]) and None
    )
    model(frames[:, :3], 1)  # 3 steps: MIM-N runs from the second step on
    assert len(mim_n_in) == 2
    assert torch.allclose(mim_n_in[0], bottom_h[1] - bottom_h[0])
    assert torch.allclose(mim_n_in[1], bottom_h[2] - bottom_h[1])


def test_bottom_cell_needs_memory():
    with pytest.raises(ValueError, match="cannot run cell 'convlstm'"):
        build_model("mim", 1, {**TINY, "cell": "convlstm"})
    with pytest.raises(ValueError, match="num_layers must be an integer >= 2"):
        build_model("mim", 1, {**TINY, "num_layers": 1})


def test_mim_learns_moving_squares():
    options = {"hidden_channels": 8, "num_layers": 2, "kernel_size": 3, "patch_size": 4}
    r = learning_check("mim", options, steps=60, lr=1e-2, batch_size=4)
    assert r["trained"] < 0.65 * r["initial"]
    assert r["trained"] < r["persistence"]
