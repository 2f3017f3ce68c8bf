"""Radar-like echo frames: advected rain cells that grow and decay (a documented generator).

No freely licensed radar archive ships with a package framecast depends on,
so this generator stands in for the radar echo experiments of Shi et al.
(2015) [1]_ and Wang et al. (2017) [2]_: frames that look and behave like
constant-altitude reflectivity maps, with the three things radar
extrapolation must learn: motion (advection by a steering flow), growth
and decay (cells live, peak and die), and birth (new cells appear where
nothing was).

The model
---------
A sequence is a rain-rate field ``R(t, y, x)`` in mm/h on an
``image_size x image_size`` grid (read one pixel as 1 km and one frame as
6 minutes, the Guangzhou radar of [2]_). It is a sum of Gaussian cells::

    R(t, y, x) = sum_k a_k(t) * exp(-((y - y_k(t))^2 + (x - x_k(t))^2) / (2 s_k(t)^2))

- **Advection.** One steering velocity per sequence, speed uniform in
  ``[SPEED_MIN, max_speed]`` pixels per frame in a direction uniform on
  the circle; each cell moves with it plus its own Gaussian deviation
  (standard deviation :data:`VELOCITY_SPREAD` of the steering speed per
  component): ``(y_k, x_k)(t) = (y_k, x_k)(t_k) + v_k (t - t_k)``.
- **Life cycle.** Cell ``k`` is born at ``t_k`` and lives ``L_k`` frames
  (uniform in :data:`LIFETIME_RANGE`); its peak rain rate ``P_k`` is
  log-uniform in :data:`PEAK_RATE_RANGE` and its size ``S_k`` uniform in
  :data:`RADIUS_RANGE`. With the phase ``phi = sin(pi (t - t_k) / L_k)``
  for ``0 <= t - t_k <= L_k``, ``a_k = P_k phi^2`` and ``s_k = S_k (0.6 +
  0.4 phi)``: a cell grows from nothing, peaks at mid-life and decays.
- **Births.** A Poisson process in time and uniform in space over the frame
  enlarged by a margin (cells drift in from outside), started
  ``max(LIFETIME_RANGE)`` frames before the first frame so that a sequence
  opens on a mature field. Its rate is set so that ``mean_cells`` cells
  are alive with their centre inside the frame on average.

Reflectivity follows from the Marshall-Palmer relation ``Z = 200 R^1.6``
(Z in mm^6/m^3) [3]_: ``dBZ = 10 log10(200 R^1.6)``. Pixels below
:data:`MIN_RAIN_RATE` (about 7 dBZ) have no echo and read 0. Frames are
``dBZ / DBZ_MAX`` clipped to ``[0, 1]``: the scaling of a radar series
prepared with ``clip=(0, 70)`` (:mod:`framecast.data.frame_series`), so a
threshold of 30 dBZ is the frame value ``30 / 70``.

References
----------
.. [1] X. Shi, Z. Chen, H. Wang, D.-Y. Yeung, W.-K. Wong, W.-C. Woo,
   "Convolutional LSTM Network: A Machine Learning Approach for
   Precipitation Nowcasting", NeurIPS 2015, Sec. 4.2 (radar echo dataset).
.. [2] Y. Wang, M. Long, J. Wang, Z. Gao, P. S. Yu, "PredRNN: Recurrent
   Neural Networks for Predictive Learning using Spatiotemporal LSTMs",
   NeurIPS 2017, Sec. 4.3 (radar echo dataset).
.. [3] J. S. Marshall, W. McK. Palmer, "The distribution of raindrops with
   size", J. Meteor. 5, 165-166, 1948 (``Z = 200 R^1.6``).
"""

from __future__ import annotations

import math

import numpy as np
from torch import Tensor
from torch.utils.data import Dataset

from framecast.data.splits import split_index
from framecast.data.window import check_positive_int, check_window, split_window

MARSHALL_PALMER: tuple[float, float] = (200.0, 1.6)
"""``(a, b)`` of ``Z = a R^b`` (Marshall and Palmer 1948), Z in mm^6/m^3 and R in mm/h."""

DBZ_MAX = 70.0
"""Reflectivity that maps to the frame value 1 (frames are ``dBZ / DBZ_MAX``)."""

MIN_RAIN_RATE = 0.1
"""Rain rate in mm/h below which a pixel has no echo (about 7 dBZ)."""

SPEED_MIN = 0.5
"""Slowest steering speed, pixels per frame."""

VELOCITY_SPREAD = 0.25
"""A cell's own velocity: standard deviation per component, a fraction of the steering speed."""

LIFETIME_RANGE: tuple[float, float] = (10.0, 40.0)
"""Frames a cell lives, uniform."""

