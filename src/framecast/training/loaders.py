"""DataLoaders built from a :class:`~framecast.config.DataConfig`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from framecast.config import DataConfig
from framecast.data import build_dataset

SPLITS = ("train", "val", "test")


class EpochShuffleSampler(DistributedSampler):
    """Shuffles with a seed that depends only on (seed, epoch); deals the order to DDP processes.

    Lightning calls :meth:`set_epoch` before each epoch, so a run resumed
    from a checkpoint sees batches in the same order as an uninterrupted one.

    In a run of ``W`` processes (``torch.distributed`` initialised),
    process ``r`` takes the epoch's order at ``r, r + W, r + 2W, ...`` (the
    same number each, the last ``length % W`` left out). With batches of
    ``b``, its ``j``-th sample of its ``k``-th batch is then the
    ``(r + W j)``-th of the ``k``-th batch of ``W b`` that one process draws
    from the same order: ``W`` processes with batches of ``b`` train on the
    batches of one process with ``W b``. It is a ``DistributedSampler`` so
    that Lightning keeps it rather than wrapping it in its own, which would
    shuffle the order again before dealing it.
    """

    def __init__(self, length: int, seed: int) -> None:
        # not DistributedSampler.__init__: it asks torch.distributed for the processes at once,
        # and the loader is built before the trainer starts them
        self.length = length
        self.seed = seed
        self.epoch = 0
        self.start = 0
        """Indices of this process's order to leave out at the next iteration (a resumed epoch)."""
        self.shuffle = True
        self.drop_last = True

    @property
    def rank(self) -> int:  # type: ignore[override]
        """This process's place among the processes of a distributed run (0 otherwise)."""
        return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0

    @property
    def num_replicas(self) -> int:  # type: ignore[override]
        """The processes of a distributed run (1 otherwise)."""
        return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        gen = torch.Generator().manual_seed(self.seed * 7919 + self.epoch)
        order = torch.randperm(self.length, generator=gen).tolist()
        rank, world = self.rank, self.num_replicas
        mine = order[rank : world * (self.length // world) : world]
        start, self.start = self.start, 0
        return iter(mine[start:])

    def __len__(self) -> int:
        return self.length // self.num_replicas


class ResumableLoader(DataLoader):
    """A training DataLoader that Lightning can resume in the middle of an epoch.

    It counts the batches it has handed out; Lightning stores that count
    (:meth:`state_dict`) in every checkpoint and gives it back
    (:meth:`load_state_dict`) on resume, and the resumed epoch then skips the
    batches already trained on, in the same order. So a run resumed from a
    mid-epoch checkpoint sees exactly the batches of an uninterrupted one.
    The skipping needs an :class:`EpochShuffleSampler`; with another sampler
    a resumed epoch restarts its order, as a plain DataLoader does. Each
    process of a DDP run counts its own batches: a run resumed with another
    number of processes resumes exactly when its global batch
    (``data.batch_size`` x processes) is the same.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._epoch = 0
        self._batches = 0
        self._resume: tuple[int, int] | None = None

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        # a generator: this runs at the first batch, after Lightning's set_epoch
        sampler = self.sampler
        epoch = int(getattr(sampler, "epoch", 0))
        skip = 0
        if isinstance(sampler, EpochShuffleSampler):
            if self._resume is not None and self._resume[0] == epoch:
                skip = self._resume[1]
            sampler.start = skip * int(self.batch_size or 1)
        self._resume = None
        self._epoch, self._batches = epoch, skip
        for batch in super().__iter__():
            self._batches += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        """The epoch and the batches of it handed out so far (0 once it is complete)."""
        done = self._batches if self._batches < len(self) else 0
        return {"epoch": self._epoch, "batches": done}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Skip ``state["batches"]`` batches when epoch ``state["epoch"]`` is next iterated."""
        self._resume = (int(state["epoch"]), int(state["batches"]))


def split_options(cfg: DataConfig, split: str) -> dict[str, Any]:
    """Dataset options of one split: ``options`` with ``split_options[split]`` on top."""
    unknown = sorted(set(cfg.split_options) - set(SPLITS))
    if unknown:
        raise KeyError(
            f"data.split_options has unknown split(s) {unknown}; expected {list(SPLITS)}"
        )
    return {**cfg.options, **cfg.split_options.get(split, {})}


def make_dataset(cfg: DataConfig, split: str) -> Dataset:
    """Build one split of the configured dataset."""
    return build_dataset(
        cfg.name,
        split,
        n_context=cfg.n_context,
        n_target=cfg.n_target,
        options=split_options(cfg, split),
    )


def make_loader(cfg: DataConfig, dataset: Dataset, *, train: bool, seed: int = 0) -> DataLoader:
    """A DataLoader over ``dataset``: shuffled by epoch for training, in order otherwise."""
    n = len(dataset)  # type: ignore[arg-type]
    if n == 0:
        raise ValueError(f"dataset {cfg.name!r} has no sequences for this split")
    if train and n < cfg.batch_size:
        raise ValueError(
            f"dataset {cfg.name!r} has {n} training sequences, "
            f"fewer than batch_size={cfg.batch_size}"
        )
    if train:
        return ResumableLoader(
            dataset,
            batch_size=cfg.batch_size,
            sampler=EpochShuffleSampler(n, seed),
            drop_last=True,
            num_workers=cfg.num_workers,
            persistent_workers=cfg.num_workers > 0,
        )
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        drop_last=False,
        num_workers=cfg.num_workers,
        persistent_workers=cfg.num_workers > 0,
    )
