"""The vector_rnn and conv_rnn classifiers: shapes, padding, options and their errors."""

from __future__ import annotations

import pytest
import torch

from framecast.classify.models import (
    CLASSIFIERS,
    ConvSequenceClassifier,
    InputSpec,
    VectorSequenceClassifier,
    build_classifier,
)


def _tokens(batch=3, length=10, vocab=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(2, vocab, (batch, length), generator=g)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"bidirectional": True, "num_layers": 2},
        {"readout": "mean"},
        {"readout": "max", "bidirectional": True},
        {"conv_filters": 8, "conv_kernel": 3, "pool_size": 2},
        {"dropout": 0.3, "recurrent_dropout": 0.3},
    ],
)
def test_vector_classifier_gives_logits_per_class(cell, options):
    torch.manual_seed(0)
    model = build_classifier("vector_rnn", 20, 3, {"cell": cell, "hidden_size": 6, **options})
    logits = model(_tokens())
    assert logits.shape == (3, 3) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize("options", [{}, {"bidirectional": True}, {"readout": "mean"}])
def test_padding_does_not_change_the_prediction(options):
    torch.manual_seed(0)
    model = VectorSequenceClassifier(20, 2, hidden_size=5, embed_dim=4, **options).eval()
    tokens = _tokens(batch=2, length=6)
    padded = torch.cat([tokens, torch.zeros(2, 5, dtype=torch.int64)], dim=1)  # (2, 11)
    assert torch.allclose(model(tokens), model(padded), atol=1e-6)