PEAK_RATE_RANGE: tuple[float, float] = (2.0, 100.0)
"""Peak rain rate of a cell in mm/h, log-uniform (about 28 to 55 dBZ)."""

RADIUS_RANGE: tuple[float, float] = (3.0, 10.0)
"""Gaussian radius of a cell at its peak, pixels, uniform."""


def rain_rate_to_dbz(rate: np.ndarray) -> np.ndarray:
    """Reflectivity in dBZ of a rain rate in mm/h, ``10 log10(200 R^1.6)`` [3]_.

    Rates below :data:`MIN_RAIN_RATE` (no echo) give 0 dBZ.

    Parameters
    ----------
    rate : numpy.ndarray
        Rain rates in mm/h, >= 0.

    Returns
    -------
    numpy.ndarray
        float64 reflectivities in dBZ, 0 where there is no echo.
    """
    a, b = MARSHALL_PALMER
    rate = np.asarray(rate, dtype=np.float64)
    echo = rate >= MIN_RAIN_RATE
    dbz = np.zeros_like(rate)
    dbz[echo] = 10.0 * np.log10(a * rate[echo] ** b)
    return dbz


def dbz_to_rain_rate(dbz: np.ndarray) -> np.ndarray:
    """Rain rate in mm/h of a reflectivity in dBZ, the inverse of :func:`rain_rate_to_dbz`.

    Parameters
    ----------
    dbz : numpy.ndarray
        Reflectivities in dBZ; 0 (no echo) gives a rate of 0.

    Returns
    -------
    numpy.ndarray
        float64 rain rates in mm/h.
    """
    a, b = MARSHALL_PALMER
    dbz = np.asarray(dbz, dtype=np.float64)
    return np.where(dbz > 0.0, (10.0 ** (dbz / 10.0) / a) ** (1.0 / b), 0.0)


def _check_positive_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def generate_rain_cells(
    length: int,
    image_size: int,
    rng: np.random.Generator,
    *,
    mean_cells: float = 4.0,
    max_speed: float = 3.0,
) -> np.ndarray:
    """Rain-rate frames of advected, growing and decaying Gaussian cells (see the module doc).

    Parameters
    ----------
    length : int
        Number of frames T.
    image_size : int
        Side of the square frames, pixels.
    rng : numpy.random.Generator
        Source of the steering flow and of every cell.
    mean_cells : float
        Cells alive with their centre inside the frame, on average (> 0).
    max_speed : float
        Fastest steering speed, pixels per frame (>= :data:`SPEED_MIN`).

    Returns
    -------
    numpy.ndarray
        float32 ``[T, image_size, image_size]`` rain rates in mm/h, >= 0.

    Raises
    ------
    ValueError
        A length or size below 1, ``mean_cells`` not > 0, or ``max_speed``
        below :data:`SPEED_MIN`.
    """
    length = check_positive_int("length", length)
    size = check_positive_int("image_size", image_size)
    mean_cells = _check_positive_float("mean_cells", mean_cells)
    max_speed = _check_positive_float("max_speed", max_speed)
    if max_speed < SPEED_MIN:
        raise ValueError(f"max_speed must be >= {SPEED_MIN} pixels per frame, got {max_speed!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")

    # steering flow: one velocity per sequence, (vy, vx) in pixels per frame
    speed = rng.uniform(SPEED_MIN, max_speed)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    steering = speed * np.array([np.sin(angle), np.cos(angle)])  # (2,)

    # births over the enlarged frame, from one longest lifetime before frame 0
    spin_up = LIFETIME_RANGE[1]
    margin = 2.0 * RADIUS_RANGE[1] + 0.5 * max_speed * LIFETIME_RANGE[1]
    side = size + 2.0 * margin
    mean_life = 0.5 * (LIFETIME_RANGE[0] + LIFETIME_RANGE[1])
    births_per_frame = mean_cells * (side / size) ** 2 / mean_life
    count = int(rng.poisson(births_per_frame * (spin_up + length)))
    born = rng.uniform(-spin_up, length, size=count)  # (K,) birth frame
    start = rng.uniform(-margin, size + margin, size=(count, 2))  # (K, 2) row, column at birth
    velocity = steering + rng.normal(0.0, VELOCITY_SPREAD * speed, size=(count, 2))  # (K, 2)
    life = rng.uniform(*LIFETIME_RANGE, size=count)  # (K,)
    low, high = np.log(PEAK_RATE_RANGE[0]), np.log(PEAK_RATE_RANGE[1])
    peak = np.exp(rng.uniform(low, high, size=count))  # (K,) mm/h
    radius = rng.uniform(*RADIUS_RANGE, size=count)  # (K,)

    grid = np.arange(size, dtype=np.float64) + 0.5  # (S,) pixel centres
    frames = np.zeros((length, size, size), dtype=np.float64)
    for t in range(length):
        age = t - born  # (K,)
        alive = (age >= 0.0) & (age <= life)
        if not alive.any():
            continue
        phase = np.sin(np.pi * age[alive] / life[alive])  # (k,) 0 at birth and death, 1 at mid-life
        amplitude = peak[alive] * phase**2  # (k,) mm/h
        sigma = radius[alive] * (0.6 + 0.4 * phase)  # (k,)
        centre = start[alive] + velocity[alive] * age[alive, None]  # (k, 2)
        gy = np.exp(-((grid[None] - centre[:, :1]) ** 2) / (2.0 * sigma[:, None] ** 2))  # (k, S)
        gx = np.exp(-((grid[None] - centre[:, 1:]) ** 2) / (2.0 * sigma[:, None] ** 2))  # (k, S)
        frames[t] = (gy * amplitude[:, None]).T @ gx  # (S, S): sum over cells of separable blobs
    return frames.astype(np.float32)


