from __future__ import annotations

import pytest
from framecast_testing import tiny_run_config

from framecast.tuning import check_space, load_space, parse_parameter


def _space(tmp_path, text):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return load_space(path)


def test_a_valid_space(tmp_path):
    space = _space(
        tmp_path,
        """
parameters:
  optim.lr: {type: float, low: 1e-4, high: 1.0e-2, log: true}
  model.options.cell: {type: categorical, choices: [convlstm, stlstm]}
  model.options.hidden_channels: {type: int, low: 4, high: 8, step: 4}
""",
    )
    assert [p.key for p in space] == [
        "optim.lr",
        "model.options.cell",
        "model.options.hidden_channels",
    ]
    assert space[0].low == pytest.approx(1e-4) and space[0].log
    check_space(tiny_run_config(tmp_path), space)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "float", "low": 1.0, "high": 1.0}, "empty range"),
        ({"type": "int", "low": 5, "high": 2}, "empty range"),
        ({"type": "float", "low": 0.0, "high": 1.0, "log": True}, "log scale needs low > 0"),
        ({"type": "int", "low": 1.5, "high": 4}, "low must be an integer"),
        ({"type": "float", "low": "a", "high": 1.0}, "low must be a number"),
        ({"type": "categorical", "choices": []}, "non-empty list"),
        ({"type": "uniform", "low": 0, "high": 1}, "type must be one of"),
        ({"type": "float", "low": 0.1, "high": 1.0, "choices": [1]}, "unknown field"),
        ("0.1..1", "must be a mapping"),
    ],
)
def test_bad_parameters(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_parameter("optim.lr", spec)


@pytest.mark.parametrize(
    ("key", "spec", "message"),
    [
        ("optim.learning_rate", {"type": "float", "low": 1e-4, "high": 1e-2}, "learning_rate"),
        ("model.options.cell", {"type": "categorical", "choices": ["stlstm", "gru2"]}, "gru2"),
        ("model.options.kernel", {"type": "int", "low": 1, "high": 3}, "kernel"),
        ("optim.lr", {"type": "categorical", "choices": ["fast"]}, "optim.lr"),
        ("trainer.seed", {"type": "int", "low": 1, "high": 3}, "unknown section"),
    ],
)
def test_keys_the_config_or_model_refuse(tmp_path, key, spec, message):
    with pytest.raises(ValueError, match=message):
        check_space(tiny_run_config(tmp_path), [parse_parameter(key, spec)])


def test_space_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_space(tmp_path / "none.yaml")
    with pytest.raises(ValueError, match="parameters"):
        _space(tmp_path, "optim.lr: {type: float, low: 1, high: 2}\n")
