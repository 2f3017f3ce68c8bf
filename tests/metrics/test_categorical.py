"""CSI and FSS (pySTEPS definitions): hand-made fields, pySTEPS formulas, evaluate."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from framecast.evaluation import evaluate
from framecast.metrics import (
    CategoricalMetrics,
    check_fss_scales,
    check_thresholds,
    critical_success_index,
    fractions_skill_score,
)
from framecast.metrics.categorical import contingency_counts, neighbourhood_fractions
from framecast.models import build_model
from framecast.reporting import write_report

SCALES = (1, 2, 3, 4, 9, 40)  # even ones and one wider than the field


def _field(h: int = 5, w: int = 5, *pixels: tuple[int, int]) -> Tensor:
    """A (1, 1, 1, h, w) field, 1.0 at ``pixels`` and 0 elsewhere."""
    field = torch.zeros(1, 1, 1, h, w)
    for row, col in pixels:
        field[..., row, col] = 1.0
    return field


def test_identical_fields_score_one():
    field = torch.rand(2, 3, 1, 12, 12, generator=torch.Generator().manual_seed(0))
    for threshold in (0.0, 0.3, 0.9):
        assert critical_success_index(field, field, threshold) == 1.0
        for scale in SCALES:
            assert fractions_skill_score(field, field, threshold, scale) == pytest.approx(1.0)


def test_disjoint_single_pixels():
    observed = _field(5, 5, (2, 1))
    forecast = _field(5, 5, (2, 3))
    # one miss, one false alarm, no hit
    assert contingency_counts(forecast, observed, 0.5)[:, 0].tolist() == [0, 1, 1, 23]
    assert critical_success_index(forecast, observed, 0.5) == 0.0
    assert fractions_skill_score(forecast, observed, 0.5, 1) == 0.0
    # scale 2 (window [i - 1, i]): the fractions still do not overlap
    assert fractions_skill_score(forecast, observed, 0.5, 2) == 0.0
    # scale 5 (window [i - 2, i + 2]): P_o = 1/25 on all rows and columns 0-3, P_f on
    # columns 1-4; sum P_f^2 = sum P_o^2 = 20/625, sum P_f P_o = 15/625 (columns 1-3):
    # FSS = 1 - (20 - 30 + 20) / 40 = 0.75
    assert fractions_skill_score(forecast, observed, 0.5, 5) == pytest.approx(0.75, abs=1e-12)
    # scale 9 covers the whole 5x5 field from every pixel: equal fractions everywhere
    assert fractions_skill_score(forecast, observed, 0.5, 9) == pytest.approx(1.0, abs=1e-12)


def test_a_field_against_an_all_zero_forecast():
    observed = _field(6, 6, (1, 1), (1, 2), (4, 4))
    blank = torch.zeros_like(observed)
    assert contingency_counts(blank, observed, 0.5)[:, 0].tolist() == [0, 3, 0, 33]
    assert critical_success_index(blank, observed, 0.5) == 0.0
    for scale in SCALES:
        assert fractions_skill_score(blank, observed, 0.5, scale) == 0.0
    # no event in either field: both scores are undefined
    assert math.isnan(critical_success_index(blank, blank, 0.5))
    assert math.isnan(fractions_skill_score(blank, blank, 0.5, 3))


def test_event_definitions_follow_pysteps():
    """CSI counts value > thr (det_cat_fct_accum), FSS value >= thr (fss_accum)."""
    at = torch.full((1, 1, 1, 3, 3), 0.5)
    below = torch.zeros_like(at)
    assert math.isnan(critical_success_index(at, at, 0.5))  # 0.5 > 0.5 is no event
    assert fractions_skill_score(below, at, 0.5, 1) == 0.0  # 0.5 >= 0.5 is an event


def _pysteps_fss(forecast: np.ndarray, observed: np.ndarray, thr: float, scale: int) -> float:
    """pySTEPS fss_init / fss_accum / fss_compute written out, over every 2-D field."""
    from scipy.ndimage import uniform_filter

    sum_fct_sq = sum_fct_obs = sum_obs_sq = 0.0
    for x_f, x_o in zip(
        forecast.reshape(-1, *forecast.shape[-2:]),
        observed.reshape(-1, *observed.shape[-2:]),
        strict=True,
    ):
        i_f = (x_f >= thr).astype(float)
        i_o = (x_o >= thr).astype(float)
        if scale > 1:
            s_f = uniform_filter(i_f, size=scale, mode="constant", cval=0.0)
            s_o = uniform_filter(i_o, size=scale, mode="constant", cval=0.0)
        else:
            s_f, s_o = i_f, i_o
        sum_obs_sq += np.nansum(s_o**2)
        sum_fct_obs += np.nansum(s_f * s_o)
        sum_fct_sq += np.nansum(s_f**2)
    numer = sum_fct_sq - 2.0 * sum_fct_obs + sum_obs_sq
    denom = sum_fct_sq + sum_obs_sq
    return 1.0 - numer / denom


def _pysteps_csi(forecast: np.ndarray, observed: np.ndarray, thr: float) -> float:
    """pySTEPS det_cat_fct(pred, obs, thr, "CSI") written out."""
    predb, obsb = forecast > thr, observed > thr
    hits = np.sum(predb & obsb)
    misses = np.sum(~predb & obsb)
    false_alarms = np.sum(predb & ~obsb)
    return hits / (hits + misses + false_alarms)


def test_random_fields_match_the_pysteps_formulas():
    pytest.importorskip("scipy")
    generator = torch.Generator().manual_seed(3)
    shape = (3, 4, 2, 13, 11)  # (B, T, C, H, W): odd sizes, two channels
    observed = torch.rand(shape, generator=generator) ** 2
    forecast = (observed + 0.3 * torch.randn(shape, generator=generator)).clamp(0.0, 1.0)
    thresholds, scales = (0.1, 0.25, 0.5), (1, 2, 3, 4, 9, 40)
    metrics = CategoricalMetrics(thresholds, scales, data_range=1.0)
    metrics.update(forecast[:1], observed[:1])  # two batches: accumulate, then compute
    metrics.update(forecast[1:], observed[1:])
    result = metrics.compute()
    f, o = forecast.numpy().astype(np.float64), observed.numpy().astype(np.float64)
    for thr in thresholds:
        csi = result[f"csi@{thr:g}"]
        assert csi["mean"] == pytest.approx(_pysteps_csi(f, o, thr), abs=1e-12)
        for k in range(shape[1]):
            expected = _pysteps_csi(f[:, k], o[:, k], thr)
            assert csi["curve"][k] == pytest.approx(expected, abs=1e-12)
        assert csi["hits"] + csi["misses"] + csi["false_alarms"] + csi["correct_negatives"] == (
            observed.numel()
        )
        for scale in scales:
            fss = result[f"fss@{thr:g}/{scale}px"]
            assert fss["mean"] == pytest.approx(_pysteps_fss(f, o, thr, scale), abs=1e-12)
            for k in range(shape[1]):
                expected = _pysteps_fss(f[:, k], o[:, k], thr, scale)
                assert fss["curve"][k] == pytest.approx(expected, abs=1e-12)
    assert list(result)[:3] == ["csi@0.1", "fss@0.1/1px", "fss@0.1/2px"]


def test_fractions_equal_scipy_uniform_filter():
    pytest.importorskip("scipy")
    from scipy.ndimage import uniform_filter

    events = torch.rand(4, 9, 14, generator=torch.Generator().manual_seed(5)) > 0.6
    for scale in (1, 2, 3, 4, 5, 8, 30):
        got = neighbourhood_fractions(events, scale).numpy()  # (4, 9, 14)
        expected = np.stack(
            [uniform_filter(e.double().numpy(), size=scale, mode="constant") for e in events]
        )
        np.testing.assert_allclose(got, expected, atol=1e-14)


def test_bad_thresholds_and_scales_are_refused_in_one_line():
    cases = [
        (
            lambda: check_thresholds([1.5], 1.0),
            r"threshold 1\.5 is outside the data range \[0, 1\]",
        ),
        (lambda: check_thresholds([-0.1], 1.0), r"threshold -0\.1 is outside the data range"),
        (lambda: check_thresholds([float("nan")], 1.0), r"threshold nan is outside"),
        (lambda: check_thresholds([-1.0], None), r"\[0, inf\]"),
        (lambda: check_thresholds([0.2, 0.2], 1.0), "unique"),
        (lambda: check_fss_scales([0]), "at least 1 pixel, got 0"),
        (lambda: check_fss_scales([]), "empty"),
        (lambda: check_fss_scales([3, 3]), "unique"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as err:
            call()
        assert "\n" not in str(err.value)
    with pytest.raises(TypeError):
        check_fss_scales([1.5])
    with pytest.raises(TypeError):
        check_thresholds(0.5, 1.0)  # type: ignore[arg-type]
    assert check_thresholds([0, 1], 1.0) == (0.0, 1.0)  # the ends of the range are allowed
    assert check_thresholds([250.0], None) == (250.0,)  # counts: no upper bound


# --- evaluate: the table and metrics.json carry CSI and FSS of every model -----------------

H = W = 16
TC = TF = 3


class Squares(Dataset):
    """A 4x4 square moving one pixel right per frame, ``(context, target)`` items."""

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        frames = torch.zeros(TC + TF, 1, H, W)
        for t in range(TC + TF):
            frames[t, 0, 5:9, 2 + t : 6 + t] = 1.0
        return frames[:TC], frames[TC:]


class Unscorable:
    """A loader that fails if evaluate ever reads a batch."""

    dataset = Squares()

    def __iter__(self):
        raise AssertionError("a batch was read before the thresholds were checked")


def test_evaluate_reports_csi_and_fss_per_model(tmp_path: Path):
    models = {name: build_model(name, 1) for name in ("persistence", "blank", "flow")}
    loader = DataLoader(Squares(), batch_size=2)
    evaluation = evaluate(models, loader, thresholds=[0.5], fss_scales=[1, 3])
    report = write_report(evaluation, tmp_path, "persistence")
    tables = report.table.split("\n\n")
    assert len(tables) == 2
    assert tables[1].splitlines()[0] == "| model | csi@0.5 | fss@0.5/1px | fss@0.5/3px |"
    assert len(tables[1].splitlines()) == 2 + len(models)
    # persistence of a 16-pixel square that moves 1 pixel per frame: at lead k, 16 - 4k hits,
    # 4k misses and 4k false alarms: CSI (12 + 8 + 4) / (20 + 24 + 28) = 1/3 over the split
    persistence = evaluation.results["persistence"]["csi@0.5"]
    assert persistence["curve"] == pytest.approx([12 / 20, 8 / 24, 4 / 28])
    assert persistence["mean"] == pytest.approx(24 / 72)
    assert "| persistence | 0.3333 |" in tables[1]
    assert "| blank | 0 | 0 | 0 |" in tables[1]
    saved = json.loads(report.metrics_json.read_text())
    assert saved["thresholds"] == [0.5] and saved["fss_scales"] == [1, 3]
    for name in models:
        assert set(saved["models"][name]) >= {"csi@0.5", "fss@0.5/1px", "fss@0.5/3px"}
    assert saved["models"]["blank"]["csi@0.5"]["hits"] == 0
    assert saved["models"]["persistence"]["fss@0.5/3px"]["mean"] == pytest.approx(
        evaluation.results["persistence"]["fss@0.5/3px"]["mean"]
    )
    # without thresholds nothing changes: one table, no categorical keys
    plain = evaluate(models, loader)
    assert not any(key.startswith(("csi@", "fss@")) for key in plain.results["blank"])


def test_evaluate_refuses_a_threshold_outside_the_data_range_before_scoring():
    models = {"blank": build_model("blank", 1)}
    with pytest.raises(ValueError, match=r"^threshold 2 is outside the data range \[0, 1\]") as err:
        evaluate(models, Unscorable(), thresholds=[0.5, 2.0])  # type: ignore[arg-type]
    assert "\n" not in str(err.value)
    # within a stated range the same threshold passes the check and scoring starts
    with pytest.raises(AssertionError, match="a batch was read"):
        evaluate(models, Unscorable(), data_range=3.0, thresholds=[2.0])  # type: ignore[arg-type]
