"""Each classifier kind learns a task that needs the sequence, well above chance."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from classify_testing import moving_dot_clip

from framecast.classify.models import build_classifier
from framecast.classify.text import synthetic_text


def _fit(model, x, y, steps, lr, batch=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        index = torch.randint(len(x), (batch,), generator=g)
        loss = F.cross_entropy(model(x[index]), y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()


def _accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(-1) == y).float().mean())


@pytest.fixture(scope="module")
def text_task():
    train = synthetic_text("train", num_train=600, num_test=200, length=16, max_words=400)
    test = synthetic_text("test", num_train=600, num_test=200, length=16, max_words=400)
    return train, test


@pytest.mark.parametrize(
    "options",
    [
        {"cell": "rnn"},  # Embedding + SimpleRNN
        {"cell": "lstm", "dropout": 0.2, "recurrent_dropout": 0.2},  # LSTM + dropout
        {"cell": "lstm", "conv_filters": 16, "conv_kernel": 3, "pool_size": 2},  # Conv1D + LSTM
    ],
    ids=["simplernn", "lstm-dropout", "conv1d-lstm"],
)
def test_vector_classifier_learns_the_synthetic_text_task(text_task, options):
    train, test = text_task
    torch.manual_seed(0)
    model = build_classifier(
        "vector_rnn", len(train.vocabulary), 2, {"embed_dim": 16, "hidden_size": 16, **options}
    )
    before = _accuracy(model, test.tokens, test.labels)
    _fit(model, train.tokens, train.labels, steps=150, lr=1e-2)
    after = _accuracy(model, test.tokens, test.labels)
    assert after > 0.8 and after > before + 0.2  # chance: 0.5


def test_conv_classifier_learns_the_direction_of_motion():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 240)
    clips = np.stack([moving_dot_clip(1 if k else -1, 6, 8, rng) for k in labels])
    x = torch.from_numpy(clips.astype(np.float32) / 255.0)  # (N, 6, 1, 8, 8)
    y = torch.from_numpy(labels)
    torch.manual_seed(0)
    model = build_classifier("conv_rnn", 1, 2, {"cell": "convlstm", "hidden_channels": 8})
    _fit(model, x[:160], y[:160], steps=120, lr=1e-2)
    assert _accuracy(model, x[160:], y[160:]) > 0.85
