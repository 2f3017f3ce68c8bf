"""Folders of ready-made spectrogram images (PNG, JPEG, ...) read as spectrogram columns.

Many VLF/ELF stations publish spectrograms as images rather than audio.
Each image is one station's spectrogram over ``seconds`` from its start
time: frequency from ``freq_hz[0]`` to ``freq_hz[1]`` over its rows (the
lowest frequency at the bottom, or at the top with ``low_frequency="top"``)
and time over its columns, left to right. A pixel's value in [0, 1] (its
grey level, or with ``colormap`` its position in that matplotlib colormap)
is mapped linearly to ``db_range``.

The start time of each image comes from its file name (``time_pattern``, a
``strptime`` format such as ``%Y%m%d_%H%M``, default the ``20140301T000000``
forms of :data:`~.readers.TIME_IN_NAME`) or from a sidecar CSV with the
columns ``file,time`` (and optionally ``station``), UTC.

Nothing unknown becomes a number: transparent pixels, and with a colormap
colours farther than ``tolerance`` from it (axis labels, a "no data" grey),
are missing (NaN), and a column with a missing pixel in the band is left
out of the slot statistics like a gap. An image that Pillow cannot decode,
or that is truncated, raises :class:`~.readers.RadioReadError` naming it.

Pillow decodes the images, matplotlib provides the colormaps and SciPy's
k-d tree inverts them.
"""

from __future__ import annotations

import csv
import datetime
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framecast.quake.radio.readers import TIME_IN_NAME, RadioReadError, time_from_name
from framecast.quake.radio.spectrogram import Spectrogram, SpectrogramSettings

IMAGE_SUFFIXES = {".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image"}
LOW_FREQUENCY = ("bottom", "top")
_FIELDS = {"%Y": r"\d{4}", "%m": r"\d{2}", "%d": r"\d{2}", "%H": r"\d{2}", "%M": r"\d{2}"}
_FIELDS |= {"%S": r"\d{2}", "%y": r"\d{2}", "%j": r"\d{3}", "%%": "%"}


@dataclass(frozen=True)
class ImageSettings:
    """How to read spectrogram images (``framecast quake radio prepare --image-*`` options).

    Attributes
    ----------
    seconds : float
        Time one image spans (its columns are spread evenly over it).
    freq_hz : (float, float)
        Frequency of the image's lowest and highest row edges, Hz.
    db_range : (float, float)
        Power (dB) of pixel value 0 and of pixel value 1.
    colormap : str, optional
        A matplotlib colormap name for colour images; None for greyscale.
    tolerance : float
        With a colormap: largest RGB distance (0..1 units) from it still read.
    low_frequency : {"bottom", "top"}
        Where the lowest frequency row is.
    time_pattern : str, optional
        ``strptime`` format of the start time in file names.
    times_csv : str, optional
        A sidecar table ``file,time[,station]`` (overrides names).
    station : str, optional
        Station name; default the sidecar's column, else the file name before
        its time, else ``images``.
    """

    seconds: float
    freq_hz: tuple[float, float]
    db_range: tuple[float, float]
    colormap: str | None = None
    tolerance: float = 0.05
    low_frequency: str = "bottom"
    time_pattern: str | None = None
    times_csv: str | None = None
    station: str | None = None

    def check(self) -> None:
        """Raise ValueError naming the first setting that cannot work."""
        if not self.seconds > 0:
            raise ValueError(f"image seconds must be > 0, got {self.seconds!r}")
        lo, hi = self.freq_hz
        if not 0 <= lo < hi:
            raise ValueError(f"image freq_hz must be low,high with 0 <= low < high, got {lo},{hi}")
        if not self.db_range[0] != self.db_range[1]:
            raise ValueError(f"image db_range must be two different values, got {self.db_range}")
        if self.low_frequency not in LOW_FREQUENCY:
            raise ValueError(
                f"low_frequency must be one of {LOW_FREQUENCY}, got {self.low_frequency!r}"
            )
        if not self.tolerance > 0:
            raise ValueError(f"colormap tolerance must be > 0, got {self.tolerance!r}")
        if self.colormap is not None:
            colormap_table(self.colormap)
        if self.time_pattern is not None:
            pattern_regex(self.time_pattern)


