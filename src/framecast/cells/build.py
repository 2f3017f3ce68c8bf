"""Build a registered cell by name, checking its options first."""

from __future__ import annotations

from framecast.cells.base import RecurrentCell
from framecast.cells.registry import CELLS
from framecast.signature import check_options


def build_cell(
    name: str, in_channels: int, hidden_channels: int, kernel_size: int = 3, **options: object
) -> RecurrentCell:
    """Build the cell registered as ``name``.

    Raises
    ------
    KeyError
        Unknown cell name (the message lists the valid ones).
    TypeError
        An option the cell does not take (the message lists those it takes).
    """
    cls = CELLS.get(name)
    check_options(
        cls, options, f"cell {name!r}", skip=("in_channels", "hidden_channels", "kernel_size")
    )
    return cls(in_channels, hidden_channels, kernel_size, **options)
