"""Spectrogram-image folders: grey and colour images to dB, times from names or a sidecar."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from PIL import Image

from framecast.cli import main
from framecast.quake.radio.images import (
    ImageSettings,
    image_start,
    read_image_times,
    read_spectrogram_image,
)
from framecast.quake.radio.prepare import PrepareSettings, prepare_radio
from framecast.quake.radio.readers import RadioReadError
from framecast.quake.radio.spectrogram import SpectrogramSettings
from framecast.quake.radio.store import RadioSeries

T0 = np.datetime64("2014-03-01T06:00:00", "us")
GREY = ImageSettings(seconds=3600.0, freq_hz=(0.0, 8000.0), db_range=(-90.0, -30.0))
BAND = SpectrogramSettings(band_hz=(0.0, 8000.0), rows=4)


def _ramp(rows: int = 8, width: int = 6) -> np.ndarray:
    """uint8 ``[rows, width]``: bright at the top row (high frequency), dark at the bottom."""
    levels = np.linspace(255, 0, rows).round().astype(np.uint8)  # top row first
    return np.repeat(levels[:, None], width, axis=1)


def test_grey_image_to_db_rows_and_columns(tmp_path):
    path = tmp_path / "RX_20140301T060000.png"
    Image.fromarray(_ramp()).save(path)
    start, station = image_start(path, GREY, None)
    assert start == T0 and station == "RX"
    spec = read_spectrogram_image(path, GREY, BAND, start=start, station=station)
    assert spec.power.shape == (6, 1, 4)  # (columns, station, rows)
    assert spec.column_seconds == 600.0 and spec.times[1] - spec.times[0] == 600_000_000
    levels = np.linspace(255, 0, 8).round()[::-1] / 255 * 60 - 90  # bottom row first, dB
    assert np.allclose(spec.power[0, 0], levels.reshape(4, 2).mean(axis=1), atol=1e-9)
    assert np.allclose(spec.frequencies, [1000, 3000, 5000, 7000])
    top = ImageSettings(**{**GREY.__dict__, "low_frequency": "top"})
    flipped = read_spectrogram_image(path, top, BAND, start=start, station=station)
    assert np.allclose(flipped.power[0, 0], spec.power[0, 0][::-1])
    with pytest.raises(ValueError, match=r"row 0 of 16 .* empty; use fewer --rows"):
        read_spectrogram_image(
            path, GREY, SpectrogramSettings((0.0, 8000.0), 16), start=start, station=station
        )


def test_sixteen_bit_grey(tmp_path):
    path = tmp_path / "RX_20140301T060000.png"
    Image.fromarray(np.full((4, 3), 65535, np.uint16)).save(path)
    spec = read_spectrogram_image(path, GREY, BAND, start=T0, station="RX")
    assert np.allclose(spec.power, -30.0)


def test_colour_image_through_its_colormap_unknown_colours_missing(tmp_path):
    values = np.linspace(0.0, 1.0, 8)[::-1]  # top row 1.0
    rgba = matplotlib.colormaps["viridis"](np.repeat(values[:, None], 5, axis=1))  # (8, 5, 4)
    pixels = (rgba * 255).round().astype(np.uint8)
    pixels[0, 3, :3] = (255, 0, 0)  # red is not in viridis: missing
    pixels[5, 4, 3] = 0  # transparent: missing
    path = tmp_path / "RX_20140301T060000.png"
    Image.fromarray(pixels, "RGBA").save(path)
    settings = ImageSettings(**{**GREY.__dict__, "colormap": "viridis"})
    spec = read_spectrogram_image(path, settings, BAND, start=T0, station="RX")
    expected = (values[::-1] * 60 - 90).reshape(4, 2).mean(axis=1)
    assert np.allclose(spec.power[0, 0], expected, atol=0.5)  # 1/255 of the colormap
    assert np.isnan(spec.power[3, 0, 3]) and np.isnan(spec.power[4, 0, 1])
    assert np.isfinite(spec.power[[0, 1, 2]]).all()
    with pytest.raises(RadioReadError, match=r"RX_20140301T060000.png.*--image-colormap"):
        read_spectrogram_image(path, GREY, BAND, start=T0, station="RX")
    with pytest.raises(ValueError, match="unknown colormap 'viridi'"):
        ImageSettings(**{**GREY.__dict__, "colormap": "viridi"}).check()


def test_time_pattern_and_sidecar(tmp_path):
    path = tmp_path / "north_20140301_0600.png"
    pattern = ImageSettings(**{**GREY.__dict__, "time_pattern": "%Y%m%d_%H%M"})
    assert image_start(path, pattern, None) == (T0, "north")
    other = tmp_path / "north_noon.png"
    with pytest.raises(RadioReadError, match=r"north_noon.png.*%Y%m%d_%H%M"):
        image_start(other, pattern, None)
    with pytest.raises(ValueError, match="unsupported directive '%B'"):
        ImageSettings(**{**GREY.__dict__, "time_pattern": "%Y_%B"}).check()
    table = tmp_path / "times.csv"
    table.write_text("file,time,station\nsub/a.png,2014-03-01T07:00:00+01:00,south\n")
    times = read_image_times(table)
    sidecar = ImageSettings(**{**GREY.__dict__, "times_csv": str(table)})
    assert image_start(tmp_path / "a.png", sidecar, times) == (T0, "south")
    with pytest.raises(RadioReadError, match=r"'b.png': not listed in"):
        image_start(tmp_path / "b.png", sidecar, times)
    table.write_text("file,time\na.png,2014-03-01\nb.png,yesterday\n")
    with pytest.raises(ValueError, match=r"times.csv' line 3: time 'yesterday'"):
        read_image_times(table)


def test_prepare_image_folder_reports_a_corrupt_image_once(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for hour in (0, 1, 3):  # hour 2 missing: a gap
        Image.fromarray(_ramp(width=12)).save(src / f"RX_20140301T{hour:02d}0000.png")
    good = (src / "RX_20140301T000000.png").read_bytes()
    (src / "RX_20140301T040000.png").write_bytes(good[: len(good) // 2])  # truncated
    settings = PrepareSettings(BAND, bin_days=1.0 / 4, slots_per_bin=24, images=GREY)
    lines: list[str] = []
    report = prepare_radio(src, tmp_path / "radio.h5", settings, log=lines.append)
    assert len(report.processed) == 3 and list(report.refused) == ["RX_20140301T040000.png"]
    assert sum("RX_20140301T040000.png" in line for line in lines) == 1
    series = RadioSeries.load(tmp_path / "radio.h5")
    assert series.start == np.datetime64("2014-03-01T00:00:00", "us")
    assert series.num_slots == 16 and series.stations == ("RX",)  # 00:00 to 04:00, 15-min slots
    assert np.allclose(series.coverage[[0, 7, 12, 15], 0], 1.0)
    assert (series.coverage[8:12, 0] == 0).all() and np.isnan(series.power[8:12]).all()
    again = prepare_radio(src, tmp_path / "radio.h5", settings, log=lines.append)
    assert len(again.skipped_same) == 3 and not again.processed
    with pytest.raises(RadioReadError, match=r"RX_20140301T040000.png"):
        prepare_radio(src, tmp_path / "radio.h5", settings, on_error="raise", log=print)
    # without image settings a folder of images is refused with a hint
    with pytest.raises(ValueError, match="--image-seconds"):
        prepare_radio(src, tmp_path / "other.h5", PrepareSettings(BAND), log=print)


def test_prepare_cli_with_images(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(_ramp(width=12)).save(src / "RX_20140301T000000.png")
    out = tmp_path / "radio.h5"
    args = ["quake", "radio", "prepare", "--source", str(src), "--out", str(out)]
    opts = ["--bin-days", "0.25", "--slots-per-bin", "24", "--band", "0,8000", "--rows", "4"]
    image = ["--image-seconds", "3600", "--image-freq-hz", "0,8000", "--image-db=-90,-30"]
    assert main([*args, *opts, *image]) == 0
    assert RadioSeries.load(out).power.shape == (4, 1, 4)
    assert main([*args, *opts, "--image-seconds", "3600"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--image-freq-hz, --image-db" in err[0]
