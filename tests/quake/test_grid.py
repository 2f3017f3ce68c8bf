from __future__ import annotations

import math

import numpy as np
import pytest

from framecast.quake import Grid, parse_region
from framecast.quake.grid import KM_PER_DEGREE


def test_parse_region_order_and_errors():
    assert parse_region("35.5,47.9,6.0,19.0") == (35.5, 47.9, 6.0, 19.0)
    with pytest.raises(ValueError, match="four numbers"):
        parse_region("35.5,47.9,6.0")
    with pytest.raises(ValueError, match="latitudes"):
        parse_region("47.9,35.5,6.0,19.0")
    with pytest.raises(ValueError, match="four numbers"):
        parse_region("a,b,c,d")


def test_degree_grid_shape_and_locate_edges():
    grid = Grid.from_region("33,34,-117,-116", 0.25)
    assert grid.shape == (4, 4)
    rows, cols = grid.locate(
        np.array([33.0, 33.3, 34.0, 32.9, 33.5]), np.array([-117.0, -116.6, -116.0, -116.5, -115.9])
    )
    assert rows.tolist() == [0, 1, 3, -1, -1]
    assert cols.tolist() == [0, 1, 3, -1, -1]


def test_degree_grid_must_fit_whole_cells():
    with pytest.raises(ValueError, match="not a whole number"):
        Grid.from_region("33,34,-117,-116", 0.3)


def test_areas_sum_to_the_spherical_box():
    grid = Grid.from_region("33,34,-117,-116", 0.1)
    lat = np.radians([33.0, 34.0])
    exact = 6371.0**2 * math.radians(1.0) * (math.sin(lat[1]) - math.sin(lat[0]))
    assert grid.area_km2() == pytest.approx(exact, rel=1e-9)
    areas = grid.cell_areas_km2()
    assert areas[0, 0] > areas[-1, 0]  # cells shrink towards the pole


def test_km_grid_covers_the_box_and_projection_round_trips():
    grid = Grid.from_region("33,34,-117,-116", 10, "km")
    width = KM_PER_DEGREE * math.cos(math.radians(33.5))
    assert grid.shape == (math.ceil(KM_PER_DEGREE / 10), math.ceil(width / 10))
    lat, lon = np.array([33.01, 33.99]), np.array([-116.99, -116.01])
    x, y = grid.project(lat, lon)
    back_lat, back_lon = grid.unproject(x, y)
    np.testing.assert_allclose(back_lat, lat)
    np.testing.assert_allclose(back_lon, lon)
    rows, cols = grid.locate(lat, lon)
    assert (rows >= 0).all() and (cols >= 0).all()
    assert rows[0] == 0 and rows[1] == grid.shape[0] - 1


def test_bad_unit_and_cell():
    with pytest.raises(ValueError, match="unit"):
        Grid.from_region("33,34,-117,-116", 0.1, "miles")
    with pytest.raises(ValueError, match="positive"):
        Grid.from_region("33,34,-117,-116", 0.0)


def test_dict_round_trip():
    grid = Grid.from_region("33,34,-117,-116", 5, "km")
    assert Grid.from_dict(grid.to_dict()) == grid
