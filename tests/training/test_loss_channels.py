from __future__ import annotations

import pytest
import torch

from framecast.training.losses import LOSSES
from framecast.training.module import select_channels


def test_only_the_chosen_channels_are_scored():
    mse = LOSSES.get("mse")
    pred = torch.zeros(2, 3, 2, 4, 4)
    target = torch.zeros(2, 3, 2, 4, 4)
    target[:, :, 1] = 5.0  # an input-only channel the model does not predict well
    assert select_channels(mse, [0], 2)(pred, target).item() == 0.0
    assert select_channels(mse, None, 2)(pred, target).item() > 0.0
    assert select_channels(mse, [1], 2)(pred, target).item() == pytest.approx(25.0)


@pytest.mark.parametrize("channels", [[], [2], [0, 0], [-1]])
def test_bad_channel_lists(channels):
    with pytest.raises(ValueError, match="loss_channels"):
        select_channels(LOSSES.get("mse"), channels, 2)
