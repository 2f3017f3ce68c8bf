"""The registry of recurrent cells."""

from framecast.cells.base import RecurrentCell
from framecast.plugins import PLUGINS
from framecast.registry import Registry

CELLS: Registry[type[RecurrentCell]] = Registry("cell", PLUGINS["cell"])
