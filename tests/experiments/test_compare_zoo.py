"""framecast compare over the whole model zoo: presets, planning, and a table row per pair."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from framecast_testing import TINY_MODEL_OPTIONS, tiny_comparison

from framecast.experiments.compare import plan_pairs, run_comparison
from framecast.experiments.presets import FIXED_CELL, MODEL_PRESETS, NOT_COMPARED, model_preset
from framecast.models import MODELS, build_model, compatible_cells

CELLS = ["convlstm", "stlstm"]
# the comparable models: trainable and not left out by compare
COMPARED = [m for m in MODELS.available() if MODELS.get(m).trainable and m not in NOT_COMPARED]


def _expected_pairs(models: list[str], cells: list[str]) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for m in models:
        if m not in COMPARED:
            continue
        if MODELS.get(m).uses_cell:
            pairs += [(m, c) for c in cells if c in compatible_cells(m)]
        else:
            pairs.append((m, None))
    return pairs


def _table_pairs(out: Path) -> list[tuple[str, str | None]]:
    with (out / "comparison.csv").open() as fh:
        return [(r["model"], None if r["cell"] == "-" else r["cell"]) for r in csv.DictReader(fh)]


def _compare(models: list[str], out: Path, **kw):
    """A comparison on tiny moving squares: tiny models, 2 steps, 8 sequences per split."""
    tiny = {m: TINY_MODEL_OPTIONS[m] for m in models if m in TINY_MODEL_OPTIONS}
    # the tiny options are merged over the presets: undo the preset values they do not fit
    if "prednet" in tiny:
        tiny["prednet"] = {**tiny["prednet"], "patch_size": 1}  # stack_channels[0] = 1
    if "fc_lstm" in tiny:
        tiny["fc_lstm"] = {**tiny["fc_lstm"], "frame_size": 40}  # moving squares are 40x40
    cells = kw.pop("cells", CELLS)
    return tiny_comparison(models, cells, out, model_options=tiny, num_sequences=8, **kw)


@pytest.mark.parametrize("name", COMPARED)
def test_every_compared_model_has_a_preset_that_builds(name: str):
    assert name in MODEL_PRESETS, f"{name} has no compare preset in MODEL_PRESETS"
    options = model_preset(name)
    cells = compatible_cells(name)
    if cells:  # the preset must build with each of the cells compare uses
        options["cell"] = "stlstm" if "stlstm" in cells else cells[0]
    model = build_model(name, 1, options)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # "two layers of 32 channels or the like": tens of times below the papers' millions
    # (SimVP/TAU: 16 spatial and 128 translator channels, 1.0-1.6 M; fc_lstm aside: flattened
    # 64x64 frames through LSTMs of 256)
    assert 10_000 < params < (20_000_000 if name == "fc_lstm" else 2_000_000), (name, params)


def test_plan_over_every_model_explains_each_pair_left_out():
    models = MODELS.available()
    pairs, notes = plan_pairs(models, CELLS)
    assert pairs == _expected_pairs(models, CELLS)
    for m in models:
        for c in CELLS:
            if (m, c) in pairs or ((m, None) in pairs and not MODELS.get(m).uses_cell):
                continue
            # every (model, cell) not run has a note that starts with the model's name
            assert any(n.startswith(f"{m} with {c}:") or n.startswith(f"{m}:") for n in notes), (
                m,
                c,
            )
    for m, why in FIXED_CELL.items():
        assert f"{m}: one row whatever the cells; {why}" in notes
    assert any(n.startswith("side_input: left out;") for n in notes)
    assert "mim with convlstm: mim runs only causal_lstm, stlstm" in notes


def test_compare_of_three_zoo_models_has_a_row_per_compatible_pair(tmp_path: Path):
    # a subprocess per pair (~10 s of CPU each, mostly imports): three pairs, two at a time
    models = ["mim", "simvp", "e3d_lstm"]
    out = tmp_path / "cmp"
    text = _compare(models, out, jobs=2).read_text()
    assert _table_pairs(out) == _expected_pairs(models, CELLS)
    assert "| mim | stlstm |" in text and "| simvp | - |" in text
    assert "mim with convlstm: mim runs only" in text
    assert "e3d_lstm: one row whatever the cells" in text
    with (out / "comparison.csv").open() as fh:
        for row in csv.DictReader(fh):
            assert int(row["params"]) > 0 and float(row["mse_ratio_to_persistence"]) > 0
            assert int(row["steps"]) == 2  # the budget, read back from the pair's checkpoint


@pytest.mark.slow
def test_compare_of_every_model_has_a_row_per_compatible_pair(tmp_path: Path):
    models = MODELS.available()
    cells = [*CELLS, "lstm"]  # fc_lstm's cell, so that it gets its row too
    out = tmp_path / "cmp"
    text = _compare(models, out, cells=cells, jobs=2).read_text()
    expected = _expected_pairs(models, cells)
    assert ("fc_lstm", "lstm") in expected and len(expected) > 15
    assert _table_pairs(out) == expected
    assert "| persistence | - | 0 |" in text and "side_input: left out;" in text


def test_only_left_out_models_fail_in_one_line_and_write_nothing(tmp_path: Path):
    out = tmp_path / "cmp"
    with pytest.raises(ValueError, match=r"no \(model, cell\) pair.*side_input: left out;") as e:
        _compare(["side_input", "persistence"], out)
    assert "\n" not in str(e.value)
    assert not out.exists()


def test_bad_preset_options_fail_before_any_pair_trains(tmp_path: Path):
    out = tmp_path / "cmp"
    with pytest.raises(TypeError, match=r"model .mim. got unknown option\(s\) \[.hiden.\]"):
        run_comparison(
            ["mim"], CELLS, "moving_squares", "2steps", out, model_options={"mim": {"hiden": 3}}
        )
    with pytest.raises(ValueError, match=r"context_frames=10 must equal .* n_context=3"):
        run_comparison(["tau"], CELLS, "moving_squares", "2steps", out, n_context=3)
    assert not out.exists()
