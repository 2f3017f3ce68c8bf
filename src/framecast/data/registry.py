"""The registry of datasets.

Every entry is a :class:`~framecast.data.contract.DatasetFactory`,
``factory(split, *, n_context=10, n_target=10, **options)``, returning a
:class:`~framecast.data.contract.FrameDataset` whose items are
``(context, target)`` float32 tensors of shape ``[n_context, C, H, W]`` and
``[n_target, C, H, W]`` with values in [0, 1], unless the dataset states
another ``value_range`` (seismicity frames hold raw counts): the contract of
:mod:`framecast.data.contract`.
"""

from framecast.data.contract import DatasetFactory
from framecast.plugins import PLUGINS
from framecast.registry import Registry

DATASETS: Registry[DatasetFactory] = Registry("dataset", PLUGINS["dataset"])
