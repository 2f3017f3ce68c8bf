"""Readers: WAV (16/24-bit, mono/stereo), miniSEED through ObsPy, CSV/npz with gaps."""

from __future__ import annotations

import numpy as np
import pytest
from radio_testing import tone, write_pcm_wav

from framecast.quake.radio.readers import (
    RadioReadError,
    read_obspy,
    read_recording,
    read_table,
    read_wav,
    time_from_name,
)


@pytest.mark.parametrize("bits", [16, 24])
@pytest.mark.parametrize("channels", [1, 2])
def test_wav_bits_channels_and_time_from_name(tmp_path, bits, channels):
    x = tone(2.0, 8000, 1000.0)
    data = np.stack([x, -x], axis=1)[:, :channels]
    path = write_pcm_wav(tmp_path / "RX1_20140301T060000.wav", data, 8000, bits)
    rec = read_wav(path)
    assert rec.sample_rate == 8000
    assert rec.start == np.datetime64("2014-03-01T06:00:00", "us")
    assert rec.samples.shape == (len(x), channels)
    assert np.allclose(rec.samples, data, atol=2.0 ** -(bits - 2))
    assert rec.stations[0].startswith("RX1")


def test_wav_start_option_and_missing_time(tmp_path):
    path = write_pcm_wav(tmp_path / "plain.wav", tone(1.0, 4000, 500.0), 4000, 16)
    with pytest.raises(RadioReadError, match=r"plain.wav.*--start"):
        read_wav(path)
    assert read_wav(path, start="2020-01-02T03:04:05").start == np.datetime64(
        "2020-01-02T03:04:05", "us"
    )


def test_truncated_and_corrupt_wav_refused_by_name(tmp_path):
    path = write_pcm_wav(tmp_path / "RX_20140301T000000.wav", tone(1.0, 4000, 500.0), 4000, 16)
    cut = tmp_path / "RX_20140301T010000.wav"
    cut.write_bytes(path.read_bytes()[:-1000])  # header still declares every frame
    with pytest.raises(RadioReadError, match=r"RX_20140301T010000.wav.*truncated") as info:
        read_wav(cut)
    assert "\n" not in str(info.value)
    junk = tmp_path / "RX_20140301T020000.wav"
    junk.write_bytes(b"not a wav file at all")
    with pytest.raises(RadioReadError, match=r"RX_20140301T020000.wav"):
        read_wav(junk)


def test_csv_gaps_stay_nan(tmp_path):
    times = np.datetime64("2014-03-01T00:00:00", "s") + np.array([0, 1, 2, 5, 6], "timedelta64[s]")
    lines = ["time,ch1"] + [f"{t}Z,{v}" for t, v in zip(times, [1, 2, 3, 4, ""], strict=True)]
    path = tmp_path / "series.csv"
    path.write_text("\n".join(lines) + "\n")
    rec = read_table(path)
    assert rec.sample_rate == pytest.approx(1.0)
    assert rec.samples.shape == (7, 1)
    assert np.isnan(rec.samples[[3, 4, 6], 0]).all()  # missing steps and the empty cell
    assert rec.samples[5, 0] == 4


def test_npz_and_bad_table(tmp_path):
    times = np.datetime64("2014-03-01", "us") + np.arange(4) * np.timedelta64(500, "ms")
    np.savez(tmp_path / "s.npz", time=times, values=np.arange(8.0).reshape(4, 2))
    rec = read_recording(tmp_path / "s.npz")
    assert rec.sample_rate == pytest.approx(2.0) and rec.samples.shape == (4, 2)
    (tmp_path / "bad.csv").write_text("t,v\n1,2\n")
    with pytest.raises(RadioReadError, match=r"bad.csv.*'time'"):
        read_table(tmp_path / "bad.csv")
    with pytest.raises(RadioReadError, match=r"x.flac.*unsupported"):
        read_recording(tmp_path / "x.flac")


def test_miniseed_gap_kept(tmp_path):
    obspy = pytest.importorskip("obspy", reason="ObsPy not installed (pip install obspy)")
    start = obspy.UTCDateTime("2014-03-01T00:00:00")
    a = obspy.Trace(
        np.ones(100, np.float32),
        {"sampling_rate": 10.0, "starttime": start, "station": "ELF", "channel": "BHZ"},
    )
    b = obspy.Trace(
        np.full(50, 2.0, np.float32),
        {"sampling_rate": 10.0, "starttime": start + 20.0, "station": "ELF", "channel": "BHZ"},
    )
    obspy.Stream([a, b]).write(str(tmp_path / "elf.mseed"), format="MSEED")
    rec = read_obspy(tmp_path / "elf.mseed")
    assert rec.samples.shape == (250, 1) and rec.sample_rate == 10.0
    assert np.isnan(rec.samples[100:200, 0]).all()
    assert (rec.samples[200:, 0] == 2.0).all()
    assert rec.start == np.datetime64("2014-03-01T00:00:00", "us")


def test_time_from_name_variants():
    assert time_from_name("a_2014-03-01_06-30-00.wav") == np.datetime64("2014-03-01T06:30:00", "us")
