"""Evaluate a checkpoint or forecast from a file, and write tables, JSON and pictures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from framecast.baselines import skill_scores, trivial_baselines, verdict_lines, with_baselines
from framecast.checkpoint import load
from framecast.config import Config, apply_overrides, config_from_dict
from framecast.evaluation import Evaluation, evaluate, format_table
from framecast.metrics import (
    DEFAULT_FSS_SCALES,
    DEFAULT_METRICS,
    check_fss_scales,
    check_thresholds,
    dataset_data_range,
)
from framecast.models import ForecastModel
from framecast.models.base import step_progress
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
    verdict: list[str]
    """Lines on whether the reported model beats the best trivial baseline."""


def _drawable(frames: torch.Tensor) -> torch.Tensor:
    """``(T, C, H, W)`` frames as pictures can show them: channel 0 alone unless C is 1 or 3.

    Frames of many channels (seismicity: counts, magnitudes, activity, ETAS)
    are drawn by their first channel.
    """
    return frames if frames.shape[-3] in (1, 3) else frames[..., :1, :, :]


def write_report(
    evaluation: Evaluation, out_dir: Path, model_name: str, extra: dict | None = None
) -> Report:
    """Print-ready table and verdict plus metrics.json, prediction strip, GIF and MSE curve.

    ``metrics.json`` also names the best trivial baseline and gives every
    model's MSE skill score against it (null where undefined). Where the
    evaluation scored thresholds, a second table gives every model's CSI and
    FSS (:mod:`framecast.metrics.categorical`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    best, skills = skill_scores(evaluation.results)
    skill_json = {
        "best_trivial_baseline": best,
        "skill_vs_best_trivial": {k: v if math.isfinite(v) else None for k, v in skills.items()},
    }
    metrics_json = evaluation.save_json(out_dir / "metrics.json", {**(extra or {}), **skill_json})
    context, target, prediction = (
        _drawable(frames)
        for frames in (
            evaluation.example_context,
            evaluation.example_target,
            evaluation.example_predictions[model_name],
        )
    )
    title = model_name if context is evaluation.example_context else f"{model_name} (channel 0)"
    strip = save_prediction_strip(
        out_dir / "prediction_strip.png", context, target, prediction, title=title
    )
    gif = save_prediction_gif(out_dir / "prediction.gif", context, target, prediction)
    curves = plot_metric_curves(
        out_dir / "mse_vs_lead_time.png",
        {name: res["mse_per_frame_sum"]["curve"] for name, res in evaluation.results.items()},
        metric="MSE per frame",
        unit="sum of squared error over a frame's pixels, pixels in [0, 1]",
    )
    table = format_table(evaluation.results, [m for m in TABLE_METRICS if m in DEFAULT_METRICS])
    if evaluation.thresholds:
        table += "\n\n" + format_table(
            evaluation.results, evaluation.categorical_metrics, skill=False
        )
    verdict = verdict_lines(evaluation.results, model_name)
    return Report(evaluation, metrics_json, strip, gif, curves, table, verdict)


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
    thresholds: Sequence[float] = (),
    fss_scales: Sequence[int] | None = None,
) -> Report:
    """Score a checkpoint and the trivial baselines on a data split; print and write the report.

    ``thresholds`` and ``fss_scales`` not given (empty, None) are taken from
    the checkpoint config's ``evaluation.thresholds`` and
    ``evaluation.fss_scales``, so a radar config scores its CSI and FSS
    without options.

    The baselines are :func:`framecast.baselines.trivial_baselines` of the
    checkpoint's data (the mean frame and best constant fitted on its
    training split).

    With ``thresholds`` (values of the scored frames, within ``[0,
    data_range]`` of the dataset), every model's CSI at each threshold and
    FSS at each of ``fss_scales`` pixels (default
    :data:`framecast.metrics.DEFAULT_FSS_SCALES`) are scored too, printed in a
    second table and written to ``metrics.json``: the pySTEPS scores of
    radar nowcasting, meant for radar-like frames (a ``frame_series``
    prepared into the ``prepared`` dataset). A threshold outside the data
    range is refused before the baselines are fitted.

    Writes ``metrics.json``, ``prediction_strip.png``, ``prediction.gif`` and
    ``mse_vs_lead_time.png`` into ``out_dir`` (default: ``eval-<split>``
    beside the run's checkpoint folder).
    """
    from framecast.checkpoint import resolve_checkpoint
    from framecast.files import check_writable_dir
    from framecast.zoo_entries import PRETRAINED_DIR

    checkpoint = resolve_checkpoint(checkpoint)
    # by the file, not by how it was named: `pretrained:NAME` and its path are the same weights
    shipped = checkpoint.resolve().parent == PRETRAINED_DIR.resolve()
    model, config = load(checkpoint)
    config = _config_for_data(config, data, overrides)
    if not thresholds:  # the config's own threshold scores (a radar config's)
        thresholds = config.evaluation.thresholds
        fss_scales = config.evaluation.fss_scales if fss_scales is None else fss_scales
    dataset = make_dataset(config.data, split)
    channels = dataset.channels  # type: ignore[attr-defined]
    if channels != model.in_channels:
        raise ValueError(
            f"dataset {config.data.name!r} has {channels} channels, "
            f"the model expects {model.in_channels}"
        )
    if fss_scales is not None and not thresholds:
        raise ValueError("FSS scales were given without thresholds; add --thresholds")
    scales = check_fss_scales(DEFAULT_FSS_SCALES if fss_scales is None else fss_scales)
    thresholds = check_thresholds(thresholds, dataset_data_range(dataset))  # before any work
    loader = make_loader(config.data, dataset, train=False)
    name = config.model.name
    # shipped weights live in the package: their reports go to runs/, not beside them
    beside = Path("runs") / f"pretrained-{checkpoint.stem}" if shipped else None
    out_dir = out_dir or (beside or checkpoint.resolve().parent.parent) / f"eval-{split}"
    check_writable_dir(out_dir)  # before the work, not after it
    baselines = trivial_baselines(config.data, channels)
    evaluation = evaluate(
        with_baselines({name: model}, baselines),
        loader,
        max_batches=max_batches,
        ssim=config.evaluation.ssim,
        thresholds=thresholds,
        fss_scales=scales,
    )
    report = write_report(
        evaluation,
        out_dir,
        name,
        {"checkpoint": str(checkpoint), "split": split, "data": config.data.name},
    )
    print(report.table)
    for line in report.verdict:
        print(line)
    print(f"metrics: {report.metrics_json}")
    return report


