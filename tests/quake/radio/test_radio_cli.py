"""framecast quake radio prepare: one output, one line per unreadable file, exit 2 with raise."""

from __future__ import annotations

from radio_testing import tone, write_pcm_wav

from framecast.cli import main
from framecast.quake.radio.store import RadioSeries


def test_prepare_cli_skip_and_raise(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    write_pcm_wav(src / "RX_20140301T000000.wav", tone(600, 2000, 300.0), 2000, 16)
    (src / "RX_20140301T010000.wav").write_bytes(b"RIFFjunk")
    out = tmp_path / "radio.h5"
    args = ["quake", "radio", "prepare", "--source", str(src), "--out", str(out)]
    opts = ["--bin-days", "0.0416666666667", "--slots-per-bin", "6", "--band", "0,1000"]
    assert main([*args, *opts, "--rows", "4", "--step-seconds", "30"]) == 0
    assert RadioSeries.load(out).power.shape[1:] == (1, 4)
    printed = capsys.readouterr().out
    assert printed.count("RX_20140301T010000.wav") == 1
    assert main([*args, *opts, "--rows", "5", "--on-error", "raise"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "RX_20140301T010000.wav" in err[0]
