"""Build a registered forecasting model by name, checking its options and cell first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from framecast.cells.registry import CELLS
from framecast.models.base import ForecastModel
from framecast.models.registry import MODELS
from framecast.signature import check_options


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
