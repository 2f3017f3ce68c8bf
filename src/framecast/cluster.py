"""Experiment jobs as tasks of a Dask cluster (``--cluster ADDRESS``).

``framecast compare``, ``framecast tune``, the seed sweep of ``framecast
quake run`` and its simulation-based ETAS forecasts cut their work into
independent jobs: a (model, cell) pair, a tune worker, a seed's network, a
chunk of simulations. Locally they run as processes of this machine (or in
this process); with ``--cluster tcp://HOST:PORT`` each job is a task of the
Dask scheduler there (``dask scheduler`` on one machine, ``dask worker
tcp://HOST:PORT`` on every other). A job is the same function, with the
same arguments and seeds, in both cases, so the results are the same.

Dask (its ``distributed`` package, the ``cluster`` extra) is imported by
:func:`connect` only: a command run without ``--cluster`` never loads it.
The jobs read and write the run's out folder, which every worker must see
at the same path (a shared file system); paths are made absolute before
they are sent.

Seen from the dispatch points, :func:`current` is the cluster of the
command in progress (set by :func:`session`), or None for a local run.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

CONNECT_SECONDS = 5.0
"""How long :func:`connect` waits for the scheduler, and then for one worker."""
_ADDRESS = re.compile(r"^(?:(tcp|tls)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
_CURRENT: contextvars.ContextVar[Cluster | None] = contextvars.ContextVar(
    "framecast_cluster", default=None
)
INSTALL_HINT = "pip install 'framecast[cluster]' (Dask's distributed package)"
CLUSTER_HELP = (
    "run the {jobs} as tasks of the Dask scheduler at ADDRESS (tcp://HOST:PORT); the out "
    "folder must be on a file system every worker sees (docs/cluster.md)"
)


class ClusterError(ValueError):
    """The cluster cannot be used: a bad or unreachable address, no worker, no Dask."""


def check_address(address: object) -> str:
    """``address`` as ``tcp://HOST:PORT`` (``HOST:PORT`` and ``tls://`` accepted).

    Raises
    ------
    ClusterError
        Anything else, in one line naming it.
    """
    text = str(address).strip() if isinstance(address, str) else ""
    match = _ADDRESS.match(text)
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise ClusterError(
            f"--cluster {address!r} is not a scheduler address; expected tcp://HOST:PORT "
            "(the address `dask scheduler` prints, e.g. tcp://10.0.0.5:8786)"
        )
    scheme = match.group(1) or "tcp"
    return f"{scheme}://{match.group(2)}:{match.group(3)}"


class Cluster:
    """A connection to a Dask scheduler that runs framecast's jobs as its tasks.

    Parameters
    ----------
    client : distributed.Client
        Connected, with at least one worker.
    address : str
        The scheduler's address, for messages.
    """

    def __init__(self, client: Any, address: str) -> None:
        self.client = client
        self.address = address

    @property
    def slots(self) -> int:
        """Tasks the cluster runs at once: the worker threads, summed over its workers."""
        return max(1, sum(self.client.nthreads().values()))

    def map(
        self,
        function: Callable[..., R],
        items: Sequence[T],
        *,
        shared: Mapping[str, Any] | None = None,
        done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """``[function(item, **shared) for item in items]``, each call a task of the cluster.

        Parameters
        ----------
        function : callable
            A module-level function (it is pickled by reference).
        items : sequence
            One task each.
        shared : mapping, optional
            Keyword arguments every task gets; sent to the workers once.
        done : callable, optional
            Called here with (index, result) as each task finishes.

        Returns
        -------
        list
            The results in the order of ``items``.

        Raises
        ------
        Exception
            The first error a task raised, as raised there (its type and
            message); the tasks not yet finished are cancelled.
        """
        from distributed import as_completed

        if not items:
            return []
        client = self.client
        kwargs = {
            key: client.scatter(value, broadcast=True, hash=False)
            for key, value in (shared or {}).items()
        }
        futures = [client.submit(function, item, **kwargs, pure=False) for item in items]
        index = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(items)
        try:
            for future in as_completed(futures, loop=client.loop):
                result = future.result()  # re-raises a task's error here
                i = index[future.key]
                results[i] = result
                if done is not None:
                    done(i, result)
        finally:
            client.cancel([f for f in futures if not f.done()])
        return results

    def close(self) -> None:
        self.client.close()


def connect(address: str, *, timeout: float = CONNECT_SECONDS) -> Cluster:
    """Connect to the Dask scheduler at ``address`` and wait for a worker.

    Raises
    ------
    ClusterError
        A bad address, Dask not installed, no scheduler answering within
        ``timeout`` seconds, or a scheduler without a worker after as long:
        one line naming the address.
    """
    address = check_address(address)
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError(f"--cluster {address} needs Dask: {INSTALL_HINT}") from None
    began = time.monotonic()
    try:
        _handshake(address, timeout)
        client = Client(address, timeout=timeout, set_as_default=False)
    except Exception as error:  # OSError, TimeoutError, or garbage from a non-Dask server
        reason = " ".join(str(error).split()) or type(error).__name__
        if not isinstance(error, OSError | TimeoutError):
            reason = f"an answer that is not Dask's: {type(error).__name__}"
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
            f"({reason}); expected `dask scheduler` answering there"
        ) from None
    try:
        client.wait_for_workers(1, timeout=max(1.0, timeout - (time.monotonic() - began)))
    except Exception:
        client.close()
        raise ClusterError(
            f"the Dask scheduler at {address} has no worker after {timeout:g} s; "
            f"start some with `dask worker {address}`"
        ) from None
    return Cluster(client, address)


def _handshake(address: str, timeout: float) -> None:
    """Open a Dask connection to ``address`` and close it; raise after ``timeout`` seconds.

    ``Client(address, timeout=...)`` bounds the TCP connect but not the
    handshake after it: a server that accepts and never answers would hold
    it for ever. Run in a thread of its own, so that no event loop of the
    caller is in the way.

    Raises
    ------
    TimeoutError, OSError
        No Dask handshake within ``timeout``.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect as open_comm

    async def probe() -> None:
        comm = await asyncio.wait_for(open_comm(address, timeout=timeout), timeout)
        await comm.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pool.submit(asyncio.run, probe()).result()
        except TimeoutError:
            raise TimeoutError(f"no Dask handshake within {timeout:g} s") from None


def current() -> Cluster | None:
    """The cluster the command in progress runs its jobs on (None: run them here)."""
    return _CURRENT.get()


@contextlib.contextmanager
def session(address: str | None) -> Iterator[Cluster | None]:
    """Connect to ``address`` (None: no cluster) and make it :func:`current` inside the block.

    Raises
    ------
    ClusterError
        As :func:`connect`, before the block runs.
    """
    if address is None:
        yield None
        return
    cluster = connect(address)
    token = _CURRENT.set(cluster)
    try:
        yield cluster
    finally:
        _CURRENT.reset(token)
        cluster.close()
