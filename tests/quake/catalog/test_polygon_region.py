"""Testing regions as polygons: reading every form, the cell mask, bad input in one line,
and a whole ``quake run`` whose forecasts and ETAS fit stay inside the polygon."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from framecast.quake.catalog.polygon import polygon_cell_mask, read_polygon
from framecast.quake.experiment import load_experiment, run_experiment
from framecast.quake.grid import Grid
from framecast.quake.rates import RateForecast

SQUARE = [[33.0, -117.0], [33.0, -116.0], [34.0, -116.0], [34.0, -117.0]]
SHAPE = Path(__file__).parents[3].parent / "shared" / "peers" / "earthquakenpp" / "SanJac_shape.npy"


def test_every_form_gives_the_same_vertices(tmp_path):
    npy = tmp_path / "region.npy"
    np.save(npy, np.array(SQUARE))
    ring = [[lon, lat] for lat, lon in [*SQUARE, SQUARE[0]]]
    geojson = tmp_path / "region.geojson"
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}}
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    wkt = tmp_path / "region.wkt"
    wkt.write_text("POLYGON ((" + ", ".join(f"{lon} {lat}" for lon, lat in ring) + "))")
    expected = np.array(SQUARE)
    for source in (SQUARE, [*SQUARE, SQUARE[0]], str(npy), str(geojson), str(wkt)):
        assert read_polygon(source) == pytest.approx(expected), source


@pytest.mark.skipif(not SHAPE.is_file(), reason="../shared/peers (EarthquakeNPP's region) absent")
def test_san_jacinto_region_masks_the_176_cells_beyond_the_catalog():
    grid = Grid(32.95, 34.15, -117.05, -115.85, 0.05)
    mask = polygon_cell_mask(grid, read_polygon(str(SHAPE)))
    assert mask.shape == (24, 24)
    assert int(mask.sum()) == 400 and int((~mask).sum()) == 176
    assert mask[1:21, 1:21].all()  # rows 33.00-34.00, columns 117.00-116.00 W


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ([[33.0, -117.0], [34.0, -116.0]], "at least 3 distinct vertices"),
        ([[33.0, -117.0], [34.0, -116.0], [34.0, -116.0]], "at least 3 distinct vertices"),
        ([[33, -117], [34, -116], [33, -116], [34, -117]], "crosses itself"),
        ([[-117.0, 33.0], [-116.0, 33.0], [-116.0, 34.0]], "lat first"),
        ("POLYGON ((-117 33, -116 33, -116 34, -117 34))", "does not close"),
        ("no/such/file.npy", "not found"),
    ],
)
def test_bad_polygons_are_refused_in_one_line(source, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message) as caught:
        read_polygon(source)
    assert "\n" not in str(caught.value)


def test_polygon_files_that_are_not_polygons(tmp_path):
    text = tmp_path / "notes.npy"
    text.write_text("not an array")
    with pytest.raises(ValueError, match=r"not a \.npy array"):
        read_polygon(str(text))
    point = tmp_path / "point.geojson"
    point.write_text(json.dumps({"type": "Point", "coordinates": [-116.5, 33.5]}))
    with pytest.raises(ValueError, match="must hold a GeoJSON Polygon, got 'Point'"):
        read_polygon(str(point))
    csv = tmp_path / "region.csv"
    csv.write_text("33,-117\n")
    with pytest.raises(ValueError, match=r"must be \.npy, \.geojson"):
        read_polygon(str(csv))
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"not a \.npy array"):
        read_polygon(str(pickled))


def test_polygon_beyond_or_outside_the_grid_is_refused():
    grid = Grid(33.0, 34.0, -117.0, -116.0, 0.1)
    with pytest.raises(ValueError, match="reaches beyond the grid"):
        polygon_cell_mask(grid, read_polygon([[33.0, -117.5], [34.0, -117.0], [33.5, -116.5]]))
    sliver = read_polygon([[33.0, -117.0], [33.001, -117.0], [33.0, -116.999]])
    with pytest.raises(ValueError, match="holds no cell centre"):
        polygon_cell_mask(grid, sliver)


SETTINGS = """
out_dir: {out}
catalog: {{simulate: true, seed: 3, burn_in_days: 365,
          etas: {{log10_mu: -5.3, log10_k0: -2.9}}}}
frames: {{region: "33,34,-117,-116", cell: 0.125, start: "2000-01-01", end: "2004-01-01",
         bin_days: 7, mc: 2.0, channels: [count],
         polygon: [[33.0, -117.0], [33.0, -116.5], [34.0, -116.5], [34.0, -117.0]]}}
periods: {{val_start: "2002-07-01", test_start: "2003-01-01"}}
network:
  model: {{name: predrnn, options: {{cell: convlstm, hidden_channels: 4, num_layers: 1,
                                    patch_size: 1, output_activation: exp}}}}
  data: {{n_context: 4, batch_size: 8}}
  train: {{max_steps: 3, val_every_n_steps: 3, log_every_n_steps: 1}}
etas: {{mode: fit, background: declustered, forecast: first_order, auxiliary_start: "2000-01-01",
       fit_start: "2000-07-01"}}
evaluation: {{num_simulations: 50, maps: 1}}
"""


def test_run_with_a_polygon_and_a_declustered_background(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(SETTINGS.format(out=tmp_path / "out"))
    lines: list[str] = []
    report = run_experiment(load_experiment(path), log=lines.append)
    text = report.read_text()
    assert "## Testing region" in text and "32 of the grid's 64 cells" in text
    assert "32 cells are masked" in text
    assert "32 cells, target events" in text  # the score table counts the scored cells only
    assert "declustered" in text and "Branching ratio" in text
    assert "## Comparisons allowing for clustered events" in text
    section = text.split("## Comparisons allowing for clustered events")[1].split("\n## ")[0]
    uniform = [
        r for r in section.splitlines() if r.startswith("| predrnn network | ETAS (fitted, uniform")
    ]
    assert len(uniform) == 1  # the uniform-background variant is compared too
    rows = [
        r for r in section.splitlines() if r.startswith("| predrnn network | ETAS (fitted, decl")
    ]
    assert len(rows) == 1 and rows[0].count("[") == 4  # intervals at 1, 7, 30 and 90 days
    cells = rows[0].split(" | ")
    assert cells[3] == cells[4]  # weekly windows: 1-day and 7-day blocks are both one window
    assert "from 20" in rows[0]  # the busiest month's start
    assert any("events outside the polygon" in line for line in lines)
    out = tmp_path / "out"
    for name in ("network", "reference", "etas"):
        rates = RateForecast.load(out / "forecasts" / f"{name}.h5").rates
        assert (rates[:, :, 4:] == 0).all(), name  # the eastern half is outside
        assert (rates[:, :, :4] > 0).all(), name
    fit = json.loads((out / "etas_fit.json").read_text())
    assert fit["declustering"]["log_likelihoods"][-1] >= fit["declustering"]["log_likelihoods"][0]
    probability = np.array(fit["background"]["probability"])
    assert probability[:, 4:].sum() == 0 and probability.sum() == pytest.approx(1.0)


def test_bad_polygon_in_a_config_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(SETTINGS.format(out=tmp_path / "out"))
    with pytest.raises(ValueError, match="reaches beyond the grid"):
        load_experiment(path, ["frames.polygon=[[32,-117],[34,-117],[34,-116]]"])
    with pytest.raises(ValueError, match=r"etas\.background must be one of"):
        load_experiment(path, ["etas.background=smooth"])
    assert not (tmp_path / "out").exists()
