from __future__ import annotations

import pytest
from framecast_testing import write_quake_experiment

from framecast.quake.demo import demo_experiment
from framecast.quake.experiment import (
    _claim_out_dir,
    check_patch_fit,
    inverse_activation,
    load_experiment,
)


def test_load_and_override(tmp_path):
    experiment = load_experiment(write_quake_experiment(tmp_path), ["frames.bin_days=1"])
    assert experiment.frames.bin_days == 1.0
    assert experiment.grid().shape == (8, 8)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("periods.val_start=2005-01-01", "frames.start < periods.val_start"),
        ("etas.mode=best", "etas.mode"),
        ("frames.channels=[max_magnitude]", "must include 'count'"),
        ("frames.cell=0.3", "not a whole number"),
        ("catalog.path=x.csv", "exactly one of catalog.path"),
    ],
)
def test_bad_settings_are_refused_before_anything_runs(tmp_path, override, message):
    with pytest.raises(ValueError, match=message):
        load_experiment(write_quake_experiment(tmp_path), [override])
    assert not (tmp_path / "out").exists()


def test_unknown_key_is_refused(tmp_path):
    with pytest.raises(KeyError, match=r"frames\.cells"):
        load_experiment(write_quake_experiment(tmp_path), ["frames.cells=1"])


def test_grid_that_does_not_fit_the_patch_is_refused(tmp_path):
    experiment = load_experiment(
        write_quake_experiment(tmp_path), ["frames.cell=0.2", "network.model.options.patch_size=4"]
    )
    with pytest.raises(ValueError, match=r"5x5 cells.*patch_size=4"):
        check_patch_fit(experiment, experiment.network)


def test_changed_settings_in_the_same_folder_are_refused(tmp_path):
    experiment = load_experiment(write_quake_experiment(tmp_path))
    _claim_out_dir(experiment, restart=False)
    again = load_experiment(write_quake_experiment(tmp_path), ["frames.mc=2.5"])
    with pytest.raises(ValueError, match=r"changed: \['frames.mc'\]"):
        _claim_out_dir(again, restart=False)
    _claim_out_dir(again, restart=True)  # --restart discards the old run


def test_inverse_activation():
    import math

    assert math.exp(inverse_activation(0.01, "exp")) == pytest.approx(0.01)
    assert math.log1p(math.exp(inverse_activation(0.01, "softplus"))) == pytest.approx(0.01)


def test_demo_settings_are_valid(tmp_path):
    experiment = demo_experiment(tmp_path)
    check_patch_fit(experiment, experiment.network)
    assert experiment.etas.mode == "simulation"
