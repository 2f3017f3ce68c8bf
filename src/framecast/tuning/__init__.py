"""Hyperparameter search: Optuna studies over framecast configs (``framecast tune``).

Needs ``pip install 'framecast[tune]'`` (Optuna).
"""

from framecast.tuning.settings import TuneSettings
from framecast.tuning.space import Parameter, check_space, load_space, parse_parameter
from framecast.tuning.study import best_config, open_study, run_study

__all__ = [
    "Parameter",
    "TuneSettings",
    "best_config",
    "check_space",
    "load_space",
    "open_study",
    "parse_parameter",
    "run_study",
]
