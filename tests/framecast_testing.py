"""Tiny model and run configs shared by the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

QUAKE_EXPERIMENT = """
out_dir: {out}
catalog: {{simulate: true, seed: 1}}
frames: {{region: "33,34,-117,-116", cell: 0.125, start: "2000-01-01", end: "2004-01-01",
         bin_days: 7, mc: 2.0}}
periods: {{val_start: "2002-01-01", test_start: "2003-01-01"}}
network: {{model: {{name: predrnn, options: {{patch_size: 2}}}}, train: {{max_steps: 2}}}}
etas: {{mode: simulation}}
"""
"""A small quake experiment (an 8 x 8 grid, weekly bins, simulated ETAS); ``{out}``: its out_dir."""


def write_quake_experiment(folder: Path, text: str = QUAKE_EXPERIMENT) -> Path:
    """``folder / "exp.yaml"`` holding ``text`` with the out_dir ``folder / "out"``."""
    path = folder / "exp.yaml"
    path.write_text(text.format(out=folder / "out"))
    return path


# The smallest useful options of every model of the core (core_models()); a model
# added without an entry here fails the contract tests on purpose.
TINY_MODEL_OPTIONS: dict[str, dict[str, Any]] = {
    "predrnn": {"hidden_channels": 4, "num_layers": 2, "kernel_size": 3, "patch_size": 2},
    "predrnn_pp": {"hidden_channels": 4, "num_layers": 2, "kernel_size": 3, "patch_size": 2},
    "predrnn_v2": {"hidden_channels": 4, "num_layers": 2, "kernel_size": 3, "patch_size": 2},
    "mim": {"hidden_channels": 4, "num_layers": 3, "kernel_size": 3, "patch_size": 2},
    "e3d_lstm": {"hidden_channels": 4, "num_layers": 2, "kernel_size": 3, "patch_size": 2},
    "phydnet": {
        "downsample": 2,
        "encoder_channels": 4,
        "norm_groups": 2,
        "phy_kernel": 3,
        "hidden_channels": 4,
        "num_layers": 2,
        "kernel_size": 3,
    },
    "simvp": {
        "context_frames": 3,
        "spatial_channels": 4,
        "temporal_channels": 8,
        "spatial_layers": 2,
        "temporal_layers": 2,
        "mlp_ratio": 2.0,
    },
    "tau": {
        "context_frames": 3,
        "spatial_channels": 4,
        "temporal_channels": 8,
        "spatial_layers": 2,
        "temporal_layers": 2,
        "mlp_ratio": 2.0,
    },
    "persistence": {},
    "blank": {},
    "best_constant": {"value": 0.25},
    "mean_frame": {"frame": [[[0.125 * ((r + c) % 3) for c in range(8)] for r in range(8)]]},
    "flow": {},
    "fc_lstm": {"frame_size": 8, "hidden_size": 4},
    "prednet": {"stack_channels": [1, 2], "r_channels": [2, 2], "kernel_size": 3},
    "encoder_forecaster": {
        "hidden_channels": 2,
        "num_layers": 2,
        "kernel_size": 3,
        "patch_size": 2,
    },
    "keras_convlstm": {"filters": 2, "num_layers": 2, "kernel_size": 3, "patch_size": 2},
    "side_input": {
        "model": "predrnn",
        "model_options": {"hidden_channels": 4, "num_layers": 1, "kernel_size": 3, "patch_size": 2},
        "side_shape": [2, 4, 4],
        "side_channels": 0,
        "side_dim": 2,
    },
    "stvae": {
        "encoder_channels": 2,
        "encoder_kernel": 3,
        "hidden_channels": 2,
        "kernel_size": 3,
        "flow_channels": 2,
        "flow_kernel": 3,
        "decoder_kernel": 3,
    },
}


def core_models() -> list[str]:
    """Names of the core's models (not those an application adds, such as ``etas_residual``).

    The contract tests run over these; an application tests its own models.
    """
    from framecast.models import MODELS
    from framecast.plugins import is_application

    return [name for name in MODELS.available() if not is_application(MODELS.source(name))]


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


def learning_check(
    model_name: str,
    options: dict[str, Any],
    *,
    steps: int = 60,
    lr: float = 1e-2,
    n_context: int = 4,
    n_target: int = 4,
    batch_size: int = 8,
    seed: int = 0,
) -> dict[str, float]:
    """Train a model briefly on tiny moving squares and measure validation MSE.

    Returns the per-pixel MSE of its forecasts on 16 validation sequences at
    initialisation (``initial``), after ``steps`` Adam steps on its own
    :meth:`training_loss` (``trained``), and of persistence (``persistence``).
    """
    import torch

    from framecast.data import build_dataset
    from framecast.models import Persistence, build_model
    from framecast.training.losses import mse_loss

    torch.manual_seed(seed)
    kw = {"n_context": n_context, "n_target": n_target}
    train_ds = build_dataset("moving_squares", "train", **kw, options={"num_sequences": 64})
    val_ds = build_dataset("moving_squares", "val", **kw, options={"num_sequences": 16})
    val_ctx = torch.stack([val_ds[i][0] for i in range(len(val_ds))])
    val_tgt = torch.stack([val_ds[i][1] for i in range(len(val_ds))])
    model = build_model(model_name, 1, options)

    def val_mse(m: Any) -> float:
        m.eval()
        with torch.no_grad():
            return float(mse_loss(m(val_ctx, n_target).clamp(0, 1), val_tgt))

    initial = val_mse(model)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        model.train()
        idx = torch.randint(len(train_ds), (batch_size,), generator=gen).tolist()
        ctx = torch.stack([train_ds[i][0] for i in idx])
        tgt = torch.stack([train_ds[i][1] for i in idx])
        loss = model.training_loss(ctx, tgt, mse_loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"initial": initial, "trained": val_mse(model), "persistence": val_mse(Persistence(1))}


def tiny_comparison(
    models: list[str],
    cells: list[str],
    out: Path,
    budget: str = "2steps",
    *,
    model_options: dict[str, dict[str, Any]] | None = None,
    num_sequences: int = 16,
    **kw: Any,
) -> Path:
    """``run_comparison`` of ``models`` x ``cells`` at test size: 3 frames in and 2 out,
    ``num_sequences`` moving squares a split, tiny models (default: a 1-layer PredRNN of 4
    channels; each pair evaluates in about a second); returns ``comparison.md``."""
    from framecast.experiments.compare import run_comparison

    tiny = model_options
    if tiny is None:
        tiny = {
            "predrnn": {"hidden_channels": 4, "num_layers": 1, "kernel_size": 3, "patch_size": 4}
        }
    return run_comparison(
        models,
        cells,
        "moving_squares",
        budget,
        out,
        batch_size=4,
        n_context=3,
        n_target=2,
        model_options=tiny,
        data_options={"num_sequences": num_sequences},
        **kw,
    )
