from __future__ import annotations

import optuna
import pytest
import yaml
from framecast_testing import tiny_run_config

from framecast.cli import main
from framecast.config import config_from_dict
from framecast.training import train
from framecast.tuning import TuneSettings, open_study, parse_parameter, run_study

SPACE = [
    parse_parameter("optim.lr", {"type": "categorical", "choices": [0.01, 1e-9]}),
    parse_parameter(
        "model.options.cell", {"type": "categorical", "choices": ["convlstm", "stlstm"]}
    ),
]


def _base(tmp_path):
    return tiny_run_config(
        tmp_path,
        optim={"lr": 1e-2, "scheduler": "none"},
        train={"max_steps": 8, "val_every_n_steps": 2, "limit_val_batches": 1.0},
    )


def test_study_prunes_resumes_and_exports_a_config_that_trains(tmp_path):
    settings = TuneSettings(trials=3, out_dir=tmp_path / "tune", trial_steps=8, warmup_steps=0)
    study = open_study(settings)
    # two good trials first, then one that cannot learn: the median pruner must stop it
    study.enqueue_trial({"optim.lr": 0.01, "model.options.cell": "convlstm"})
    study.enqueue_trial({"optim.lr": 0.01, "model.options.cell": "stlstm"})
    study.enqueue_trial({"optim.lr": 1e-9, "model.options.cell": "convlstm"})
    study = run_study(_base(tmp_path), SPACE, settings)
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert study.trials[2].user_attrs["steps"] < 8  # stopped before its budget
    assert [t.user_attrs["seed"] for t in study.trials] == [0, 1, 2]
    first = [(t.number, t.params, t.value) for t in study.trials]

    # resuming with a larger target adds trials; it does not restart the study
    settings = TuneSettings(trials=5, out_dir=tmp_path / "tune", trial_steps=8, warmup_steps=0)
    study = run_study(_base(tmp_path), SPACE, settings)
    finished = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == 5
    assert [(t.number, t.params, t.value) for t in study.trials[:3]] == first

    out = tmp_path / "tune"
    summary = (out / "summary.md").read_text()
    assert "pruned" in summary and "Best trial per value of `model.options.cell`" in summary
    assert "the best trivial baseline, " in summary and "skill vs best trivial" in summary
    assert "| blank |" in summary and "| flow |" in summary
    assert (out / "optimization_history.png").stat().st_size > 1000
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["optim"]["lr"] == study.best_trial.params["optim.lr"]
    best["train"].update({"max_steps": 2, "out_dir": str(tmp_path / "again"), "run_name": "best"})
    result = train(config_from_dict(best))
    assert result.last_checkpoint.is_file()


def test_same_target_twice_runs_no_new_trial(tmp_path):
    settings = TuneSettings(trials=1, out_dir=tmp_path / "t", trial_steps=4, pruner="none")
    run_study(_base(tmp_path), SPACE[:1], settings)
    study = run_study(_base(tmp_path), SPACE[:1], settings)
    assert len(study.trials) == 1


def test_another_space_under_the_same_study_name_is_refused(tmp_path):
    settings = TuneSettings(trials=1, out_dir=tmp_path / "t", trial_steps=4, pruner="none")
    run_study(_base(tmp_path), SPACE[:1], settings)
    with pytest.raises(ValueError, match="study-name"):
        run_study(_base(tmp_path), SPACE, settings)


def test_cli_refuses_a_bad_space_before_any_trial(tmp_path, capsys):
    config = tmp_path / "base.yaml"
    config.write_text(yaml.safe_dump(_base(tmp_path)))
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  model.options.cell: {type: categorical, choices: [lstm2]}\n")
    code = main(
        [
            "tune",
            "--config",
            str(config),
            "--space",
            str(space),
            "--trials",
            "2",
            "--out",
            str(tmp_path / "tune"),
        ]
    )
    assert code == 2
    assert "lstm2" in capsys.readouterr().err
    assert not (tmp_path / "tune" / "study.db").exists()
    assert optuna.__version__


def test_parallel_workers_share_one_study(tmp_path):
    settings = TuneSettings(
        trials=3, out_dir=tmp_path / "tune", trial_steps=4, pruner="none", jobs=2
    )
    study = run_study(_base(tmp_path), SPACE, settings)
    finished = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) >= 3  # both workers stop once the study holds 3
    numbers = [t.number for t in finished]
    assert len(set(numbers)) == len(numbers)
    # every trial trained in its own folder with its own seed
    assert len({t.user_attrs["run_dir"] for t in finished}) == len(finished)
    assert sorted(t.user_attrs["seed"] for t in finished) == numbers
    assert (tmp_path / "tune" / "summary.md").is_file()
    # the workers' job file holds the storage URL, a password perhaps: owner-only
    assert (tmp_path / "tune" / "tune_job.json").stat().st_mode & 0o777 == 0o600


def test_bad_jobs_are_refused_before_any_trial(tmp_path):
    settings = TuneSettings(trials=1, out_dir=tmp_path / "t", trial_steps=4, jobs=0)
    with pytest.raises(ValueError, match="--jobs must be a whole number >= 1, got 0"):
        run_study(_base(tmp_path), SPACE, settings)
    assert not (tmp_path / "t" / "trials").exists()
