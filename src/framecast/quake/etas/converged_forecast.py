"""Simulated ETAS rate forecasts with many simulations per window, in bounded memory.

A testing center's ETAS forecast is the mean of many simulated continuations
of the catalog per window (Savran et al. 2020, BSSA 110(4)); with too few,
the Monte Carlo noise in each cell's rate costs log-likelihood (the log is
concave: on San Jacinto, 1,000 simulations per day score about 18 nats below
50,000). Storing every event of 50,000 simulations of 731 windows would take
gigabytes, so :func:`simulated_rate_forecast` runs
:func:`~framecast.quake.etas.simulated_forecast.simulated_etas_forecast` in
chunks of simulations, keeps only each chunk's count of cascade events per
window and cell, and adds their mean to the exact first-order expectation
(the estimator of
:meth:`~framecast.quake.catalog_forecast.CatalogForecast.expected_rates`
with ``first_order``). The catalogs of the first ``keep_catalogs``
simulations are returned as well, for CSEP's catalog-based tests.

:func:`replicate_seed` gives independent replicates of it: the spread of
their log-likelihoods is the baseline's Monte Carlo
error, which the report prints and folds into its intervals
(:mod:`framecast.quake.scores.seed_pooling`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from framecast.cluster import current as current_cluster
from framecast.quake.catalog.events import Catalog
from framecast.quake.catalog_forecast import CatalogForecast
from framecast.quake.etas.background import BackgroundMap
from framecast.quake.etas.parameters import ETASParameters
from framecast.quake.etas.region import StudyRegion
from framecast.quake.etas.simulated_forecast import simulated_etas_forecast
from framecast.quake.grid import Grid
from framecast.quake.rates import RateForecast

CHUNK_SIMULATIONS = 5_000
"""Simulations run at once: about 2-3 million events on San Jacinto's daily windows."""

ChunkCounts = tuple[np.ndarray, np.ndarray, CatalogForecast | None]
"""A chunk's cascade events: flat (window, cell) indices, their counts, its kept catalogs."""


def _keep_first(catalogs: CatalogForecast, count: int) -> CatalogForecast:
    """The catalogs of simulations ``0 .. count - 1``."""
    keep = catalogs.simulation < count  # [E]
    return dataclasses.replace(
        catalogs,
        num_simulations=count,
        window=catalogs.window[keep],
        simulation=catalogs.simulation[keep],
        cell=catalogs.cell[keep],
        magnitude=catalogs.magnitude[keep],
        generation=None if catalogs.generation is None else catalogs.generation[keep],
        details=catalogs.details.replace(
            f"{catalogs.num_simulations} simulated", f"{count} simulated", 1
        ),
    )


