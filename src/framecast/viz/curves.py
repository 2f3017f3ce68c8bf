"""Line plots: frame-wise metric curves over lead time, and training loss history."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure

from framecast.viz.frames import output_path, save_figure

#: the most series whose legend is drawn inside the axes
LEGEND_INSIDE_MAX = 6


def _check_label(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def line_looks(
    names: Sequence[str], baselines: Sequence[str] = ("persistence",)
) -> dict[str, tuple[object, str]]:
    """A (colour, line style) per series name, distinct for up to 80 series.

    Baselines are black and dashed; the others take tab10 (up to ten) or
    tab20 colours in order, and the next line style each time the palette
    repeats.
    """
    others = [name for name in names if name not in baselines]
    palette = colormaps["tab10" if len(others) <= 10 else "tab20"]
    styles = ("-", "--", ":", "-.")
    looks: dict[str, tuple[object, str]] = dict.fromkeys(names, ("black", "--"))
    for k, name in enumerate(others):
        looks[name] = (palette(k % palette.N), styles[(k // palette.N) % len(styles)])
    return looks


def plot_metric_curves(
    path: str | os.PathLike[str],
    curves: Mapping[str, Sequence[float]],
    *,
    metric: str,
    unit: str,
    title: str | None = None,
    baselines: Sequence[str] = ("persistence",),
) -> Path:
    """Plot a metric against lead time, one line per series.

    Every series gets its own colour and line style (tab10, or tab20 past
    ten series, with the line style changing each time the palette
    repeats); the series named in ``baselines`` are drawn dashed in black.
    Past :data:`LEGEND_INSIDE_MAX` series the legend moves to the right of
    the axes, so that a comparison of many pairs stays readable.

    Parameters
    ----------
    path : str or path-like
        Output file, ending in ``.png``; parent folders are created.
    curves : mapping of str to sequence of float
        Series name (e.g. ``"predrnn"``, ``"persistence"``) to the metric at
        lead times ``1, 2, ...``, e.g. ``FrameMetrics.compute()[metric]["curve"]``.
    metric : str
        Metric name, for the y axis.
    unit : str
        Unit of the metric, for the y axis (e.g. ``"dB"``).
    title : str, optional
        Figure title.
    baselines : sequence of str
        Names of reference series (drawn black, dashed); names that are not
        in ``curves`` are ignored.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    TypeError, ValueError
        ``curves`` is empty or not a mapping, a series is empty or holds a
        non-number, or ``metric``/``unit`` is empty.
    """
    if not isinstance(curves, Mapping):
        raise TypeError(f"curves must be a mapping of name -> values, got {type(curves).__name__}")
    if not curves:
        raise ValueError("curves is empty; expected at least one series name -> values")
    metric = _check_label(metric, "metric")
    unit = _check_label(unit, "unit")
    series: dict[str, list[float]] = {}
    for name, values in curves.items():
        if isinstance(values, str) or not isinstance(values, Sequence):
            raise TypeError(
                f"curve {name!r} must be a sequence of numbers, got {type(values).__name__}"
            )
        if len(values) == 0:
            raise ValueError(f"curve {name!r} is empty; expected one value per lead time")
        try:
            series[str(name)] = [float(v) for v in values]
        except (TypeError, ValueError) as error:
            raise TypeError(f"curve {name!r} must hold numbers, got {list(values)!r}") from error
    out = output_path(path, ".png")

    outside = len(series) > LEGEND_INSIDE_MAX
    # constrained layout keeps a legend placed outside the axes inside the figure
    figure = Figure(figsize=(9.0, 4.5) if outside else (6.0, 4.0), layout="constrained")
    ax = figure.subplots()
    longest = max(len(values) for values in series.values())
    looks = line_looks(list(series), baselines)
    for name, values in series.items():
        color, style = looks[name]
        x = range(1, len(values) + 1)
        ax.plot(x, values, marker="o", markersize=3, color=color, linestyle=style, label=name)
    ax.set_xlabel("lead time (frames ahead)")
    ax.set_ylabel(f"{metric} ({unit})", wrap=True)
    if longest <= 20:
        ax.set_xticks(range(1, longest + 1))
    ax.grid(alpha=0.3)
    if outside:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)
    else:
        ax.legend()
    if title:
        ax.set_title(title)
    save_figure(figure, out)
    return out


def read_loss_columns(
    metrics_csv: str | os.PathLike[str],
) -> dict[str, tuple[list[float], list[float]]]:
    """Read the loss columns of a Lightning ``CSVLogger`` ``metrics.csv``.

    Rows are sparse: a cell is empty where its column was not logged that
    row. Empty and non-finite cells are skipped.

    Parameters
    ----------
    metrics_csv : str or path-like
        The CSV file, with a ``step`` column.

    Returns
    -------
    dict
        Column name (every column whose name contains ``loss``) to
        ``(steps, values)``; columns with no value are left out.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file has no ``step`` column, no loss column, or no loss value.
    """
    csv_path = Path(metrics_csv)
    if not csv_path.is_file():
        raise FileNotFoundError(f"metrics CSV not found: {str(csv_path)!r}")
    with csv_path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        loss_columns = [c for c in columns if "loss" in c.lower()]
        if "step" not in columns:
            raise ValueError(f"{str(csv_path)!r} has no 'step' column; its columns are {columns}")
        if not loss_columns:
            raise ValueError(
                f"{str(csv_path)!r} has no loss column (a name containing 'loss'); "
                f"its columns are {columns}"
            )
        points: dict[str, tuple[list[float], list[float]]] = {c: ([], []) for c in loss_columns}
        for row in reader:
            step = _parse_float(row.get("step"))
            if step is None:
                continue
            for column in loss_columns:
                value = _parse_float(row.get(column))
                if value is not None:
                    points[column][0].append(step)
                    points[column][1].append(value)
    points = {c: xy for c, xy in points.items() if xy[0]}
    if not points:
        raise ValueError(f"{str(csv_path)!r} has loss columns {loss_columns} but no value in them")
    return points


def _parse_float(cell: str | None) -> float | None:
    """A finite float from a CSV cell, or None for an empty, NaN or non-numeric cell."""
    if cell is None or not cell.strip():
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def plot_loss_history(path: str | os.PathLike[str], metrics_csv: str | os.PathLike[str]) -> Path:
    """Plot the training and validation losses of a Lightning ``CSVLogger`` run against step.

    Every column whose name contains ``loss`` (``train_loss_step``,
    ``train_loss_epoch``, ``val_loss``, ...) becomes one line; validation
    columns are dashed with markers. The y axis is logarithmic when every
    value is positive.

    Parameters
    ----------
    path : str or path-like
        Output file, ending in ``.png``; parent folders are created.
    metrics_csv : str or path-like
        The ``metrics.csv`` written by ``lightning.pytorch.loggers.CSVLogger``.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    FileNotFoundError
        ``metrics_csv`` does not exist.
    ValueError
        The CSV has no ``step`` column or no loss values (see :func:`read_loss_columns`).
    """
    points = read_loss_columns(metrics_csv)
    out = output_path(path, ".png")

    figure = Figure(figsize=(6.0, 4.0))
    ax = figure.subplots()
    for column, (steps, values) in sorted(points.items()):
        if column.lower().startswith("val"):
            ax.plot(steps, values, linestyle="--", marker="o", markersize=3, label=column)
        else:
            ax.plot(steps, values, linewidth=1.0, label=column)
    if all(v > 0 for _, values in points.values() for v in values):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"loss history: {Path(metrics_csv).parent.name or Path(metrics_csv).name}")
    figure.tight_layout()
    save_figure(figure, out)
    return out
