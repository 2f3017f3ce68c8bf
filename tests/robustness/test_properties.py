"""Property-based tests (Hypothesis) of the command line on generated inputs (issue 23).

Whatever the input, a command run through :func:`framecast.cli.main` either
exits 0 with a valid result, or exits 2 with exactly one line on stderr and
nothing written into its output folder. Generated here:

- ``framecast train`` overrides of a tiny config: known and unknown keys,
  values of the wrong type, out-of-range numbers, odd strings and YAML;
- CSV catalogs for ``framecast quake grid``: missing and extra fields,
  NaN and infinite numbers, bad times, coordinates out of range,
  duplicated rows, odd headers;
- ``.npy`` arrays for ``framecast data prepare frame_series``: every ndim
  from 0 to 5, many dtypes (pickled objects among them), NaN and
  infinities, empty axes, damaged files;
- folders of frames for the same command: images of mixed sizes and modes,
  empty and damaged files, subfolders, other files.

``tests/robustness/test_bad_input_properties.py`` checks the YAML loader,
``load_config`` and the catalog's duplicate removal as functions; these
check whole commands, and what they leave on disk. The examples are
derandomised (the same cases on every run); the slow-marked variants run
more of them. ``pytest -rP`` shows each test's tally of outcomes.
"""

from __future__ import annotations

import datetime
import io
import math
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from framecast_testing import tiny_run_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from framecast.cli import main

FAST = {
    "train overrides": 60,
    "quake grid catalogs": 200,
    "data prepare arrays": 200,
    "data prepare folders": 150,
}
"""Examples per test in the default suite (about a minute in all on two busy cores)."""
SLOW = {
    "train overrides": 300,
    "quake grid catalogs": 1500,
    "data prepare arrays": 1500,
    "data prepare folders": 1000,
}
"""Examples per test in the slow variants (``-m slow``)."""


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same cases on every run: a failure is always reproduced
        database=None,  # and nothing is written into the repository
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@contextmanager
def _folder() -> Iterator[Path]:
    """A fresh temporary folder for one example (Hypothesis reuses the test's fixtures)."""
    with tempfile.TemporaryDirectory(prefix="framecast-property-") as name:
        yield Path(name)


def _files(folder: Path) -> list[str]:
    return (
        sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
        if folder.exists()
        else []
    )


