"""A layout of nodes and processes that does not fit the launch is refused in one line, first."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from framecast_testing import tiny_run_config

from framecast.cli import main
from framecast.config import config_from_dict
from framecast.training import loaders
from framecast.training.launch import check_launch, detect_launch
from framecast.training.loaders import EpochShuffleSampler

LAUNCH_VARIABLES = (
    "WORLD_SIZE",
    "NODE_RANK",
    "LOCAL_RANK",
    "GROUP_RANK",
    "RANK",
    "MASTER_ADDR",
    "MASTER_PORT",
    "TORCHELASTIC_RUN_ID",
    "SLURM_NTASKS",
    "SLURM_JOB_NAME",
)
TWO_NODES = {"MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500", "WORLD_SIZE": "2"}
TORCHRUN = {
    "TORCHELASTIC_RUN_ID": "none",
    "WORLD_SIZE": "2",
    "RANK": "1",
    "LOCAL_RANK": "0",
    "GROUP_RANK": "1",
    "GROUP_WORLD_SIZE": "2",
    "LOCAL_WORLD_SIZE": "1",
}
SRUN = {
    "SLURM_NTASKS": "2",
    "SLURM_NNODES": "2",
    "SLURM_NTASKS_PER_NODE": "1",
    "SLURM_NODEID": "1",
    "SLURM_LOCALID": "0",
    "SLURM_PROCID": "1",
    "SLURM_JOB_NAME": "train",
}


@pytest.mark.parametrize(
    ("num_nodes", "devices", "env"),
    [
        (1, 1, {}),  # a plain start: Lightning starts the processes of one node itself
        (1, 2, {"WORLD_SIZE": "2", "NODE_RANK": "0", "LOCAL_RANK": "1"}),  # one of those
        (2, 1, {**TWO_NODES, "NODE_RANK": "1"}),
        (2, 2, {**TWO_NODES, "WORLD_SIZE": "4", "NODE_RANK": "1", "LOCAL_RANK": "1"}),
        (2, 1, TORCHRUN),
        (2, 1, SRUN),
        (1, 1, {"SLURM_NTASKS": "8", "SLURM_JOB_NAME": "train"}),  # one task of an allocation
        (2, 1, {**SRUN, "SLURM_JOB_NAME": "interactive", **TWO_NODES, "NODE_RANK": "0"}),
    ],
)
def test_a_launch_that_fits_passes(num_nodes: int, devices: int, env: dict[str, str]):
    check_launch(num_nodes, devices, "auto", env)


@pytest.mark.parametrize(
    ("num_nodes", "devices", "env", "message"),
    [
        (2, 1, {}, "train.num_nodes=2 but this process was not started as one of 2 nodes: "
         "WORLD_SIZE is unset"),
        (2, 1, {**TWO_NODES, "WORLD_SIZE": "1", "NODE_RANK": "0"},
         "WORLD_SIZE=1 (from the environment) but train.num_nodes=2 x train.devices=1 makes 2 "
         "process(es); expected WORLD_SIZE=2"),
        (2, 1, {**TWO_NODES, "NODE_RANK": "2"},
         "NODE_RANK=2 but train.num_nodes=2; expected NODE_RANK in 0..1"),
        (2, 1, {"MASTER_ADDR": "h", "MASTER_PORT": "1", "NODE_RANK": "1"},
         "train.num_nodes=2 but WORLD_SIZE is unset; expected WORLD_SIZE=2"),
        (2, 1, {"MASTER_ADDR": "h", "MASTER_PORT": "1", "WORLD_SIZE": "2"},
         "NODE_RANK is unset; expected NODE_RANK set to this node's place, 0..1"),
        (2, 1, {"MASTER_PORT": "1", "WORLD_SIZE": "2", "NODE_RANK": "0"},
         "MASTER_ADDR is unset"),
        (2, 1, {**TWO_NODES, "WORLD_SIZE": "two", "NODE_RANK": "0"},
         "WORLD_SIZE='two' is not a whole number"),
        (1, 1, TORCHRUN, "WORLD_SIZE=2 (from torchrun) but train.num_nodes=1 x train.devices=1"),
        (3, 1, {**TORCHRUN, "WORLD_SIZE": "3"},
         "GROUP_WORLD_SIZE=2 nodes (from torchrun) but train.num_nodes=3"),
        (2, 2, {**TORCHRUN, "WORLD_SIZE": "4"},
         "LOCAL_WORLD_SIZE=1 processes per node (from torchrun) but train.devices=2"),
        (3, 1, {**SRUN, "SLURM_NTASKS": "3"},
         "SLURM_NNODES=2 nodes (from srun) but train.num_nodes=3; expected SLURM_NNODES=3"),
        (2, 1, {k: v for k, v in SRUN.items() if k != "SLURM_NTASKS_PER_NODE"},
         "SLURM_NTASKS_PER_NODE is unset"),
    ],
)  # fmt: skip
def test_a_launch_that_does_not_fit_is_refused(
    num_nodes: int, devices: int, env: dict[str, str], message: str
):
    with pytest.raises(ValueError) as refused:
        check_launch(num_nodes, devices, "auto", env)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_launchers_are_told_apart():
    assert detect_launch({}) is None
    assert detect_launch(TORCHRUN).launcher == "torchrun"  # type: ignore[union-attr]
    assert detect_launch(SRUN).launcher == "srun"  # type: ignore[union-attr]
    assert detect_launch({"NODE_RANK": "1"}).launcher == "the environment"  # type: ignore[union-attr]


def test_an_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match=r"train.strategy='dpp' is not a strategy Lightning knows"):
        check_launch(1, 1, "dpp", {})
    check_launch(1, 1, "DDP", {})


@pytest.mark.parametrize("value", [0, -2])
def test_num_nodes_below_one_is_refused_when_the_config_loads(value: int):
    message = f"train.num_nodes must be a whole number >= 1, got {value}"
    with pytest.raises(ValueError, match=message):
        config_from_dict({"train": {"num_nodes": value}})


@pytest.mark.parametrize(
    ("overrides", "env", "message"),
    [
        (["train.num_nodes=2"], {}, "train.num_nodes=2 but this process was not started"),
        (["train.num_nodes=2"], {**TWO_NODES, "WORLD_SIZE": "1", "NODE_RANK": "0"}, "WORLD_SIZE=1"),
        (["train.num_nodes=2"], {**TWO_NODES, "NODE_RANK": "2"}, "NODE_RANK=2"),
        (["train.strategy=bogus"], {}, "train.strategy='bogus'"),
    ],
)
def test_the_command_refuses_in_one_line_and_writes_nothing(
    overrides: list[str],
    env: dict[str, str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    for name in LAUNCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(tiny_run_config(tmp_path / "runs")))
    assert main(["train", "--config", str(config), *overrides]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "runs").exists()


def test_the_sampler_deals_one_order_to_the_processes(monkeypatch: pytest.MonkeyPatch):
    """Process r of W takes places r, r + W, ... of the order one process would draw."""
    whole = list(EpochShuffleSampler(10, seed=3))
    monkeypatch.setattr(loaders.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(loaders.dist, "get_world_size", lambda: 2)
    dealt = []
    for rank in (0, 1):
        monkeypatch.setattr(loaders.dist, "get_rank", lambda rank=rank: rank)
        sampler = EpochShuffleSampler(10, seed=3)
        assert len(sampler) == 5
        dealt.append(list(sampler))
    assert [i for pair in zip(*dealt, strict=True) for i in pair] == whole
    sampler.start = 2  # a resumed epoch leaves out this process's first samples
    assert list(sampler) == dealt[1][2:]
