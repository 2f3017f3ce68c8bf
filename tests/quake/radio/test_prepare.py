"""prepare: WAVs -> spectrogram slots in radio.h5; resumable; unreadable files by name."""

from __future__ import annotations

import numpy as np
import pytest
from radio_testing import tone, write_pcm_wav

from framecast.quake.radio.aggregate import aggregate_columns
from framecast.quake.radio.prepare import PrepareSettings, prepare_radio
from framecast.quake.radio.readers import RadioReadError, Recording
from framecast.quake.radio.spectrogram import SpectrogramSettings, log_spectrogram
from framecast.quake.radio.store import RadioSeries

RATE = 4000
SETTINGS = PrepareSettings(
    SpectrogramSettings(band_hz=(0.0, 2000.0), rows=4, window_seconds=0.5, step_seconds=30.0),
    bin_days=1.0 / 24,  # one-hour bins of 6 ten-minute slots
    slots_per_bin=6,
)


def _folder(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    # two 20-minute files, a 40-minute gap between them; a 1200 Hz tone in the second
    write_pcm_wav(src / "RX_20140301T000000.wav", tone(1200, RATE, 300.0), RATE, 16)
    write_pcm_wav(src / "RX_20140301T010000.wav", tone(1200, RATE, 1200.0), RATE, 24)
    return src


def test_spectrogram_finds_the_tone_and_skips_gaps():
    x = tone(120, RATE, 1200.0)
    x[3000 * 4 : 6000 * 4] = np.nan  # a 12 s gap
    rec = Recording(x[:, None], RATE, np.datetime64("2014-03-01", "us"), ("A",), "mem")
    spec = log_spectrogram(rec, SpectrogramSettings((0.0, 2000.0), 4, 0.5, 5.0))
    assert spec.power.shape[1:] == (1, 4)
    good = np.isfinite(spec.power[:, 0, 0])
    assert good.sum() < len(good)  # columns in the gap stay NaN, not zero
    assert (np.argmax(spec.power[good, 0], axis=1) == 2).all()  # 1000-1500 Hz row


def test_aggregate_statistics():
    rec = Recording(
        tone(1200, RATE, 300.0)[:, None], RATE, np.datetime64("2014-03-01", "us"), ("A",), "mem"
    )
    spec = log_spectrogram(rec, SETTINGS.spectrogram)
    first, mean, cover = aggregate_columns(spec, 600.0, "mean")
    assert first * 600 == (
        np.datetime64("2014-03-01", "s") - np.datetime64("1970-01-01", "s")
    ).astype(int)
    _, high, _ = aggregate_columns(spec, 600.0, "max")
    assert mean.shape == (2, 1, 4) and np.allclose(cover, 1.0)
    assert (high >= mean - 1e-6).all()
    with pytest.raises(ValueError, match="unknown statistic 'median'"):
        aggregate_columns(spec, 600.0, "median")


def test_prepare_bins_resumes_and_reports(tmp_path):
    src = _folder(tmp_path)
    out = tmp_path / "radio.h5"
    lines: list[str] = []
    report = prepare_radio(src, out, SETTINGS, log=lines.append)
    assert len(report.processed) == 2
    series = RadioSeries.load(out)
    assert series.slot_seconds == 600 and series.slots_per_bin == 6
    assert series.start == np.datetime64("2014-03-01T00:00:00", "us")
    assert series.num_slots == 8  # 00:00 to 01:20
    assert np.allclose(series.coverage[[0, 1, 6, 7], 0], 1.0)
    assert (series.coverage[2:6, 0] == 0).all() and np.isnan(series.power[2:6]).all()
    assert np.argmax(series.power[0, 0]) == 0 and np.argmax(series.power[7, 0]) == 2
    assert len(series.sources) == 2
    # rerun: both skipped; a new corrupt file reported once by name and skipped
    (src / "RX_20140301T020000.wav").write_bytes(b"RIFF....junk")
    lines.clear()
    again = prepare_radio(src, out, SETTINGS, log=lines.append)
    assert again.skipped_same and len(again.skipped_same) == 2 and not again.processed
    assert list(again.refused) == ["RX_20140301T020000.wav"]
    assert sum("RX_20140301T020000.wav" in line for line in lines) == 1
    assert RadioSeries.load(out).num_slots == 8
    with pytest.raises(RadioReadError, match=r"RX_20140301T020000\.wav"):
        prepare_radio(src, out, SETTINGS, on_error="raise", log=lines.append)
    # other settings: every file processed again
    other = PrepareSettings(SETTINGS.spectrogram, SETTINGS.bin_days, 6, "max")
    assert len(prepare_radio(src, out, other, log=lines.append).processed) == 2


def test_nothing_written_when_no_file_is_readable(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a_20140301T000000.wav").write_bytes(b"junk")
    with pytest.raises(ValueError, match="no recording could be read"):
        prepare_radio(src, tmp_path / "radio.h5", SETTINGS, log=lambda _: None)
    assert list(tmp_path.glob("radio.h5*")) == []