def load_frames(path: Path, layout: str, in_channels: int, scale: float | None) -> np.ndarray:
    """Read an array file as float32 (N, T, C, H, W) frames in [0, 1].

    See :func:`framecast.data.arrays.read_frames`; ``scale`` divides the
    stored values (None: 255 for uint8, the maximum for other integers).

    Raises
    ------
    FileNotFoundError, ValueError
        Missing or unreadable file, a shape that does not fit ``layout``,
        NaN or infinite values, or values that ``scale`` maps outside [0, 1].
    """
    from framecast.data.arrays import read_frames

    return read_frames(path, layout=layout, in_channels=in_channels, divide_by=scale)


def _save_frame_pngs(folder: Path, pred: np.ndarray) -> int:
    """One 8-bit PNG per forecast frame (per channel unless 1 or 3 channels); returns the count."""
    from PIL import Image

    from framecast.files import atomic_write

    count = 0
    pixels = np.round(np.clip(pred, 0.0, 1.0) * 255.0).astype(np.uint8)  # (N, T, C, H, W)
    for n, sequence in enumerate(pixels):
        for t, frame in enumerate(sequence):
            if frame.shape[0] in (1, 3):
                images = {"": frame[0] if frame.shape[0] == 1 else frame.transpose(1, 2, 0)}
            else:
                images = {f"_c{c}": frame[c] for c in range(frame.shape[0])}
            for suffix, image in images.items():
                with atomic_write(folder / f"seq{n:04d}_t{t + 1:03d}{suffix}.png") as partial:
                    Image.fromarray(image).save(partial, format="PNG")
                count += 1
    return count


GIF_FRAMES = 100
"""Forecast frames the GIF of ``predict`` shows at most (the arrays hold all of them)."""

PREDICT_COPIES = 4
"""Copies of the forecast array ``predict`` holds at its peak: the frames of the rollout,
their stacked tensor, the clamped forecast and the float32 array it writes."""


def check_forecast_size(shape: Sequence[int], horizon: int) -> None:
    """Refuse a forecast whose arrays would not fit the memory available now.

    Parameters
    ----------
    shape : sequence of int
        ``(N, T, C, H, W)`` of the input frames.
    horizon : int
        Frames to forecast after each sequence.

    Raises
    ------
    ValueError
        The estimate (``PREDICT_COPIES`` float32 copies of the rollout's
        ``N x (T + horizon) x C x H x W`` frames) exceeds the memory available.
    """
    from framecast.memory import check_memory

    n, t, c, h, w = (int(v) for v in shape)
    frame_count = n * (t + horizon)
    check_memory(
        PREDICT_COPIES * frame_count * c * h * w * 4,
        f"--horizon {horizon} ({n} sequence(s) x {t + horizon} frames of {c}x{h}x{w})",
        "forecast a shorter horizon or fewer sequences at a time",
    )


