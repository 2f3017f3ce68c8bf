"""The trivial baselines on hand-made sequences with known answers, and their bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from framecast.baselines import (
    TRIVIAL_BASELINES,
    best_trivial,
    fit_training_means,
    skill_score,
    skill_scores,
    trivial_baselines,
    verdict_lines,
)
from framecast.config import DataConfig
from framecast.evaluation import evaluate, format_table
from framecast.models import build_model
from framecast.models.trivial import motion_field, semi_lagrangian

H = W = 16
TC, TF = 4, 4


class Sequences(Dataset):
    """Items ``(context, target)`` cut from (N, T, C, H, W) frames."""

    def __init__(self, frames: Tensor) -> None:
        self.frames = frames

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return self.frames[i, :TC], self.frames[i, TC:]


def _square(t: int, size: int = 4, row: int = 5, col: int = 3) -> Tensor:
    """A bright square that moves one pixel right per frame, (1, H, W)."""
    frame = torch.zeros(1, H, W)
    frame[0, row : row + size, col + t : col + t + size] = 1.0
    return frame


def _moving_squares(n: int = 2) -> Tensor:
    seq = torch.stack([_square(t) for t in range(TC + TF)])  # (T, 1, H, W)
    return seq.expand(n, -1, -1, -1, -1).clone()  # (N, T, 1, H, W)


def _baselines(train: Tensor) -> dict:
    """Every trivial baseline, the mean frame and constant fitted on ``train``."""
    mean, constant = fit_training_means(Sequences(train))
    options = {
        "mean_frame": {"frame": mean.tolist()},
        "best_constant": {"value": constant},
    }
    return {n: build_model(n, 1, options.get(n, {})) for n in TRIVIAL_BASELINES}


def _mse(frames: Tensor, baselines: dict) -> dict[str, float]:
    ev = evaluate(baselines, DataLoader(Sequences(frames), batch_size=2), data_range=1.0)
    return {name: res["mse_per_frame_sum"]["mean"] for name, res in ev.results.items()}


def test_on_a_blank_sequence_every_baseline_is_exact():
    frames = torch.zeros(2, TC + TF, 1, H, W)
    mse = _mse(frames, _baselines(frames))
    assert mse == dict.fromkeys(TRIVIAL_BASELINES, 0.0)
    # a perfect trivial forecast leaves no skill to measure
    assert np.isnan(skill_score(0.0, 0.0))


def test_on_a_constant_sequence_the_best_constant_and_mean_frame_are_exact():
    frames = torch.full((3, TC + TF, 1, H, W), 0.3)
    mean, constant = fit_training_means(Sequences(frames))
    assert constant == pytest.approx([0.3], abs=1e-7)
    np.testing.assert_allclose(mean, 0.3, atol=1e-7)
    mse = _mse(frames, _baselines(frames))
    for name in ("persistence", "mean_frame", "best_constant", "flow"):
        assert mse[name] == pytest.approx(0.0, abs=1e-9), name
    assert mse["blank"] == pytest.approx(0.09 * H * W, rel=1e-5)  # 0.3^2 on every pixel
    assert best_trivial({n: {"mse_per_frame_sum": {"mean": v}} for n, v in mse.items()}) in mse


def test_the_best_constant_is_the_training_mean_intensity():
    gen = torch.Generator().manual_seed(0)
    frames = torch.rand(5, TC + TF, 2, 4, 4, generator=gen)  # (N, T, C, H, W)
    mean, constant = fit_training_means(Sequences(frames))
    expected = frames.double().mean(dim=(0, 1))  # (C, H, W)
    np.testing.assert_allclose(mean, expected.numpy(), atol=1e-12)
    np.testing.assert_allclose(constant, expected.mean(dim=(1, 2)).numpy(), atol=1e-12)
    # no other constant has a lower MSE on the training frames
    best = float(((frames[:, :, 0] - constant[0]) ** 2).mean())
    for shift in (-0.01, 0.01):
        assert best < float(((frames[:, :, 0] - constant[0] - shift) ** 2).mean())


def test_flow_advects_a_moving_square_and_beats_persistence():
    frames = _moving_squares()
    context, target = frames[:, :TC], frames[:, TC:]
    forecast = build_model("flow", 1)(context, TF)  # (B, TF, 1, H, W)
    assert forecast.shape == target.shape
    assert (forecast - target).abs().max() < 1e-3
    mse = _mse(frames, _baselines(frames))
    assert mse["flow"] < 1e-4
    # persistence misses the 4 leading and 4 trailing pixels per step of lead
    assert mse["persistence"] == pytest.approx(8 * (1 + 2 + 3 + 4) / TF)
    assert mse["flow"] < mse["persistence"]
    # TV-L1 flow is smoother at the square's edges, yet still far better than persistence
    tvl1 = build_model("flow", 1, {"method": "tvl1"})(context, TF)
    assert float(((tvl1 - target) ** 2).sum(dim=(2, 3, 4)).mean()) < 0.5 * mse["persistence"]


def test_motion_field_and_advection_follow_the_motion():
    previous, last = _square(0).double().numpy(), _square(1).double().numpy()
    displacement = motion_field(previous, last)
    # where the square is now, its content came from one column to the left
    np.testing.assert_allclose(displacement[0, 5:9, 4:8], 0.0, atol=1e-6)
    np.testing.assert_allclose(displacement[1, 5:9, 4:8], -1.0, atol=1e-6)
    ahead = semi_lagrangian(last, displacement, 3)  # (3, 1, H, W)
    for k in range(3):
        np.testing.assert_allclose(ahead[k], _square(2 + k).numpy(), atol=1e-6)


def test_skill_scores_and_verdict_name_the_best_trivial_baseline():
    results = {
        "model": {"mse_per_frame_sum": {"mean": 80.0}, "ssim": {"mean": 0.7}},
        "persistence": {"mse_per_frame_sum": {"mean": 200.0}, "ssim": {"mean": 0.6}},
        "blank": {"mse_per_frame_sum": {"mean": 100.0}, "ssim": {"mean": 0.8}},
    }
    best, skills = skill_scores(results)
    assert best == "blank"
    assert skills == pytest.approx({"model": 0.2, "persistence": -1.0, "blank": 0.0})
    lines = verdict_lines(results, "model")
    assert lines == [
        "model beats the best trivial baseline, blank, on MSE per frame (80 vs 100; skill 0.200).",
        "model does NOT beat the best trivial baseline on SSIM, blank (0.700 vs 0.800).",
    ]
    table = format_table(results, ["mse_per_frame_sum"])
    assert "skill vs best trivial (blank)" in table.splitlines()[0]
    assert "| model | 80 | 0.200 |" in table and "| persistence | 200 | -1.000 |" in table


def test_trivial_baselines_fit_on_the_training_split():
    data = DataConfig(
        name="moving_squares",
        n_context=3,
        n_target=2,
        split_options={"train": {"num_sequences": 6}},
    )
    baselines = trivial_baselines(data, 1, max_sequences=4)
    assert list(baselines) == list(TRIVIAL_BASELINES)
    from framecast.training.loaders import make_dataset

    train = make_dataset(data, "train")
    mean, _ = fit_training_means(train, max_sequences=4)
    items = [train[i] for i in (0, 2, 3, 5)]  # 4 evenly spaced of 6
    frames = torch.cat([torch.cat(item, dim=0) for item in items])  # (4 T, C, H, W)
    np.testing.assert_allclose(mean, frames.double().mean(dim=0).numpy(), atol=1e-12)
    only = trivial_baselines(data, 1, names=["blank", "flow"])
    assert list(only) == ["blank", "flow"]


def test_bad_input_is_refused_in_one_line():
    one_frame = torch.rand(2, 1, 1, H, W)
    cases = [
        (
            lambda: build_model("flow", 1)(one_frame, 2),
            "flow needs at least 2 context frames, got 1",
        ),
        (lambda: build_model("flow", 1, {"method": "farneback"}), "'farneback'"),
        (lambda: build_model("best_constant", 1, {"value": [0.1, 0.2]}), r"\[0.1, 0.2\]"),
        (lambda: build_model("best_constant", 1, {"value": float("nan")}), "nan"),
        (lambda: build_model("mean_frame", 1, {"frame": [[0.0]]}), r"got shape \(1, 1\)"),
        (
            lambda: build_model("mean_frame", 1, {"frame": np.zeros((1, 4, 4)).tolist()})(
                torch.rand(1, 3, 1, H, W), 2
            ),
            r"fitted on \(4, 4\) frames, got \(16, 16\)",
        ),
        (lambda: fit_training_means(Sequences(torch.zeros(0, 8, 1, 4, 4))), "no sequences"),
        (lambda: fit_training_means(Sequences(torch.zeros(1, 8, 1, 4, 4)), 0), "got 0"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as err:
            call()
        assert "\n" not in str(err.value)
    data = DataConfig(name="moving_squares", n_context=1, n_target=2)
    with pytest.raises(
        ValueError, match=r"flow needs at least 2 context frames, got data\.n_context=1"
    ):
        trivial_baselines(data, 1, names=["flow"])
    with pytest.raises(ValueError, match=r"unknown trivial baseline\(s\) \['climatology'\]"):
        trivial_baselines(data, 1, names=["climatology"])
    # by default a one-frame context leaves flow out rather than failing the whole table
    assert "flow" not in trivial_baselines(data, 1, names=None, max_sequences=2)
