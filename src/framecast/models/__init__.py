"""Forecasting architectures. Importing this package registers them in :data:`MODELS`.

Architectures never import a concrete cell: they build one by name.
"""

from collections.abc import Mapping
from typing import Any

from framecast.cells import CELLS
from framecast.models.base import ForecastModel, StepwiseForecaster
from framecast.models.e3d_lstm import E3DLSTM
from framecast.models.encoder_forecaster import EncoderForecaster
from framecast.models.fc_lstm import FCLSTM
from framecast.models.keras_convlstm import KerasConvLSTM
from framecast.models.mim import MIM
from framecast.models.persistence import Persistence
from framecast.models.phydnet import PhyDNet
from framecast.models.prednet import PredNet
from framecast.models.predrnn import PredRNN
from framecast.models.predrnn_pp import PredRNNPlusPlus
from framecast.models.predrnn_v2 import PredRNNV2
from framecast.models.registry import MODELS
from framecast.models.side_inputs import SIDE_ENCODERS, SIDE_INPUTS, SideInputModel
from framecast.models.simvp import SimVP
from framecast.models.stvae import SpatioTemporalVideoAutoencoder
from framecast.models.tau import TAU
from framecast.models.trivial import BestConstant, BlankFrame, FlowExtrapolation, MeanFrame
from framecast.signature import check_options

__all__ = [
    "E3DLSTM",
    "FCLSTM",
    "MIM",
    "MODELS",
    "SIDE_ENCODERS",
    "SIDE_INPUTS",
    "TAU",
    "BestConstant",
    "BlankFrame",
    "EncoderForecaster",
    "FlowExtrapolation",
    "ForecastModel",
    "KerasConvLSTM",
    "MeanFrame",
    "Persistence",
    "PhyDNet",
    "PredNet",
    "PredRNN",
    "PredRNNPlusPlus",
    "PredRNNV2",
    "SideInputModel",
    "SimVP",
    "SpatioTemporalVideoAutoencoder",
    "StepwiseForecaster",
    "build_model",
    "compatible_cells",
]


def compatible_cells(name: str) -> list[str]:
    """Registered cells that model ``name`` can run (empty for models without a cell)."""
    cls = MODELS.get(name)
    if not cls.uses_cell:
        return []
    return [c for c in CELLS.available() if cls.accepts_cell(CELLS.get(c))]


def build_model(
    name: str, in_channels: int, options: Mapping[str, Any] | None = None
) -> ForecastModel:
    """Build the model registered as ``name`` with keyword ``options``.

    Raises
    ------
    KeyError
        Unknown model name (the message lists the valid ones).
    TypeError
        An option the model does not take, or ``cell`` given to a model
        that has no recurrent cell.
    """
    cls = MODELS.get(name)
    opts = dict(options or {})
    if not cls.uses_cell and "cell" in opts:
        raise TypeError(
            f"model {name!r} has no recurrent cell, so cell={opts['cell']!r} cannot apply"
        )
    if cls.uses_cell and "cell" in opts:
        cell_cls = CELLS.get(str(opts["cell"]))
        if cell_cls.kind != cls.cell_kind:
            raise ValueError(
                f"model {name!r} runs {cls.cell_kind} cells, and cell {opts['cell']!r} is a "
                f"{cell_cls.kind} cell; valid cells for it: {compatible_cells(name)}"
            )
        if not cls.accepts_cell(cell_cls):
            raise ValueError(
                f"model {name!r} cannot run cell {opts['cell']!r}; valid cells for it: "
                f"{compatible_cells(name)}"
            )
    check_options(cls, opts, f"model {name!r}", skip=("in_channels",))
    return cls(in_channels, **opts)
