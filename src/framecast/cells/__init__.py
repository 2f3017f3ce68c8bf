"""Recurrent cells, all with one signature (see :mod:`framecast.cells.base`).

Importing this package registers every cell in :data:`CELLS`.
"""

from framecast.cells.base import CellState, RecurrentCell
from framecast.cells.convlstm import ConvLSTMCell
from framecast.cells.registry import CELLS
from framecast.cells.stlstm import SpatioTemporalLSTMCell

__all__ = ["CELLS", "CellState", "ConvLSTMCell", "RecurrentCell", "SpatioTemporalLSTMCell"]


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
    from framecast.signature import check_options

    cls = CELLS.get(name)
    check_options(
        cls, options, f"cell {name!r}", skip=("in_channels", "hidden_channels", "kernel_size")
    )
    return cls(in_channels, hidden_channels, kernel_size, **options)
