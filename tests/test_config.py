from pathlib import Path

import pytest

from framecast.config import Config, apply_overrides, config_from_dict, load_config


def test_defaults_and_overrides():
    cfg = load_config(
        None,
        [
            "optim.lr=3e-4",
            "model.options.cell=convlstm",
            "data.split_options.train.num_sequences=5",
        ],
    )
    assert cfg.optim.lr == pytest.approx(3e-4)
    assert cfg.model.options == {"cell": "convlstm"}
    assert cfg.data.split_options == {"train": {"num_sequences": 5}}


def test_unknown_key_is_an_error_naming_it():
    with pytest.raises(KeyError, match=r"optim\.lrr"):
        load_config(None, ["optim.lrr=0.1"])
    with pytest.raises(KeyError, match="nosuchsection"):
        config_from_dict({"nosuchsection": {}})


def test_wrong_type_is_an_error():
    with pytest.raises(TypeError, match=r"optim\.lr"):
        load_config(None, ["optim.lr=fast"])
    with pytest.raises(TypeError, match=r"train\.max_steps"):
        load_config(None, ["train.max_steps=1.5"])


def test_yaml_round_trip(tmp_path: Path):
    cfg = load_config(None, ["train.seed=7", "model.options.hidden_channels=[8, 8]"])
    path = cfg.save(tmp_path / "c.yaml")
    again = load_config(path)
    assert again == cfg
    assert isinstance(again, Config)


def test_missing_and_bad_files(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"nope\.yaml"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed")
    with pytest.raises(ValueError, match="invalid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        load_config(listy)


def test_override_needs_equals_sign():
    with pytest.raises(ValueError, match=r"section\.key=value"):
        apply_overrides({}, ["optim.lr"])


def test_repo_configs_load():
    root = Path(__file__).resolve().parents[1] / "configs"
    files = sorted(root.rglob("*.yaml"))
    assert len(files) >= 4
    for path in files:
        if path.name.startswith("space"):  # search spaces, checked against their base
            from framecast.tuning import check_space, load_space

            base = path.parent / "predrnn_squares.yaml"
            check_space(load_config(base).to_dict(), load_space(path))
        elif "quake" in path.parent.parts[-2:]:  # experiment files (frozen/ too): catalog -> report
            from framecast.quake.experiment import load_experiment

            load_experiment(path)  # raises on any unknown key or unusable setting
        elif path.parent.name == "classify":  # sequence classifiers: their own config
            from framecast.classify.config import load_classify_config

            load_classify_config(path)
        else:
            load_config(path)  # raises on any unknown key
