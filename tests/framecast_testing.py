"""Tiny model and run configs shared by the tests."""

from __future__ import annotations

from typing import Any

# The smallest useful options of every registered model; a model registered
# without an entry here fails the contract tests on purpose.
TINY_MODEL_OPTIONS: dict[str, dict[str, Any]] = {
    "predrnn": {"hidden_channels": 4, "num_layers": 2, "kernel_size": 3, "patch_size": 2},
    "persistence": {},
}


def tiny_run_config(tmp_path: Any, **sections: dict[str, Any]) -> dict[str, Any]:
    """A config dict that trains a tiny PredRNN on moving squares in seconds."""
    config: dict[str, Any] = {
        "model": {
            "name": "predrnn",
            "options": {"cell": "stlstm", **TINY_MODEL_OPTIONS["predrnn"], "patch_size": 4},
        },
        "data": {
            "name": "moving_squares",
            "n_context": 3,
            "n_target": 2,
            "batch_size": 4,
            "split_options": {
                "train": {"num_sequences": 8},
                "val": {"num_sequences": 4},
                "test": {"num_sequences": 4},
            },
        },
        "optim": {"lr": 1e-2, "scheduler": "step"},
        "sampling": {"mode": "linear", "stop_step": 4},
        "train": {
            "max_steps": 6,
            "out_dir": str(tmp_path),
            "run_name": "run",
            "progress_bar": False,
            "log_every_n_steps": 1,
        },
    }
    for name, values in sections.items():
        config[name] = {**config[name], **values}
    return config
