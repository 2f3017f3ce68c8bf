"""A spatially variable ETAS background rate on a grid, and its estimate by declustering.

Operational ETAS (Zhuang, Ogata & Vere-Jones 2002, JASA 97(458), 369-380;
Zhuang 2011, EPS 63) lets the background vary in space:

    μ(x, y) = μ · A · u(x, y),    ∫∫_region u = 1,

with ``A`` the region's area, so that ``μ`` keeps its meaning (background
events per km² per day averaged over the region) and the total background
rate ``μ · A`` is the same as for a uniform background. Here ``u`` is
piecewise constant on the cells of a :class:`~framecast.quake.grid.Grid`:
cell ``c`` holds the probability ``p_c`` that a background event falls in
it (``Σ_c p_c = 1``), spread evenly over the part of the cell inside the
region. A forecast scored on those cells sees exactly this map, and the
likelihood of the fit needs only ``u`` at the target events.

The shape ``u`` is estimated by stochastic declustering (Zhuang et al. 2002,
eqs. 9-11): after a fit, each target event ``j`` is a background event with
probability ``φ_j = μ(x_j) / λ(t_j, x_j)``; the background density is the
φ-weighted kernel estimate

    u(x) ∝ Σ_j φ_j · N₂(x; x_j, h_j² I),     h_j = max(h_min, r_j(k)),

with ``r_j(k)`` the distance from event ``j`` to its ``k``-th nearest
neighbour (their variable bandwidth), integrated exactly over each cell
(:func:`~framecast.quake.kernels.gaussian_cell_mass`). A floor
``ε`` of the uniform map keeps every cell's probability above zero:
``p = (1 - ε) p_kernel + ε p_uniform``. ``k`` and ``ε`` are chosen on the
fit's own events (:func:`choose_smoothing`): the map of the earlier half of
the targets scores the φ-weighted log density of the later half. The fit
and the map are then iterated (:func:`~framecast.quake.etas.fit.fit_etas_declustered`).

No library computes this (pySTEPS, pyCSEP and the ``etas`` package have a
uniform background or a fixed input map); the kernels are those of the
smoothed-seismicity reference (:mod:`framecast.quake.kernels`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from framecast.quake.etas.region import StudyRegion, as_region
from framecast.quake.grid import Grid
from framecast.quake.kernels import gaussian_cell_mass, neighbour_distances_km

SUBSAMPLES = 8
"""Points per cell side used to measure the part of each cell inside the region."""
NEIGHBOURS = (1, 2, 3, 5, 10, 20, 50)
"""Candidate ``k`` of the adaptive bandwidth (Zhuang et al. 2002 use 10-100 for Japan)."""
FLOORS = (0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5)
"""Candidate shares ``ε`` of the uniform map."""
MIN_BANDWIDTH_KM = 0.5
"""The smallest bandwidth ``h_min``: below a tenth of a typical cell it changes no cell's mass."""


def inside_fractions(grid: Grid, region: StudyRegion) -> np.ndarray:
    """float64 ``[H, X]``: the share of each cell's area inside the region.

    Measured on ``SUBSAMPLES²`` points per cell (exact for a region that is a
    union of cells, as a testing region on the grid is).
    """
    ny, nx = grid.shape
    y_edges, x_edges = grid.edges()
    offsets = (np.arange(SUBSAMPLES) + 0.5) / SUBSAMPLES  # [S]
    ys = (y_edges[:-1, None] + np.diff(y_edges)[:, None] * offsets).ravel()  # [H·S]
    xs = (x_edges[:-1, None] + np.diff(x_edges)[:, None] * offsets).ravel()  # [X·S]
    yy, xx = np.meshgrid(ys, xs, indexing="ij")  # [H·S, X·S]
    if grid.unit == "deg":
        latitude, longitude = yy, xx
    else:
        latitude, longitude = grid.unproject(xx, yy)
    inside = region.contains(latitude.ravel(), longitude.ravel()).reshape(yy.shape)
    return inside.reshape(ny, SUBSAMPLES, nx, SUBSAMPLES).mean(axis=(1, 3))


