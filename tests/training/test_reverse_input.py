"""train.reverse_input: each batch trains forward, then reversed in time, with one mask."""

from __future__ import annotations

import torch
from framecast_testing import tiny_run_config

from framecast.config import config_from_dict
from framecast.models.predrnn import PredRNN
from framecast.training import train


def test_each_batch_gives_a_forward_and_a_reversed_step(tmp_path, monkeypatch):
    calls: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    original = PredRNN.training_loss

    def recording(self, context, target, loss_fn, true_mask=None, future_only=False):
        if self.training:
            calls.append((context.clone(), target.clone(), true_mask.clone()))
        return original(self, context, target, loss_fn, true_mask, future_only)

    monkeypatch.setattr(PredRNN, "training_loss", recording)
    raw = tiny_run_config(tmp_path, train={"max_steps": 4, "reverse_input": True})
    result = train(config_from_dict(raw), verbose=False)
    end = torch.load(result.last_checkpoint, weights_only=True)
    assert end["global_step"] == 4  # optimiser steps: 2 batches x 2
    assert len(calls) == 4
    adam = end["optimizer_states"][0]["state"]
    assert all(int(s["step"]) == 4 for s in adam.values())
    for (ctx, tgt, mask), (rctx, rtgt, rmask) in (calls[0:2], calls[2:4]):
        frames = torch.cat([ctx, tgt], 1)
        torch.testing.assert_close(torch.cat([rctx, rtgt], 1), frames.flip(1), rtol=0, atol=0)
        assert rctx.shape == ctx.shape  # split again at the same context length
        assert torch.equal(mask, rmask)  # one scheduled-sampling mask per batch
    assert not torch.equal(calls[0][0], calls[2][0])  # the second batch is another batch


def test_without_reverse_input_one_step_per_batch(tmp_path):
    raw = tiny_run_config(tmp_path, train={"max_steps": 2})
    end = torch.load(train(config_from_dict(raw), verbose=False).last_checkpoint, weights_only=True)
    adam = end["optimizer_states"][0]["state"]
    assert end["global_step"] == 2 and all(int(s["step"]) == 2 for s in adam.values())
