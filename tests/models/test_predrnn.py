import torch

from framecast.models import build_model
from framecast.models.patching import patch, unpatch


def _tiny(cell: str = "stlstm", **kw):
    torch.manual_seed(0)
    opts = {"cell": cell, "hidden_channels": 4, "num_layers": 3, "kernel_size": 3, "patch_size": 2}
    return build_model("predrnn", 1, {**opts, **kw})


def test_zigzag_memory_flow(frames):
    """M climbs the stack at each step, then goes from the top layer at t to the bottom at t+1."""
    model = _tiny()
    calls: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    for i, cell in enumerate(model.stack.cells):
        cell.register_forward_hook(lambda mod, args, out, i=i: calls.append((i, args[2], out[2])))
    model(frames[:, :2], 1)  # 2 steps x 3 layers
    assert [c[0] for c in calls] == [0, 1, 2, 0, 1, 2]
    m_in0 = calls[0][1]
    assert torch.equal(m_in0, torch.zeros_like(m_in0))  # first step starts from zero memory
    assert torch.equal(calls[1][1], calls[0][2])  # layer 1 at t=0 gets layer 0's M
    assert torch.equal(calls[2][1], calls[1][2])  # layer 2 at t=0 gets layer 1's M
    assert torch.equal(calls[3][1], calls[2][2])  # layer 0 at t=1 gets the top layer's M of t=0


def test_convlstm_stack_has_no_memory(frames):
    model = _tiny("convlstm")
    seen = []
    model.stack.cells[0].register_forward_hook(lambda mod, args, out: seen.append(args[2]))
    model(frames[:, :2], 2)
    assert seen and all(m is None for m in seen)


def test_teacher_forcing_equals_observing_the_frames(frames):
    """With every input true, rollout(context, target) is rollout of the whole sequence."""
    model = _tiny()
    full = model.rollout(frames, 1)  # 5 frames observed, predictions of frames 1..5
    forced = model.rollout(frames[:, :2], 3, target=frames[:, 2:], true_mask=torch.ones(2, 3))
    assert torch.allclose(full[:, :4], forced, atol=1e-6)


def test_feeding_predictions_differs_from_teacher_forcing(frames):
    model = _tiny()
    free = model.rollout(frames[:, :2], 3)
    forced = model.rollout(frames[:, :2], 3, target=frames[:, 2:], true_mask=torch.ones(2, 3))
    assert torch.equal(free[:, 0], forced[:, 0])  # same until the first fed frame differs
    assert not torch.allclose(free[:, -1], forced[:, -1])


def test_output_activation_sigmoid_keeps_unit_range(frames):
    out = _tiny(output_activation="sigmoid")(frames[:, :2], 3)
    assert out.min() >= 0 and out.max() <= 1


def test_patch_round_trip(frames):
    p = patch(frames, 4 // 2)
    assert p.shape == (2, 5, 4, 4, 4)
    assert torch.equal(unpatch(p, 2), frames)
    # a patch holds a 2x2 block of one pixel neighbourhood
    assert torch.equal(p[0, 0, :, 0, 0], frames[0, 0, 0, :2, :2].reshape(-1))
