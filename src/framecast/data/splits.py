"""Split names and the deterministic partition of sequences into splits."""

from __future__ import annotations

SPLITS: tuple[str, ...] = ("train", "val", "test")
"""The split names every dataset factory accepts, in this order."""


def split_index(split: str) -> int:
    """Position of ``split`` in :data:`SPLITS` (0 train, 1 val, 2 test).

    Generated datasets seed item ``i`` of a split with
    ``[seed, split_index(split), i]``, so the splits never share a sequence
    stream.

    Raises
    ------
    ValueError
        If ``split`` is not one of :data:`SPLITS`.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    return SPLITS.index(split)


def split_range(n: int, split: str, val_fraction: float, test_fraction: float) -> range:
    """Indices of the sequences of ``split`` among ``n`` sequences.

    The sequences are cut into contiguous blocks: first train, then
    validation, then test. The validation and test blocks hold
    ``round(n * fraction)`` sequences each; train holds the rest.

    Parameters
    ----------
    n : int
        Number of sequences.
    split : str
        "train", "val" or "test".
    val_fraction, test_fraction : float
        Fractions in [0, 1) that sum to less than 1.

    Returns
    -------
    range
        The sequence indices of the split.

    Raises
    ------
    ValueError
        Bad split name, bad fractions, or a split that would be empty.
    """
    index = split_index(split)
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number, got {value!r}")
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1 so that train is not empty, "
            f"got {val_fraction!r} + {test_fraction!r}"
        )
    n_val = round(n * val_fraction)
    n_test = round(n * test_fraction)
    n_train = n - n_val - n_test
    bounds = (0, n_train, n_train + n_val, n)
    selected = range(bounds[index], bounds[index + 1])
    if len(selected) == 0:
        raise ValueError(
            f"split {split!r} is empty: {n} sequences give train={n_train}, val={n_val}, "
            f"test={n_test} (val_fraction={val_fraction!r}, test_fraction={test_fraction!r})"
        )
    return selected
