"""Whether this process was started as the run's layout of nodes and processes, checked first.

A run on several nodes is started on every node by a launcher: ``torchrun``,
SLURM's ``srun``, or a job script that sets ``MASTER_ADDR``,
``MASTER_PORT``, ``WORLD_SIZE`` and ``NODE_RANK`` itself (Lightning's
general-purpose cluster). Lightning reads the layout from those variables
and checks it against ``train.num_nodes`` and ``train.devices`` only inside
``fit``, once the run folder is written, or not at all: a process that
expects a second node that was never started waits for it until the
process group's timeout. :func:`check_launch` refuses a layout that does
not fit, and a strategy Lightning does not know, in one line before
anything is read or written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

Variable = tuple[str, int]
"""An environment variable's name and its whole-number value."""

GUIDE = "docs/cluster.md, 'Training on several nodes'"
"""Where the launch commands are shown, for the messages."""


@dataclass(frozen=True)
class Launch:
    """The layout a launcher announced in the environment of this process.

    Each field is the variable that told it and its value, None when the
    launcher did not set one.
    """

    launcher: str
    """``torchrun``, ``srun`` or ``the environment`` (variables set by a job script)."""
    world_size: Variable | None
    node_rank: Variable | None
    nodes: Variable | None
    per_node: Variable | None
    local_rank: Variable | None


def _whole(env: Mapping[str, str], *names: str) -> Variable | None:
    """The first of ``names`` set in ``env``, as a whole number; None when none is set.

    Raises
    ------
    ValueError
        The variable is set to something other than a whole number >= 0.
    """
    for name in names:
        raw = env.get(name)
        if raw is None or not raw.strip():
            continue
        if not raw.strip().isdigit():
            raise ValueError(f"{name}={raw!r} is not a whole number; expected a count or rank >= 0")
        return name, int(raw)
    return None


def detect_launch(env: Mapping[str, str] | None = None) -> Launch | None:
    """The launcher that started this process and the layout it set, None for a plain start.

    Parameters
    ----------
    env : mapping, optional
        The environment (default ``os.environ``).

    Raises
    ------
    ValueError
        A layout variable that is not a whole number.
    """
    env = os.environ if env is None else env
    if env.get("TORCHELASTIC_RUN_ID"):  # what torch.distributed.is_torchelastic_launched reads
        return Launch(
            "torchrun",
            _whole(env, "WORLD_SIZE"),
            _whole(env, "GROUP_RANK"),
            _whole(env, "GROUP_WORLD_SIZE"),
            _whole(env, "LOCAL_WORLD_SIZE"),
            _whole(env, "LOCAL_RANK"),
        )
    if "SLURM_NTASKS" in env and env.get("SLURM_JOB_NAME") not in ("bash", "interactive"):
        return Launch(  # Lightning's SLURMEnvironment.detect
            "srun",
            _whole(env, "SLURM_NTASKS"),
            _whole(env, "SLURM_NODEID"),
            _whole(env, "SLURM_NNODES", "SLURM_JOB_NUM_NODES"),
            _whole(env, "SLURM_NTASKS_PER_NODE"),
            _whole(env, "SLURM_LOCALID"),
        )
    if any(name in env for name in ("WORLD_SIZE", "NODE_RANK", "LOCAL_RANK")):
        return Launch(
            "the environment",
            _whole(env, "WORLD_SIZE"),
            _whole(env, "NODE_RANK", "GROUP_RANK"),
            None,
            None,
            _whole(env, "LOCAL_RANK"),
        )
    return None


def check_strategy(strategy: str) -> None:
    """Refuse a ``train.strategy`` name that Lightning's registry does not hold.

    Raises
    ------
    ValueError
        One line naming the value and the names Lightning knows.
    """
    from lightning.pytorch.strategies import StrategyRegistry

    known = sorted(StrategyRegistry.available_strategies())
    if str(strategy).lower() != "auto" and str(strategy).lower() not in known:
        raise ValueError(
            f"train.strategy={strategy!r} is not a strategy Lightning knows; expected auto or "
            f"one of {', '.join(known)}"
        )


