"""ETAS-informed networks: the ETAS input channel and the ETAS-residual rate model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from quake_testing import REGION, random_catalog

from framecast.models import build_model
from framecast.quake import Catalog, Grid
from framecast.quake.etas.forecast import etas_rate_forecast
from framecast.quake.etas.parameters import ETASParameters
from framecast.quake.etas_channel import (
    etas_channel_forecast,
    etas_channel_windows,
    frames_with_etas,
)
from framecast.quake.frames import grid_catalog
from framecast.quake.network import network_forecast

GRID = Grid.from_region(REGION, 0.25)  # 4 x 4


@pytest.fixture(scope="module")
def setting():
    catalog = random_catalog(150, start="2010-01-01", days=200)
    frames = grid_catalog(catalog, GRID, start="2010-01-01", end="2010-07-01", bin_days=7, mc=2.0)
    params = ETASParameters(mc=2.0)
    return catalog, frames, params, etas_channel_forecast(params, catalog, frames)


def _residual(in_channels=2, inner="predrnn", options=None):
    options = options or {"cell": "convlstm", "hidden_channels": 4, "num_layers": 1}
    torch.manual_seed(0)
    return build_model(
        "etas_residual",
        in_channels,
        {"model": inner, "options": options, "etas_channel": in_channels - 1, "count_channel": 0},
    )


def test_channel_of_frame_k_is_the_first_order_forecast_of_bin_k_plus_1(setting):
    catalog, frames, params, channel = setting
    k = 10
    window = frames.bin_start[k + 1 : k + 2]
    direct = etas_rate_forecast(params, catalog, GRID, window, frames.bin_days)
    np.testing.assert_allclose(channel.rates[k], direct.rates[0], rtol=1e-12)
    np.testing.assert_array_equal(channel.window_start[:-1], frames.bin_start[1:])


def test_a_future_event_does_not_change_the_channel_of_earlier_windows(setting):
    catalog, frames, params, channel = setting
    k = 12  # the new event happens inside bin k + 1 (after frame k's end)
    when = frames.bin_start[k + 1] + np.timedelta64(3, "D")
    extra = Catalog.from_columns(
        time=[when], latitude=[33.5], longitude=[-116.5], magnitude=[5.5], depth=[5.0]
    )
    changed = etas_channel_forecast(params, Catalog.concat([catalog, extra]), frames)
    # frame k's channel forecasts bin k + 1 from the events before it starts: unchanged
    np.testing.assert_array_equal(changed.rates[: k + 1], channel.rates[: k + 1])
    assert (changed.rates[k + 1] > channel.rates[k + 1]).any()  # ... the next frame's changes


def test_untrained_residual_network_is_exactly_etas(setting):
    _, frames, _, channel = setting
    informed = frames_with_etas(frames, channel)
    for inner, options in (
        ("predrnn", {"cell": "convlstm", "hidden_channels": 4, "num_layers": 1}),
        ("predrnn", {"cell": "stlstm", "hidden_channels": 4, "num_layers": 2}),
        (
            "prednet",
            {
                "stack_channels": [2, 4],
                "r_channels": [4, 4],
                "pixel_max": None,
                "output_activation": "softplus",
            },
        ),
    ):
        model = _residual(inner=inner, options=options)
        forecast = network_forecast(
            model,
            informed,
            channels=("count", "etas"),
            n_context=4,
            first_bin=8,
            stop_bin=20,
            name="net",
        )
        # bin k's forecast is the channel of frame k - 1
        np.testing.assert_allclose(forecast.rates, channel.rates[7:19], rtol=1e-6)


def test_residual_training_moves_away_from_etas():
    model = _residual()
    context = torch.rand(2, 4, 2, 8, 8) + 0.1
    target = torch.poisson(torch.full((2, 1, 2, 8, 8), 3.0))
    loss_fn = torch.nn.functional.mse_loss
    loss = model.training_loss(context, target, lambda p, t: loss_fn(p[:, :, :1], t[:, :, :1]))
    loss.backward()
    assert model.head.weight.grad.abs().sum() > 0  # the zero head gets a gradient at once


def test_residual_refuses_frames_without_the_etas_channel(setting):
    _, frames, _, _ = setting
    both = dataclasses.replace(
        frames, frames=np.repeat(frames.frames, 2, axis=1), channels=("count", "log_energy")
    )
    with pytest.raises(ValueError, match="corrects the ETAS forecast read from channel 1"):
        network_forecast(
            _residual(),
            both,
            channels=("count", "log_energy"),
            n_context=4,
            first_bin=8,
            stop_bin=10,
            name="net",
        )
    with pytest.raises(ValueError, match="lack the channels \\['etas'\\]"):
        network_forecast(
            _residual(),
            frames,
            channels=("count", "etas"),
            n_context=4,
            first_bin=8,
            stop_bin=10,
            name="net",
        )


def test_residual_forecasts_one_bin_ahead_only():
    with pytest.raises(ValueError, match="horizon 1"):
        _residual()(torch.rand(1, 4, 2, 8, 8), 2)


def test_channel_missing_windows_or_on_another_grid_is_refused(setting):
    _, frames, _, channel = setting
    short = dataclasses.replace(
        channel, rates=channel.rates[:-3], window_start=channel.window_start[:-3]
    )
    with pytest.raises(ValueError, match=r"covers 22 windows, the frames need 25 .*3 are missing"):
        frames_with_etas(frames, short)
    other = dataclasses.replace(
        channel, grid=Grid.from_region(REGION, 0.5), rates=channel.rates[:, :2, :2]
    )
    with pytest.raises(ValueError, match="another grid"):
        frames_with_etas(frames, other)
    assert len(etas_channel_windows(frames)) == frames.num_bins
