"""``--cluster ADDRESS``: checked before anything is written, one line when it cannot be used,
and without it nothing of Dask is imported (issue 26)."""

from __future__ import annotations

import functools
import inspect
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from framecast import cluster
from framecast.cli import main
from framecast.cluster import ClusterError, check_address

ROOT = Path(__file__).resolve().parents[2]
QUAKE = textwrap.dedent(
    """
    out_dir: {out}
    catalog: {{simulate: true, seed: 3, burn_in_days: 200, etas: {{log10_mu: -5.5}}}}
    frames: {{region: "33,34,-117,-116", cell: 0.25, start: "2000-01-01", end: "2002-01-01",
             bin_days: 14, mc: 2.0, channels: [count]}}
    periods: {{val_start: "2001-01-01", test_start: "2001-07-01"}}
    network:
      model:
        name: predrnn
        options: {{cell: convlstm, hidden_channels: 2, num_layers: 1, patch_size: 1}}
      data: {{n_context: 2, batch_size: 8}}
      train: {{max_steps: 1, val_every_n_steps: 1}}
    etas: {{mode: simulation, forecast: simulated, num_simulations: 6000}}
    evaluation: {{num_simulations: 5, maps: 1}}
    seeds: [0, 1]
    """
)


@pytest.mark.parametrize(
    ("given", "address"),
    [
        ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"),
        ("scheduler.example:8786", "tcp://scheduler.example:8786"),
        ("tls://[::1]:8786", "tls://[::1]:8786"),
    ],
)
def test_addresses(given: str, address: str):
    assert check_address(given) == address


@pytest.mark.parametrize(
    "bad", ["", "scheduler", "tcp://host", "http://host:80", "host:0", "h:1e3"]
)
def test_bad_addresses_are_refused_in_one_line(bad: str):
    with pytest.raises(ClusterError, match="is not a scheduler address; expected tcp://HOST:PORT"):
        check_address(bad)


@pytest.fixture
def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port of 127.0.0.1 that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


def _commands(tmp_path: Path, address: str) -> dict[str, tuple[list[str], Path]]:
    """Each command with ``--cluster address`` and the folder it would write."""
    (tmp_path / "exp.yaml").write_text(QUAKE.format(out=tmp_path / "quake"))
    tune = ["--config", str(ROOT / "configs/tune/predrnn_squares.yaml")]
    tune += ["--space", str(ROOT / "configs/tune/space_cells.yaml")]
    return {
        "compare": (
            ["compare", "--out", str(tmp_path / "cmp"), "--cluster", address],
            tmp_path / "cmp",
        ),
        "tune": (
            ["tune", *tune, "--trials", "1", "--out", str(tmp_path / "tune"), "--cluster", address],
            tmp_path / "tune",
        ),
        "quake": (
            ["quake", "run", "--config", str(tmp_path / "exp.yaml"), "--cluster", address],
            tmp_path / "quake",
        ),
    }


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> float:
    """Every command's connection waits 1 s instead of CONNECT_SECONDS (5 s), as a user's
    ``connect(address, timeout=...)`` would: the same code path, 4 s less idle per test."""
    monkeypatch.setattr(cluster, "connect", functools.partial(cluster.connect, timeout=1.0))
    return 1.0


def test_the_commands_wait_connect_seconds():
    assert inspect.signature(cluster.connect).parameters["timeout"].default == 5.0


@pytest.mark.parametrize("command", ["compare", "tune", "quake"])
def test_a_closed_port_fails_at_once_in_one_line_with_nothing_written(
    tmp_path: Path,
    closed_port: int,
    capsys: pytest.CaptureFixture[str],
    command: str,
    short_wait: float,
):
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{closed_port}"
    argv, folder = _commands(tmp_path, address)[command]
    began = time.monotonic()
    assert main(argv) == 2
    assert time.monotonic() - began < short_wait + 10
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert f"cannot reach the Dask scheduler at {address} within {short_wait:g} s" in err
    assert not folder.exists()


def test_a_silent_port_fails_in_seconds(
    tmp_path: Path, silent_port: int, capsys, short_wait: float
):
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{silent_port}"
    argv, folder = _commands(tmp_path, address)["compare"]
    began = time.monotonic()
    assert main(argv) == 2
    assert time.monotonic() - began < short_wait + 10
    assert f"cannot reach the Dask scheduler at {address}" in capsys.readouterr().err
    assert not folder.exists()


# the other xdist worker's cluster may hold distributed's default HTTP port; this one moves
@pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning")
def test_a_scheduler_without_workers_is_refused(tmp_path: Path, capsys, short_wait: float):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None
    ) as empty:
        argv, folder = _commands(tmp_path, empty.scheduler_address)["compare"]
        assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert f"the Dask scheduler at {empty.scheduler_address} has no worker after 1 s" in err
    assert "\n" not in err and not folder.exists()


def test_a_bad_address_is_refused_before_dask_is_asked(tmp_path: Path, capsys):
    for argv, folder in _commands(tmp_path, "scheduler-without-port").values():
        assert main(argv) == 2
        assert "is not a scheduler address" in capsys.readouterr().err
        assert not folder.exists()


NO_ENGINE = """
import sys
from framecast.cli import main

commands = sys.argv[1].split(",")
quake, cmp, tune = sys.argv[2:5]
if "quake" in commands:
    assert main(["quake", "run", "--config", quake]) == 0
if "compare" in commands:
    assert main(["compare", "--cells", "convlstm", "--data", "squares", "--budget", "1steps",
                 "--batch-size", "2", "--out", cmp, "--jobs", "1"]) == 0
if "tune" in commands:
    assert main(["tune", "--config", "configs/tune/predrnn_squares.yaml", "--space",
                 "configs/tune/space_cells.yaml", "--trials", "1", "--trial-steps", "1", "--out",
                 tune, "model.options.hidden_channels=2", "model.options.num_layers=1",
                 "data.split_options.val.num_sequences=2", "train.val_every_n_steps=1"]) == 0
engine = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
print("engine modules:", engine)
assert not engine, engine
"""


@pytest.mark.parametrize(
    "commands",
    [
        pytest.param("quake,tune", id="quake-tune"),
        # a compare's pair is a child process that evaluates every baseline (about 17 s)
        pytest.param("compare", id="compare", marks=pytest.mark.slow),
    ],
)
def test_without_the_flag_nothing_of_dask_is_imported(tmp_path: Path, commands: str):
    """A quake run with a seed sweep and 2 chunks of ETAS simulations, a tune; a compare."""
    (tmp_path / "exp.yaml").write_text(QUAKE.format(out=tmp_path / "quake"))
    paths = [str(tmp_path / name) for name in ("exp.yaml", "cmp", "tune")]
    done = subprocess.run(
        [sys.executable, "-c", NO_ENGINE, commands, *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "engine modules: []" in done.stdout
    if "quake" in commands:
        assert (tmp_path / "quake" / "seeds" / "seed_1" / "network.h5").is_file()
    if "compare" in commands:
        assert (tmp_path / "cmp" / "comparison.md").is_file()
