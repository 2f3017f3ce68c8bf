"""Validation and test score predictions by one rule: clamped to the dataset's range."""

from __future__ import annotations

import math

import torch
from framecast_testing import tiny_run_config

import framecast.training.run as run_file
from framecast.config import config_from_dict
from framecast.training import train
from framecast.training.module import ForecastModule


def _module(tmp_path) -> ForecastModule:
    raw = tiny_run_config(tmp_path)
    raw["model"]["in_channels"] = 1
    raw["model"]["options"]["output_bias"] = 2.0  # predictions well above 1
    return ForecastModule(config_from_dict(raw).to_dict())


def _val_mse(module: ForecastModule, batch) -> float:
    logged: dict[str, torch.Tensor] = {}
    module.log = lambda name, value, **kw: logged.__setitem__(name, value)  # type: ignore[method-assign]
    module.validation_step(batch, 0)
    return float(logged["val_mse_per_frame_sum"])


def test_val_mse_clamps_to_the_data_range_as_evaluation_does(tmp_path):
    from framecast.evaluation import evaluate

    module = _module(tmp_path).eval()
    g = torch.Generator().manual_seed(0)
    batch = (torch.rand(2, 3, 1, 16, 16, generator=g), torch.rand(2, 2, 1, 16, 16, generator=g))
    with torch.no_grad():
        raw_pred = module.model(batch[0], 2)
        assert raw_pred.max() > 1.5  # clamping matters here
        module.data_range = 1.0
        clamped = _val_mse(module, batch)
        ev = evaluate({"m": module.model}, [batch], data_range=1.0, metrics=("mse_per_frame_sum",))
        assert math.isclose(clamped, ev.results["m"]["mse_per_frame_sum"]["mean"], rel_tol=1e-6)

        module.data_range = None  # counts: no upper clip
        unclamped = _val_mse(module, batch)
        expected = (raw_pred.clamp(min=0) - batch[1]).pow(2).sum(dim=(2, 3, 4)).mean()
        assert math.isclose(unclamped, float(expected), rel_tol=1e-6)
        assert unclamped > clamped


def test_train_takes_the_validation_range_from_the_dataset(tmp_path, monkeypatch):
    make = run_file.make_dataset

    def counts(config, split):  # the same frames, stated as unbounded counts
        dataset = make(config, split)
        dataset.value_range = (0.0, math.inf)
        return dataset

    monkeypatch.setattr(run_file, "make_dataset", counts)
    result = train(config_from_dict(tiny_run_config(tmp_path, train={"max_steps": 1})))
    assert result.module.data_range is None


def test_train_on_video_validates_in_zero_one(tmp_path):
    result = train(config_from_dict(tiny_run_config(tmp_path, train={"max_steps": 1})))
    assert result.module.data_range == 1.0
