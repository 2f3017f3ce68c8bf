"""Testing-region polygons read from a config list, a ``.npy`` file, GeoJSON or WKT.

A testing region (CSEP's term) is a polygon of (latitude, longitude)
vertices; the cells of a grid whose centres lie inside it are the cells
that are forecast and scored (:func:`polygon_cell_mask`, pyCSEP's rule for
building a gridded region from a polygon). Accepted sources:

- a list of ``[lat, lon]`` pairs in the config;
- a ``.npy`` file of shape ``[V, 2]`` (lat, lon), as EarthquakeNPP ships its
  regions (read with ``allow_pickle=False``: a data file never runs code);
- a GeoJSON file (``.geojson`` / ``.json``): a ``Polygon`` geometry, a
  ``Feature`` holding one, or a ``FeatureCollection`` of exactly one; its
  exterior ring, in GeoJSON's (lon, lat) order (RFC 7946), must be closed;
- a WKT file (``.wkt``) or text ``POLYGON ((lon lat, ...))``, exterior
  ring only, closed.

The list and ``.npy`` forms may be open or closed (the first vertex
repeated). A polygon must have at least 3 distinct vertices, a non-zero
area and no crossing edges. Parsed by hand: the two text formats need a few
lines each, and shapely (the usual library) would be a dependency for one call.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from framecast.quake.grid import Grid

_WKT = re.compile(r"^\s*POLYGON\s*\(\s*\((?P<ring>[^()]*)\)\s*(?P<holes>.*)\)\s*$", re.IGNORECASE)


def _closed_ring(ring: np.ndarray, source: str) -> np.ndarray:
    if len(ring) < 4 or not np.array_equal(ring[0], ring[-1]):
        raise ValueError(
            f"the polygon in {source} does not close: a ring needs at least 4 positions with "
            f"the last equal to the first, got {len(ring)} ending at {ring[-1].tolist()}"
        )
    return ring[:-1]


def _from_geojson(text: str, source: str) -> np.ndarray:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{source} is not GeoJSON: {error}") from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise ValueError(
                f"{source} holds {len(features)} features; a testing region is one polygon"
            )
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") != "Polygon":
        kind = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"{source} must hold a GeoJSON Polygon, got {kind!r}")
    rings = data.get("coordinates")
    try:
        exterior = np.asarray(rings[0], dtype=np.float64)  # [V+1, 2] (lon, lat)
    except (TypeError, IndexError, ValueError):
        raise ValueError(f"{source}: the Polygon's coordinates are not a list of rings") from None
    if exterior.ndim != 2 or exterior.shape[1] < 2:
        raise ValueError(f"{source}: the Polygon's ring must be a list of [lon, lat] positions")
    return _closed_ring(exterior[:, :2], source)[:, ::-1]


def _from_wkt(text: str, source: str) -> np.ndarray:
    match = _WKT.match(text)
    if match is None:
        raise ValueError(f"{source} is not a WKT POLYGON ((lon lat, ...)): {text[:60]!r}")
    if match["holes"].strip():
        raise ValueError(f"{source}: a testing region is one ring without holes")
    try:
        ring = np.array(
            [[float(v) for v in pair.split()] for pair in match["ring"].split(",")],
            dtype=np.float64,
        )
    except ValueError:
        raise ValueError(f"{source}: WKT positions must be 'lon lat' numbers") from None
    if ring.ndim != 2 or ring.shape[1] != 2:
        raise ValueError(f"{source}: WKT positions must be 'lon lat' pairs")
    return _closed_ring(ring, source)[:, ::-1]


def _crossing_edges(vertices: np.ndarray) -> tuple[int, int] | None:
    """The first pair of non-adjacent edges that properly cross, or None (one numpy pass
    per edge, so a region of thousands of vertices is checked in well under a second)."""
    a = vertices  # [V, 2]: edge i runs from a[i] to b[i]
    b = np.roll(vertices, -1, axis=0)
    n = len(a)

    def orient(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
        return (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (
            r[..., 0] - p[..., 0]
        )

    for i in range(n - 2):
        j = np.arange(i + 2, n - 1 if i == 0 else n)  # non-adjacent later edges
        if not len(j):
            continue
        d1, d2 = orient(a[i], b[i], a[j]), orient(a[i], b[i], b[j])  # [J]
        d3, d4 = orient(a[j], b[j], a[i]), orient(a[j], b[j], b[i])  # [J]
        hit = np.flatnonzero((d1 * d2 < 0) & (d3 * d4 < 0))
        if len(hit):
            return i, int(j[hit[0]])
    return None


def check_polygon(vertices: np.ndarray, source: str = "the polygon") -> np.ndarray:
    """float64 ``[V, 2]`` (lat, lon) open ring, checked.

    Raises
    ------
    ValueError
        Not ``[V, 2]`` numbers, fewer than 3 distinct vertices, coordinates out
        of range, zero area or crossing edges.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 2:
        raise ValueError(
            f"{source} must be a list of [lat, lon] vertices, got an array of shape "
            f"{vertices.shape}"
        )
    if len(vertices) > 1 and np.array_equal(vertices[0], vertices[-1]):
        vertices = vertices[:-1]
    if len(np.unique(vertices, axis=0)) < 3:
        raise ValueError(f"{source} needs at least 3 distinct vertices, got {len(vertices)}")
    if not np.isfinite(vertices).all():
        raise ValueError(f"{source} has vertices that are not finite numbers")
    lat, lon = vertices[:, 0], vertices[:, 1]
    if (np.abs(lat) > 90).any() or (np.abs(lon) > 180).any():
        raise ValueError(
            f"{source} must hold (lat, lon) pairs in degrees, lat first; got a vertex "
            f"{vertices[(np.abs(lat) > 90) | (np.abs(lon) > 180)][0].tolist()}"
        )
    crossing = _crossing_edges(vertices[:, ::-1])
    if crossing is not None:
        raise ValueError(f"{source} crosses itself (edges {crossing[0]} and {crossing[1]})")
    area = 0.5 * float(np.sum(lon * np.roll(lat, -1) - np.roll(lon, -1) * lat))
    if area == 0:
        raise ValueError(f"{source} has zero area")
    return vertices