def run_cli(argv: list[str], out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``framecast argv`` in this process and check the exit-0-or-one-line-2 contract.

    Parameters
    ----------
    argv : list of str
        The command line after ``framecast``.
    out : Path
        The command's output folder: it must be empty (or absent) after an exit 2.
    capsys : pytest.CaptureFixture
        Captures the command's stdout and stderr.

    Returns
    -------
    tuple of (int, str)
        The exit status (0 or 2) and the command's stdout.
    """
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    if code == 2:
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, (argv, captured.err[-3000:])
        assert lines[0].startswith(f"framecast {argv[0]}") and ": error: " in lines[0], lines
        assert _files(out) == [], (argv, lines[0], _files(out))
    else:
        assert code == 0, (argv, code, captured.err[-3000:])
    return code, captured.out


def _tally(name: str, counts: Counter[int]) -> None:
    total = sum(counts.values())
    print(f"{name}: {total} cases, {counts[0]} exit 0 with a valid result, {counts[2]} exit 2")
    assert counts[0] and counts[2], counts  # the cases reach both outcomes


# ------------------------------------------------------------------------------ values
ODD_TEXT = st.sampled_from(
    ["", " ", "~", "null", "x", "é", "\t", "..", "../x", "a/b", "a\\b", "1e999", "-.inf", ".nan",
     "0x10", "1_000", "[1, 2", "{a: 1", "'", '"', "&a [*a]", "!!python/object:os.system", "!tag x",
     "? a", "- 1", "%", "@", "`", "yes", "no", "on", "2020-01-01", "12:30", "-1", "0", "1e-320"]
)  # fmt: skip
"""Raw override values read as YAML: odd strings, tags, aliases, broken syntax."""

NUMBERS = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([-(2**63), 2**63, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False),
    st.sampled_from([0.0, -0.0, 1e-300, 0.5, 1.5, 1e300]),
)
"""Numbers, in and far out of range."""

VALUES = st.one_of(
    NUMBERS.map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...")),
    ODD_TEXT,
    st.booleans().map(str),
    st.lists(st.integers(-2, 2), max_size=3).map(str),
    st.dictionaries(
        st.sampled_from(["a", "b", "name"]), st.integers(0, 2), min_size=1, max_size=2
    ).map(str),
    st.text(max_size=8),
)
"""Override values as text."""

VALID: dict[str, list[str]] = {
    "model.name": ["predrnn", "predrnn_v2"],
    "model.in_channels": ["1", "null"],
    "model.options.hidden_channels": ["2", "8"],
    "model.options.num_layers": ["1", "3"],
    "model.options.kernel_size": ["1", "5"],
    "model.options.patch_size": ["1", "2", "8"],
    "model.options.cell": ["convlstm", "causal_lstm", "mflow", "gru"],
    "data.name": ["moving_squares", "array"],
    "data.n_context": ["1", "4"],
    "data.n_target": ["1", "3"],
    "data.batch_size": ["1", "3"],
    "data.num_workers": ["0"],
    "data.split_options.train.num_sequences": ["1", "5"],
    "optim.lr": ["0.1", "1e-5", "0"],
    "optim.weight_decay": ["0.01"],
    "optim.scheduler": ["step", "cosine", "onecycle", "none"],
    "optim.step_gamma": ["0.5"],
    "optim.grad_clip": ["1.0", "null"],
    "sampling.mode": ["linear", "reverse", "none"],
    "sampling.start_prob": ["0.5", "0"],
    "sampling.stop_step": ["1", "100"],
    "train.max_steps": ["1", "-1"],
    "train.max_epochs": ["1", "-1", "null"],
    "train.max_minutes": ["1", "0.5", "null"],
    "train.loss": ["mse", "l1+l2", "bce", "poisson"],
    "train.loss_frames": ["all", "last"],
    "train.loss_channels": ["[0]", "null"],
    "train.precision": ["32", "64", "bf16-mixed"],
    "train.seed": ["1", "123456"],
    "train.limit_val_batches": ["0.5", "1"],
    "train.val_every_n_steps": ["1", "null"],
    "train.checkpoint_every_n_steps": ["1", "null"],
    "train.early_stopping_patience": ["1", "null"],
    "train.log_every_n_steps": ["1", "50"],
    "train.run_name": ["other", "r-1_x", "é"],
    "train.progress_bar": ["true", "false"],
    "train.reverse_input": ["true", "false"],
    "train.accelerator": ["cpu", "auto"],
    "train.num_threads": ["1", "null"],
    "evaluation.ssim": ["gaussian", "skimage"],
}
"""The config's own keys, with values a run may take (some only in some combinations).
``train.out_dir``, ``init_from``, ``devices`` and ``strategy`` are not generated: they choose
where to write and how many processes to start, which the test fixes."""

ODD_KEYS = st.one_of(
    st.sampled_from(["train.nope", "model.options.nope", "nope.x", "optim", "train", "a.b.c.d",
                     "train..lr", ".lr", "train.", "TRAIN.LR", "optim.lr.x", " optim.lr", "é.ü"]),
    st.text(st.characters(codec="utf-8", exclude_characters="=-\x00"), min_size=1, max_size=6),
)  # fmt: skip
"""Unknown and odd keys."""

# sizes bounded where a valid value costs time or memory: a valid override trains for real
CAPPED = {
    "model.options.hidden_channels": 16,
    "model.options.num_layers": 3,
    "model.options.kernel_size": 7,
    "data.n_context": 6,
    "data.n_target": 6,
    "data.batch_size": 16,
    "data.num_workers": 0,
    "data.split_options.train.num_sequences": 16,
    "train.max_steps": 2,
    "train.max_epochs": 2,
    "train.early_stopping_patience": 3,
    "train.num_threads": 1,
}


SECTIONS = ("model", "data", "optim", "sampling", "train", "evaluation")


def _affordable(key: str, raw: str) -> bool:
    """Whether ``key=raw`` keeps the run short: sizes within :data:`CAPPED`, and no section
    reset to its defaults (``train=null`` is a valid config of 80,000 steps)."""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return True
    if key.strip().lower() in SECTIONS:
        return not (value is None or isinstance(value, dict))
    if key not in CAPPED or isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return not math.isfinite(value) or value <= CAPPED[key]


@st.composite
def overrides(draw: st.DrawFn) -> list[str]:
    """1-3 overrides of the config's keys with good values, then maybe one bad value or an
    odd key among them (a few bad ones at once add little: the first refusal is the answer)."""
    keys = draw(st.lists(st.sampled_from(sorted(VALID)), min_size=1, max_size=3, unique=True))
    pairs = [(key, draw(st.sampled_from(VALID[key]))) for key in keys]
    flaw = draw(st.sampled_from(["none", "value", "value", "key"]))
    if flaw == "value":
        where = draw(st.integers(0, len(pairs) - 1))
        pairs[where] = (pairs[where][0], draw(VALUES))
    elif flaw == "key":
        pairs.insert(draw(st.integers(0, len(pairs))), (draw(ODD_KEYS), draw(VALUES)))
    return [f"{key}={value}" for key, value in pairs if _affordable(key, value)]


OVERRIDES = overrides()


def _check_train(overrides: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    with _folder() as tmp:
        out = tmp / "runs"
        raw = tiny_run_config(out, train={"max_steps": 2, "num_threads": 1})
        config = tmp / "config.yaml"
        config.write_text(yaml.safe_dump(raw))
        argv = ["train", "--config", str(config), *overrides]
        if any(o.startswith("train.max_steps=-1") for o in overrides):
            argv.append("train.max_epochs=1")  # -1 is no step limit: one epoch then
        code, stdout = run_cli(argv, out, capsys)
        if code == 0:
            lines = [line for line in stdout.splitlines() if line.startswith("run folder: ")]
            run = Path(lines[-1].removeprefix("run folder: "))
            assert run.parent == out, run  # the run name stayed one folder inside out_dir
            state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
            assert state["global_step"] >= 1
            assert all(torch.isfinite(t).all() for t in state["state_dict"].values())
            assert (run / "logs" / "metrics.csv").read_text().startswith(("epoch", "step"))
            assert not (run / ".framecast.lock").exists()
        return code


# ------------------------------------------------------------------------------ catalogs
def _decimals(low: float, high: float, places: int) -> st.SearchStrategy[str]:
    return st.floats(low, high, allow_subnormal=False).map(lambda v: f"{v:.{places}f}")


GOOD_FIELDS: dict[str, st.SearchStrategy[str]] = {
    "time": st.datetimes(datetime.datetime(2009, 10, 1), datetime.datetime(2011, 3, 1)).map(
        lambda t: t.isoformat(sep=" ")
    ),
    "latitude": _decimals(32.9, 34.1, 4),
    "longitude": _decimals(-117.1, -115.9, 4),
    "magnitude": _decimals(1.8, 6.0, 2),
    "depth": _decimals(-3.0, 700.0, 1),
    "id": st.sampled_from(["ev1", "ev2", "ev3", "ci123", "1", "1.0", "é"]),
    "other": st.sampled_from(["0", "1", "abc"]),
}
"""Each column's good values (times around the gridded year, places around the region)."""

BAD_FIELDS: dict[str, st.SearchStrategy[str]] = {
    "time": st.sampled_from(
        ["", "nan", "2010-13-45", "2010-02-30 10:00", "yesterday", "2010-01-01T25:00", "1e9",
         "2010/01/05", "2010-01-05T12:00:00Z", "2010-01-05 12:00:00.123456789", "0000-00-00",
         "9999-12-31T23:59:59", "-2010-01-01", '"2010-01-05"']
    ),
    "latitude": st.sampled_from(["", "nan", "NaN", "inf", "-inf", "95", "x", "1e400", "33,5"]),
    "longitude": st.sampled_from(["", "nan", "inf", "-200", "x", "--1", "1e400"]),
    "magnitude": st.sampled_from(["", "nan", "inf", "-inf", "-5", "12", "x", "1e400"]),
    "depth": st.sampled_from(["", "nan", "inf", "-1e9", "x"]),
    "id": st.sampled_from(["", " ", "ev1,ev2", '"']),
    "other": st.sampled_from(["", "nan", ","]),
}  # fmt: skip
"""Each column's bad values: missing, NaN, infinite, out of range, unparsable, stray commas."""

COLUMN_OF = {"time": "time", "time_string": "time", "latitude": "latitude", "lat": "latitude",
             "longitude": "longitude", "lon": "longitude", "magnitude": "magnitude",
             "mag": "magnitude", "depth": "depth", "id": "id", "event_id": "id"}  # fmt: skip

GOOD_HEADERS = st.sampled_from(
    ["time,latitude,longitude,magnitude", "time,latitude,longitude,magnitude,depth",
     "id,time,latitude,longitude,magnitude,depth", "time,lat,lon,mag",
     "index,time,longitude,latitude,magnitude,x,y", "lon,lat,mag,time_string,depth",
     "Time,Latitude,Longitude,Magnitude"]
)  # fmt: skip
ODD_HEADERS = st.sampled_from(
    ["time,latitude,longitude", "time,time,lat,lon,mag", "", "a,b,c,d",
     "time;latitude;longitude;magnitude", "TIME,LAT,LON,MAG,MAG"]
)  # fmt: skip
"""Catalog headers: the layouts the reader knows, and broken ones."""


@st.composite
def catalog_csv(draw: st.DrawFn) -> str:
    """A CSV catalog: a header, rows with good and (at some rate) bad fields, repeated rows."""
    flaw = draw(st.sampled_from(["none", "none", "none", "header", "few", "many"]))
    header = draw(ODD_HEADERS if flaw == "header" else GOOD_HEADERS)
    columns = [COLUMN_OF.get(c.lower(), "other") for c in header.split(",")] if header else []
    rate = {"few": 2, "many": 30}.get(flaw, 0)  # per cent of fields and rows made bad
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        row = [
            draw(BAD_FIELDS[c] if draw(st.integers(0, 99)) < rate else GOOD_FIELDS[c])
            for c in columns
        ]
        if draw(st.integers(0, 99)) < rate:  # a short, long or quoted row
            shape = draw(st.sampled_from(["short", "long", "quoted"]))
            if shape == "short":
                row = row[: draw(st.integers(0, max(0, len(row) - 1)))]
            elif shape == "long":
                row.append("extra")
            else:
                row = [f'"{v}"' for v in row]
        rows.append(",".join(row))
    if rows and draw(st.booleans()):  # duplicated rows, the counted-twice events
        rows += draw(st.lists(st.sampled_from(rows), max_size=10))
    return "\n".join([header, *rows]) + draw(st.sampled_from(["\n", "", "\n\n", "\r\n"]))


def _check_catalog(text: str, capsys: pytest.CaptureFixture[str]) -> int:
    from framecast.quake.frames import SeismicityFrames

    with _folder() as tmp:
        catalog = tmp / "catalog.csv"
        catalog.write_text(text)
        out = tmp / "out"
        argv = ["quake", "grid", "--catalog", str(catalog), "--region", "33,34,-117,-116"]
        argv += ["--cell", "0.5", "--start", "2010-01-01", "--end", "2011-01-01"]
        argv += ["--bin-days", "30", "--mc", "2.0", "--out", str(out / "frames.h5")]
        code, _ = run_cli(argv, out, capsys)
        if code == 0:
            frames = SeismicityFrames.load(out / "frames.h5")
            counts = frames.channel("count")
            assert counts.shape[1:] == (2, 2), counts.shape
            assert np.isfinite(counts).all() and (counts >= 0).all()
            rows = max(0, len(text.strip().splitlines()) - 1)
            assert counts.sum() <= rows  # no event counted twice
            assert _files(out) == ["frames.h5"]
        return code


# ------------------------------------------------------------------------------ arrays
DTYPES = st.sampled_from(
    ["uint8", "uint16", "int8", "int32", "int64", "float16", "float32", "float64", "bool",
     "complex64", "object", "<U3", "datetime64[s]", "V4"]
)  # fmt: skip


@st.composite
def npy_files(draw: st.DrawFn) -> bytes:
    """The bytes of a ``.npy`` file: any ndim 0-5, many dtypes, NaN/inf, or a damaged file."""
    kind = draw(st.sampled_from(["array"] * 8 + ["empty file", "truncated", "not npy"]))
    if kind == "empty file":
        return b""
    if kind == "not npy":
        return draw(st.binary(max_size=64))
    frames = st.tuples(st.integers(3, 12), st.integers(1, 5), st.integers(1, 5))
    shape = draw(
        st.one_of(
            frames,  # [T, H, W]
            frames.map(lambda t: (t[0], 1 + t[1] % 3, *t[1:])),  # [T, C, H, W]
            st.lists(st.integers(0, 6), max_size=5).map(tuple),  # any
        )
    )
    dtype = np.dtype(draw(st.one_of(st.sampled_from(["uint8", "float32", "float64"]), DTYPES)))
    size = math.prod(shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if dtype.kind == "f":
        values = rng.normal(0, draw(st.sampled_from([1.0, 1e3, 1e30])), size)
        special = draw(st.sampled_from([None, np.nan, np.inf, -np.inf]))
        if special is not None and size:
            values[rng.integers(0, size, max(1, size // 3))] = special
        array = values.astype(dtype)
    elif dtype.kind in "iub":
        info = np.iinfo(dtype) if dtype.kind != "b" else None
        low, high = (0, 2) if info is None else (max(info.min, -1000), min(info.max, 1000))
        array = rng.integers(low, high, size, endpoint=False).astype(dtype)
    elif dtype.kind == "c":
        array = (rng.normal(size=size) + 1j * rng.normal(size=size)).astype(dtype)
    elif dtype.kind == "O":
        array = np.array([{"frame": i} for i in range(size)] + [None], dtype=object)[:size]
    else:
        array = np.zeros(size, dtype)
    buffer = io.BytesIO()
    np.save(buffer, array.reshape(shape), allow_pickle=True)
    data = buffer.getvalue()
    if kind == "truncated":
        data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
    return data


def _check_cache(out: Path, stdout: str) -> None:
    """A finished cache: readable, uint8 frames, no partial file or lock beside it."""
    from framecast.data.cache import read_cache_info

    info = read_cache_info(out / "cache.h5")
    assert sum(info.frames.values()) >= 1 and len(info.frame_shape) == 3
    assert 0 <= info.value_range[0] <= info.value_range[1] <= 255
    assert _files(out) == ["cache.h5"], _files(out)
    assert "cache.h5" in stdout


def _check_array(data: bytes, size: str | None, capsys: pytest.CaptureFixture[str]) -> int:
    with _folder() as tmp:
        source = tmp / "frames.npy"
        source.write_bytes(data)
        out = tmp / "out"
        argv = ["data", "prepare", "frame_series", "--source", str(source)]
        argv += ["--out", str(out / "cache.h5"), *(["--size", size] if size else [])]
        code, stdout = run_cli(argv, out, capsys)
        if code == 0:
            _check_cache(out, stdout)
        return code


# ------------------------------------------------------------------------------ folders
IMAGE_MODES = st.sampled_from(["L", "RGB", "I;16", "I", "F"])
ODD_MODES = st.sampled_from(["1", "RGBA", "P", "LA", "CMYK", "YCbCr", "HSV"])
FOLDER_ENTRIES = st.sampled_from(
    ["odd size", "odd mode", "empty", "text", "folder", "other file", "truncated"]
)


@st.composite
def frame_folders(draw: st.DrawFn) -> list[tuple[str, bytes | None]]:
    """A folder's entries as (name, bytes) (None: a subfolder): frames and other things."""
    height, width = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    mode = draw(IMAGE_MODES)
    entries: list[tuple[str, bytes | None]] = []
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kinds = ["frame"] * draw(st.integers(0, 10))
    kinds += draw(st.one_of(st.just([]), st.lists(FOLDER_ENTRIES, max_size=3)))
    for i, kind in enumerate(draw(st.permutations(kinds))):
        name = f"f{i}." + draw(st.sampled_from(["png", "png", "tif", "PNG", "jpg", "bmp"]))
        if kind in ("frame", "odd size", "odd mode", "truncated"):
            h, w = (height, width) if kind != "odd size" else (height + 1, width)
            m = mode if kind != "odd mode" else draw(ODD_MODES)
            image = Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8)).convert(m)
            buffer = io.BytesIO()
            fmt = {"jpg": "JPEG", "tif": "TIFF", "bmp": "BMP"}.get(name.rsplit(".")[1], "PNG")
            try:
                image.save(buffer, format=fmt)
            except (OSError, ValueError, KeyError):  # a mode the format cannot hold
                image.convert("L").save(buffer, format=fmt)
            data: bytes | None = buffer.getvalue()
            if kind == "truncated" and data:
                data = data[: len(data) // 2]
        elif kind == "empty":
            data = b""
        elif kind == "text":
            data = b"not an image\n"
        elif kind == "folder":
            data = None
        else:
            name, data = draw(st.sampled_from(["notes.txt", ".hidden", "README", "é.csv"])), b"x"
        entries.append((name, data))
    return entries


def _check_folder(
    entries: list[tuple[str, bytes | None]], size: str | None, capsys: pytest.CaptureFixture[str]
) -> int:
    with _folder() as tmp:
        source = tmp / "frames"
        source.mkdir()
        for name, data in entries:
            if data is None:
                (source / name).mkdir(exist_ok=True)
            else:
                (source / name).write_bytes(data)
        out = tmp / "out"
        argv = ["data", "prepare", "frame_series", "--source", str(source)]
        argv += ["--out", str(out / "cache.h5"), *(["--size", size] if size else [])]
        code, stdout = run_cli(argv, out, capsys)
        if code == 0:
            _check_cache(out, stdout)
        return code


# ------------------------------------------------------------------------------ the tests
PROPERTIES: dict[str, tuple[tuple[st.SearchStrategy[Any], ...], Callable[..., int]]] = {
    "train overrides": ((OVERRIDES,), _check_train),
    "quake grid catalogs": ((catalog_csv(),), _check_catalog),
    "data prepare arrays": (
        (npy_files(), st.sampled_from([None, None, None, "4x4", "3x5", "0x4"])),
        _check_array,
    ),
    "data prepare folders": (
        (frame_folders(), st.sampled_from([None, None, "4x4"])),
        _check_folder,
    ),
}
"""Name -> (the strategies of one case, the check of one case returning its exit status)."""


def _run_property(name: str, examples: int, capsys: pytest.CaptureFixture[str]) -> None:
    strategies, check_case = PROPERTIES[name]
    counts: Counter[int] = Counter()

    @_settings(examples)
    @given(st.tuples(*strategies))
    def check(case: tuple[Any, ...]) -> None:
        counts[check_case(*case, capsys)] += 1

    check()
    _tally(name, counts)


@pytest.mark.parametrize("name", list(PROPERTIES))
def test_generated_inputs_give_a_result_or_one_line_and_nothing_written(
    name, capsys, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)  # a relative path in a generated value stays in the test's folder
    _run_property(name, FAST[name], capsys)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PROPERTIES))
def test_more_generated_inputs(name, capsys, monkeypatch, tmp_path):
    """The same properties over :data:`SLOW` examples each."""
    monkeypatch.chdir(tmp_path)
    _run_property(name, SLOW[name], capsys)


# ------------------------------------------------------------------------------ found cases
@pytest.mark.parametrize(
    "overrides",
    [
        ["train.limit_val_batches=0.5"],  # no validation batch kept: refused inside fit, with
        # a run folder left behind and "the training settings do not fit this machine"
        ["train.max_steps=0"],  # trained nothing and exited 0 with a step-0 checkpoint
        ["train.max_epochs=0"],  # the same
        ["train.max_steps=-3"],  # Lightning's message blamed the machine
    ],
)
def test_cases_the_properties_found_are_refused_in_one_line(overrides, capsys, tmp_path):
    with _folder() as tmp:
        out = tmp / "runs"
        config = tmp / "config.yaml"
        config.write_text(yaml.safe_dump(tiny_run_config(out, train={"max_steps": 2})))
        code, _ = run_cli(["train", "--config", str(config), *overrides], out, capsys)
    assert code == 2


def test_a_refused_catalog_prints_its_error_only(capsys):
    # the notices (duplicates removed, a partial bin dropped) came before the error: two
    # lines and more for one refusal; they are printed once the frames are written
    row = "2010-03-01 10:00:00,35.5,-116.5,3.0"  # outside the region: no event to grid
    text = "time,latitude,longitude,magnitude\n" + f"{row}\n{row}\n"
    assert _check_catalog(text, capsys) == 2
