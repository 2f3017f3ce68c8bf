"""The registry of datasets.

Every entry is a factory ``factory(split, *, n_context=10, n_target=10,
**options) -> torch.utils.data.Dataset`` whose items are ``(context, target)``
float32 tensors of shape ``[n_context, C, H, W]`` and ``[n_target, C, H, W]``
with values in [0, 1], unless the dataset states another ``value_range``
(seismicity frames hold raw counts).
"""

from collections.abc import Callable

from torch.utils.data import Dataset

from framecast.plugins import PLUGINS
from framecast.registry import Registry

DATASETS: Registry[Callable[..., Dataset]] = Registry("dataset", PLUGINS["dataset"])