def colormap_table(name: str) -> np.ndarray:
    """RGB ``[256, 3]`` of a matplotlib colormap, value 0 first; ValueError for an unknown name."""
    import matplotlib

    try:
        cmap = matplotlib.colormaps[name]
    except KeyError:
        raise ValueError(
            f"unknown colormap {name!r}; expected a matplotlib colormap name such as 'viridis', "
            "'jet' or 'gray'"
        ) from None
    return np.asarray(cmap(np.linspace(0.0, 1.0, 256)))[:, :3]  # (256, 3)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A regular expression finding text of the ``strptime`` format ``pattern`` in a name.

    Raises
    ------
    ValueError
        A directive other than %Y %y %m %d %j %H %M %S %%, or no %Y/%y.
    """
    parts = re.split(r"(%.)", pattern)
    regex = ""
    for part in parts:
        if part.startswith("%") and len(part) == 2:
            if part not in _FIELDS:
                raise ValueError(
                    f"time pattern {pattern!r}: unsupported directive {part!r}; use "
                    f"{' '.join(k for k in _FIELDS if k != '%%')}"
                )
            regex += _FIELDS[part]
        else:
            regex += re.escape(part)
    if "%Y" not in pattern and "%y" not in pattern:
        raise ValueError(f"time pattern {pattern!r} holds no year (%Y or %y)")
    return re.compile(regex)


def _utc(text: str) -> np.datetime64:
    """ISO text (``Z`` or an offset allowed) as naive UTC ``datetime64[us]``."""
    parsed = datetime.datetime.fromisoformat(text.strip())
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return np.datetime64(parsed, "us")


def read_image_times(path: str | Path) -> dict[str, tuple[np.datetime64, str | None]]:
    """A sidecar CSV ``file,time[,station]`` -> {file name: (UTC start, station or None)}.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Missing columns, a time that is not ISO 8601, or a file listed twice
        (the message names the line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image times table not found: {str(path)!r}")
    times: dict[str, tuple[np.datetime64, str | None]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not {"file", "time"} <= set(reader.fieldnames or ()):
            raise ValueError(
                f"{path.name!r}: needs the columns file,time (got {reader.fieldnames})"
            )
        for row in reader:
            name = Path(row["file"].strip()).name
            try:
                start = _utc(row["time"])
            except (ValueError, TypeError):
                raise ValueError(
                    f"{path.name!r} line {reader.line_num}: time {row['time']!r} is not ISO 8601"
                ) from None
            if name in times:
                raise ValueError(f"{path.name!r} line {reader.line_num}: {name!r} listed twice")
            times[name] = (start, (row.get("station") or "").strip() or None)
    return times


def image_start(
    path: Path,
    settings: ImageSettings,
    table: dict[str, tuple[np.datetime64, str | None]] | None,
) -> tuple[np.datetime64, str]:
    """UTC start and station name of one image (see the module).

    Raises
    ------
    RadioReadError
        Not in the sidecar table, or no time in its name.
    """
    if table is not None:
        if path.name not in table:
            raise RadioReadError(f"{path.name!r}: not listed in {settings.times_csv!r}")
        start, station = table[path.name]
        return start, settings.station or station or "images"
    if settings.time_pattern is None:
        start = time_from_name(path)
        prefix = TIME_IN_NAME.split(path.stem)[0]
    else:
        match = pattern_regex(settings.time_pattern).search(path.name)
        if match is None:
            raise RadioReadError(
                f"{path.name!r}: no time matching the pattern {settings.time_pattern!r}"
            )
        try:
            parsed = datetime.datetime.strptime(match.group(0), settings.time_pattern)
        except ValueError as error:
            raise RadioReadError(f"{path.name!r}: bad time in the name ({error})") from None
        start = np.datetime64(parsed, "us")
        prefix = path.name[: match.start()]
    return start, settings.station or prefix.strip("_- .") or "images"


def image_values(path: Path, settings: ImageSettings) -> np.ndarray:
    """float64 ``[R, W]`` pixel values in [0, 1], NaN where unknown; row 0 the top row.

    Raises
    ------
    RadioReadError
        Not an image Pillow can decode, truncated, or a colour image without a colormap.
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()  # decodes everything: a truncated file fails here
            has_alpha = "A" in image.getbands() or "transparency" in image.info
            if settings.colormap is None and image.mode in ("I;16", "I;16B", "I"):
                grey = np.asarray(image, dtype=np.float64) / 65535.0  # 16-bit greys
                return grey
            rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0  # (R, W, 4)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise RadioReadError(f"{path.name!r}: not a readable image ({error})") from None
    rgb = rgba[..., :3]  # (R, W, 3)
    if settings.colormap is None:
        if not (np.allclose(rgb[..., 0], rgb[..., 1]) and np.allclose(rgb[..., 1], rgb[..., 2])):
            raise RadioReadError(
                f"{path.name!r}: a colour image; give its colormap (--image-colormap NAME)"
            )
        values = rgb[..., 0].copy()  # (R, W)
    else:
        from scipy.spatial import cKDTree

        table = colormap_table(settings.colormap)  # (256, 3)
        distance, index = cKDTree(table).query(rgb.reshape(-1, 3))  # [R*W] each
        values = (index / (len(table) - 1.0)).reshape(rgb.shape[:2])  # (R, W)
        values[distance.reshape(rgb.shape[:2]) > settings.tolerance] = np.nan
    if has_alpha:
        values[rgba[..., 3] == 0] = np.nan  # transparent: nothing drawn there
    return values


def read_spectrogram_image(
    path: str | Path,
    settings: ImageSettings,
    spectrogram: SpectrogramSettings,
    *,
    start: np.datetime64,
    station: str,
) -> Spectrogram:
    """One spectrogram image as dB columns on the rows of ``spectrogram`` (its band and rows).

    Each output row is the mean (in dB, like the slot statistics) of the
    image rows whose centre frequency falls in it; rows of the band the
    image does not reach stay NaN.

    Raises
    ------
    RadioReadError
        The image cannot be read (see :func:`image_values`).
    ValueError
        The band and the image's frequencies do not overlap, or the image
        has too few rows for the output rows.
    """
    path = Path(path)
    values = image_values(path, settings)  # (R, W), row 0 at the top
    if settings.low_frequency == "bottom":
        values = values[::-1]  # row 0: the lowest frequency
    lo_db, hi_db = settings.db_range
    power = lo_db + values * (hi_db - lo_db)  # (R, W) dB
    rows, width = power.shape
    f_lo, f_hi = settings.freq_hz
    centres = f_lo + (np.arange(rows) + 0.5) * (f_hi - f_lo) / rows  # [R] Hz
    band_hi = spectrogram.band_hz[1]
    lo, hi = spectrogram.band_hz[0], f_hi if band_hi is None else min(band_hi, f_hi)
    if lo >= hi:
        raise ValueError(
            f"{path.name!r}: the band {spectrogram.band_hz} Hz lies outside the image's "
            f"{settings.freq_hz} Hz"
        )
    edges = np.linspace(lo, hi, spectrogram.rows + 1)
    out = np.full((width, spectrogram.rows), np.nan)  # (W, F)
    which = np.digitize(centres, edges) - 1  # [R] output row of each image row
    for row in range(spectrogram.rows):
        members = power[which == row]  # (r, W)
        if not len(members):
            raise ValueError(
                f"{path.name!r}: {rows} image rows over {settings.freq_hz} Hz leave frequency "
                f"row {row} of {spectrogram.rows} over {lo:g}-{hi:g} Hz empty; use fewer --rows"
            )
        # a column with a missing pixel in the row stays NaN: a gap, not a guess
        out[:, row] = members.mean(axis=0)
    step_us = np.timedelta64(round(settings.seconds / width * 1e6), "us")
    return Spectrogram(
        times=start + step_us * np.arange(width),
        power=out[:, None, :],  # (W, 1, F)
        frequencies=(edges[:-1] + edges[1:]) / 2,
        column_seconds=settings.seconds / width,
        stations=(station,),
    )
