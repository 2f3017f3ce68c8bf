"""Recurrent cells, all with one signature (see :mod:`framecast.cells.base`).

Importing this package registers every cell in :data:`CELLS`.
"""

from framecast.cells.base import CellState, RecurrentCell
from framecast.cells.build import build_cell
from framecast.cells.convlstm import ConvLSTMCell
from framecast.cells.registry import CELLS
from framecast.cells.stack import CellStack, StackState, layer_widths
from framecast.cells.stlstm import SpatioTemporalLSTMCell

__all__ = [
    "CELLS",
    "CellStack",
    "CellState",
    "ConvLSTMCell",
    "RecurrentCell",
    "SpatioTemporalLSTMCell",
    "StackState",
    "build_cell",
    "layer_widths",
]
