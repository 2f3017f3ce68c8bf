"""framecast deletes only what it wrote: run-folder manifests and ``--restart`` (issue 23, part A).

``quake run --restart`` and ``quake radio compare-aux --restart`` used to
``shutil.rmtree`` their out_dir whatever it held; a folder holding a thesis
was emptied. Now every run folder lists what framecast wrote in
``.framecast-manifest`` and a restart deletes those files only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from framecast_testing import tiny_run_config

from framecast.cli import main

MANIFEST_NAME = ".framecast-manifest"  # framecast.runfolder.MANIFEST_NAME

SETTINGS = """
out_dir: {out}
catalog: {{path: {catalog}}}
frames: {{region: "33,34,-117,-116", cell: 0.25, start: "2000-01-01", end: "2003-01-01",
         bin_days: 7, mc: 2.0, channels: [count]}}
periods: {{val_start: "2001-07-01", test_start: "2002-01-01"}}
network:
  model: {{name: predrnn, options: {{cell: convlstm, hidden_channels: 4, num_layers: 1,
                                    patch_size: 1, output_activation: exp}}}}
  data: {{n_context: 4, batch_size: 8}}
  train: {{max_steps: 3, val_every_n_steps: 3, log_every_n_steps: 1}}
etas: {{mode: none}}
"""


def _experiment(tmp_path: Path, out: Path) -> Path:
    """A valid experiment whose catalog is unreadable: it fails at the catalog stage,
    after the out_dir was claimed (so a restart, when allowed, has run by then)."""
    catalog = tmp_path / "broken_catalog.csv"
    catalog.write_text("this is not a catalog\n")
    path = tmp_path / "exp.yaml"
    path.write_text(SETTINGS.format(out=out, catalog=catalog))
    return path


def _thesis_folder(folder: Path) -> dict[Path, bytes]:
    (folder / "sub").mkdir(parents=True)
    files = {folder / "thesis.txt": b"four years of work", folder / "sub" / "data.bin": b"\x00\x01"}
    for path, data in files.items():
        path.write_bytes(data)
    return files


def test_quake_run_restart_refuses_a_folder_framecast_did_not_write(tmp_path, capsys):
    out = tmp_path / "mine"
    files = _thesis_folder(out)
    code = main(["quake", "run", "--config", str(_experiment(tmp_path, out)), "--restart"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "no framecast manifest" in err
    assert {p: p.read_bytes() for p in files} == files  # nothing deleted
    assert sorted(p.name for p in out.rglob("*")) == ["data.bin", "sub", "thesis.txt"]


def test_quake_run_refuses_to_write_into_a_folder_of_other_files(tmp_path, capsys):
    out = tmp_path / "mine"
    files = _thesis_folder(out)
    assert main(["quake", "run", "--config", str(_experiment(tmp_path, out))]) == 2
    assert "framecast did not write" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in files} == files
    assert not (out / "experiment.yaml").exists()


def test_quake_run_restart_deletes_only_what_framecast_recorded(tmp_path, capsys):
    out = tmp_path / "out"
    config = str(_experiment(tmp_path, out))
    assert main(["quake", "run", "--config", config]) == 2  # the catalog stage fails
    assert "broken_catalog.csv" in capsys.readouterr().err
    (out / "notes.txt").write_text("my notes on this run")  # the user's, not framecast's
    (out / "forecasts").mkdir()
    (out / "forecasts" / "mine.h5").write_bytes(b"a forecast made elsewhere")
    assert main(["quake", "run", "--config", config, "--restart"]) == 2
    assert (out / "notes.txt").read_text() == "my notes on this run"
    assert (out / "forecasts" / "mine.h5").read_bytes() == b"a forecast made elsewhere"
    assert (out / "experiment.yaml").is_file()  # rewritten by the restarted run
    assert "experiment.yaml" in (out / MANIFEST_NAME).read_text()


def test_compare_aux_restart_refuses_a_folder_framecast_did_not_write(tmp_path):
    from framecast.quake.experiment import load_experiment
    from framecast.quake.radio.experiment import AuxSection, compare_aux

    out = tmp_path / "mine"
    files = _thesis_folder(out)
    experiment = load_experiment(_experiment(tmp_path, out))
    with pytest.raises(ValueError, match="no framecast manifest"):
        compare_aux(experiment, AuxSection(), restart=True, log=lambda line: None)
    assert {p: p.read_bytes() for p in files} == files


def test_training_run_folder_lists_what_the_run_wrote(tmp_path):
    from framecast.config import config_from_dict
    from framecast.training import train

    result = train(config_from_dict(tiny_run_config(tmp_path, train={"max_steps": 2})))
    manifest = (result.run_dir / MANIFEST_NAME).read_text().splitlines()
    listed = {line for line in manifest if line and not line.startswith("#")}
    assert {"config.yaml", "checkpoints/last.ckpt", "logs/metrics.csv"} <= listed
    assert any(name.startswith("tensorboard/") for name in listed)
    written = {
        p.relative_to(result.run_dir).as_posix()
        for p in result.run_dir.rglob("*")
        if p.is_file() and p.name != MANIFEST_NAME
    }
    assert written <= listed  # every file of the run is recorded
    assert not (result.run_dir / ".framecast.lock").exists()  # released at the end
