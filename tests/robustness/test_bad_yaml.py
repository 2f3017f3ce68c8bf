"""Bad YAML anywhere framecast reads it: one line naming the file or override, never a hang.

Issue 23 items 12, 13 and 15: an alias bomb ("billion laughs") in a config
hung ``train`` with memory growing; a tag or invalid YAML in an override, and
a binary config file, gave tracebacks or messages without the file's name.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from framecast.classify.config import load_classify_config
from framecast.cli import main
from framecast.config import load_config
from framecast.quake.experiment import load_experiment
from framecast.tuning.space import load_space


def _bomb(levels: int = 9, width: int = 9) -> str:
    """A "billion laughs" document: ``width ** levels`` leaves under the key ``model``."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def _bomb_config(tmp_path: Path) -> Path:
    path = tmp_path / "bomb.yaml"
    path.write_text(
        "model:\n  name: predrnn\n  options:\n    bomb: &top\n"
        + "".join(f"      {line}\n" for line in _bomb().splitlines())
        + "data:\n  name: moving_squares\n"
    )
    return path


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_alias_bomb_is_refused_fast_with_the_file_named(tmp_path):
    path = _bomb_config(tmp_path)
    began = time.monotonic()
    with pytest.raises(ValueError, match=r"bomb\.yaml.*aliases expand to more than"):
        load_config(path)
    assert time.monotonic() - began < 5.0


def test_alias_bomb_in_train_config_exits_2_in_one_line(tmp_path, capsys):
    path = _bomb_config(tmp_path)
    assert main(["train", "--config", str(path), f"train.out_dir={tmp_path / 'runs'}"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(path) in line and "alias" in line
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "loader",
    [load_config, load_classify_config, load_experiment, load_space],
    ids=["train", "classify", "quake", "tune-space"],
)
def test_every_config_loader_refuses_an_alias_bomb(tmp_path, loader):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb())
    with pytest.raises(ValueError, match=r"bomb\.yaml.*alias"):
        loader(path)


def test_alias_bomb_in_an_override_is_refused(tmp_path, capsys):
    bomb = "{" + _bomb().replace("\n", ", ").rstrip(", ") + "}"
    code = main(["train", "--config", "configs/quick/predrnn.yaml", f"model.options.x={bomb}"])
    assert code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "override 'model.options.x=" in line and "alias" in line


def test_small_aliases_still_load():
    from framecast.yamlio import load_yaml_text

    data = load_yaml_text("base: &b {lr: 0.1}\ncopy: *b\nlist: [*b, *b]\n", "test")
    assert data["copy"] == {"lr": 0.1} and data["list"] == [{"lr": 0.1}] * 2


def test_recursive_alias_is_refused():
    from framecast.yamlio import load_yaml_text

    with pytest.raises(ValueError, match="recursive alias"):
        load_yaml_text("a: &a [1, *a]\n", "test")


def test_limit_counts_expanded_nodes_not_characters():
    from framecast.yamlio import MAX_EXPANDED_NODES, load_yaml_text

    # 2 ** 17 leaves from 34 aliases: small enough to type, too big to walk
    with pytest.raises(ValueError, match=f"more than {MAX_EXPANDED_NODES:,}"):
        load_yaml_text(_bomb(levels=17, width=2), "test")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("optim.lr=!!python/object/apply:os.system ['true']", "YAML tags are not accepted"),
        ("optim.lr=!custom 3", "YAML tags are not accepted"),
        ("model.options=[1, 2", "invalid YAML"),
        ("model.options={a: 1", "invalid YAML"),
    ],
)
def test_bad_yaml_in_an_override_is_one_line_naming_it(tmp_path, capsys, override, expected):
    code = main(["train", "--config", "configs/quick/predrnn.yaml", override])
    assert code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"override {override!r}" in line and expected in line


def test_bad_yaml_in_a_data_prepare_option_names_it(tmp_path, capsys):
    code = main(
        [
            "data",
            "prepare",
            "frame_series",
            "--source",
            str(tmp_path / "x.npy"),
            "--out",
            str(tmp_path / "out.h5"),
            "clip=[0, 70",
        ]
    )
    assert code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "option 'clip=[0, 70'" in line


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"model:\n  name: \x00\x01\x02\n"],
    ids=["not-utf8", "control-bytes"],
)
def test_binary_config_file_is_one_line_naming_it(tmp_path, capsys, content):
    path = tmp_path / "binary.yaml"
    path.write_bytes(content)
    assert main(["train", "--config", str(path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(path) in line


def test_binary_quake_experiment_is_one_line_naming_it(tmp_path, capsys):
    path = tmp_path / "experiment.yaml"
    path.write_bytes(b"\xff\xfe\x00o\x00u\x00t")
    assert main(["quake", "run", "--config", str(path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(path) in line and "UTF-8" in line
