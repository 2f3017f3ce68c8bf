"""CatalogForecast: counts, gridded rates, validation and HDF5 round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from framecast.quake import Grid
from framecast.quake.catalog_forecast import CatalogForecast

GRID = Grid(34.0, 34.3, -118.0, -117.6, 0.1)  # 3 x 4 cells
STARTS = np.datetime64("2020-01-01", "us") + np.arange(2) * np.timedelta64(1, "D")


def _forecast(**changes: object) -> CatalogForecast:
    # window 0: simulation 0 has events in cells 0, 0, 5; simulation 2 one in cell 11
    # window 1: simulation 1 has one event in cell 3; simulations 0 and 2 are empty
    values: dict[str, object] = {
        "name": "toy",
        "grid": GRID,
        "window_start": STARTS,
        "window_days": 1.0,
        "mc": 2.0,
        "b_value": 1.0,
        "num_simulations": 3,
        "window": np.array([0, 0, 0, 0, 1]),
        "simulation": np.array([0, 0, 0, 2, 1]),
        "cell": np.array([0, 0, 5, 11, 3]),
        "magnitude": np.array([2.0, 2.5, 3.1, 4.0, 2.2]),
    }
    values.update(changes)
    return CatalogForecast(**values)  # type: ignore[arg-type]


def test_counts_and_cell_counts_by_hand() -> None:
    forecast = _forecast()
    np.testing.assert_array_equal(forecast.counts(), [[3, 0, 1], [0, 1, 0]])
    cells = forecast.cell_counts(0)  # [S, H·X]
    assert cells.shape == (3, 12) and cells.dtype == np.int64
    assert cells[0, 0] == 2 and cells[0, 5] == 1 and cells[2, 11] == 1
    assert cells.sum() == 4
    np.testing.assert_array_equal(forecast.cell_counts(1).sum(axis=1), [0, 1, 0])
    with pytest.raises(ValueError, match="window 2 is outside"):
        forecast.cell_counts(2)


def test_expected_rates_are_the_mean_over_simulations() -> None:
    forecast = _forecast(details="toy model")
    rates = forecast.expected_rates()
    assert rates.rates.shape == (2, 3, 4)
    np.testing.assert_allclose(rates.rates.sum(axis=(1, 2)), forecast.counts().mean(axis=1))
    for w in range(2):
        np.testing.assert_allclose(
            rates.rates[w].ravel(), forecast.cell_counts(w).mean(axis=0), rtol=0, atol=0
        )
    assert rates.rates[0, 0, 0] == pytest.approx(2 / 3)
    assert (rates.name, rates.mc, rates.b_value, rates.details) == ("toy", 2.0, 1.0, "toy model")
    np.testing.assert_array_equal(rates.window_start, STARTS)


def test_save_load_round_trip(tmp_path: Path) -> None:
    forecast = _forecast(details="seed 0")
    path = forecast.save(tmp_path / "sub" / "catalogs.h5")
    loaded = CatalogForecast.load(path)
    for column in ("window", "simulation", "cell", "magnitude", "window_start"):
        np.testing.assert_array_equal(getattr(loaded, column), getattr(forecast, column))
    assert loaded.window.dtype == np.int64 and loaded.magnitude.dtype == np.float64
    for field in ("name", "grid", "window_days", "mc", "b_value", "num_simulations", "details"):
        assert getattr(loaded, field) == getattr(forecast, field)
    assert not list(tmp_path.glob("sub/*.partial"))
    empty = _forecast(
        window=np.array([], np.int64),
        simulation=np.array([], np.int64),
        cell=np.array([], np.int64),
        magnitude=np.array([]),
    )
    loaded = CatalogForecast.load(empty.save(tmp_path / "empty.h5"))
    np.testing.assert_array_equal(loaded.counts(), np.zeros((2, 3), np.int64))
    with pytest.raises(FileNotFoundError, match="not found"):
        CatalogForecast.load(tmp_path / "missing.h5")
    (tmp_path / "other.h5").write_bytes(b"")
    with pytest.raises(OSError):  # h5py raises OSError for a non-HDF5 file
        CatalogForecast.load(tmp_path / "other.h5")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"window": np.array([0, 0, 0, 2, 1])}, r"window index 2 of event 3 is outside \[0, 2\)"),
        ({"simulation": np.array([0, 0, 3, 2, 1])}, r"simulation index 3 .* outside \[0, 3\)"),
        ({"cell": np.array([0, 0, 5, 12, 3])}, r"cell index 12 .* outside \[0, 12\)"),
        ({"cell": np.array([0, -1, 5, 11, 3])}, r"cell index -1 of event 1"),
        ({"magnitude": np.array([2.0, 1.9, 3.1, 4.0, 2.2])}, r"magnitude 1.9 of event 1 .* mc 2"),
        ({"magnitude": np.array([2.0, np.nan, 3.1, 4.0, 2.2])}, r"magnitude nan"),
        ({"cell": np.array([0, 0, 5, 11])}, "columns differ in length"),
        ({"cell": np.array([0.0, 0, 5, 11, 3])}, "cell must hold integers"),
        ({"window": np.zeros((5, 1), np.int64)}, "window must be 1-D"),
        ({"num_simulations": 0}, "num_simulations must be >= 1, got 0"),
        ({"num_simulations": 2.5}, "num_simulations must be an integer"),
        ({"window_days": 0.0}, "window_days must be a finite number > 0, got 0.0"),
        ({"b_value": -1.0}, "b_value must be a finite number > 0"),
        ({"window_start": STARTS[:0]}, "non-empty 1-D"),
        ({"window_start": np.array(["NaT", "2020-01-02"], "M8[us]")}, "NaT"),
    ],
)
def test_validation_names_the_bad_value(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _forecast(**changes)
