"""``--storage``: bad and unreachable storages in one line, masked passwords, the journal file."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import optuna
import pytest
import yaml
from framecast_testing import tiny_run_config
from postgres_testing import PASSWORD

from framecast.cli import main
from framecast.tuning.journal import HEARTBEAT_KEY
from framecast.tuning.storage import (
    CONNECT_TIMEOUT,
    check_storage_url,
    journal_path,
    mask_url,
    open_storage,
)


def _tune(tmp_path: Path, *extra: str) -> list[str]:
    config = tmp_path / "base.yaml"
    config.write_text(yaml.safe_dump(tiny_run_config(tmp_path, train={"max_steps": 4})))
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  optim.lr: {type: float, low: 1.0e-4, high: 1.0e-2}\n")
    out = str(tmp_path / "tune")
    words = ["tune", "--config", str(config), "--space", str(space), "--trials", "1"]
    return [*words, "--out", out, *extra]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("framecast tune: error: ")
    return err


@pytest.mark.parametrize("server", ["silent", "closed"])
def test_a_database_that_does_not_answer_fails_in_seconds(tmp_path, capsys, server):
    pytest.importorskip("psycopg", reason="no psycopg driver (pip install 'framecast[postgres]')")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if server == "silent":  # accepts the connection, never answers (a stuck server)
            listener.listen(8)
        else:
            listener.close()  # nothing listens: refused at once
        url = f"postgresql://tuner:hunter2@127.0.0.1:{port}/studies"
        started = time.monotonic()
        assert main(_tune(tmp_path, "--storage", url)) == 2
        seconds = time.monotonic() - started
    assert seconds < CONNECT_TIMEOUT + 10
    err = _one_line_error(capsys)
    assert "hunter2" not in err
    assert f"'postgresql://tuner:***@127.0.0.1:{port}/studies'" in err
    assert f"expected a PostgreSQL server answering at 127.0.0.1:{port} within 5 s" in err
    assert "user 'tuner' into database 'studies'" in err
    assert not (tmp_path / "tune").exists()  # nothing written


def test_a_refused_login_is_one_line_with_the_password_masked(tmp_path, capsys, postgres_url):
    url = postgres_url.replace(":pg-test-secret@", ":wrong-secret@")
    assert main(_tune(tmp_path, "--storage", url)) == 2
    err = _one_line_error(capsys)
    assert "secret" not in err and "password authentication failed" in err
    assert not (tmp_path / "tune").exists()


def test_a_missing_driver_is_named(tmp_path, capsys):
    try:
        import MySQLdb  # noqa: F401

        pytest.skip("mysqlclient is installed here")
    except ImportError:
        pass
    assert main(_tune(tmp_path, "--storage", "mysql://u:pw@db.example/studies")) == 2
    err = _one_line_error(capsys)
    assert "'mysql://u:***@db.example/studies' needs the database driver 'MySQLdb'" in err


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:p%40ss@host:5432/db", "postgresql://u:***@host:5432/db"),
        ("postgresql://u@host/db", "postgresql://u@host/db"),
        ("sqlite:///runs/study.db", "sqlite:///runs/study.db"),
        ("journal:///shared/study.log", "journal:///shared/study.log"),
        ("foo bar://u:secret@host", "foo bar://u:***@host"),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked


def test_journal_urls_name_a_file():
    assert journal_path("journal:///shared/study.log") == Path("/shared/study.log")
    assert journal_path("journal://runs/study.log") == Path("runs/study.log")
    assert journal_path("journal:runs/study.log") == Path("runs/study.log")
    assert journal_path("sqlite:///study.db") is None


def test_a_journal_in_a_missing_folder_is_refused_before_anything_is_written(tmp_path, capsys):
    url = f"journal://{tmp_path / 'nowhere' / 'study.log'}"
    with pytest.raises(ValueError, match=r"folder .*nowhere' of the journal file does not exist"):
        check_storage_url(url)
    assert main(_tune(tmp_path, "--storage", url)) == 2
    _one_line_error(capsys)
    assert not (tmp_path / "tune").exists() and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("beat", ["0", "-3"])
def test_a_heartbeat_below_one_second_is_refused(tmp_path, capsys, beat):
    assert main(_tune(tmp_path, "--heartbeat", beat)) == 2
    assert "--heartbeat must be a whole number of seconds >= 1" in _one_line_error(capsys)
    assert not (tmp_path / "tune").exists()


@pytest.mark.filterwarnings(
    "ignore:Heartbeat of storage", "ignore::optuna.exceptions.ExperimentalWarning"
)
def test_a_silent_trial_in_a_journal_is_failed_and_retried_once(tmp_path, monkeypatch):
    storage = open_storage(f"journal://{tmp_path / 'study.log'}", heartbeat=2)
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    storage.record_heartbeat(trial._trial_id)
    assert storage._get_stale_trial_ids(study._study_id) == []
    beat = study.trials[0].system_attrs[HEARTBEAT_KEY]
    monkeypatch.setattr(time, "time", lambda: beat + 6.5)  # grace: 3 heartbeats of 2 s
    assert storage._get_stale_trial_ids(study._study_id) == [trial._trial_id]
    optuna.storages.fail_stale_trials(study)
    failed, retry = study.trials
    assert failed.state.name == "FAIL" and retry.state.name == "WAITING"
    assert retry.params == failed.params and retry.system_attrs["failed_trial"] == 0
    storage.record_heartbeat(trial._trial_id)  # the old process beating on: ignored
    assert study.trials[0].state.name == "FAIL"


def test_the_password_may_come_from_the_environment(postgres_url, monkeypatch):
    """libpq reads PGPASSWORD (or ~/.pgpass): the URL, shell history and job file need none."""
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    storage = open_storage(postgres_url.replace(f":{PASSWORD}@", "@"), heartbeat=30)
    study = optuna.create_study(storage=storage, study_name="env")
    assert optuna.load_study(study_name="env", storage=storage).study_name == study.study_name
