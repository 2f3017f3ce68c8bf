"""Kernel smoothing of events onto a grid's cells, shared by the smoothed-seismicity
reference (:mod:`framecast.quake.reference`) and the ETAS background map
(:mod:`framecast.quake.etas.background`).

Cells of a :class:`~framecast.quake.grid.Grid` are rectangles in its local
equirectangular km projection, so the mass of an isotropic Gaussian in a cell
is a product of two differences of normal CDFs (exact, vectorised over events).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import ndtr

from framecast.quake.grid import Grid


def cell_edges_km(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(y edges ``[H+1]``, x edges ``[W+1]``) in the grid's local km projection."""
    y_edges, x_edges = grid.edges()
    if grid.unit == "km":
        return y_edges, x_edges
    lat0, lon0 = grid.center
    x, _ = grid.project(np.full_like(x_edges, lat0), x_edges)
    _, y = grid.project(y_edges, np.full_like(y_edges, lon0))
    return y, x


def gaussian_cell_mass(
    grid: Grid,
    x_km: np.ndarray,
    y_km: np.ndarray,
    widths_km: np.ndarray,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """float64 ``[H, W]``: Σ_i w_i ∫_cell N₂((x_i, y_i), widths_i² I), exact per cell.

    Points are in the grid's km projection; mass beyond the grid is dropped.
    """
    y_edges, x_edges = cell_edges_km(grid)
    width = np.asarray(widths_km, np.float64)[:, None]  # [N, 1]
    ay = np.diff(ndtr((y_edges[None, :] - np.asarray(y_km)[:, None]) / width), axis=1)  # [N, H]
    ax = np.diff(ndtr((x_edges[None, :] - np.asarray(x_km)[:, None]) / width), axis=1)  # [N, W]
    if weights is not None:
        ay = ay * np.asarray(weights, np.float64)[:, None]
    return ay.T @ ax  # [H, W]


def neighbour_distances_km(
    x_km: np.ndarray, y_km: np.ndarray, neighbours: int, min_km: float
) -> np.ndarray:
    """float64 ``[N]``: ``max(min_km, distance to the neighbours-th nearest other point)``.

    The adaptive width of Helmstetter, Kagan & Jackson (2007, eq. 3) and the
    variable bandwidth of Zhuang, Ogata & Vere-Jones (2002); points at the same
    place count as neighbours at distance 0. Needs ``1 <= neighbours < N``.
    """
    points = np.column_stack([x_km, y_km])  # [N, 2]
    distance, _ = cKDTree(points).query(points, k=neighbours + 1)  # [N, k+1], self first
    return np.maximum(np.asarray(distance)[:, neighbours], min_km)
