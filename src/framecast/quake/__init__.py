"""Earthquake forecasting: catalogs, gridding into frames, ETAS, forecasts and scores.

Install the extra dependencies with ``pip install 'framecast[quake]'`` (ObsPy
for QuakeML, pyCSEP for the CSEP tests).
"""

from framecast.quake.events import COLUMNS, Catalog, to_datetime64
from framecast.quake.grid import Grid, parse_region

__all__ = ["COLUMNS", "Catalog", "Grid", "parse_region", "to_datetime64"]
