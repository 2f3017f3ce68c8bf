"""Bad settings refused up front, and nothing left behind by a refusal (issue 23 item 15).

A typo in a quake experiment's ``network:`` section was reported only after
the catalog and frames stages (and the fixed rerun was then refused); a NaN
learning rate left a run folder, refused frames a ``.partial`` cache, and a
resumed run a second ``best-*.ckpt``; Lightning warned on every run and resume.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from framecast_testing import tiny_run_config, write_quake_experiment

from framecast.cli import main


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("network.trian.max_steps=3", "network.trian"),
        ("network.model.options.hiden_channels=8", "hiden_channels"),
        ("network.model.name=predrn", "predrn"),
        ("network.data.options.chanels=[count]", "chanels"),
        ("network.optim.lr=.nan", "optim.lr"),
    ],
)
def test_network_typo_is_refused_before_any_stage(tmp_path, capsys, override, named):
    config = write_quake_experiment(tmp_path)
    assert main(["quake", "run", "--config", str(config), override]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "network:" in err and named in err, err
    assert not (tmp_path / "out").exists()  # no catalog.h5, frames.h5 or experiment.yaml


def test_nan_learning_rate_leaves_no_run_folder(tmp_path, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_run_config(tmp_path / "runs")))
    for value in (".nan", "-0.1", ".inf"):
        assert main(["train", "--config", str(config), f"optim.lr={value}"]) == 2
        err = capsys.readouterr().err
        assert "optim.lr must be a finite number >= 0" in err
    assert not (tmp_path / "runs").exists()


def test_refused_frames_leave_no_partial_cache(tmp_path, capsys):
    frames = np.random.default_rng(0).random((40, 8, 8)).astype(np.float32)
    frames[30] = 5.0  # outside [0, 1] with scale=1: refused when its block is written
    np.save(tmp_path / "series.npy", frames)
    out = tmp_path / "cache.h5"
    args = ["data", "prepare", "frame_series", "--source", str(tmp_path / "series.npy")]
    assert main([*args, "--out", str(out), "scale=1"]) == 2
    assert "maps outside [0, 1]" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["series.npy"]


def _train_then_resume(tmp_path: Path, *extra: str) -> tuple[Path, list[str]]:
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_run_config(tmp_path / "runs")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["train", "--config", str(config), "train.max_steps=4", *extra]) == 0
        run = tmp_path / "runs" / "run"
        assert main(["train", "--resume", str(run), "train.max_steps=8", *extra]) == 0
    return run, [str(w.message) for w in caught]


def test_resume_keeps_one_best_checkpoint(tmp_path):
    # 2 batches an epoch: validations at steps 2, 4 before the stop, 6, 8 after the resume
    run, _ = _train_then_resume(tmp_path)
    best = sorted(p.name for p in (run / "checkpoints").glob("best-*.ckpt"))
    assert len(best) == 1, best


def test_training_and_resume_raise_no_irrelevant_lightning_warning(tmp_path):
    _, messages = _train_then_resume(tmp_path, "train.log_every_n_steps=20")
    noisy = [
        m
        for m in messages
        if "could not find the monitored key" in m or "smaller than the logging interval" in m
    ]
    assert not noisy, noisy
