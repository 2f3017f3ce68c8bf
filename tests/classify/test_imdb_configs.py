"""The IMDB configs hold the sentiment tutorial's settings, and run on the real reviews.

One table: config, setting (a dotted key of the loaded config), the
tutorial's value (Keras: Embedding(5000, 32, input_length=500), Dropout 0.4,
SimpleRNN/LSTM(128), Conv1D(32, 3, relu, same) + MaxPooling1D(2), Dense;
batch 64, Adam, 3 epochs, validation_split 0.3; pad_sequences cutting at
the start). A config that drifts from the tutorial fails here, in the fast
suite; the slow test trains each config a few steps on the shared archive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from framecast.classify.config import load_classify_config
from framecast.cli import main

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "classify"
ARCHIVE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "imdb" / "aclImdb_labelled.tar.gz"
)
TUTORIAL = ("imdb_simplernn", "imdb_lstm", "imdb_lstm_dropout", "imdb_conv1d_lstm")

COMMON: list[tuple[str, Any]] = [
    ("model.name", "vector_rnn"),
    ("model.options.embed_dim", 32),
    ("model.options.hidden_size", 128),
    ("model.options.embedding_init_range", 0.05),  # Keras' Embedding default
    ("model.options.init", "keras"),  # Glorot-uniform, orthogonal recurrent, zero biases
    ("data.name", "imdb"),
    ("data.batch_size", 64),
    ("data.options.max_words", 5000),
    ("data.options.max_length", 500),
    ("data.options.truncation", "start"),  # pad_sequences' default truncating='pre'
    ("data.options.val_fraction", 0.3),
    ("optim.lr", 1e-3),
    ("optim.scheduler", "none"),
    ("optim.weight_decay", 0.0),
    ("train.max_epochs", 3),
    ("train.max_steps", -1),
    ("train.early_stopping_patience", None),
    ("train.class_weights", None),
]
SETTINGS: list[tuple[str, str, Any]] = [
    *((name, key, value) for name in TUTORIAL for key, value in COMMON),
    ("imdb_simplernn", "model.options.cell", "rnn"),
    ("imdb_simplernn", "model.options.embedding_dropout", 0.4),
    ("imdb_simplernn", "model.options.head_dropout", 0.4),
    ("imdb_simplernn", "model.options.readout", "last"),
    ("imdb_lstm", "model.options.cell", "lstm"),
    ("imdb_lstm", "model.options.embedding_dropout", 0.4),
    ("imdb_lstm", "model.options.head_dropout", 0.4),
    ("imdb_lstm", "model.options.readout", "last"),
    ("imdb_lstm_dropout", "model.options.cell", "lstm"),
    ("imdb_lstm_dropout", "model.options.dropout", 0.4),
    ("imdb_lstm_dropout", "model.options.recurrent_dropout", 0.4),
    ("imdb_lstm_dropout", "model.options.head_dropout", 0.0),
    ("imdb_conv1d_lstm", "model.options.cell", "lstm"),
    ("imdb_conv1d_lstm", "model.options.conv_filters", 32),
    ("imdb_conv1d_lstm", "model.options.conv_kernel", 3),
    ("imdb_conv1d_lstm", "model.options.pool_size", 2),
]


def _value(config: Any, key: str) -> Any:
    value = config
    for part in key.split("."):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return value


@pytest.mark.parametrize(("name", "key", "expected"), SETTINGS)
def test_the_config_holds_the_tutorials_setting(name: str, key: str, expected: Any) -> None:
    config = load_classify_config(CONFIGS / f"{name}.yaml")
    assert _value(config, key) == expected, f"{name}.yaml: {key}"


@pytest.mark.parametrize("name", TUTORIAL)
def test_the_tutorials_dropout_is_where_it_put_it(name: str) -> None:
    options = load_classify_config(CONFIGS / f"{name}.yaml").model.options
    dropped = {k for k in ("dropout", "embedding_dropout", "recurrent_dropout") if options.get(k)}
    expected = {"imdb_lstm_dropout": {"dropout", "recurrent_dropout"}, "imdb_conv1d_lstm": set()}
    assert dropped == expected.get(name, {"embedding_dropout"})


@pytest.mark.slow
@pytest.mark.skipif(not ARCHIVE.is_file(), reason=f"the shared IMDB archive {ARCHIVE} is absent")
@pytest.mark.parametrize("name", [*TUTORIAL, "imdb_beyond"])
def test_the_config_trains_a_few_steps_on_the_real_reviews(name: str, tmp_path: Path) -> None:
    args = [
        "classify", "train", "--config", str(CONFIGS / f"{name}.yaml"),
        f"data.options.path={ARCHIVE}", f"train.out_dir={tmp_path}", "train.run_name=run",
        "train.max_steps=3", "train.limit_val_batches=2", "train.val_every_n_steps=3",
        "train.progress_bar=false", "train.max_minutes=null",
    ]  # fmt: skip
    assert main(args) == 0
    assert main(["classify", "evaluate", str(tmp_path / "run"), "--max-batches", "2",
                 "--no-train-histogram"]) == 0  # fmt: skip
    assert (tmp_path / "run" / "eval-test" / "classification_report.txt").is_file()
