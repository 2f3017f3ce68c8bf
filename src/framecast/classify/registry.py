"""Registries of the sequence classifiers and of the labelled sequence datasets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from framecast.plugins import PLUGINS
from framecast.registry import Registry

CLASSIFIERS: Registry[Callable[..., Any]] = Registry("classifier", PLUGINS["classifier"])
"""Sequence classifiers: ``cls(input_size, num_classes, **options)``."""

LABELLED_DATA: Registry[Callable[..., Any]] = Registry(
    "labelled dataset", PLUGINS["labelled dataset"]
)
"""Labelled sequence datasets: ``factory(split, *, vocabulary=None, **options)``."""
