"""The registry of recurrent cells."""

from framecast.cells.base import RecurrentCell
from framecast.registry import Registry

CELLS: Registry[type[RecurrentCell]] = Registry("cell")
