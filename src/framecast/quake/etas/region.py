"""The study region of an ETAS model: a grid's box or a polygon, in local km.

ETAS distances are measured in the local equirectangular projection that
:class:`~framecast.quake.grid.Grid` uses (x east, y north, km, about the
box's centre); a polygon is projected the same way about its centroid.
Point-in-polygon tests use :class:`matplotlib.path.Path`: matplotlib is
already a dependency and its test is exact for the simple polygons of
study regions, so no geometry library (shapely) is added for one call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.path import Path as PolygonPath

from framecast.quake.grid import KM_PER_DEGREE, Grid


def _shoelace(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(signed area, centroid x, centroid y) of the polygon with vertices ``x, y`` ``[V]``."""
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y  # [V]
    area = 0.5 * float(cross.sum())
    if area == 0:
        return 0.0, float(x.mean()), float(y.mean())
    cx = float(((x + x1) * cross).sum()) / (6.0 * area)
    cy = float(((y + y1) * cross).sum()) / (6.0 * area)
    return area, cx, cy


@dataclass(frozen=True, eq=False)
class StudyRegion:
    """A region in a local equirectangular km projection.

    Build one with :func:`as_region` from a :class:`Grid` (its lat/lon box)
    or from polygon vertices.

    Parameters
    ----------
    lat0, lon0 : float
        Origin of the projection, degrees.
    vertices_km : numpy.ndarray
        float64 ``[V, 2]``: (x, y) of the polygon's vertices, km.
    is_box : bool
        True when the polygon is an axis-aligned rectangle (a grid's box).
    description : str
        Shown in error messages.
    """

    lat0: float
    lon0: float
    vertices_km: np.ndarray
    is_box: bool
    description: str

    # ------------------------------------------------------------- projection
    def project(self, latitude: np.ndarray, longitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) km east and north of the origin; the same formulas as :meth:`Grid.project`."""
        scale_x = KM_PER_DEGREE * math.cos(math.radians(self.lat0))
        x = (np.asarray(longitude, np.float64) - self.lon0) * scale_x
        y = (np.asarray(latitude, np.float64) - self.lat0) * KM_PER_DEGREE
        return x, y

    def unproject(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(latitude, longitude) in degrees of points ``x, y`` km."""
        scale_x = KM_PER_DEGREE * math.cos(math.radians(self.lat0))
        latitude = self.lat0 + np.asarray(y, np.float64) / KM_PER_DEGREE
        longitude = self.lon0 + np.asarray(x, np.float64) / scale_x
        return latitude, longitude

    # --------------------------------------------------------------- geometry
    @property
    def area_km2(self) -> float:
        """Area of the polygon in the projection, km²."""
        area, _, _ = _shoelace(self.vertices_km[:, 0], self.vertices_km[:, 1])
        return abs(area)

    @property
    def bounds_km(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max), km."""
        x, y = self.vertices_km[:, 0], self.vertices_km[:, 1]
        return float(x.min()), float(x.max()), float(y.min()), float(y.max())

    def contains_xy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """bool ``[N]``: whether the points (km) lie in the region (a box includes its edges)."""
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64)
        x_min, x_max, y_min, y_max = self.bounds_km
        inside = (x >= x_min) & (x <= x_max) & (y >= y_min) & (y <= y_max)
        if self.is_box or not inside.any():
            return inside
        points = np.column_stack([x[inside], y[inside]])  # [n, 2]
        inside[inside] = PolygonPath(self.vertices_km).contains_points(points)
        return inside

    def contains(self, latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
        """bool ``[N]``: whether the points (degrees) lie in the region."""
        return self.contains_xy(*self.project(latitude, longitude))

    def sample_uniform(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) km ``[count]``: points uniform in the region (rejection from the bounding box)."""
        if count <= 0:
            return np.empty(0), np.empty(0)
        x_min, x_max, y_min, y_max = self.bounds_km
        box_area = (x_max - x_min) * (y_max - y_min)
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        needed = count
        while needed > 0:
            draw = int(needed * box_area / self.area_km2 * 1.1) + 16
            x = rng.uniform(x_min, x_max, draw)
            y = rng.uniform(y_min, y_max, draw)
            keep = self.contains_xy(x, y)
            xs.append(x[keep][:needed])
            ys.append(y[keep][:needed])
            needed -= len(xs[-1])
        return np.concatenate(xs), np.concatenate(ys)


def box_region(bounds: tuple[float, float, float, float]) -> StudyRegion:
    """The lat/lon box ``(lat_min, lat_max, lon_min, lon_max)`` as a region, projected about
    its centre.

    One rule for every box, whether it comes from a grid (:func:`as_region`) or
    from a ``--region`` option: the same centre, the same projection and the
    same edge test, so an ETAS fit, a simulation and a forecast over the same
    box agree on which events are inside.
    """
    lat_min, lat_max, lon_min, lon_max = (float(v) for v in bounds)
    if not (lat_min < lat_max and lon_min < lon_max):
        raise ValueError(
            f"a box needs lat_min < lat_max and lon_min < lon_max, got {tuple(bounds)!r}"
        )
    lat0, lon0 = 0.5 * (lat_min + lat_max), 0.5 * (lon_min + lon_max)
    lat = np.array([lat_min, lat_min, lat_max, lat_max])
    lon = np.array([lon_min, lon_max, lon_max, lon_min])
    region = StudyRegion(lat0, lon0, np.zeros((4, 2)), True, "")
    x, y = region.project(lat, lon)
    description = f"the region lat {lat_min:g} to {lat_max:g}, lon {lon_min:g} to {lon_max:g}"
    return StudyRegion(lat0, lon0, np.column_stack([x, y]), True, description)


def _polygon_region(vertices: np.ndarray) -> StudyRegion:
    if vertices.ndim != 2 or vertices.shape[1] != 2 or len(vertices) < 3:
        raise ValueError(
            f"a polygon region must be an array of at least 3 (lat, lon) vertices, "
            f"got shape {vertices.shape}"
        )
    if not np.isfinite(vertices).all():
        raise ValueError("polygon vertices must be finite numbers")
    lat, lon = vertices[:, 0], vertices[:, 1]
    if (np.abs(lat) > 90).any() or (np.abs(lon) > 180).any():
        raise ValueError("polygon vertices must be (lat, lon) pairs in degrees, lat first")
    area, lon0, lat0 = _shoelace(lon, lat)
    if area == 0:
        raise ValueError("the polygon region has zero area")
    region = StudyRegion(lat0, lon0, np.zeros((len(vertices), 2)), False, "")
    x, y = region.project(lat, lon)
    description = f"the polygon of {len(vertices)} vertices about ({lat0:.4f}, {lon0:.4f})"
    return StudyRegion(lat0, lon0, np.column_stack([x, y]), False, description)


def as_region(region: Grid | StudyRegion | np.ndarray | list[tuple[float, float]]) -> StudyRegion:
    """A :class:`StudyRegion` from a grid, a region, or (lat, lon) polygon vertices.

    A grid stands for its lat/lon box (the cells of a ``unit="km"`` grid may
    reach a little beyond it). Polygon vertices may be given open or closed
    (first vertex repeated), in either orientation.

    Raises
    ------
    ValueError
        A polygon with fewer than 3 vertices, zero area or coordinates out of range.
    """
    if isinstance(region, StudyRegion):
        return region
    if isinstance(region, Grid):
        return box_region((region.lat_min, region.lat_max, region.lon_min, region.lon_max))
    return _polygon_region(np.asarray(region, dtype=np.float64))
