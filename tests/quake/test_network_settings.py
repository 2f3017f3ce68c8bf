"""The ``network:`` and ``aux:`` sections: checked once when the experiment loads, then typed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from framecast_testing import write_quake_experiment
from quake_testing import random_catalog

import framecast.quake.network_settings as network_settings
from framecast.cli import main
from framecast.config import Config
from framecast.quake.experiment import load_experiment
from framecast.quake.frames import grid_catalog
from framecast.quake.radio.aux_section import AuxSection

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "quake"


def test_the_network_is_typed_and_frozen_after_load(tmp_path: Path) -> None:
    network = load_experiment(write_quake_experiment(tmp_path)).network
    assert isinstance(network.config, Config) and network.patch_size == 2
    assert network.config.data.name == "seismicity" and network.config.train.loss == "poisson"
    assert network.config.data.n_context == network_settings.N_CONTEXT
    assert network.config.train.out_dir == str(tmp_path / "out" / "train")
    with pytest.raises(dataclasses.FrozenInstanceError):
        network.patch_size = 4  # type: ignore[misc]


def test_the_stages_use_the_checked_config_without_parsing_it_again(tmp_path, monkeypatch):
    experiment = load_experiment(write_quake_experiment(tmp_path))

    def refuse(*args, **kwargs):
        raise AssertionError("the network section was parsed again after load")

    monkeypatch.setattr(network_settings, "build_dataclass", refuse)
    monkeypatch.setattr(network_settings, "_check_buildable", refuse)
    catalog = random_catalog(80, start="2000-01-01", days=4 * 365)
    frames = grid_catalog(
        catalog, experiment.grid(), start="2000-01-01", end="2004-01-01", bin_days=7, mc=2.0
    )
    config = experiment.network.training_config(frames)
    assert config.model.options["output_bias"] < 0  # the training period's mean rate
    assert experiment.network.config.model.options["output_bias"] == 0.0  # a copy was changed
    assert config is not experiment.network.training_config(frames)


def test_experiment_yaml_keeps_the_sections_as_written(tmp_path: Path) -> None:
    written = yaml.safe_load((CONFIGS / "radio_synthetic.yaml").read_text())
    experiment = load_experiment(CONFIGS / "radio_synthetic.yaml")
    assert isinstance(experiment.aux, AuxSection) and experiment.aux.side_dim == 2
    saved = experiment.to_dict()
    assert saved["network"] == written["network"] and saved["aux"] == written["aux"]
    assert list(saved) == [
        "out_dir",
        "catalog",
        "frames",
        "periods",
        "network",
        "etas",
        "etas_input",
        "evaluation",
        "seeds",
        "aux",
        "ablations",
    ]
    assert load_experiment(write_quake_experiment(tmp_path)).to_dict()["aux"] == {}


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("network.model=3", "network: config section 'network.model' must be a mapping, got 3"),
        ("network.data.options=[1]", "'network.data.options' must be a mapping"),
        ("network=5", "config key 'network' expects a mapping, got 5"),
        ("aux=[1]", "config key 'aux' expects a mapping"),
        ("bogus=1", "unknown config key(s) ['bogus']"),
    ],
)
def test_a_malformed_section_is_refused_in_one_line(tmp_path, capsys, override, named) -> None:
    assert main(["quake", "run", "--config", str(write_quake_experiment(tmp_path)), override]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err, err
    assert not (tmp_path / "out").exists()


def test_the_top_level_keys_named_on_a_typo_include_network_and_aux(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match=r"valid keys in the top level: \[.*'aux'.*'network'"):
        load_experiment(write_quake_experiment(tmp_path), ["bogus=1"])
