"""The ETAS forecast as an input channel of the frames (issue 13: ETAS-informed networks).

Frame ``k`` describes the state at the END of its bin, so its ``etas``
channel holds the first-order ETAS forecast of the NEXT window, bin
``k + 1``: the expected M >= mc counts per cell given the events before
``e_k = start + (k + 1) * bin_days`` (Mizrahi et al. 2021, eq. 2 integrated
over the window and the cell; :func:`etas_rate_forecast`). The network that
forecasts bin ``k + 1`` from frames ``.. k`` therefore reads the ETAS
forecast of exactly the window it forecasts, and nothing later.

Why first order: it is the exact expectation of background + direct
aftershocks, cheap for every one of thousands of training windows (one
matrix product per batch of sources), where the simulation-based forecast
(the test baseline) costs 1,000 catalogs per window. A network trained on
first-order inputs must be fed first-order inputs at test time too, so the
same forecast feeds every window; the cascades inside a window that it
misses are left for the network to learn.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from framecast.quake.catalog.events import Catalog, days_to_timedelta
from framecast.quake.frames import SeismicityFrames
from framecast.quake.rates import RateForecast

if TYPE_CHECKING:
    from framecast.quake.etas.background import BackgroundMap

ETAS_CHANNEL = "etas"
CHANNEL_FLOOR = 1e-10
"""Smallest expected count of the channel in a cell (the residual network reads its log)."""
ETAS_INPUT_FORECASTS = ("first_order", "simulated")


def etas_channel_windows(frames: SeismicityFrames) -> np.ndarray:
    """``datetime64[us]`` ``[T]``: the windows the ``etas`` channel of frames 0..T-1 forecasts."""
    return frames.bin_start + days_to_timedelta(frames.bin_days)


def etas_channel_forecast(
    params: object,
    history: Catalog,
    frames: SeismicityFrames,
    background: BackgroundMap | None = None,
) -> RateForecast:
    """First-order ETAS forecasts of windows 1..T (the next bin of each frame).

    Parameters
    ----------
    params : ETASParameters
        Fitted on the training period only (or the true parameters of a
        simulated catalog).
    history : Catalog
        Events M >= mc; for each window only those before its start are used.
    frames : SeismicityFrames
    background : BackgroundMap, optional
        The fit's background map (default uniform over the grid). Cells it
        leaves at zero (outside the testing region, far from any source) get
        :data:`CHANNEL_FLOOR`, so that the log of the channel stays finite.

    Returns
    -------
    RateForecast
        ``rates [T, H, W]``, window ``k`` starting at the end of bin ``k``.
    """
    from framecast.quake.etas.forecast import etas_rate_forecast

    forecast = etas_rate_forecast(
        params,  # type: ignore[arg-type]
        history,
        frames.grid,
        etas_channel_windows(frames),
        frames.bin_days,
        name="ETAS first order (input channel)",
        background=background,
    )
    return dataclasses.replace(
        forecast,
        rates=np.maximum(forecast.rates, CHANNEL_FLOOR),
        details="first-order ETAS of the next bin, events before its start",
    )


def simulated_etas_channel(
    first_order: RateForecast,
    params: object,
    history: Catalog,
    *,
    num_simulations: int,
    seed: int = 0,
    background: BackgroundMap | None = None,
) -> RateForecast:
    """The channel with the cascades inside each window added by simulation.

    ``first_order`` is :func:`etas_channel_forecast`'s channel; the result
    is the simulation-based forecast of the same windows (exact first-order
    expectation + the mean of ``num_simulations`` simulated cascades,
    :func:`~framecast.quake.etas.converged_forecast.simulated_rate_forecast`),
    still from the events before each window only. It costs one simulated
    forecast of every bin (about 20 s for 3,653 daily windows x 10,000
    simulations on San Jacinto) and gives the network the baseline it is
    scored against as its starting point.
    """
    from framecast.quake.etas.converged_forecast import simulated_rate_forecast

    forecast, _ = simulated_rate_forecast(
        params,  # type: ignore[arg-type]
        history,
        first_order,
        num_simulations=num_simulations,
        seed=seed,
        region=None if background is None else background.region,
        background=background,
        name="ETAS simulated (input channel)",
    )
    return dataclasses.replace(
        forecast,
        details=f"simulated ETAS of the next bin ({num_simulations:,} simulations), "
        "events before its start",
    )


def check_etas_channel(frames: SeismicityFrames, etas: RateForecast) -> None:
    """Raise ValueError unless ``etas`` forecasts exactly the next bin of every frame on its grid.

    Raises
    ------
    ValueError
        Another grid, window length or set of windows (a channel missing for
        some windows), or rates that are not all > 0.
    """
    if etas.grid != frames.grid:
        raise ValueError(
            f"the ETAS channel was computed on another grid ({etas.grid.to_dict()}) than the "
            f"frames ({frames.grid.to_dict()}); recompute it for these frames"
        )
    if etas.window_days != frames.bin_days:
        raise ValueError(
            f"the ETAS channel has windows of {etas.window_days:g} days, the frames bins of "
            f"{frames.bin_days:g}"
        )
    want = etas_channel_windows(frames)
    if etas.num_windows != len(want) or not np.array_equal(etas.window_start, want):
        missing = np.setdiff1d(want, etas.window_start)
        raise ValueError(
            f"the ETAS channel covers {etas.num_windows} windows, the frames need {len(want)} "
            f"(one per bin, {want[0]} to {want[-1]}); {len(missing)} are missing"
            + (f", the first {missing[0]}" if len(missing) else "")
        )
    if not (etas.rates > 0).all():
        raise ValueError(
            "the ETAS channel has rates <= 0; a residual rate needs ETAS > 0 everywhere"
        )


def frames_with_etas(frames: SeismicityFrames, etas: RateForecast) -> SeismicityFrames:
    """``frames`` with the channel ``etas`` appended (see the module docstring).

    Raises
    ------
    ValueError
        See :func:`check_etas_channel`; frames that already hold an ``etas`` channel.
    """
    if ETAS_CHANNEL in frames.channels:
        raise ValueError(f"the frames already hold a channel {ETAS_CHANNEL!r}")
    check_etas_channel(frames, etas)
    channel = etas.rates.astype(np.float32)[:, None]  # (T, 1, H, W)
    return dataclasses.replace(
        frames,
        frames=np.concatenate([frames.frames, channel], axis=1),  # (T, C+1, H, W)
        channels=(*frames.channels, ETAS_CHANNEL),
    )