def test_dropout_is_random_in_training_only():
    model = VectorSequenceClassifier(20, 2, hidden_size=8, recurrent_dropout=0.5, dropout=0.5)
    x = _tokens()
    model.train()
    assert not torch.allclose(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


def test_linear_input_flattens_frames():
    model = VectorSequenceClassifier(2 * 4 * 4, 3, input_layer="linear", hidden_size=6)
    assert model(torch.rand(2, 5, 2, 4, 4)).shape == (2, 3)
    normed = VectorSequenceClassifier(32, 3, input_layer="linear", input_norm=True).eval()
    x = torch.rand(2, 5, 2, 4, 4)
    # per-step standardisation: a brighter background (offset and gain) changes nothing
    assert torch.allclose(normed(x), normed(0.5 + 2 * x), atol=1e-4)
    with pytest.raises(ValueError, match="input_norm works with input_layer: linear only"):
        VectorSequenceClassifier(32, 3, input_norm=True)
    with pytest.raises(ValueError, match="built for 32 features per step, got 16"):
        model(torch.rand(2, 5, 1, 4, 4))


@pytest.mark.parametrize("cell", ["convlstm", "stlstm"])
def test_conv_classifier_gives_logits_per_class(cell):
    torch.manual_seed(0)
    model = ConvSequenceClassifier(1, 4, cell=cell, hidden_channels=4, num_layers=2, patch_size=2)
    logits = model(torch.rand(2, 5, 1, 8, 8))
    assert logits.shape == (2, 4) and torch.isfinite(logits).all()
    logits.sum().backward()


@pytest.mark.parametrize(
    ("name", "options", "error", "match"),
    [
        ("vector_rnn", {"cell": "convlstm"}, ValueError, "needs a vector cell"),
        ("conv_rnn", {"cell": "lstm"}, ValueError, "needs a convolutional cell"),
        ("vector_rnn", {"cell": "nope"}, KeyError, "unknown cell 'nope'"),
        ("vector_rnn", {"readout": "first"}, ValueError, "readout must be one of"),
        ("vector_rnn", {"dropout": 1.0}, ValueError, r"dropout must be a number in \[0, 1\)"),
        ("vector_rnn", {"conv_filters": 4, "conv_kernel": 4}, ValueError, "must be odd"),
        ("vector_rnn", {"input_layer": "onehot"}, ValueError, "input_layer must be one of"),
        ("vector_rnn", {"hidden": 3}, TypeError, r"unknown option\(s\) \['hidden'\]"),
        ("rnn_classifier", {}, KeyError, "valid classifiers: conv_rnn, vector_rnn"),
    ],
)
def test_bad_options_fail_in_one_line(name, options, error, match):
    with pytest.raises(error, match=match) as err:
        build_classifier(name, 4, 2, options)
    assert "\n" not in str(err.value)


def test_bad_inputs_fail_in_one_line():
    model = VectorSequenceClassifier(10, 2)
    with pytest.raises(ValueError, match=r"token ids must lie in 0\.\.9"):
        model(torch.tensor([[1, 12]]))
    with pytest.raises(ValueError, match="takes \\(B, T\\) integer token ids"):
        model(torch.rand(1, 3))
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        VectorSequenceClassifier(10, 1)
    conv = ConvSequenceClassifier(1, 2, patch_size=4)
    with pytest.raises(ValueError, match="do not fit patch_size=4"):
        conv(torch.rand(1, 3, 1, 6, 6))


def test_input_size_comes_from_the_data():
    tokens = InputSpec("tokens", ("a", "b"), vocab_size=50)
    frames = InputSpec("frames", ("a", "b"), frame_shape=(3, 4, 4))
    vector, conv = CLASSIFIERS.get("vector_rnn"), CLASSIFIERS.get("conv_rnn")
    assert vector.input_size_for(tokens, {}) == 50
    assert vector.input_size_for(frames, {"input_layer": "linear"}) == 48
    assert conv.input_size_for(frames, {}) == 3
    with pytest.raises(ValueError, match="input_layer: linear"):
        vector.input_size_for(frames, {})
    with pytest.raises(ValueError, match="classifies frame sequences"):
        conv.input_size_for(tokens, {})


@pytest.mark.parametrize(
    "options", [{}, {"conv_filters": 4, "conv_kernel": 3, "pool_size": 3}, {"readout": "max"}]
)
def test_cutting_the_steps_padded_in_every_row_changes_nothing(options, monkeypatch):
    torch.manual_seed(0)
    model = VectorSequenceClassifier(30, 2, hidden_size=6, embed_dim=5, **options).eval()
    x = torch.randint(1, 30, (3, 20))  # (B, T)
    x[:, 7:] = 0
    x[1, 4:] = 0
    cut = model(x)
    monkeypatch.setattr(model, "_drop_common_padding", lambda features, mask: (features, mask))
    torch.testing.assert_close(cut, model(x), atol=1e-6, rtol=1e-6)


def test_embedding_init_range_draws_small_uniform_word_vectors():
    torch.manual_seed(0)
    model = VectorSequenceClassifier(500, 2, embed_dim=16, embedding_init_range=0.05)
    weight = model.encoder.weight.detach()
    assert float(weight.abs().max()) <= 0.05 and float(weight[1:].std()) > 0.02
    assert torch.equal(weight[0], torch.zeros(16))  # the padding id
    assert float(VectorSequenceClassifier(500, 2, embed_dim=16).encoder.weight.detach().std()) > 0.5
    with pytest.raises(ValueError, match="embedding_init_range must be a number > 0, got -1"):
        VectorSequenceClassifier(500, 2, embedding_init_range=-1)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_keras_init_gives_orthogonal_recurrent_kernels_and_zero_biases(cell):
    torch.manual_seed(0)
    model = VectorSequenceClassifier(50, 2, cell=cell, hidden_size=8, embed_dim=4, init="keras")
    inner = model.cells[0].cell
    kernel = inner.weight_hh.T  # (H, gates*H), Keras' recurrent kernel
    torch.testing.assert_close(kernel @ kernel.T, torch.eye(8), atol=1e-5, rtol=0)
    expected = torch.zeros_like(inner.bias_ih)
    if cell == "lstm":
        expected[8:16] = 1.0  # the forget gate's unit bias
    assert torch.equal(inner.bias_ih, expected) and not inner.bias_hh.any()
    bound = (6 / sum(inner.weight_ih.shape)) ** 0.5  # Glorot-uniform's limit
    assert float(inner.weight_ih.detach().abs().max()) <= bound
    with pytest.raises(ValueError, match=r"init must be one of \['torch', 'keras'\], got 'tf'"):
        VectorSequenceClassifier(50, 2, init="tf")
