"""Recurrent cells, all with one signature (see :mod:`framecast.cells.base`).

The cells are named in :data:`CELLS`, read from the plugin table (:mod:`framecast.plugins`).
"""

from framecast.cells.base import CellState, RecurrentCell
from framecast.cells.build import build_cell
from framecast.cells.causal_lstm import CausalLSTMCell
from framecast.cells.convlstm import ConvLSTMCell
from framecast.cells.memory_flow import MemoryFlowLSTMCell
from framecast.cells.registry import CELLS
from framecast.cells.stack import CellStack, StackState, layer_widths
from framecast.cells.stlstm import SpatioTemporalLSTMCell
from framecast.cells.vector import VectorCell, VectorGRUCell, VectorLSTMCell, VectorRNNCell

__all__ = [
    "CELLS",
    "CausalLSTMCell",
    "CellStack",
    "CellState",
    "ConvLSTMCell",
    "MemoryFlowLSTMCell",
    "RecurrentCell",
    "SpatioTemporalLSTMCell",
    "StackState",
    "VectorCell",
    "VectorGRUCell",
    "VectorLSTMCell",
    "VectorRNNCell",
    "build_cell",
    "layer_widths",
]
