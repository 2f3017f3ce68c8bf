"""The radio demo's settings (step budget, one seed for everything) and its headline section."""

from __future__ import annotations

import numpy as np
import pytest
from radio_testing import tiny_world

from framecast.cli import main
from framecast.quake.frames import SeismicityFrames
from framecast.quake.radio.demo import radio_demo_settings
from framecast.quake.radio.experiment import GAIN_PAIRS, gain_section
from framecast.quake.rates import RateForecast


def test_seed_and_steps_reach_every_part(tmp_path):
    experiment, aux = radio_demo_settings(tmp_path / "demo", steps=7, seed=2)
    train = experiment.network.config.train
    assert (train.max_steps, train.max_minutes, train.seed) == (7, None, 2)
    assert experiment.catalog.seed == 2
    assert aux.synthetic["seed"] == 2 and aux.shuffle_seed == 3
    assert aux.injection == "log_rate"
    again, other = radio_demo_settings(tmp_path / "demo", synthetic={"lead_days": 2.0}, seed=0)
    assert again.catalog.seed == 0 and other.synthetic == {"seed": 0, "lead_days": 2.0}
    assert other.shuffle_seed == 1
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "0"], "steps must be a positive integer, got 0"),
        (["--seed", "-1"], "seed must be an integer >= 0, got -1"),
        (["--probability", "1.5"], "probability must be in [0, 1], got 1.5"),
    ],
)
def test_bad_demo_options_fail_in_one_line_before_anything_is_written(
    tmp_path, capsys, args, message
):
    out = tmp_path / "demo"
    assert main(["quake", "radio", "demo", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def _forecast(name: str, frames: SeismicityFrames, rates: np.ndarray) -> RateForecast:
    return RateForecast(
        name=name,
        rates=rates,
        window_start=frames.bin_start,
        window_days=frames.bin_days,
        grid=frames.grid,
        mc=frames.mc,
        b_value=1.0,
    )


def test_gain_section_reports_the_three_pairs_and_reads_them(tmp_path):
    frames_path, _ = tiny_world(tmp_path)
    frames = SeismicityFrames.load(frames_path)
    counts = frames.channel("count").astype(float)  # (T, H, W)
    total = counts.sum(axis=(1, 2), keepdims=True)  # (T, 1, 1) events per bin
    base = np.full_like(counts, counts.mean()) + 1e-3
    # "with" knows how many events each bin holds (a perfect precursor of "when")
    informed = base * (total + 0.5) / base.sum(axis=(1, 2), keepdims=True)
    shuffled = informed[np.random.default_rng(0).permutation(len(informed))]
    forecasts = {
        "without_radio": _forecast("without_radio", frames, base),
        "with_radio": _forecast("with_radio", frames, informed),
        "shuffled_radio": _forecast("shuffled_radio", frames, shuffled),
    }
    section, summary = gain_section(forecasts, frames, block_days=28.0, seed=0)
    for key, over in GAIN_PAIRS:
        entry = summary[f"{key}_over_{over}"]
        assert entry["name_a"] == key and entry["name_b"] == over
        assert f"| {key} | {over} | {entry['information_gain']:+.4f} |" in section
    assert summary["with_radio"] is summary["with_radio_over_without_radio"]
    verdict = summary["verdict"]
    assert verdict["radio_helps"] == (summary["with_radio"]["lower"] > 0)
    assert verdict["radio_helps"] and verdict["radio_beats_control"]
    assert verdict["control_clean"] == (not summary["shuffled_radio"]["significant"])
    assert "it does" in section and f"({int(counts.sum()):,} observed)" in section


def test_radio_synthetic_yaml_is_the_demo():
    import dataclasses
    from pathlib import Path

    from framecast.quake.radio.aux_section import receiver_from
    from framecast.quake.radio.cli import load_comparison

    root = Path(__file__).parents[3]
    experiment, aux = load_comparison(root / "configs/quake/radio_synthetic.yaml", [])
    demo, demo_aux = radio_demo_settings(Path(experiment.out_dir))
    assert experiment.to_dict() == demo.to_dict()
    # the same receiver (the file spells out the defaults the demo takes)
    assert receiver_from(aux.synthetic) == receiver_from(demo_aux.synthetic)
    assert dataclasses.replace(aux, synthetic={}) == dataclasses.replace(demo_aux, synthetic={})