class RadarCells(Dataset[tuple[Tensor, Tensor]]):
    """Radar-like reflectivity frames of advected, growing and decaying rain cells.

    Frames are ``dBZ / DBZ_MAX`` in ``[0, 1]`` of the rain-rate field of
    :func:`generate_rain_cells` (see the module doc). Item ``i`` of a split
    is generated from ``numpy.random.default_rng([seed, split_index, i])``,
    so it is the same whatever the access order.

    Parameters
    ----------
    split : str
        "train", "val" or "test".
    n_context, n_target : int
        Frames of context and of target.
    num_sequences : int
        Number of items of the split.
    image_size : int
        Side of the square frames, pixels (the PredRNN radar frames: 100).
    mean_cells : float
        Cells alive inside a frame on average.
    max_speed : float
        Fastest steering speed, pixels per frame.
    seed : int
        Base seed.

    Attributes
    ----------
    channels, height, width : int
        1, image_size, image_size.
    dbz_max : float
        The reflectivity of the frame value 1 (:data:`DBZ_MAX`): a threshold
        of ``x`` dBZ is the frame value ``x / dbz_max``.

    Raises
    ------
    ValueError
        A bad split or option value, with the value and what was expected.
    """

    def __init__(
        self,
        split: str,
        *,
        n_context: int = 10,
        n_target: int = 10,
        num_sequences: int = 1000,
        image_size: int = 100,
        mean_cells: float = 4.0,
        max_speed: float = 3.0,
        seed: int = 0,
    ) -> None:
        self.split_index = split_index(split)
        self.split = split
        self.length = check_window(n_context, n_target)
        self.n_context = int(n_context)
        self.num_sequences = check_positive_int("num_sequences", num_sequences)
        self.image_size = check_positive_int("image_size", image_size, minimum=8)
        self.mean_cells = _check_positive_float("mean_cells", mean_cells)
        self.max_speed = _check_positive_float("max_speed", max_speed)
        if self.max_speed < SPEED_MIN:
            raise ValueError(
                f"max_speed must be >= {SPEED_MIN} pixels per frame, got {max_speed!r}"
            )
        self.seed = check_positive_int("seed", seed, minimum=0)
        self.channels = 1
        self.height = self.image_size
        self.width = self.image_size
        self.dbz_max = DBZ_MAX

    def __len__(self) -> int:
        return self.num_sequences

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        if not -self.num_sequences <= index < self.num_sequences:
            raise IndexError(f"index {index} out of range for {self.num_sequences} sequences")
        index %= self.num_sequences
        rng = np.random.default_rng([self.seed, self.split_index, index])
        rate = generate_rain_cells(
            self.length,
            self.image_size,
            rng,
            mean_cells=self.mean_cells,
            max_speed=self.max_speed,
        )  # (T, H, W) mm/h
        frames = np.clip(rain_rate_to_dbz(rate) / DBZ_MAX, 0.0, 1.0).astype(np.float32)
        return split_window(frames[:, None], self.n_context)  # (T, 1, H, W)


def radar_cells(
    split: str,
    *,
    n_context: int = 10,
    n_target: int = 10,
    num_sequences: int = 1000,
    image_size: int = 100,
    mean_cells: float = 4.0,
    max_speed: float = 3.0,
    seed: int = 0,
) -> RadarCells:
    """Radar-like frames of advected, growing and decaying rain cells; see :class:`RadarCells`."""
    return RadarCells(
        split,
        n_context=n_context,
        n_target=n_target,
        num_sequences=num_sequences,
        image_size=image_size,
        mean_cells=mean_cells,
        max_speed=max_speed,
        seed=seed,
    )
