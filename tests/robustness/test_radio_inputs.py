"""Radio recordings that do not fit together (issue 23 items 9 and 15).

Recordings at different sample rates were stacked under one frequency axis, a
band above the Nyquist frequency was silently narrowed, a WAV full of NaN was
counted as processed, and skip lines did not always name the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy.io import wavfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quake" / "radio"))

from radio_testing import tone, write_pcm_wav

from framecast.cli import main


def _prepare(source: Path, out: Path, *extra: str) -> int:
    args = ["quake", "radio", "prepare", "--source", str(source), "--out", str(out)]
    args += ["--bin-days", str(1 / 24), "--slots-per-bin", "6", "--rows", "4"]
    return main([*args, "--window-seconds", "0.5", "--step-seconds", "30", *extra])


def _one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_recordings_at_two_sample_rates_are_refused(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    write_pcm_wav(src / "RX_20140301T000000.wav", tone(600, 4000, 300.0), 4000, 16)
    write_pcm_wav(src / "RX_20140301T010000.wav", tone(600, 8000, 300.0), 8000, 16)
    out = tmp_path / "radio.h5"
    assert _prepare(src, out, "--band", "0,1500") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "RX_20140301T010000.wav" in line and "8000 Hz" in line and "4000 Hz" in line
    assert not out.exists()


def test_band_above_nyquist_is_refused_not_narrowed(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    write_pcm_wav(src / "RX_20140301T000000.wav", tone(600, 4000, 300.0), 4000, 16)
    out = tmp_path / "radio.h5"
    assert _prepare(src, out, "--band", "0,24000") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "Nyquist frequency 2000 Hz" in line and "0-24000 Hz" in line
    assert "RX_20140301T000000.wav" in line
    assert not out.exists()


def test_default_band_runs_to_each_recordings_nyquist(tmp_path, capsys):
    from framecast.quake.radio.store import read_series

    src = tmp_path / "src"
    src.mkdir()
    write_pcm_wav(src / "RX_20140301T000000.wav", tone(600, 4000, 300.0), 4000, 16)
    out = tmp_path / "radio.h5"
    assert _prepare(src, out) == 0
    with h5py.File(out, "r") as handle:
        series = read_series(handle)
    assert series.frequencies[-1] < 2000 < series.frequencies[-1] + 2000 / 4


def test_wav_full_of_nan_is_skipped_and_named(tmp_path, capsys):
    src = tmp_path / "src"
    (src / "night").mkdir(parents=True)
    write_pcm_wav(src / "RX_20140301T000000.wav", tone(600, 4000, 300.0), 4000, 16)
    nan_file = src / "night" / "RX_20140301T010000.wav"
    wavfile.write(nan_file, 4000, np.full(4000 * 600, np.nan, np.float32))
    out = tmp_path / "radio.h5"
    assert _prepare(src, out, "--band", "0,2000") == 0
    text = capsys.readouterr().out
    skipped = [line for line in text.splitlines() if "skipped" in line]
    assert len(skipped) == 1 and "night/RX_20140301T010000.wav" in skipped[0], text
    assert "no finite sample" in skipped[0]
    assert "1 processed" in text and "1 unreadable" in text


def test_skip_line_names_the_file_by_its_path_in_the_source(tmp_path, capsys):
    src = tmp_path / "src"
    for station in ("north", "south"):
        (src / station).mkdir(parents=True)
        write_pcm_wav(src / station / "RX_20140301T000000.wav", tone(600, 4000, 300.0), 4000, 16)
    broken = src / "south" / "RX_20140301T000000.wav"
    broken.write_bytes(broken.read_bytes()[:-1000])  # truncated: shorter than its header says
    assert _prepare(src, tmp_path / "radio.h5", "--band", "0,2000") == 0
    text = capsys.readouterr().out
    skipped = [line for line in text.splitlines() if "skipped" in line]
    assert len(skipped) == 1, text
    assert skipped[0].startswith("radio prepare: skipped south/RX_20140301T000000.wav: truncated")


@pytest.mark.parametrize("rate", [4000, 8000])
def test_one_rate_per_folder_still_prepares(tmp_path, rate):
    src = tmp_path / "src"
    src.mkdir()
    write_pcm_wav(src / "RX_20140301T000000.wav", tone(600, rate, 300.0), rate, 16)
    write_pcm_wav(src / "RX_20140301T010000.wav", tone(600, rate, 300.0), rate, 16)
    assert _prepare(src, tmp_path / "radio.h5", "--band", "0,1500") == 0