def check_launch(
    num_nodes: int, devices: int, strategy: str = "auto", env: Mapping[str, str] | None = None
) -> Launch | None:
    """Refuse a run whose ``num_nodes`` and ``devices`` do not fit how it was launched.

    Parameters
    ----------
    num_nodes : int
        ``train.num_nodes``.
    devices : int
        ``train.devices``, the processes of each node (-1: every GPU, not checked).
    strategy : str
        ``train.strategy``, checked by :func:`check_strategy`.
    env : mapping, optional
        The environment (default ``os.environ``).

    Returns
    -------
    Launch or None
        The launch found (None: a plain start, whose processes Lightning starts itself).

    Raises
    ------
    ValueError
        One line naming the variable or setting, its value and what was
        expected: several nodes without a launcher (``WORLD_SIZE`` unset), a
        world size, node count or processes per node other than the
        config's, a node rank outside ``0..num_nodes-1``, or no
        ``MASTER_ADDR`` / ``MASTER_PORT`` to meet at.
    """
    check_strategy(strategy)
    env = os.environ if env is None else env
    launch = detect_launch(env)
    want = num_nodes * devices if devices >= 1 else None
    layout = f"train.num_nodes={num_nodes} x train.devices={devices}"
    if launch is None:
        if num_nodes > 1:
            raise ValueError(
                f"train.num_nodes={num_nodes} but this process was not started as one of "
                f"{num_nodes} nodes: WORLD_SIZE is unset (no torchrun, srun or NODE_RANK); "
                f"expected a launcher on every node (torchrun --nnodes {num_nodes}, srun "
                f"--nodes={num_nodes}, or MASTER_ADDR, MASTER_PORT, WORLD_SIZE={want or '...'} "
                f"and NODE_RANK=0..{num_nodes - 1} set), see {GUIDE}"
            )
        return None
    if launch.launcher == "srun" and want == 1:
        return launch  # one process in a SLURM allocation: Lightning trains on one device
    _check_counts(launch, num_nodes, devices, want, layout)
    _check_ranks(launch, num_nodes, devices, env)
    return launch


def _check_counts(
    launch: Launch, num_nodes: int, devices: int, want: int | None, layout: str
) -> None:
    by = f" (from {launch.launcher})"
    if launch.world_size is None:
        if num_nodes > 1:
            raise ValueError(
                f"train.num_nodes={num_nodes} but WORLD_SIZE is unset; expected "
                f"WORLD_SIZE={want or '...'} ({layout}) on every node, see {GUIDE}"
            )
    elif want is not None and launch.world_size[1] != want:
        name, value = launch.world_size
        raise ValueError(
            f"{name}={value}{by} but {layout} makes {want} process(es); expected "
            f"{name}={want}, or train.num_nodes and train.devices that make {value}"
        )
    if launch.nodes is not None and launch.nodes[1] != num_nodes:
        name, value = launch.nodes
        raise ValueError(
            f"{name}={value} nodes{by} but train.num_nodes={num_nodes}; expected "
            f"{name}={num_nodes} or train.num_nodes={value}"
        )
    if launch.per_node is not None and devices >= 1 and launch.per_node[1] != devices:
        name, value = launch.per_node
        raise ValueError(
            f"{name}={value} processes per node{by} but train.devices={devices}; expected "
            f"{name}={devices} or train.devices={value}"
        )
    if launch.launcher == "srun" and launch.per_node is None:  # srun --ntasks alone
        raise ValueError(
            f"SLURM_NTASKS_PER_NODE is unset (srun --ntasks without --ntasks-per-node); "
            f"expected sbatch --nodes={num_nodes} --ntasks-per-node={devices}, see {GUIDE}"
        )


def _check_ranks(launch: Launch, num_nodes: int, devices: int, env: Mapping[str, str]) -> None:
    if launch.node_rank is None:
        if num_nodes > 1:
            raise ValueError(
                f"train.num_nodes={num_nodes} but NODE_RANK is unset; expected NODE_RANK set "
                f"to this node's place, 0..{num_nodes - 1}, on every node"
            )
    elif not launch.node_rank[1] < num_nodes:
        name, value = launch.node_rank
        raise ValueError(
            f"{name}={value} but train.num_nodes={num_nodes}; expected {name} in "
            f"0..{num_nodes - 1}, this node's place among the {num_nodes}"
        )
    if launch.local_rank is not None and devices >= 1 and not launch.local_rank[1] < devices:
        name, value = launch.local_rank
        raise ValueError(
            f"{name}={value} but train.devices={devices}; expected {name} in 0..{devices - 1}"
        )
    if launch.launcher == "the environment" and num_nodes > 1:
        for name in ("MASTER_ADDR", "MASTER_PORT"):
            if not env.get(name, "").strip():
                raise ValueError(
                    f"train.num_nodes={num_nodes} but {name} is unset; expected {name} set on "
                    f"every node to the {'address' if name == 'MASTER_ADDR' else 'free port'} "
                    f"of node 0, where the nodes meet"
                )