def read_polygon(source: Any) -> np.ndarray:
    """float64 ``[V, 2]`` (lat, lon) vertices from any form in the module docstring.

    Raises
    ------
    FileNotFoundError
        A path that does not exist.
    ValueError
        A file that is not a polygon of its kind, or a polygon that fails
        :func:`check_polygon`.
    """
    if isinstance(source, list | tuple | np.ndarray):
        return check_polygon(np.asarray(source, dtype=object).astype(np.float64), "the polygon")
    if not isinstance(source, str | Path):
        raise ValueError(
            f"a polygon must be a list of [lat, lon] vertices or a path, got {source!r}"
        )
    text = str(source)
    if _WKT.match(text):
        return check_polygon(_from_wkt(text, "the WKT text"), "the WKT text")
    path = Path(text)
    if not path.is_file():
        raise FileNotFoundError(f"polygon file not found: {text!r}")
    name = repr(str(path))
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            vertices = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as error:
            raise ValueError(
                f"{name} is not a .npy array of (lat, lon) vertices: {error}"
            ) from None
    elif suffix in (".geojson", ".json"):
        vertices = _from_geojson(path.read_text(errors="replace"), name)
    elif suffix == ".wkt":
        vertices = _from_wkt(path.read_text(errors="replace"), name)
    else:
        raise ValueError(
            f"{name}: a polygon file must be .npy, .geojson, .json or .wkt, got {suffix!r}"
        )
    return check_polygon(vertices, name)


def polygon_cell_mask(grid: Grid, vertices: np.ndarray) -> np.ndarray:
    """bool ``[H, X]``: the cells whose centres lie inside the polygon.

    Raises
    ------
    ValueError
        A polygon that reaches beyond the grid's box, or that holds no cell centre.
    """
    from matplotlib.path import Path as PolygonPath

    lat, lon = vertices[:, 0], vertices[:, 1]
    tolerance = 1e-9
    if (
        lat.min() < grid.lat_min - tolerance
        or lat.max() > grid.lat_max + tolerance
        or lon.min() < grid.lon_min - tolerance
        or lon.max() > grid.lon_max + tolerance
    ):
        raise ValueError(
            f"the polygon (lat {lat.min():g} to {lat.max():g}, lon {lon.min():g} to "
            f"{lon.max():g}) reaches beyond the grid {grid.region}: widen frames.region"
        )
    centre_lat, centre_lon = grid.cell_centers()
    points = np.column_stack([centre_lon.ravel(), centre_lat.ravel()])
    mask = PolygonPath(vertices[:, ::-1]).contains_points(points).reshape(grid.shape)
    if not mask.any():
        raise ValueError(f"the polygon holds no cell centre of the grid {grid.region}")
    return mask
