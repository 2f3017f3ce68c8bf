"""DataLoaders built from a :class:`~framecast.config.DataConfig`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from framecast.config import DataConfig
from framecast.data import build_dataset

SPLITS = ("train", "val", "test")


class EpochShuffleSampler(Sampler[int]):
    """Shuffles with a seed that depends only on (seed, epoch).

    Lightning calls :meth:`set_epoch` before each epoch, so a run resumed
    from a checkpoint sees batches in the same order as an uninterrupted one.
    """

    def __init__(self, length: int, seed: int) -> None:
        self.length = length
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        gen = torch.Generator().manual_seed(self.seed * 7919 + self.epoch)
        return iter(torch.randperm(self.length, generator=gen).tolist())

    def __len__(self) -> int:
        return self.length


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
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        sampler=EpochShuffleSampler(n, seed) if train else None,
        drop_last=train,
        num_workers=cfg.num_workers,
        persistent_workers=cfg.num_workers > 0,
    )