def simulated_rate_forecast(
    params: ETASParameters,
    history: Catalog,
    first_order: RateForecast,
    *,
    num_simulations: int = 50_000,
    seed: int | np.random.SeedSequence = 0,
    keep_catalogs: int = 0,
    chunk_simulations: int = CHUNK_SIMULATIONS,
    region: Grid | StudyRegion | np.ndarray | None = None,
    background: BackgroundMap | None = None,
    max_magnitude: float | None = 8.0,
    progress: Callable[[str], None] | None = None,
    name: str = "ETAS (simulated)",
) -> tuple[RateForecast, CatalogForecast | None]:
    """Expected rates of ``num_simulations`` simulated catalogs per window, chunk by chunk.

    ``rates[w] = first_order.rates[w] + (1/S) Σ_s N^{(k>=1)}_{w,s}``: the
    exact expectation of the background and of the history's direct
    aftershocks plus the simulated mean of the cascades born inside the
    window (the Rao-Blackwell estimator of
    :meth:`~framecast.quake.catalog_forecast.CatalogForecast.expected_rates`).

    Parameters
    ----------
    params, history
        As :func:`~framecast.quake.etas.simulated_forecast.simulated_etas_forecast`.
    first_order : RateForecast
        The first-order forecast of the same parameters and background
        (:func:`~framecast.quake.etas.forecast.etas_rate_forecast`); its grid,
        windows and window length are the output's.
    num_simulations : int
        S, simulations per window.
    seed : int or numpy.random.SeedSequence
        Chunk ``j`` is simulated with the ``j``-th child of ``SeedSequence(seed)``:
        the same seed and chunk size give the same forecast.
    keep_catalogs : int
        Return the catalogs of the first ``min(keep_catalogs, S)``
        simulations (0: none).
    chunk_simulations : int
        Simulations per call of the simulator (memory: about 40 bytes per
        simulated event of a chunk). Under ``quake run --cluster``
        (:func:`framecast.cluster.current`) each chunk is a task of the
        cluster (:func:`simulation_chunk`), with the same seed as here.
    region, background, max_magnitude, progress, name
        As :func:`~framecast.quake.etas.simulated_forecast.simulated_etas_forecast`.

    Returns
    -------
    rates : RateForecast
    catalogs : CatalogForecast or None
        The first ``keep_catalogs`` simulations (None when 0).

    Raises
    ------
    ValueError
        ``num_simulations`` or ``chunk_simulations`` below 1, ``keep_catalogs``
        negative, or the simulator's own errors.
    """
    for label, value, least in (
        ("num_simulations", num_simulations, 1),
        ("chunk_simulations", chunk_simulations, 1),
        ("keep_catalogs", keep_catalogs, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise ValueError(f"{label} must be an integer >= {least}, got {value!r}")
    ny, nx = first_order.grid.shape
    windows = first_order.num_windows
    sizes = [
        min(chunk_simulations, num_simulations - start)
        for start in range(0, num_simulations, chunk_simulations)
    ]
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    chunks = list(zip(sizes, sequence.spawn(len(sizes)), strict=True))
    job = {
        "params": params,
        "history": history,
        "grid": first_order.grid,
        "window_start": first_order.window_start,
        "window_days": first_order.window_days,
        "region": region,
        "background": background,
        "max_magnitude": max_magnitude,
        "name": name,
        "keep_catalogs": keep_catalogs,
    }
    totals = np.zeros(windows * ny * nx)  # [W·H·X] cascade events summed over simulations
    kept: CatalogForecast | None = None
    finished = 0

    def add(index: int, outcome: ChunkCounts) -> None:
        nonlocal kept, finished
        cells, counts, catalogs = outcome
        totals[cells] += counts  # integer counts: exact in any order
        if index == 0:
            kept = catalogs
        finished += sizes[index]
        if progress is not None:
            progress(f"simulated ETAS: {finished:,}/{num_simulations:,} simulations per window")

    cluster = current_cluster()
    if cluster is not None and len(chunks) > 1:  # quake run --cluster: one task per chunk
        cluster.map(simulation_chunk, list(enumerate(chunks)), shared=job, done=add)
    else:
        for index, chunk in enumerate(chunks):
            add(index, simulation_chunk((index, chunk), **job))
    rates = first_order.rates + totals.reshape(windows, ny, nx) / num_simulations  # [W, H, X]
    seed_text = f"seed {seed}" if isinstance(seed, int) else "seed sequence"
    forecast = dataclasses.replace(
        first_order,
        name=name,
        rates=rates,
        details=(
            f"{num_simulations:,} simulated catalogs per window ({seed_text}): exact first-order "
            "expectation + simulated mean of the cascades inside each window"
        ),
    )
    return forecast, kept


def simulation_chunk(
    chunk: tuple[int, tuple[int, np.random.SeedSequence]],
    *,
    params: ETASParameters,
    history: Catalog,
    grid: Grid,
    window_start: np.ndarray,
    window_days: float,
    region: Grid | StudyRegion | np.ndarray | None,
    background: BackgroundMap | None,
    max_magnitude: float | None,
    name: str,
    keep_catalogs: int,
) -> ChunkCounts:
    """One chunk of :func:`simulated_rate_forecast`: ``(index, (simulations, seed))`` simulated.

    The job of one chunk, run here or as a task of a cluster
    (:mod:`framecast.cluster`) with the same seed, hence the same events.

    Returns
    -------
    cells : numpy.ndarray
        int64 ``[K]``: distinct flat ``window * cells + cell`` indices of the
        cascade events (generation >= 1).
    counts : numpy.ndarray
        int64 ``[K]``: the events at each.
    catalogs : CatalogForecast or None
        Chunk 0's first ``keep_catalogs`` simulations (None otherwise).
    """
    index, (size, child) = chunk
    catalogs = simulated_etas_forecast(
        params,
        history,
        grid,
        window_start,
        window_days,
        num_simulations=size,
        seed=np.random.default_rng(child),
        region=region,
        background=background,
        max_magnitude=max_magnitude,
        name=name,
    )
    assert catalogs.generation is not None  # the simulator tags every event
    cascade = catalogs.generation >= 1  # [E]
    flat = catalogs.window[cascade] * (grid.shape[0] * grid.shape[1]) + catalogs.cell[cascade]
    cells, counts = np.unique(flat, return_counts=True)
    kept = _keep_first(catalogs, min(keep_catalogs, size)) if index == 0 and keep_catalogs else None
    return cells, counts, kept


def replicate_seed(seed: int, replicate: int) -> np.random.SeedSequence:
    """The seed sequence of replicate ``replicate`` of a run seeded ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(replicate,))


def mean_forecast(forecasts: list[RateForecast], name: str, details: str) -> RateForecast:
    """The cell-wise mean of forecasts on the same grid and windows."""
    rates = np.mean([forecast.rates for forecast in forecasts], axis=0)  # [W, H, X]
    return dataclasses.replace(forecasts[0], name=name, rates=rates, details=details)
