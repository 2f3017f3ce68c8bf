"""The registry of forecasting models."""

from framecast.models.base import ForecastModel
from framecast.plugins import PLUGINS
from framecast.registry import Registry

MODELS: Registry[type[ForecastModel]] = Registry("model", PLUGINS["model"])
