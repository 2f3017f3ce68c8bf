"""Prediction strips (PNG) and GIFs: files, sizes, frame counts and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from framecast.viz import save_prediction_gif, save_prediction_strip
from framecast.viz.gif import BAR_PX, GAP_PX, HEADER_PX


def sequence(t_in: int, t_out: int, channels: int = 1, size: int = 8):
    generator = torch.Generator().manual_seed(0)
    context = torch.rand(t_in, channels, size, size, generator=generator)
    target = torch.rand(t_out, channels, size, size, generator=generator)
    prediction = torch.rand(t_out, channels, size, size, generator=generator)
    return context, target, prediction


@pytest.mark.parametrize("channels", [1, 3])
def test_strip_writes_png_in_new_folder(tmp_path, channels) -> None:
    path = tmp_path / "deep" / "folder" / "strip.png"
    out = save_prediction_strip(path, *sequence(3, 4, channels), title="seq 0")
    assert out == path
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.width > image.height > 100


def test_strip_width_follows_columns_and_max_frames(tmp_path) -> None:
    wide = save_prediction_strip(tmp_path / "wide.png", *sequence(10, 10))
    narrow = save_prediction_strip(tmp_path / "narrow.png", *sequence(10, 10), max_frames=3)
    with Image.open(wide) as w, Image.open(narrow) as n:
        assert w.width > 2 * n.width
        assert w.height == n.height


def test_strip_accepts_numpy_and_other_data_range(tmp_path) -> None:
    context, target, prediction = (255 * x.numpy() for x in sequence(2, 2))
    out = save_prediction_strip(tmp_path / "s.png", context, target, prediction, data_range=255.0)
    assert out.is_file()


@pytest.mark.parametrize(
    ("shapes", "error", "match"),
    [
        (((1, 2, 1, 8, 8), (2, 1, 8, 8), (2, 1, 8, 8)), ValueError, "4 dimensions"),
        (((2, 2, 8, 8), (2, 2, 8, 8), (2, 2, 8, 8)), ValueError, r"1 \(grayscale\) or 3"),
        (((2, 1, 8, 8), (2, 1, 8, 8), (3, 1, 8, 8)), ValueError, "same shape"),
        (((2, 1, 4, 4), (2, 1, 8, 8), (2, 1, 8, 8)), ValueError, r"context frames must have"),
    ],
)
@pytest.mark.parametrize("save", [save_prediction_strip, save_prediction_gif])
def test_bad_shapes_raise(tmp_path, save, shapes, error, match) -> None:
    suffix = ".png" if save is save_prediction_strip else ".gif"
    frames = [torch.rand(shape) for shape in shapes]
    with pytest.raises(error, match=match):
        save(tmp_path / f"bad{suffix}", *frames)
    assert not (tmp_path / f"bad{suffix}").exists()


def test_strip_bad_arguments_raise(tmp_path) -> None:
    frames = sequence(2, 2)
    with pytest.raises(ValueError, match="max_frames"):
        save_prediction_strip(tmp_path / "s.png", *frames, max_frames=0)
    with pytest.raises(ValueError, match=r"end in '\.png'"):
        save_prediction_strip(tmp_path / "s.jpg", *frames)
    with pytest.raises(TypeError, match=r"torch\.Tensor or numpy\.ndarray"):
        save_prediction_strip(tmp_path / "s.png", [[0.0]], frames[1], frames[2])
    with pytest.raises(ValueError, match="data_range"):
        save_prediction_strip(tmp_path / "s.png", *frames, data_range=-1.0)


@pytest.mark.parametrize("channels", [1, 3])
def test_gif_frames_size_and_loop(tmp_path, channels) -> None:
    t_in, t_out, size = 3, 5, 8
    out = save_prediction_gif(tmp_path / "g" / "seq.gif", *sequence(t_in, t_out, channels), fps=5)
    with Image.open(out) as image:
        assert image.format == "GIF"
        assert image.n_frames == t_in + t_out
        scale = 16  # 128 / 8: small frames are upscaled
        assert image.size == (2 * size * scale + GAP_PX, HEADER_PX + size * scale + BAR_PX)
        assert image.info["loop"] == 0
        assert image.info["duration"] == 200


def test_gif_panels_hold_truth_and_prediction(tmp_path) -> None:
    context = np.zeros((1, 1, 4, 4))
    target = np.ones((2, 1, 4, 4))
    prediction = np.zeros((2, 1, 4, 4))
    out = save_prediction_gif(tmp_path / "p.gif", context, target, prediction, scale=10)
    with Image.open(out) as image:
        image.seek(1)  # first forecast frame
        rgb = image.convert("RGB")
        middle_y = HEADER_PX + 20
        assert rgb.getpixel((20, middle_y)) == (255, 255, 255)  # truth panel: ones
        assert rgb.getpixel((40 + GAP_PX + 20, middle_y)) == (0, 0, 0)  # prediction: zeros


def test_gif_identical_frames_are_not_merged(tmp_path) -> None:
    frames = torch.zeros(4, 1, 8, 8)
    out = save_prediction_gif(tmp_path / "same.gif", frames, frames, frames)
    with Image.open(out) as image:
        assert image.n_frames == 8


def test_gif_bad_arguments_raise(tmp_path) -> None:
    frames = sequence(2, 2)
    with pytest.raises(ValueError, match="fps"):
        save_prediction_gif(tmp_path / "g.gif", *frames, fps=0)
    with pytest.raises(ValueError, match="scale"):
        save_prediction_gif(tmp_path / "g.gif", *frames, scale=0)
    with pytest.raises(ValueError, match=r"end in '\.gif'"):
        save_prediction_gif(tmp_path / "g.png", *frames)


@pytest.mark.parametrize("channels", [1, 3])
def test_strip_without_target_has_two_rows(tmp_path, channels) -> None:
    context, target, prediction = sequence(3, 4, channels)
    full = save_prediction_strip(tmp_path / "full.png", context, target, prediction)
    out = save_prediction_strip(tmp_path / "no_truth.png", context, None, prediction)
    with Image.open(full) as three_rows, Image.open(out) as two_rows:
        assert two_rows.format == "PNG"
        assert two_rows.width == three_rows.width  # same columns
        # figure height is a margin plus one fixed height per row
        assert three_rows.height / 2 < two_rows.height < three_rows.height


@pytest.mark.parametrize("channels", [1, 3])
def test_gif_without_target_is_one_panel(tmp_path, channels) -> None:
    t_in, t_out, size = 3, 5, 8
    context, _, prediction = sequence(t_in, t_out, channels)
    out = save_prediction_gif(tmp_path / "forecast.gif", context, None, prediction, fps=5)
    with Image.open(out) as image:
        assert image.n_frames == t_in + t_out
        scale = 16
        assert image.size == (size * scale, HEADER_PX + size * scale + BAR_PX)
        assert image.info["loop"] == 0


def test_gif_without_target_shows_context_then_prediction(tmp_path) -> None:
    context = np.ones((2, 1, 4, 4))
    prediction = np.zeros((3, 1, 4, 4))
    out = save_prediction_gif(tmp_path / "p.gif", context, None, prediction, scale=10)
    middle = (20, HEADER_PX + 20)
    with Image.open(out) as image:
        assert image.n_frames == 5
        image.seek(1)  # last context frame
        assert image.convert("RGB").getpixel(middle) == (255, 255, 255)
        image.seek(2)  # first forecast frame
        assert image.convert("RGB").getpixel(middle) == (0, 0, 0)


def test_identical_frames_without_target_are_not_merged(tmp_path) -> None:
    frames = torch.zeros(4, 1, 8, 8)
    out = save_prediction_gif(tmp_path / "same.gif", frames, None, frames)
    with Image.open(out) as image:
        assert image.n_frames == 8


@pytest.mark.parametrize(
    ("context_shape", "prediction_shape", "match"),
    [
        ((2, 1, 4, 4), (2, 1, 8, 8), r"context frames must have the prediction's"),
        ((2, 1, 8, 8), (2, 3, 8, 8), r"context frames must have the prediction's"),
        ((2, 1, 8, 8), (1, 2, 1, 8, 8), "4 dimensions"),
    ],
)
@pytest.mark.parametrize("save", [save_prediction_strip, save_prediction_gif])
def test_bad_shapes_without_target_raise(
    tmp_path, save, context_shape, prediction_shape, match
) -> None:
    suffix = ".png" if save is save_prediction_strip else ".gif"
    context, prediction = torch.rand(context_shape), torch.rand(prediction_shape)
    with pytest.raises(ValueError, match=match):
        save(tmp_path / f"bad{suffix}", context, None, prediction)
    assert not (tmp_path / f"bad{suffix}").exists()


def test_helpers_live_in_frames_module() -> None:
    from framecast.viz import curves, frames, gif, strip

    assert gif.check_sequence_triple is frames.check_sequence_triple
    assert gif.output_path is frames.output_path
    assert curves.output_path is frames.output_path
    assert curves.save_figure is frames.save_figure
    assert strip.save_figure is frames.save_figure
