"""The spatial grid of seismicity frames: a lat/lon box cut into cells.

Cells are either degrees (``unit="deg"``: a regular lon/lat grid, the layout
pyCSEP's ``CartesianGrid2D`` uses) or kilometres (``unit="km"``: squares in
a local equirectangular projection about the box's centre, adequate for
boxes a few hundred km across; distances inside ETAS use the same
projection). Row 0 is the southern edge, column 0 the western edge, so maps
are drawn with ``origin="lower"``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from framecast.quake.catalog.region import parse_region

EARTH_RADIUS_KM = 6371.0
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180.0
UNITS = ("deg", "km")
_FIT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Grid:
    """A box ``[lat_min, lat_max] x [lon_min, lon_max]`` cut into square cells.

    Parameters
    ----------
    lat_min, lat_max, lon_min, lon_max : float
        The box in degrees.
    cell : float
        Cell size, in ``unit``.
    unit : {"deg", "km"}
        With "deg" the box must hold a whole number of cells along each
        axis. With "km" the grid is centred on the box and covers it with
        ``ceil(extent / cell)`` cells per axis (so it may reach a little
        beyond the box; events there count).

    Raises
    ------
    ValueError
        Unknown unit, non-positive cell, or a degree box that is not a whole
        number of cells.
    """

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    cell: float
    unit: str = "deg"

    def __post_init__(self) -> None:
        parse_region((self.lat_min, self.lat_max, self.lon_min, self.lon_max))
        if self.unit not in UNITS:
            raise ValueError(f"grid unit must be one of {list(UNITS)}, got {self.unit!r}")
        if not (isinstance(self.cell, int | float) and math.isfinite(self.cell) and self.cell > 0):
            raise ValueError(f"cell size must be a positive number, got {self.cell!r}")
        if self.unit == "deg":
            for axis, extent in (
                ("latitude", self.lat_max - self.lat_min),
                ("longitude", self.lon_max - self.lon_min),
            ):
                count = extent / self.cell
                if abs(count - round(count)) > _FIT_TOLERANCE * max(1.0, count):
                    raise ValueError(
                        f"the {axis} extent {extent:g} deg is not a whole number of "
                        f"{self.cell:g} deg cells ({count:.4f}); adjust the region or cell size"
                    )

    @classmethod
    def from_region(cls, region: str | tuple[float, ...], cell: float, unit: str = "deg") -> Grid:
        """A grid over ``region`` given as ``lat_min,lat_max,lon_min,lon_max``."""
        lat_min, lat_max, lon_min, lon_max = parse_region(region)
        return cls(lat_min, lat_max, lon_min, lon_max, float(cell), unit)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Grid:
        return cls(**{k: (str(v) if k == "unit" else float(v)) for k, v in values.items()})

    # ---------------------------------------------------------------- geometry
    @property
    def region(self) -> tuple[float, float, float, float]:
        return (self.lat_min, self.lat_max, self.lon_min, self.lon_max)

    @property
    def center(self) -> tuple[float, float]:
        """(lat0, lon0): the box centre, origin of the km projection."""
        return (0.5 * (self.lat_min + self.lat_max), 0.5 * (self.lon_min + self.lon_max))

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) = (H, W) of a frame."""
        if self.unit == "deg":
            ny = round((self.lat_max - self.lat_min) / self.cell)
            nx = round((self.lon_max - self.lon_min) / self.cell)
            return (int(ny), int(nx))
        width, height = self._extent_km()
        return (
            math.ceil(height / self.cell - _FIT_TOLERANCE),
            math.ceil(width / self.cell - _FIT_TOLERANCE),
        )

    def _extent_km(self) -> tuple[float, float]:
        lat0, _ = self.center
        width = (self.lon_max - self.lon_min) * KM_PER_DEGREE * math.cos(math.radians(lat0))
        height = (self.lat_max - self.lat_min) * KM_PER_DEGREE
        return width, height

    def project(self, latitude: np.ndarray, longitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local equirectangular (x east, y north) in km about the box centre."""
        lat0, lon0 = self.center
        x = (
            (np.asarray(longitude, np.float64) - lon0)
            * KM_PER_DEGREE
            * math.cos(math.radians(lat0))
        )
        y = (np.asarray(latitude, np.float64) - lat0) * KM_PER_DEGREE
        return x, y

    def unproject(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`project`: (latitude, longitude) in degrees."""
        lat0, lon0 = self.center
        latitude = lat0 + np.asarray(y, np.float64) / KM_PER_DEGREE
        longitude = lon0 + np.asarray(x, np.float64) / (
            KM_PER_DEGREE * math.cos(math.radians(lat0))
        )
        return latitude, longitude

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell edges (rows + 1, columns + 1): degrees for "deg", km for "km"."""
        ny, nx = self.shape
        if self.unit == "deg":
            return (
                self.lat_min + self.cell * np.arange(ny + 1),
                self.lon_min + self.cell * np.arange(nx + 1),
            )
        return (
            self.cell * (np.arange(ny + 1) - ny / 2),
            self.cell * (np.arange(nx + 1) - nx / 2),
        )

    def locate(self, latitude: np.ndarray, longitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) int64 arrays of the cells holding the points; -1 outside the grid.

        Points on the box's northern or eastern edge belong to the last cell.
        """
        ny, nx = self.shape
        latitude = np.asarray(latitude, np.float64)
        longitude = np.asarray(longitude, np.float64)
        if self.unit == "deg":
            fy = (latitude - self.lat_min) / self.cell
            fx = (longitude - self.lon_min) / self.cell
        else:
            x, y = self.project(latitude, longitude)
            fy = y / self.cell + ny / 2
            fx = x / self.cell + nx / 2
        row = np.floor(fy).astype(np.int64)
        col = np.floor(fx).astype(np.int64)
        row = np.where(np.isclose(fy, ny), ny - 1, row)
        col = np.where(np.isclose(fx, nx), nx - 1, col)
        inside = (row >= 0) & (row < ny) & (col >= 0) & (col < nx)
        return np.where(inside, row, -1), np.where(inside, col, -1)

    def cell_centers(self) -> tuple[np.ndarray, np.ndarray]:
        """(latitude, longitude) of the cell centres, each ``[rows, columns]``."""
        y_edges, x_edges = self.edges()
        yc = 0.5 * (y_edges[:-1] + y_edges[1:])
        xc = 0.5 * (x_edges[:-1] + x_edges[1:])
        yy, xx = np.meshgrid(yc, xc, indexing="ij")
        if self.unit == "deg":
            return yy, xx
        return self.unproject(xx, yy)

    def cell_areas_km2(self) -> np.ndarray:
        """float64 ``[rows, columns]``: cell areas on the sphere ("deg") or cell**2 ("km")."""
        ny, nx = self.shape
        if self.unit == "km":
            return np.full((ny, nx), self.cell**2)
        lat_edges, _ = self.edges()
        band = (
            EARTH_RADIUS_KM**2
            * math.radians(self.cell)
            * np.abs(np.diff(np.sin(np.radians(lat_edges))))
        )  # (ny,)
        return np.repeat(band[:, None], nx, axis=1)

    def area_km2(self) -> float:
        """Total area of the region covered by cells, km²."""
        return float(self.cell_areas_km2().sum())
