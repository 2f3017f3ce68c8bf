"""Evaluate a checkpoint or forecast from a file, and write tables, JSON and pictures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from framecast.checkpoint import load
from framecast.config import Config, apply_overrides, config_from_dict
from framecast.evaluation import Evaluation, evaluate, format_table
from framecast.metrics import DEFAULT_METRICS
from framecast.models import ForecastModel, Persistence
from framecast.training.loaders import make_dataset, make_loader
from framecast.viz import plot_metric_curves, save_prediction_gif, save_prediction_strip

TABLE_METRICS = ("mse_per_frame_sum", "mse_per_pixel", "mae_per_frame_sum", "ssim", "psnr")


@dataclass
class Report:
    """An evaluation and the files written for it."""

    evaluation: Evaluation
    metrics_json: Path
    strip_png: Path
    gif: Path
    curves_png: Path
    table: str


def write_report(
    evaluation: Evaluation, out_dir: Path, model_name: str, extra: dict | None = None
) -> Report:
    """Print-ready table plus metrics.json, prediction strip, GIF and MSE curve."""
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_json = evaluation.save_json(out_dir / "metrics.json", extra)
    strip = save_prediction_strip(
        out_dir / "prediction_strip.png",
        evaluation.example_context,
        evaluation.example_target,
        evaluation.example_predictions[model_name],
        title=model_name,
    )
    gif = save_prediction_gif(
        out_dir / "prediction.gif",
        evaluation.example_context,
        evaluation.example_target,
        evaluation.example_predictions[model_name],
    )
    curves = plot_metric_curves(
        out_dir / "mse_vs_lead_time.png",
        {name: res["mse_per_frame_sum"]["curve"] for name, res in evaluation.results.items()},
        metric="MSE per frame",
        unit="sum of squared error over a frame's pixels, pixels in [0, 1]",
    )
    table = format_table(evaluation.results, [m for m in TABLE_METRICS if m in DEFAULT_METRICS])
    return Report(evaluation, metrics_json, strip, gif, curves, table)


def _config_for_data(config: Config, data: str | None, overrides: Sequence[str]) -> Config:
    raw = config.to_dict()
    if data is not None and data.lower() != config.data.name.lower():
        raw["data"] = {**raw["data"], "name": data, "options": {}, "split_options": {}}
    bad = [o for o in overrides if not o.startswith("data.")]
    if bad:
        raise ValueError(f"evaluate takes only data.* overrides, got {bad}")
    return config_from_dict(apply_overrides(raw, overrides))


def evaluate_checkpoint(
    checkpoint: str | Path,
    *,
    data: str | None = None,
    overrides: Sequence[str] = (),
    split: str = "test",
    out_dir: Path | None = None,
    max_batches: int | None = None,
) -> Report:
    """Score a checkpoint and persistence on a data split; print and write the report.

    Writes ``metrics.json``, ``prediction_strip.png``, ``prediction.gif`` and
    ``mse_vs_lead_time.png`` into ``out_dir`` (default: ``eval-<split>``
    beside the run's checkpoint folder).
    """
    checkpoint = Path(checkpoint)
    model, config = load(checkpoint)
    config = _config_for_data(config, data, overrides)
    dataset = make_dataset(config.data, split)
    channels = dataset.channels  # type: ignore[attr-defined]
    if channels != model.in_channels:
        raise ValueError(
            f"dataset {config.data.name!r} has {channels} channels, "
            f"the model expects {model.in_channels}"
        )
    loader = make_loader(config.data, dataset, train=False)
    name = config.model.name
    evaluation = evaluate(
        {name: model, "persistence": Persistence(channels)}, loader, max_batches=max_batches
    )
    out_dir = out_dir or checkpoint.resolve().parent.parent / f"eval-{split}"
    report = write_report(
        evaluation,
        out_dir,
        name,
        {"checkpoint": str(checkpoint), "split": split, "data": config.data.name},
    )
    print(report.table)
    print(f"metrics: {report.metrics_json}")
    return report


def load_frames(path: Path, layout: str, in_channels: int, scale: float | None) -> np.ndarray:
    """Read an array file as float32 (N, T, C, H, W) frames.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file, unreadable file, or a shape that does not fit ``layout``.
    """
    if not path.is_file():
        raise FileNotFoundError(f"input file {str(path)!r} does not exist")
    try:
        if path.suffix == ".npz":
            with np.load(path) as z:
                if len(z.files) != 1:
                    raise ValueError(f"{path} holds arrays {z.files}; give a file with one array")
                arr = z[z.files[0]]
        elif path.suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                keys = list(f.keys())
                if len(keys) != 1:
                    raise ValueError(f"{path} holds datasets {keys}; give a file with one dataset")
                arr = f[keys[0]][()]
        else:
            arr = np.load(path, allow_pickle=False)
    except (OSError, EOFError) as err:
        raise ValueError(f"cannot read input file {str(path)!r}: {err}") from err
    if layout == "auto":
        layout = {3: "THW", 5: "NTCHW"}.get(arr.ndim, "NTHW" if in_channels == 1 else "TCHW")
    if arr.ndim != len(layout):
        raise ValueError(
            f"input array has shape {arr.shape} ({arr.ndim} dimensions), "
            f"layout {layout} needs {len(layout)}"
        )
    if "N" not in layout:
        arr = arr[None]
    if "C" not in layout:
        arr = arr[:, :, None]
    if scale is None:
        scale = 255.0 if arr.dtype == np.uint8 else 1.0
    return (arr.astype(np.float32) / scale).astype(np.float32)


@torch.no_grad()
def predict_file(
    checkpoint: str | Path,
    input_path: str | Path,
    *,
    horizon: int,
    out_dir: Path,
    layout: str = "auto",
    scale: float | None = None,
) -> Path:
    """Forecast ``horizon`` frames after every sequence in an array file.

    Writes ``predictions.npy`` (N, horizon, C, H, W), a strip PNG and a GIF of
    the first sequence into ``out_dir``, and returns the ``.npy`` path.
    """
    if horizon < 1:
        raise ValueError(f"--horizon must be >= 1, got {horizon}")
    model: ForecastModel
    model, _config = load(checkpoint)
    frames = torch.from_numpy(load_frames(Path(input_path), layout, model.in_channels, scale))
    model.check_frames(frames, "input frames")
    pred = model(frames, horizon).clamp(0.0, 1.0)  # (N, horizon, C, H, W)
    out_dir.mkdir(parents=True, exist_ok=True)
    npy = out_dir / "predictions.npy"
    np.save(npy, pred.numpy().astype(np.float32))
    save_prediction_strip(
        out_dir / "prediction_strip.png", frames[0], None, pred[0], title="forecast"
    )
    save_prediction_gif(out_dir / "prediction.gif", frames[0], None, pred[0])
    print(f"predictions: {npy} shape {tuple(pred.shape)}")
    return npy
