"""The vector cells (lstm, gru, rnn) against torch's cells and the LSTM equations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import framecast.cells.vector  # noqa: F401  (registers lstm, gru, rnn)
from framecast.cells import CELLS, CellStack, build_cell

VECTOR_CELLS = ("lstm", "gru", "rnn")


def _inputs(cell, batch=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, cell.in_channels, generator=g)
    state = tuple(
        torch.randn(batch, cell.hidden_channels, generator=g) for _ in range(cell.state_size)
    )
    return x, state


def _torch_cell(name: str, cell) -> nn.Module:
    """Torch's own cell with the weights of ``cell``."""
    if name == "lstm":
        ref = nn.LSTMCell(cell.in_channels, cell.hidden_channels)
    elif name == "gru":
        ref = nn.GRUCell(cell.in_channels, cell.hidden_channels)
    else:
        ref = nn.RNNCell(cell.in_channels, cell.hidden_channels, nonlinearity=cell.nonlinearity)
    ref.load_state_dict(cell.cell.state_dict())
    return ref


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("lstm", {}),
        ("lstm", {"forget_bias": 0.0}),
        ("gru", {}),
        ("rnn", {}),
        ("rnn", {"nonlinearity": "relu"}),
    ],
)
def test_matches_torch_cell_on_same_weights(name, options):
    torch.manual_seed(0)
    cell = build_cell(name, 5, 4, **options)
    x, state = _inputs(cell)
    memory = torch.randn(3, 4)
    h, new_state, memory_out = cell(x, state, memory)
    ref = _torch_cell(name, cell)
    expected = ref(x, state) if name == "lstm" else (ref(x, state[0]),)
    assert len(new_state) == len(expected) == cell.state_size
    for got, want in zip(new_state, expected, strict=True):
        assert torch.allclose(got, want, atol=1e-6)
    assert new_state[0] is h
    assert memory_out is memory  # vector cells hand the memory back unchanged


def test_lstm_matches_equations_and_forget_bias():
    """h_t = o ⊙ tanh(f ⊙ c + i ⊙ g), gates in torch's (i, f, g, o) order."""
    torch.manual_seed(0)
    cell = build_cell("lstm", 5, 4, forget_bias=2.5)
    torch.manual_seed(0)
    plain = build_cell("lstm", 5, 4, forget_bias=0.0)
    b_diff = cell.cell.bias_ih - plain.cell.bias_ih
    assert torch.allclose(b_diff[4:8], torch.full((4,), 2.5))  # forget gate only
    assert not b_diff[:4].any() and not b_diff[8:].any()

    x, (h, c) = _inputs(cell)
    h_new, (_, c_new), _ = cell(x, (h, c))
    p = cell.cell
    z = x @ p.weight_ih.T + p.bias_ih + h @ p.weight_hh.T + p.bias_hh
    zi, zf, zg, zo = z.split(4, dim=1)
    c_ref = torch.sigmoid(zf) * c + torch.sigmoid(zi) * torch.tanh(zg)
    h_ref = torch.sigmoid(zo) * torch.tanh(c_ref)
    assert torch.allclose(c_new, c_ref, atol=1e-6)
    assert torch.allclose(h_new, h_ref, atol=1e-6)


@pytest.mark.parametrize(("name", "size"), [("lstm", 2), ("gru", 1), ("rnn", 1)])
def test_state_shapes_and_kind(name, size):
    cell = build_cell(name, 3, 6)
    assert cell.kind == "vector" and CELLS.get(name).kind == "vector"
    assert cell.state_size == size and not cell.uses_memory
    for state in (cell.init_state(2), cell.init_state(2, 7, 9, dtype=torch.float64)):
        assert len(state) == size
        assert all(s.shape == (2, 6) and not s.any() for s in state)
    assert cell.init_state(2, dtype=torch.float64)[0].dtype == torch.float64
    assert cell.init_memory(2, 1, 1) is None
    h, new_state, memory = cell(torch.rand(2, 3), cell.init_state(2), None)
    assert h.shape == (2, 6) and len(new_state) == size and memory is None


@pytest.mark.parametrize("name", VECTOR_CELLS)
def test_kernel_size_is_ignored_but_checked(name):
    a = build_cell(name, 3, 4, 3)
    b = build_cell(name, 3, 4, 7)
    assert [p.shape for p in a.parameters()] == [p.shape for p in b.parameters()]
    with pytest.raises(ValueError, match="odd"):
        build_cell(name, 3, 4, 4)
    with pytest.raises(ValueError, match="hidden_channels"):
        build_cell(name, 3, 0)


@pytest.mark.parametrize("name", VECTOR_CELLS)
def test_map_input_refused(name):
    cell = build_cell(name, 3, 4)
    with pytest.raises(ValueError, match=r"\(B, 3\) feature vectors"):
        cell(torch.rand(2, 3, 5, 5), cell.init_state(2))


def test_bad_options_refused():
    with pytest.raises(ValueError, match="nonlinearity 'sigmoid'"):
        build_cell("rnn", 3, 4, nonlinearity="sigmoid")
    with pytest.raises(TypeError, match="forget_bias"):
        build_cell("gru", 3, 4, forget_bias=1.0)


@pytest.mark.parametrize("name", VECTOR_CELLS)
def test_vector_cell_refused_where_a_conv_cell_is_needed(name):
    with pytest.raises(ValueError, match=f"cell '{name}' works on vectors.*convolutional cell"):
        CellStack(name, 3, [4, 4], 3)
