"""Two "nodes" of one process each (gloo over localhost) train as one process with their batch.

The nodes are two processes started the way a cluster starts them: the
first pair with the variables a job script sets on each node (Lightning's
general-purpose cluster: MASTER_ADDR, MASTER_PORT, WORLD_SIZE, NODE_RANK,
LOCAL_RANK), the resumed pair by ``torchrun`` (two agents, static
rendezvous), each running ``python -m framecast train``. One process with
the two nodes' whole batch (``data.batch_size`` 4 against 2 per node) is
the reference: the same data order (the training sampler deals one epoch
order to the processes), the same scheduled-sampling masks (each process
takes its rows of the global batch's mask), the gradient averaged over the
processes as over the batch. The learning rate is constant
(``optim.scheduler=none``): the step schedule's milestone depends on
``train.max_steps``, which the resumed runs raise.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch
import yaml
from framecast_testing import tiny_run_config

import framecast
from framecast.cli import main
from framecast.config import config_from_dict
from framecast.training import train

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:The dirpath has changed")]

FIRST, MORE = 3, 3
"""Steps of the 2-node run, then of its resumed part (8 sequences, global batch 4: 2 steps an
epoch, so the break falls mid-epoch and the scheduled-sampling schedule crosses it)."""
TOLERANCE = 1e-6
SRC = str(Path(framecast.__file__).resolve().parents[1])
LAUNCH_VARIABLES = ("WORLD_SIZE", "NODE_RANK", "LOCAL_RANK", "GROUP_RANK", "RANK", "MASTER_ADDR")


def _config(tmp_path: Path, run_name: str, batch_size: int, num_nodes: int) -> dict:
    return tiny_run_config(
        tmp_path / "runs",
        data={"batch_size": batch_size},
        optim={"lr": 1e-2, "scheduler": "none"},
        train={
            "max_steps": FIRST,
            "run_name": run_name,
            "accelerator": "cpu",
            "strategy": "ddp" if num_nodes > 1 else "auto",
            "num_nodes": num_nodes,
            "num_threads": 1,
        },
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LAUNCH_VARIABLES}
    env = {k: v for k, v in env.items() if not k.startswith(("SLURM_", "TORCHELASTIC_"))}
    path = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH")) if p)
    return {**env, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}


def _run_nodes(commands: list[tuple[list[str], dict[str, str]]], timeout: float = 400) -> list[str]:
    """Start the nodes' processes together; their stdout. One failing ends the others."""
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for cmd, env in commands
    ]
    end = time.monotonic() + timeout
    try:
        while any(p.poll() is None for p in procs):
            failed = [p for p in procs if p.poll() not in (None, 0)]
            if failed or time.monotonic() > end:
                break
            time.sleep(0.5)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        outputs = [p.communicate() for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, f"exit {p.returncode}\n{out[-2000:]}\n{err[-4000:]}"
    return [out for out, _ in outputs]


def _by_variables(args: list[str]) -> list[str]:
    """Two nodes started by a job script's variables, one process each."""
    port = str(_free_port())
    base = {**_environment(), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "WORLD_SIZE": "2"}
    command = [sys.executable, "-m", "framecast", "train", *args]
    return _run_nodes([(command, {**base, "NODE_RANK": str(r), "LOCAL_RANK": "0"}) for r in (0, 1)])


def _by_torchrun(args: list[str]) -> list[str]:
    """Two nodes started by torchrun, one process each."""
    port = str(_free_port())
    commands = []
    for rank in (0, 1):
        command = [
            *(sys.executable, "-m", "torch.distributed.run", "--nnodes", "2"),
            *("--nproc-per-node", "1", "--node-rank", str(rank)),
            *("--master-addr", "127.0.0.1", "--master-port", port),
            *("-m", "framecast", "train", *args),
        ]
        commands.append((command, _environment()))
    return _run_nodes(commands)


class WeightsAt(L.Callback):
    """Keeps the model's weights after global step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.weights: dict[str, torch.Tensor] = {}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            self.weights = {k: v.detach().clone() for k, v in pl_module.model.state_dict().items()}


def _checkpoint_weights(path: Path) -> tuple[dict[str, torch.Tensor], int]:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    weights = {k[6:]: v for k, v in ckpt["state_dict"].items() if k.startswith("model.")}
    return weights, int(ckpt["global_step"])


def _max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def test_two_nodes_train_as_one_process_and_resume(tmp_path: Path, capsys):
    # the reference: one process, the nodes' global batch, FIRST + MORE steps uninterrupted
    single = config_from_dict(_config(tmp_path, "single", batch_size=4, num_nodes=1))
    single.train.max_steps = FIRST + MORE
    at_first = WeightsAt(FIRST)
    reference = train(single, callbacks=[at_first], verbose=False)
    final = {k: v.detach().clone() for k, v in reference.module.model.state_dict().items()}
    assert at_first.weights

    # two nodes of one process each, batch 2 each, FIRST steps
    config = tmp_path / "nodes.yaml"
    config.write_text(yaml.safe_dump(_config(tmp_path, "nodes", batch_size=2, num_nodes=2)))
    out = _by_variables(["--config", str(config)])
    assert f"trained to step {FIRST}" in out[0] and "on 2 processes" in out[0]
    assert "trained to step" not in out[1]  # the second node reports nothing of its own
    run = tmp_path / "runs" / "nodes"
    weights, step = _checkpoint_weights(run / "checkpoints" / "last.ckpt")
    first_difference = _max_difference(weights, at_first.weights)
    assert step == FIRST and first_difference <= TOLERANCE

    # resumed from the 2-node checkpoint in one process (the global batch kept) ...
    copy = tmp_path / "runs" / "nodes-in-one"
    shutil.copytree(run, copy)
    more = [f"train.max_steps={FIRST + MORE}"]
    in_one = ["data.batch_size=4", "train.num_nodes=1", "train.strategy=auto"]
    assert main(["train", "--resume", str(copy), *more, *in_one]) == 0
    weights, step = _checkpoint_weights(copy / "checkpoints" / "last.ckpt")
    one_difference = _max_difference(weights, final)
    assert step == FIRST + MORE and one_difference <= TOLERANCE

    # ... and on two nodes again, started by torchrun
    out = _by_torchrun(["--resume", str(run), *more])
    assert f"trained to step {FIRST + MORE}" in out[0]
    weights, step = _checkpoint_weights(run / "checkpoints" / "last.ckpt")
    two_difference = _max_difference(weights, final)
    assert step == FIRST + MORE and two_difference <= TOLERANCE
    assert not list(run.rglob("*.partial")) and not (run / ".framecast.lock").exists()
    with capsys.disabled():
        print(
            f"\nmax |weight difference| to one process: {first_difference:.3g} after "
            f"{FIRST} steps on 2 nodes; {one_difference:.3g} resumed in 1 process, "
            f"{two_difference:.3g} resumed on 2 nodes (torchrun), after {FIRST + MORE} steps"
        )


def test_a_signal_to_one_node_stops_both_after_the_same_step(tmp_path: Path):
    """SIGTERM to the second node's process alone: both stop cleanly, with one last.ckpt."""
    raw = _config(tmp_path, "stopped", batch_size=2, num_nodes=2)
    raw["train"]["max_steps"] = 100_000  # until the signal
    config = tmp_path / "stopped.yaml"
    config.write_text(yaml.safe_dump(raw))
    port = str(_free_port())
    base = {**_environment(), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "WORLD_SIZE": "2"}
    command = [sys.executable, "-m", "framecast", "train", "--config", str(config)]
    procs, outs = [], []
    for rank in (0, 1):
        env = {**base, "NODE_RANK": str(rank), "LOCAL_RANK": "0", "PYTHONUNBUFFERED": "1"}
        outs.append(open(tmp_path / f"node{rank}.out", "w+"))  # noqa: SIM115 (closed below)
        procs.append(subprocess.Popen(command, env=env, stdout=outs[-1], stderr=subprocess.STDOUT))
    last = tmp_path / "runs" / "stopped" / "checkpoints" / "last.ckpt"
    try:
        deadline = time.monotonic() + 300
        while not last.exists():  # written after the first validation: both nodes train
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
            time.sleep(0.2)
        procs[1].send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=120) for p in procs]  # a node left waiting would time out
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        texts = []
        for out in outs:
            out.seek(0)
            texts.append(out.read())
            out.close()
    assert codes == [143, 143], texts
    step = int(torch.load(last, weights_only=True)["global_step"])
    assert f"trained to step {step} " in texts[0] and "(stopped by SIGTERM)" in texts[0]
    assert "SIGTERM: stopping after this step" in texts[1]
    assert not list(last.parent.glob("*.partial"))
