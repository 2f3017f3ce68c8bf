from __future__ import annotations

import numpy as np
import pytest
from quake_testing import REGION, random_catalog

from framecast.models import build_model
from framecast.quake import Grid
from framecast.quake.experiment import inverse_activation
from framecast.quake.frames import grid_catalog
from framecast.quake.network import network_forecast


@pytest.fixture
def frames():
    return grid_catalog(
        random_catalog(300),
        Grid.from_region(REGION, 0.125),
        start="2010-01-01",
        end="2011-01-01",
        bin_days=7,
        mc=2.0,
    )


def _model(activation="softplus", bias=-3.0):
    return build_model(
        "predrnn",
        1,
        {
            "cell": "convlstm",
            "hidden_channels": 4,
            "num_layers": 1,
            "kernel_size": 3,
            "patch_size": 2,
            "output_activation": activation,
            "output_bias": bias,
        },
    )


def test_rolling_forecast_windows_and_positive_rates(frames):
    forecast = network_forecast(
        _model(),
        frames,
        channels=("count",),
        n_context=4,
        first_bin=40,
        stop_bin=52,
        name="net",
        b_value=1.1,
    )
    assert forecast.rates.shape == (12, 8, 8)
    assert (forecast.rates > 0).all()
    np.testing.assert_array_equal(forecast.window_start, frames.bin_start[40:52])
    assert forecast.b_value == 1.1 and forecast.mc == 2.0


def test_output_bias_sets_the_starting_rate(frames):
    model = _model(bias=inverse_activation(0.01, "softplus"))
    model.head.weight.data.zero_()
    forecast = network_forecast(
        model, frames, channels=("count",), n_context=4, first_bin=10, stop_bin=12, name="net"
    )
    np.testing.assert_allclose(forecast.rates, 0.01, rtol=1e-5)


def test_models_that_do_not_forecast_rates_are_refused(frames):
    with pytest.raises(ValueError, match="output_activation"):
        network_forecast(
            _model("sigmoid"),
            frames,
            channels=("count",),
            n_context=4,
            first_bin=10,
            stop_bin=12,
            name="net",
        )
    with pytest.raises(ValueError, match="bins"):
        network_forecast(
            _model(), frames, channels=("count",), n_context=4, first_bin=2, stop_bin=12, name="net"
        )
