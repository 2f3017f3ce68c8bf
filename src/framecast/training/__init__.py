"""Training: the LightningModule, losses, scheduled sampling, the run driver."""

from framecast.training.losses import LOSSES
from framecast.training.module import ForecastModule
from framecast.training.run import TrainResult, train

__all__ = ["LOSSES", "ForecastModule", "TrainResult", "train"]
