"""Figures of the quake report: forecast maps, Molchan diagram, information gain over time."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from framecast.quake.rates import RateForecast


def busiest_windows(counts: np.ndarray, how_many: int) -> list[int]:
    """Indices of the ``how_many`` windows with most events (ties: earliest), in time order."""
    totals = counts.reshape(len(counts), -1).sum(axis=1)  # [W]
    order = np.lexsort((np.arange(len(totals)), -totals))
    return sorted(int(w) for w in order[:how_many])


def plot_forecast_maps(
    forecasts: Mapping[str, RateForecast],
    events_lat_lon: tuple[np.ndarray, np.ndarray, np.ndarray],
    windows: list[int],
    path: Path,
) -> Path:
    """One row per window: each forecast's rate map with the window's events as white circles.

    ``events_lat_lon`` is (window index, latitude, longitude) of the observed
    events. Colours are log10 expected events per cell, on one scale per row.
    """
    names = list(forecasts)
    first = forecasts[names[0]]
    grid = first.grid
    extent = (grid.lon_min, grid.lon_max, grid.lat_min, grid.lat_max)
    win, lat, lon = events_lat_lon
    fig = Figure(figsize=(3.2 * len(names), 3.0 * len(windows)))
    axes = fig.subplots(len(windows), len(names), squeeze=False)
    for r, w in enumerate(windows):
        maps = [forecasts[n].rates[w] for n in names]
        low = max(min(float(m[m > 0].min()) for m in maps), 1e-8)
        high = max(float(m.max()) for m in maps)
        norm = LogNorm(vmin=low, vmax=max(high, low * 10))
        here = win == w
        for c, (name, rates) in enumerate(zip(names, maps, strict=True)):
            ax = axes[r, c]
            image = ax.imshow(
                rates, origin="lower", extent=extent, norm=norm, cmap="magma", aspect="auto"
            )
            ax.scatter(
                lon[here], lat[here], s=30, facecolors="none", edgecolors="cyan", linewidths=1.2
            )
            if r == 0:
                ax.set_title(textwrap.fill(name, 24), fontsize=9)  # long names on two lines
            if c == 0:
                ax.set_ylabel(
                    f"{str(first.window_start[w])[:10]}\n({int(here.sum())} events)", fontsize=8
                )
            ax.tick_params(labelsize=6)
        fig.colorbar(image, ax=axes[r, :].tolist(), shrink=0.8, label="expected events per cell")
    fig.suptitle("Forecast rates (log scale) and the events that occurred (circles)", fontsize=10)
    fig.savefig(path, dpi=90)
    return path


def plot_molchan(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]], path: Path, magnitude: float
) -> Path:
    """Molchan trajectories (fraction of space-time alarmed, miss rate) with their ASS."""
    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    for name, (tau, nu, ass) in curves.items():
        ax.step(tau, nu, where="post", label=f"{name} (ASS {ass:.3f})")
    ax.plot([0, 1], [1, 0], "k--", linewidth=0.8, label="unskilled")
    ax.set_xlabel("fraction of space-time occupied by alarms τ")
    ax.set_ylabel("miss rate ν")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(f"Molchan diagram, events M ≥ {magnitude:g}", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def plot_cumulative_gain(
    window_start: np.ndarray, gains: Mapping[str, np.ndarray], path: Path, reference: str
) -> Path:
    """Cumulative information gain per earthquake over the reference, window by window."""
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    days = window_start.astype("datetime64[D]")
    for name, gain in gains.items():
        ax.plot(days, gain, label=name)
    ax.axhline(0.0, color="k", linewidth=0.8)
    ax.set_ylabel(f"cumulative IG per earthquake\nover {reference} (nats)")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def plot_rate_series(
    forecasts: Mapping[str, RateForecast], counts_per_window: np.ndarray, path: Path
) -> Path:
    """Expected events per window of each forecast beside the observed count."""
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    first = next(iter(forecasts.values()))
    days = first.window_start.astype("datetime64[D]")
    ax.bar(days, counts_per_window, width=first.window_days, color="0.75", label="observed")
    for name, forecast in forecasts.items():
        ax.plot(days, forecast.rates.sum(axis=(1, 2)), label=name, linewidth=1)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylabel("events per window")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
