"""Metric curves and loss history plots."""

from __future__ import annotations

import pytest
from PIL import Image

from framecast.viz import plot_loss_history, plot_metric_curves, read_loss_columns
from framecast.viz.curves import LEGEND_INSIDE_MAX, line_looks

# the shape of a Lightning CSVLogger file: sparse rows, empty where not logged
LIGHTNING_CSV = """epoch,step,train_loss_step,val_loss,train_loss_epoch,lr
0,9,0.90,,,0.001
0,19,0.70,,,0.001
0,19,,0.75,,
0,19,,,0.80,
1,29,0.50,,,0.001
1,39,0.40,,,0.001
1,39,,0.45,,
1,39,,,0.45,
"""


def test_metric_curves_png(tmp_path) -> None:
    curves = {"predrnn": [20.0, 40.0, 60.0], "persistence": [50.0, 90.0, 120.0, 140.0]}
    out = plot_metric_curves(
        tmp_path / "plots" / "mse.png", curves, metric="MSE per frame", unit="sum", title="MNIST"
    )
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == (600, 400)


@pytest.mark.parametrize(
    ("curves", "error", "match"),
    [
        ({}, ValueError, "empty"),
        ({"a": []}, ValueError, "'a' is empty"),
        ({"a": "abc"}, TypeError, "sequence of numbers"),
        ({"a": [1.0, "x"]}, TypeError, "must hold numbers"),
        ([1.0, 2.0], TypeError, "mapping"),
    ],
)
def test_metric_curves_bad_input(tmp_path, curves, error, match) -> None:
    with pytest.raises(error, match=match):
        plot_metric_curves(tmp_path / "m.png", curves, metric="ssim", unit="unitless")


def test_metric_curves_need_metric_and_unit(tmp_path) -> None:
    with pytest.raises(ValueError, match="unit"):
        plot_metric_curves(tmp_path / "m.png", {"a": [1.0]}, metric="ssim", unit="")


def test_read_loss_columns_skips_empty_cells(tmp_path) -> None:
    csv_path = tmp_path / "metrics.csv"
    csv_path.write_text(LIGHTNING_CSV)
    points = read_loss_columns(csv_path)
    assert set(points) == {"train_loss_step", "val_loss", "train_loss_epoch"}
    assert points["train_loss_step"] == ([9.0, 19.0, 29.0, 39.0], [0.9, 0.7, 0.5, 0.4])
    assert points["val_loss"] == ([19.0, 39.0], [0.75, 0.45])


def test_loss_history_png(tmp_path) -> None:
    csv_path = tmp_path / "logs" / "version_0" / "metrics.csv"
    csv_path.parent.mkdir(parents=True)
    csv_path.write_text(LIGHTNING_CSV)
    out = plot_loss_history(tmp_path / "loss.png", csv_path)
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == (600, 400)


def test_loss_history_with_negative_loss_uses_linear_axis(tmp_path) -> None:
    csv_path = tmp_path / "metrics.csv"
    csv_path.write_text("epoch,step,train_loss\n0,1,-0.5\n0,2,-0.7\n")
    assert plot_loss_history(tmp_path / "loss.png", csv_path).is_file()


def test_loss_history_errors(tmp_path) -> None:
    no_loss = tmp_path / "no_loss.csv"
    no_loss.write_text("epoch,step,lr\n0,1,0.1\n")
    with pytest.raises(ValueError, match="no loss column"):
        plot_loss_history(tmp_path / "loss.png", no_loss)
    empty_loss = tmp_path / "empty_loss.csv"
    empty_loss.write_text("epoch,step,val_loss\n0,1,\n")
    with pytest.raises(ValueError, match="no value"):
        plot_loss_history(tmp_path / "loss.png", empty_loss)
    no_step = tmp_path / "no_step.csv"
    no_step.write_text("epoch,val_loss\n0,1.0\n")
    with pytest.raises(ValueError, match="no 'step' column"):
        plot_loss_history(tmp_path / "loss.png", no_step)
    with pytest.raises(FileNotFoundError, match="not found"):
        plot_loss_history(tmp_path / "loss.png", tmp_path / "missing.csv")


def test_many_curves_get_a_wider_figure_with_the_legend_outside(tmp_path) -> None:
    curves = {f"model{k}-cell": [float(k), float(k + 1)] for k in range(LEGEND_INSIDE_MAX + 1)}
    out = plot_metric_curves(tmp_path / "m.png", curves, metric="MSE per frame", unit="sum")
    with Image.open(out) as image:
        assert image.size == (900, 450)
    few = dict(list(curves.items())[:LEGEND_INSIDE_MAX])
    with Image.open(plot_metric_curves(tmp_path / "f.png", few, metric="m", unit="u")) as image:
        assert image.size == (600, 400)


def test_line_looks_are_distinct_and_baselines_are_black_dashed() -> None:
    names = [f"pair{k}" for k in range(25)] + ["persistence"]
    looks = line_looks(names)
    assert looks["persistence"] == ("black", "--")
    others = [looks[n] for n in names[:-1]]
    assert len(set(others)) == 25  # tab20 colours, then the next line style
    assert looks["pair0"][1] == "-" and looks["pair20"][1] == "--"
    assert looks["pair0"][0] == looks["pair20"][0]  # the palette repeats with a new style
    assert "black" not in {color for color, _ in others}
    # ten or fewer series: tab10, solid
    small = line_looks(["a", "b"], baselines=())
    assert small["a"] != small["b"] and {s for _, s in small.values()} == {"-"}
