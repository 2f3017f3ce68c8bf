"""Model and data settings sized for comparisons on a few CPU cores.

Every architecture gets options of similar cost (two recurrent layers of
32 channels where that applies); the comparison then varies one thing at a
time, the cell. Edit a copy of these (``framecast compare --preset-file``)
for other budgets.
"""

from __future__ import annotations

from typing import Any

MODEL_PRESETS: dict[str, dict[str, Any]] = {
    "predrnn": {"hidden_channels": 32, "num_layers": 2, "kernel_size": 3, "patch_size": 4},
    "encoder_forecaster": {
        "hidden_channels": 32,
        "num_layers": 2,
        "kernel_size": 3,
        "patch_size": 4,
    },
    # the forecast of 10 frames is scored, so PredNet trains in extrapolation
    # mode (the authors' multi-step fine-tune) rather than in error mode
    "prednet": {
        "stack_channels": [4, 16, 32],
        "r_channels": [32, 32, 32],
        "kernel_size": 3,
        "patch_size": 2,
        "train_mode": "extrapolate",
    },
    "stvae": {
        "encoder_channels": 16,
        "encoder_kernel": 5,
        "hidden_channels": 32,
        "kernel_size": 3,
        "flow_channels": 16,
        "flow_kernel": 5,
        "decoder_kernel": 5,
        "patch_size": 2,
    },
    "predrnn_pp": {"hidden_channels": 32, "num_layers": 2, "kernel_size": 3, "patch_size": 4},
    "predrnn_v2": {"hidden_channels": 32, "num_layers": 2, "kernel_size": 3, "patch_size": 4},
    "mim": {"hidden_channels": 32, "num_layers": 2, "kernel_size": 3, "patch_size": 4},
    # PhyDNet's encoder downsamples by 4 (as patch_size 4 elsewhere); residual branch 2 x 32
    "phydnet": {
        "downsample": 4,
        "encoder_channels": 16,
        "phy_kernel": 7,
        "hidden_channels": 32,
        "num_layers": 2,
        "kernel_size": 3,
    },
    # 2 x 16 channels over windows of 2 frames, on 8x8 patches. The recall gate attends from
    # every position of the window to every position of all past memories, so its cost grows
    # with the map area squared: at patch 4 (16x16 maps, 512 x up to 9,728 positions) a
    # training step of batch 16, 20 frames of 64x64, one thread, took 54-58 s, 75 % of it in
    # bmm and softmax; at patch 8 (8x8 maps) 3.4-3.5 s (one run each, 2-core EPYC).
    "e3d_lstm": {"hidden_channels": 16, "num_layers": 2, "kernel_size": 3, "patch_size": 8},
    # recurrence-free: context_frames must equal the data's n_context (compare's 10)
    "simvp": {
        "context_frames": 10,
        "spatial_channels": 16,
        "temporal_channels": 128,
        "spatial_layers": 4,
        "temporal_layers": 4,
        "translator": "gsta",
    },
    "tau": {
        "context_frames": 10,
        "spatial_channels": 16,
        "temporal_channels": 128,
        "spatial_layers": 4,
        "temporal_layers": 4,
    },
    "keras_convlstm": {"filters": 16, "num_layers": 2, "kernel_size": 3, "patch_size": 4},
    "fc_lstm": {"frame_size": 64, "hidden_size": 256, "conditional": True},
}

#: models compared without a cell, and why no registered cell can be swapped in
FIXED_CELL: dict[str, str] = {
    "e3d_lstm": "its Eidetic 3D LSTM cell is the model (3D windows of frames, a recall gate "
    "over past memories), so no registered cell can be swapped in",
    "simvp": "no recurrent cell (a convolutional translator over all context frames)",
    "tau": "no recurrent cell (a convolutional translator with temporal attention)",
}

#: registered models that ``framecast compare`` leaves out, and why
NOT_COMPARED: dict[str, str] = {
    "side_input": "a wrapper that feeds a side input (e.g. radio) to another model; "
    "compare the model it wraps, or use `framecast quake run` with an aux: section",
    "etas_residual": "a wrapper that corrects an ETAS rate forecast, for seismicity frames "
    "with an etas channel; use `framecast quake run` with an etas_input: section",
}

DATA_PRESETS: dict[str, dict[str, Any]] = {
    "mmnist": {
        "name": "moving_mnist",
        "split_options": {
            "train": {"num_sequences": 10000},
            "val": {"num_sequences": 64},
            "test": {"num_sequences": 256},
        },
    },
    "squares": {
        "name": "moving_squares",
        "split_options": {
            "train": {"num_sequences": 10000},
            "val": {"num_sequences": 64},
            "test": {"num_sequences": 256},
        },
    },
}


def data_preset(name: str) -> dict[str, Any]:
    """The data section for ``name``: a preset above, or a registered dataset as it is."""
    if name in DATA_PRESETS:
        return {**DATA_PRESETS[name]}
    from framecast.data import DATASETS

    DATASETS.get(name)  # raises with the valid names
    return {"name": name}


def model_preset(name: str) -> dict[str, Any]:
    """Options of model ``name`` for comparisons (the model's defaults if it has no preset)."""
    from framecast.models import MODELS

    MODELS.get(name)  # raises with the valid names
    return dict(MODEL_PRESETS.get(name.lower(), {}))