class ProgressLine:
    """A step callback printing ``what: step k/n (p%), elapsed, left`` every ``seconds`` on stderr.

    Nothing is printed for a job that ends within ``seconds``.

    Parameters
    ----------
    what : str
        The job, at the start of each line.
    seconds : float
        Interval between lines.
    """

    def __init__(self, what: str, seconds: float = 10.0) -> None:
        import time

        self.what = what
        self.seconds = seconds
        self._clock = time.monotonic
        self._began = self._clock()
        self._last = self._began

    def __call__(self, done: int, total: int) -> None:
        import sys

        now = self._clock()
        if now - self._last < self.seconds and done < total:
            return
        if done == total and self._last == self._began and now - self._began < self.seconds:
            return  # a short job: no line
        self._last = now
        elapsed = now - self._began
        left = elapsed / done * (total - done) if done else math.inf
        print(
            f"{self.what}: step {done}/{total} ({100 * done / total:.0f}%), "
            f"{_duration(elapsed)} elapsed, about {_duration(left)} left",
            file=sys.stderr,
            flush=True,
        )


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


@torch.no_grad()
def predict_file(
    checkpoint: str | Path,
    input_path: str | Path,
    *,
    horizon: int,
    out_dir: Path,
    layout: str = "auto",
    scale: float | None = None,
    frame_pngs: bool = False,
) -> Path:
    """Forecast ``horizon`` frames after every sequence in an array file.

    Writes ``predictions.npy`` and ``predictions.h5`` (dataset ``predictions``,
    (N, horizon, C, H, W) float32 in [0, 1]), a strip PNG and a GIF of the
    first sequence into ``out_dir``, and with ``frame_pngs`` one PNG per
    forecast frame under ``out_dir/frames``. The input is checked (finite,
    within [0, 1] after scaling) and ``out_dir`` is checked writable before
    the model runs. Returns the ``.npy`` path.
    """
    from framecast.files import check_writable_dir

    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"--horizon must be an integer >= 1, got {horizon!r}")
    model: ForecastModel
    model, _config = load(checkpoint)
    frames = torch.from_numpy(load_frames(Path(input_path), layout, model.in_channels, scale))
    model.check_frames(frames, "input frames")
    check_forecast_size(frames.shape, horizon)
    check_writable_dir(out_dir)
    if frame_pngs:
        check_writable_dir(out_dir / "frames")
    with step_progress(
        ProgressLine(f"predict: {horizon} frames ahead of {len(frames)} sequence(s)")
    ):
        pred = model(frames, horizon)  # (N, horizon, C, H, W)
    if not torch.isfinite(pred).all():
        raise ValueError(
            f"the model forecast NaN or infinite values from {str(input_path)!r}; "
            "the checkpoint's weights are not finite"
        )
    pred = pred.clamp(0.0, 1.0)
    try:
        return _write_predictions(
            pred, frames, out_dir, frame_pngs, str(checkpoint), str(input_path)
        )
    except OSError as err:
        if err.filename is None:  # numpy and h5py name no file: name the folder
            raise OSError(err.errno, err.strerror or str(err), str(out_dir)) from err
        raise


def _write_predictions(
    pred: torch.Tensor,
    frames: torch.Tensor,
    out_dir: Path,
    frame_pngs: bool,
    checkpoint: str,
    input_path: str,
) -> Path:
    import h5py

    from framecast.files import atomic_write

    array = pred.numpy().astype(np.float32)  # (N, horizon, C, H, W)
    npy = out_dir / "predictions.npy"
    with atomic_write(npy) as partial, open(partial, "wb") as handle:
        np.save(handle, array)
    h5 = out_dir / "predictions.h5"
    with atomic_write(h5) as partial, h5py.File(partial, "w") as handle:
        dataset = handle.create_dataset("predictions", data=array, compression="gzip")
        dataset.attrs["layout"] = "NTCHW"
        dataset.attrs["value_range"] = [0.0, 1.0]
        dataset.attrs["checkpoint"] = checkpoint
        dataset.attrs["input"] = input_path
    save_prediction_strip(
        out_dir / "prediction_strip.png", frames[0], None, pred[0], title="forecast"
    )
    # a long horizon would make a GIF of thousands of frames: it shows the first ones
    save_prediction_gif(out_dir / "prediction.gif", frames[0], None, pred[0][:GIF_FRAMES])
    print(f"predictions: {npy} and {h5.name}, shape {tuple(pred.shape)}")
    if frame_pngs:
        count = _save_frame_pngs(out_dir / "frames", array)
        print(f"frame PNGs: {count} in {out_dir / 'frames'}")
    return npy
