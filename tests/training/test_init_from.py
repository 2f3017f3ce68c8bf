"""train.init_from: a new run starts from a checkpoint's weights, not its step or optimiser."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from framecast_testing import tiny_run_config

from framecast.config import config_from_dict
from framecast.training import train


def _weights(module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.model.state_dict().items()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("first")
    result = train(config_from_dict(tiny_run_config(out, train={"max_steps": 2})), verbose=False)
    return result.last_checkpoint


class FirstBatch(L.Callback):
    """Records the weights, step and learning rate the first training batch meets."""

    def __init__(self) -> None:
        self.seen: dict[str, object] = {}

    def on_train_start(self, trainer, pl_module) -> None:
        self.seen = {
            "weights": _weights(pl_module),
            "step": trainer.global_step,
            "lr": trainer.optimizers[0].param_groups[0]["lr"],
        }


def test_init_from_loads_the_weights_and_starts_at_step_zero(trained, tmp_path):
    raw = tiny_run_config(tmp_path, train={"max_steps": 1, "init_from": str(trained)})
    first = FirstBatch()
    result = train(config_from_dict(raw), callbacks=[first], verbose=False)
    seen = first.seen
    stored = torch.load(trained, weights_only=True)["state_dict"]
    for key, value in seen["weights"].items():  # type: ignore[union-attr]
        torch.testing.assert_close(value, stored[f"model.{key}"], rtol=0, atol=0, msg=key)
    assert seen["step"] == 0  # the step counter starts again
    assert seen["lr"] == pytest.approx(1e-2)  # a fresh optimiser and schedule
    assert torch.load(result.last_checkpoint, weights_only=True)["global_step"] == 1


def test_init_from_a_run_folder(trained, tmp_path):
    run_dir = trained.parent.parent
    raw = tiny_run_config(tmp_path, train={"max_steps": 1, "init_from": str(run_dir)})
    assert train(config_from_dict(raw), verbose=False).run_dir.is_dir()


def test_init_from_refuses_another_model_in_one_line(trained, tmp_path):
    model = {
        "name": "predrnn",
        "options": {
            "cell": "convlstm",
            "hidden_channels": 4,
            "num_layers": 2,
            "kernel_size": 3,
            "patch_size": 4,
        },
    }
    raw = tiny_run_config(tmp_path, model=model, train={"init_from": str(trained)})
    with pytest.raises(ValueError, match="init_from") as err:
        train(config_from_dict(raw), verbose=False)
    assert "\n" not in str(err.value) and "weights" in str(err.value)
    assert not (tmp_path / "run").exists()  # nothing written


def test_init_from_refuses_another_architecture(trained, tmp_path):
    model = {
        "name": "encoder_forecaster",
        "options": {"hidden_channels": 4, "num_layers": 2, "kernel_size": 3, "patch_size": 4},
    }
    raw = tiny_run_config(tmp_path, model=model, train={"init_from": str(trained)})
    with pytest.raises(ValueError, match=r"holds model 'predrnn'.*'encoder_forecaster'"):
        train(config_from_dict(raw), verbose=False)
    assert not (tmp_path / "run").exists()


def test_init_from_a_missing_checkpoint(tmp_path):
    raw = tiny_run_config(tmp_path, train={"init_from": str(tmp_path / "nothing.ckpt")})
    with pytest.raises(FileNotFoundError, match=r"nothing\.ckpt"):
        train(config_from_dict(raw), verbose=False)


def test_prednet_extrapolation_fine_tune_from_a_t_plus_1_run(tmp_path):
    """The fine-tune path: error-mode weights start an extrapolate_keras run."""
    options = {"stack_channels": [1, 2], "r_channels": [2, 2], "kernel_size": 3}
    first = tiny_run_config(
        tmp_path / "t1",
        model={"name": "prednet", "options": {**options, "train_mode": "error"}},
        train={"max_steps": 1},
    )
    t1 = train(config_from_dict(first), verbose=False).last_checkpoint
    fine = tiny_run_config(
        tmp_path / "extrap",
        model={"name": "prednet", "options": {**options, "train_mode": "extrapolate_keras"}},
        train={"max_steps": 1, "init_from": str(t1)},
    )
    first_batch = FirstBatch()
    train(config_from_dict(fine), callbacks=[first_batch], verbose=False)
    stored = torch.load(t1, weights_only=True)["state_dict"]
    for key, value in first_batch.seen["weights"].items():  # type: ignore[union-attr]
        torch.testing.assert_close(value, stored[f"model.{key}"], rtol=0, atol=0, msg=key)
