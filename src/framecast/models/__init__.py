"""Forecasting architectures, by name in :data:`MODELS` (read from :mod:`framecast.plugins`).

Architectures never import a concrete cell: they build one by name.
"""

from framecast.models.base import ForecastModel, StepwiseForecaster
from framecast.models.build import build_model, compatible_cells
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
