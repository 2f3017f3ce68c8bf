"""What ``framecast tune`` prints: one line per trial, and one-line space file errors."""

from __future__ import annotations

import re

import optuna
import pytest
import yaml
from framecast_testing import tiny_run_config

from framecast.cli import main
from framecast.tuning import load_space
from framecast.tuning.study import trial_line

SPACE_YAML = "parameters:\n  optim.lr: {type: categorical, choices: [0.01, 0.001]}\n"


def _tune_args(tmp_path, space_text: str, trials: int = 2) -> list[str]:
    config = tmp_path / "base.yaml"
    base = tiny_run_config(
        tmp_path,
        optim={"lr": 1e-2, "scheduler": "none"},
        train={"max_steps": 4, "val_every_n_steps": 2, "limit_val_batches": 1.0},
    )
    config.write_text(yaml.safe_dump(base))
    space = tmp_path / "space.yaml"
    space.write_text(space_text)
    return [
        "tune",
        "--config",
        str(config),
        "--space",
        str(space),
        "--trials",
        str(trials),
        "--trial-steps",
        "4",
        "--pruner",
        "none",
        "--out",
        str(tmp_path / "tune"),
    ]


def test_tune_prints_one_line_per_trial_and_no_optuna_log(tmp_path, capsys):
    assert main(_tune_args(tmp_path, SPACE_YAML)) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if line.startswith("trial ")]
    assert len(lines) == 2, captured.out
    study = optuna.load_study(
        study_name="framecast", storage=f"sqlite:///{tmp_path / 'tune' / 'study.db'}"
    )
    for line, trial in zip(lines, study.trials, strict=True):
        assert line.startswith(f"trial {trial.number} complete: ")
        assert f"optim.lr={trial.params['optim.lr']:.4g}" in line
        assert f"best val loss {trial.value:.5g} (4 steps, " in line
    best_after_first = study.trials[0].value
    assert lines[0].endswith(f"best so far {best_after_first:.5g} (trial 0)")
    best = study.best_trial
    assert lines[1].endswith(f"best so far {best.value:.5g} (trial {best.number})")
    # Optuna's own INFO lines ("Trial 0 finished with value ...") are silenced
    assert "finished with value" not in captured.out + captured.err
    assert "A new study created" not in captured.out + captured.err


def _finished(study, state, number, params, value=None, intermediate=None, attrs=None):
    distributions = {
        key: optuna.distributions.CategoricalDistribution([v, "other"]) for key, v in params.items()
    }
    trial = optuna.trial.create_trial(
        state=state,
        value=value,
        params=params,
        distributions=distributions,
        intermediate_values=intermediate or {},
        user_attrs=attrs or {},
    )
    study.add_trial(trial)
    return study.trials[number]


def test_trial_line_for_pruned_failed_and_complete_trials():
    study = optuna.create_study()
    state = optuna.trial.TrialState
    pruned = _finished(
        study, state.PRUNED, 0, {"model.options.cell": "convlstm"}, intermediate={2: 0.5, 4: 0.4}
    )
    line = trial_line(study, pruned)
    assert line == (
        "trial 0 pruned: model.options.cell=convlstm; best val loss 0.4; "
        "best so far: none complete yet"
    )
    failed = _finished(
        study,
        state.FAIL,
        1,
        {"model.options.cell": "stlstm"},
        attrs={"error": "FloatingPointError: loss is nan"},
    )
    assert trial_line(study, failed) == (
        "trial 1 fail: model.options.cell=stlstm; no loss (FloatingPointError: loss is nan); "
        "best so far: none complete yet"
    )
    _finished(study, state.COMPLETE, 2, {"model.options.cell": "a"}, value=0.25)
    complete = _finished(
        study,
        state.COMPLETE,
        3,
        {"model.options.cell": "b"},
        value=0.3,
        attrs={"steps": 8, "seconds": 1.5},
    )
    assert trial_line(study, complete) == (
        "trial 3 complete: model.options.cell=b; best val loss 0.3 (8 steps, 1.5 s); "
        "best so far 0.25 (trial 2)"
    )


BAD_SPACES = {
    "unclosed flow mapping": (
        "parameters:\n  optim.lr: {type: float, low: 1.0e-4, high: 1.0e-2\n"
        "  model.options.cell: {type: categorical}\n",
        "line 3, column 21",
    ),
    "tab indentation": ("parameters:\n\toptim.lr: 1\n", "line 2, column 1"),
    "control character": ("parameters: \x07\n", "line 1"),
}


@pytest.mark.parametrize("name", sorted(BAD_SPACES))
def test_yaml_error_in_space_file_is_one_line_with_its_position(tmp_path, capsys, name):
    text, where = BAD_SPACES[name]
    args = _tune_args(tmp_path, text)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    space = str(tmp_path / "space.yaml")
    assert re.fullmatch(rf"framecast tune: error: search space file '{space}', {where}: .+", err)
    assert "invalid YAML" in err
    assert not (tmp_path / "tune").exists()  # no study database, no output folder


def test_space_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_bytes(b"parameters:\n  optim.lr: \xff\xfe\n")
    with pytest.raises(ValueError, match=r"space.yaml' is not UTF-8 text \(byte 24\)"):
        load_space(path)


def test_a_failed_trial_prints_its_error_in_its_line(tmp_path, capsys, monkeypatch):
    import framecast.training

    def diverges(config, callbacks=(), verbose=True):
        raise FloatingPointError("loss is nan at step 3\nmore detail")

    monkeypatch.setattr(framecast.training, "train", diverges)
    assert main(_tune_args(tmp_path, SPACE_YAML, trials=1)) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("trial ")]
    assert len(lines) == 1
    assert re.fullmatch(
        r"trial 0 fail: optim\.lr=0\.0?01; no loss \(FloatingPointError: loss is nan at step 3\); "
        r"best so far: none complete yet",
        lines[0],
    )
