"""Build one split of a configured labelled dataset, and loaders over it."""

from __future__ import annotations

from typing import Any

from torch.utils.data import DataLoader, Dataset

from framecast.classify.config import LabelledDataConfig
from framecast.classify.registry import LABELLED_DATA
from framecast.classify.vocabulary import Vocabulary
from framecast.signature import check_options
from framecast.training.loaders import EpochShuffleSampler, ResumableLoader, split_options


def build_labelled_dataset(
    cfg: LabelledDataConfig, split: str, vocabulary: Vocabulary | None = None
) -> Dataset:
    """The ``split`` of ``cfg``'s dataset; text datasets encode with ``vocabulary`` when given.

    Raises
    ------
    KeyError
        Unknown dataset (the message lists the valid ones).
    TypeError
        An option the dataset does not take.
    """
    factory = LABELLED_DATA.get(cfg.name)
    options: dict[str, Any] = split_options(cfg, split)  # type: ignore[arg-type]
    check_options(factory, options, f"dataset {cfg.name!r}", skip=("split", "vocabulary"))
    return factory(split, vocabulary=vocabulary, **options)


def make_labelled_loader(
    cfg: LabelledDataConfig, dataset: Dataset, *, train: bool, seed: int = 0
) -> DataLoader:
    """Training: shuffled by (seed, epoch) and resumable mid-epoch; otherwise in order.

    Raises
    ------
    ValueError
        An empty dataset, or fewer training items than one batch.
    """
    n = len(dataset)  # type: ignore[arg-type]
    if n == 0:
        raise ValueError(f"dataset {cfg.name!r} has no items for this split")
    if train and n < cfg.batch_size:
        raise ValueError(
            f"dataset {cfg.name!r} has {n} training items, fewer than batch_size={cfg.batch_size}"
        )
    common: dict[str, Any] = {
        "batch_size": cfg.batch_size,
        "num_workers": cfg.num_workers,
        "persistent_workers": cfg.num_workers > 0,
    }
    if train:
        return ResumableLoader(
            dataset, sampler=EpochShuffleSampler(n, seed), drop_last=True, **common
        )
    return DataLoader(dataset, drop_last=False, **common)