@dataclass(frozen=True, eq=False)
class BackgroundMap:
    """Background probabilities per grid cell, inside a study region.

    Parameters
    ----------
    grid : Grid
        The cells.
    region : StudyRegion
        The region of the ETAS model; ``A = region.area_km2``.
    probability : numpy.ndarray
        float64 ``[H, X]``: ``p_c >= 0``, summing to 1, zero for cells wholly outside.
    inside : numpy.ndarray
        float64 ``[H, X]``: the share of each cell inside the region (:func:`inside_fractions`).
    description : str
        How the map was made, for reports.
    """

    grid: Grid
    region: StudyRegion
    probability: np.ndarray
    inside: np.ndarray
    description: str

    def __post_init__(self) -> None:
        shape = self.grid.shape
        if self.probability.shape != shape or self.inside.shape != shape:
            raise ValueError(
                f"background map of shape {self.probability.shape} does not fit the grid {shape}"
            )
        if not np.isfinite(self.probability).all() or (self.probability < 0).any():
            raise ValueError("background probabilities must be finite and >= 0")
        if not math.isclose(float(self.probability.sum()), 1.0, rel_tol=1e-6):
            raise ValueError(
                f"background probabilities must sum to 1, got {float(self.probability.sum())!r}"
            )
        if (self.probability[self.inside == 0] > 0).any():
            raise ValueError("a background map puts probability on cells outside its region")

    # ------------------------------------------------------------- builders
    @classmethod
    def uniform(cls, grid: Grid, region: Grid | StudyRegion | np.ndarray) -> BackgroundMap:
        """The uniform background over the part of the grid inside ``region``.

        Raises
        ------
        ValueError
            A region that no cell of the grid reaches.
        """
        area = as_region(region)
        inside = inside_fractions(grid, area)
        mass = grid.cell_areas_km2() * inside  # [H, X]
        if not mass.sum() > 0:
            raise ValueError(f"{area.description} lies outside the grid {grid.region}")
        return cls(grid, area, mass / mass.sum(), inside, "uniform in the region")

    # ------------------------------------------------------------------ use
    def cell_area_km2(self) -> np.ndarray:
        """float64 ``[H, X]``: the area of each cell inside the region."""
        return self.grid.cell_areas_km2() * self.inside

    def density_ratio(self, latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
        """float64 ``[N]``: ``A · u(x)`` at the points, 1 everywhere for a uniform map.

        Points off the grid get 0 (they are outside every cell of the map).
        """
        rows, cols = self.grid.locate(latitude, longitude)
        on_grid = rows >= 0
        area = self.cell_area_km2()  # [H, X]
        ratio = np.zeros(len(rows))
        r, c = rows[on_grid], cols[on_grid]
        with np.errstate(divide="ignore", invalid="ignore"):
            value = self.probability[r, c] * self.region.area_km2 / area[r, c]
        ratio[on_grid] = np.where(area[r, c] > 0, value, 0.0)
        return ratio

    def expected_counts(self, total: float | np.ndarray) -> np.ndarray:
        """``total[..., None, None] * p``: background events per cell for a total ``μ·A·Δ``."""
        return np.asarray(total, np.float64)[..., None, None] * self.probability

    def sample_xy(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) km ``[count]`` in the region's projection, drawn from the map.

        A cell is drawn by its probability, then a point uniform in the cell;
        points of a cell that fall outside the region are drawn again.
        """
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        needed = int(count)
        p = self.probability.ravel()
        nx = self.grid.shape[1]
        y_edges, x_edges = self.grid.edges()
        while needed > 0:
            cell = rng.choice(len(p), size=needed, p=p)  # [n]
            row, col = np.divmod(cell, nx)
            v = y_edges[row] + rng.random(needed) * (y_edges[row + 1] - y_edges[row])
            u = x_edges[col] + rng.random(needed) * (x_edges[col + 1] - x_edges[col])
            if self.grid.unit == "deg":
                latitude, longitude = v, u
            else:
                latitude, longitude = self.grid.unproject(u, v)
            x, y = self.region.project(latitude, longitude)
            keep = self.region.contains_xy(x, y)
            xs.append(x[keep])
            ys.append(y[keep])
            needed -= int(keep.sum())
        return np.concatenate(xs) if xs else np.empty(0), np.concatenate(ys) if ys else np.empty(0)

    def to_dict(self) -> dict[str, object]:
        """Plain values for JSON: the probabilities, the inside shares and the description."""
        return {
            "probability": self.probability.tolist(),
            "inside": self.inside.tolist(),
            "description": self.description,
        }

    @classmethod
    def from_dict(
        cls, values: dict[str, object], grid: Grid, region: Grid | StudyRegion | np.ndarray
    ) -> BackgroundMap:
        """The map of :meth:`to_dict` on ``grid`` and ``region``."""
        return cls(
            grid,
            as_region(region),
            np.asarray(values["probability"], np.float64),
            np.asarray(values["inside"], np.float64),
            str(values.get("description", "")),
        )


def check_same_region(background: BackgroundMap | None, region: StudyRegion) -> None:
    """Refuse a map drawn in another region or projection than ``region``.

    Raises
    ------
    ValueError
        The map's region differs (origin or vertices) from ``region``.
    """
    if background is None:
        return
    other = background.region
    same = other is region or (
        (other.lat0, other.lon0) == (region.lat0, region.lon0)
        and other.vertices_km.shape == region.vertices_km.shape
        and np.allclose(other.vertices_km, region.vertices_km)
    )
    if not same:
        raise ValueError(
            f"the background map belongs to {other.description}, not to {region.description}"
        )


# ------------------------------------------------------------------ smoothing
def smoothed_map(
    latitude: np.ndarray,
    longitude: np.ndarray,
    weight: np.ndarray,
    uniform: BackgroundMap,
    *,
    neighbours: int,
    floor: float,
    min_km: float = MIN_BANDWIDTH_KM,
) -> BackgroundMap:
    """The weighted adaptive-kernel background map on ``uniform``'s grid and region.

    Parameters
    ----------
    latitude, longitude, weight : numpy.ndarray
        ``[N]``: the events and their background probabilities φ (or 1).
    uniform : BackgroundMap
        The uniform map of the grid and region (its inside shares are reused).
    neighbours : int
        ``k`` of the bandwidth ``h_j = max(min_km, r_j(k))``.
    floor : float
        ``ε`` in [0, 1): the share of the uniform map mixed in.

    Raises
    ------
    ValueError
        ``neighbours < 1``, ``floor`` outside [0, 1), mismatched lengths or no weight.
    """
    weight = np.asarray(weight, np.float64)
    if not neighbours >= 1:
        raise ValueError(f"neighbours must be >= 1, got {neighbours!r}")
    if not 0.0 <= floor < 1.0:
        raise ValueError(f"floor must be in [0, 1), got {floor!r}")
    if not len(latitude) == len(longitude) == len(weight):
        raise ValueError(
            f"latitude, longitude and weight differ in length: "
            f"{len(latitude)}, {len(longitude)}, {len(weight)}"
        )
    grid = uniform.grid
    x, y = grid.project(latitude, longitude)
    if len(x) > 1:
        bandwidth = neighbour_distances_km(x, y, min(int(neighbours), len(x) - 1), min_km)
    else:
        bandwidth = np.full(len(x), float(min_km))
    mass = gaussian_cell_mass(grid, x, y, bandwidth, weight) * uniform.inside  # [H, X]
    if not mass.sum() > 0:
        raise ValueError("the smoothed background has no weight inside the region")
    probability = (1.0 - floor) * mass / mass.sum() + floor * uniform.probability
    description = (
        f"declustered: φ-weighted Gaussian kernels of {len(weight)} events "
        f"(Σφ = {weight.sum():.1f}), bandwidth = distance to the {neighbours}-th neighbour "
        f"(>= {min_km:g} km), {floor:g} of the uniform map mixed in"
    )
    return BackgroundMap(grid, uniform.region, probability, uniform.inside, description)


@dataclass(frozen=True)
class SmoothingChoice:
    """The smoothing chosen by :func:`choose_smoothing` and the score of every candidate."""

    neighbours: int
    floor: float
    scores: dict[tuple[int, float], float]

    def describe(self) -> str:
        best = self.scores[(self.neighbours, self.floor)]
        return (
            f"k = {self.neighbours}, ε = {self.floor:g} (φ-weighted log density of the later "
            f"half of the fit's targets under the map of the earlier half: {best:.2f})"
        )


def choose_smoothing(
    latitude: np.ndarray,
    longitude: np.ndarray,
    weight: np.ndarray,
    time_days: np.ndarray,
    uniform: BackgroundMap,
    *,
    neighbours: tuple[int, ...] = NEIGHBOURS,
    floors: tuple[float, ...] = FLOORS,
) -> SmoothingChoice:
    """Pick ``k`` and ``ε`` by a split in time of the fit's own events.

    The map smoothed from the events before the median time scores the later
    events by ``Σ_j φ_j log u(x_j)`` (the background part of their
    log-likelihood); the best pair wins. Only the data of the fit is used.

    Raises
    ------
    ValueError
        Fewer than 4 events.
    """
    if len(weight) < 4:
        raise ValueError(f"choosing the smoothing needs at least 4 events, got {len(weight)}")
    order = np.argsort(time_days, kind="stable")
    half = len(order) // 2
    early, late = order[:half], order[half:]
    area = uniform.cell_area_km2()
    rows, cols = uniform.grid.locate(latitude[late], longitude[late])
    on_grid = rows >= 0
    rows, cols, w_late = rows[on_grid], cols[on_grid], np.asarray(weight)[late][on_grid]
    scores: dict[tuple[int, float], float] = {}
    for k in neighbours:
        for floor in floors:
            smooth = smoothed_map(
                latitude[early],
                longitude[early],
                weight[early],
                uniform,
                neighbours=k,
                floor=floor,
            )
            with np.errstate(divide="ignore"):
                log_density = np.log(smooth.probability[rows, cols] / area[rows, cols])
            scores[(k, floor)] = float((w_late * log_density).sum())
    best = max(scores, key=lambda key: scores[key])
    return SmoothingChoice(neighbours=best[0], floor=best[1], scores=scores)
