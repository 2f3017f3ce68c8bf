"""Small synthetic stand-ins for the KTH and KITTI video files, laid out like the real ones.

They let the preparers, the datasets and the quick configs run end to end
without the real data (KTH is ~1 GB of AVIs, PredNet's KITTI files ~3 GB):

- :func:`write_synthetic_kth` writes ``<folder>/<action>/personNN_<action>_dS_uncomp.avi``
  files (the layout of the KTH zips, Schuldt et al. 2004) and a
  ``00sequences.txt`` in KTH's format, encoded with PyAV.
- :func:`write_synthetic_kitti_hkl` writes ``X_<split>.hkl`` and
  ``sources_<split>.hkl`` as PredNet's ``process_kitti.py`` does (Lotter et
  al. 2017): uint8 frames ``[N, H, W, 3]`` of all recordings concatenated and
  one recording name per frame, with hickle.

The movies are simple but predictable (a dark figure moving on a light
background for KTH; a scrolling textured road scene with cars for KITTI),
so a small network's loss falls within minutes on a CPU.

References
----------
.. [1] C. Schuldt, I. Laptev, B. Caputo, "Recognizing Human Actions: A Local
   SVM Approach", ICPR 2004 (the KTH actions dataset and its file names).
.. [2] W. Lotter, G. Kreiman, D. Cox, "Deep Predictive Coding Networks for
   Video Prediction and Unsupervised Learning", ICLR 2017; coxlab/prednet
   ``process_kitti.py`` (the hkl layout).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

import numpy as np

from framecast.data.splits import SPLITS

KTH_ACTIONS: tuple[str, ...] = (
    "boxing",
    "handclapping",
    "handwaving",
    "jogging",
    "running",
    "walking",
)
"""The six KTH actions, in the order of the dataset's zip files."""

KTH_SIZE: tuple[int, int] = (120, 160)
"""KTH's frame size (height, width)."""

KITTI_SIZE: tuple[int, int] = (128, 160)
"""PredNet's KITTI frame size (height, width)."""

_SPEEDS = {"walking": 1.0, "jogging": 2.0, "running": 3.5}  # pixels per frame at 160 wide
_PERIODS = {"boxing": 8, "handclapping": 10, "handwaving": 12}  # frames per arm cycle


def _import_av() -> ModuleType:
    try:
        import av
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "writing AVI files needs PyAV: pip install 'framecast[video]' (or pip install av)"
        ) from err
    return av


def _import_hickle() -> ModuleType:
    try:
        import hickle
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "writing .hkl files needs hickle: pip install 'framecast[video]' (or pip install "
            "hickle)"
        ) from err
    return hickle


def _check_size(size: Sequence[int], name: str = "size") -> tuple[int, int]:
    if (
        isinstance(size, str | bytes)
        or len(size) != 2
        or not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in size)
        or min(size) < 8
    ):
        raise ValueError(f"{name} must be (height, width), two integers >= 8, got {size!r}")
    return int(size[0]), int(size[1])


def _fill_box(frame: np.ndarray, top: float, left: float, height: float, width: float, value):
    """Paint a box (clipped to the frame) with ``value`` (a scalar or a colour)."""
    h, w = frame.shape[:2]
    r0, r1 = max(round(top), 0), min(round(top + height), h)
    c0, c1 = max(round(left), 0), min(round(left + width), w)
    if r0 < r1 and c0 < c1:
        frame[r0:r1, c0:c1] = value


# --------------------------------------------------------------------------- KTH


def synthetic_kth_clip(
    action: str,
    person: int,
    scenario: int = 1,
    *,
    num_frames: int = 40,
    size: Sequence[int] = KTH_SIZE,
) -> np.ndarray:
    """One synthetic KTH-like movie: a dark figure on a light background.

    The figure (a body box and a head) walks, jogs or runs across the frame
    at a speed set by the action and turns at the edges, or stands and
    moves its arms (boxing: one arm punches out; handclapping: both arms
    meet in front; handwaving: both arms swing up and down). The person
    number sets the figure's size, grey level and start; the scenario
    (``d1`` .. ``d4``) the background level, as KTH's four scenarios
    differ in setting.

    Parameters
    ----------
    action : str
        One of :data:`KTH_ACTIONS`.
    person : int
        1 to 25, as in KTH.
    scenario : int
        1 to 4, as in KTH.
    num_frames : int
        Frames T.
    size : (int, int)
        (height, width); KTH's is (120, 160).

    Returns
    -------
    numpy.ndarray
        uint8 ``[T, H, W]`` grey frames (deterministic).

    Raises
    ------
    ValueError
        Unknown action, person outside 1..25, scenario outside 1..4, or bad sizes.
    """
    if action not in KTH_ACTIONS:
        raise ValueError(f"unknown KTH action {action!r}; expected one of {list(KTH_ACTIONS)}")
    if not isinstance(person, int) or not 1 <= person <= 25:
        raise ValueError(f"person must be an integer in 1..25 (KTH's subjects), got {person!r}")
    if not isinstance(scenario, int) or not 1 <= scenario <= 4:
        raise ValueError(f"scenario must be an integer in 1..4 (KTH's d1-d4), got {scenario!r}")
    if not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive integer, got {num_frames!r}")
    height, width = _check_size(size)
    rng = np.random.default_rng([person, scenario, KTH_ACTIONS.index(action)])
    background = 150 + 20 * scenario  # 170 .. 230
    figure = int(20 + 3 * person)  # 23 .. 95
    body_h = height * (0.40 + 0.01 * (person % 7))
    body_w = max(width * 0.06, 3.0)
    head = body_w
    top = height * 0.25
    speed = _SPEEDS.get(action, 0.0) * width / 160.0
    x = float(rng.uniform(0.2, 0.8) * (width - body_w))
    direction = 1.0 if rng.random() < 0.5 else -1.0
    phase = int(rng.integers(0, 12))
    frames = np.empty((num_frames, height, width), dtype=np.uint8)
    for t in range(num_frames):
        frame = frames[t]
        frame[:] = background
        # a faint floor line gives every frame some fixed structure
        frame[int(top + body_h + head) :, :] = background - 30
        if speed > 0:
            x += direction * speed
            if x < 0 or x > width - body_w:
                direction = -direction
                x = min(max(x, 0.0), width - body_w)
        _fill_box(frame, top, x + 0.15 * body_w, head, 0.7 * body_w, figure)  # head
        _fill_box(frame, top + head, x, body_h, body_w, figure)  # body
        if action in _PERIODS:
            angle = 2 * np.pi * (t + phase) / _PERIODS[action]
            swing = 0.5 * (1 - np.cos(angle))  # 0 .. 1
            arm = max(body_w * 0.6, 2.0)
            reach = width * 0.12
            shoulder = top + head + 0.15 * body_h
            if action == "boxing":
                _fill_box(frame, shoulder, x + body_w, arm, 2 + swing * reach, figure)
            elif action == "handclapping":
                length = 2 + (1 - swing) * reach * 0.6
                _fill_box(frame, shoulder + 6, x + body_w, arm, length, figure)
                _fill_box(frame, shoulder + 6, x - length, arm, length, figure)
            else:  # handwaving: arms from horizontal (swing 0) to raised (swing 1)
                lift = swing * reach
                _fill_box(frame, shoulder - lift, x + body_w, arm + lift, reach * 0.5, figure)
                _fill_box(frame, shoulder - lift, x - reach * 0.5, arm + lift, reach * 0.5, figure)
    return frames


def kth_file_stem(person: int, action: str, scenario: int) -> str:
    """KTH's name of a movie: ``person01_boxing_d1`` (the file adds ``_uncomp.avi``)."""
    return f"person{person:02d}_{action}_d{scenario}"


def write_video(
    path: str | os.PathLike[str],
    frames: np.ndarray,
    *,
    fps: int = 25,
    codec: str = "mpeg4",
    bit_rate: int = 4_000_000,
) -> Path:
    """Encode uint8 frames ``[T, H, W]`` (grey) or ``[T, H, W, 3]`` (RGB) with PyAV.

    Parameters
    ----------
    path : str or os.PathLike
        Output file; the container follows the suffix (``.avi``, ``.mp4``).
    frames : numpy.ndarray
        uint8 frames; height and width must be even for yuv420p codecs.
    fps : int
        Frame rate (KTH: 25).
    codec : str
        FFmpeg encoder: ``"mpeg4"`` (KTH's AVIs are MPEG-4 part 2 / DivX),
        ``"ffv1"`` (lossless), ``"mjpeg"``, ...
    bit_rate : int
        Target bits per second of lossy codecs (high: few artifacts).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        Frames that are not uint8 ``[T, H, W]`` or ``[T, H, W, 3]``, or odd sizes.
    """
    av = _import_av()
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim not in (3, 4) or len(frames) == 0:
        raise ValueError(
            f"frames must be uint8 [T, H, W] or [T, H, W, 3] with T >= 1, got {frames.dtype} "
            f"{frames.shape}"
        )
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)  # (T, H, W, 3)
    if frames.shape[-1] != 3:
        raise ValueError(f"colour frames must have 3 channels last, got shape {frames.shape}")
    height, width = frames.shape[1:3]
    if height % 2 or width % 2:
        raise ValueError(f"frame sides must be even for video codecs, got {height}x{width}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if codec != "ffv1" else "bgr0"
        stream.bit_rate = bit_rate
        for image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())  # flush the encoder
    return path


def write_synthetic_kth(
    folder: str | os.PathLike[str],
    *,
    persons: Sequence[int] = tuple(range(1, 26)),
    actions: Sequence[str] = KTH_ACTIONS,
    scenarios: Sequence[int] = (1,),
    num_frames: int = 40,
    size: Sequence[int] = KTH_SIZE,
    fps: int = 25,
    codec: str = "mpeg4",
    sequences_file: bool = True,
) -> list[Path]:
    """Write synthetic KTH movies in the layout of the unpacked KTH zips.

    Files are ``<folder>/<action>/person{NN}_{action}_d{S}_uncomp.avi``
    (frames from :func:`synthetic_kth_clip`, grey stored as RGB as in
    KTH). With ``sequences_file``, ``<folder>/00sequences.txt`` lists each
    movie's subsequences in KTH's format (``person01_boxing_d1\\t\\tframes\\t1-20, 21-40``,
    1-based inclusive ranges): the movie cut in two halves.

    Parameters
    ----------
    folder : str or os.PathLike
        Output folder (created).
    persons : sequence of int
        Subjects 1..25 (default: all 25, so that both KTH's person splits,
        Schuldt et al.'s train/val/test and PredRNN's 1-16 / 17-25, are
        non-empty).
    actions : sequence of str
        Subset of :data:`KTH_ACTIONS`.
    scenarios : sequence of int
        Subset of 1..4.
    num_frames : int
        Frames per movie.
    size : (int, int)
        (height, width) of the frames, even numbers; KTH's is (120, 160).
    fps : int
        Frame rate.
    codec : str
        Encoder (see :func:`write_video`); ``"ffv1"`` is lossless.
    sequences_file : bool
        Also write ``00sequences.txt``.

    Returns
    -------
    list of pathlib.Path
        The movie files, in (action, person, scenario) order.

    Examples
    --------
    >>> from framecast.data.synthetic_video import write_synthetic_kth
    >>> files = write_synthetic_kth("data/kth_synth")  # doctest: +SKIP
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    height, width = _check_size(size)
    paths: list[Path] = []
    lines = [
        "Synthetic KTH-like movies written by framecast.data.synthetic_video.",
        "Each line: name, then the frame ranges (1-based, inclusive) of its subsequences.",
        "",
    ]
    half = max(num_frames // 2, 1)
    for action in actions:
        for person in persons:
            for scenario in scenarios:
                frames = synthetic_kth_clip(
                    action, person, scenario, num_frames=num_frames, size=(height, width)
                )
                stem = kth_file_stem(person, action, scenario)
                path = folder / action / f"{stem}_uncomp.avi"
                paths.append(write_video(path, frames, fps=fps, codec=codec))
                ranges = (
                    f"1-{half}, {half + 1}-{num_frames}" if num_frames > 1 else f"1-{num_frames}"
                )
                lines.append(f"{stem}\t\tframes\t{ranges}")
    if sequences_file:
        (folder / "00sequences.txt").write_text("\n".join(lines) + "\n")
    return paths


# ------------------------------------------------------------------------- KITTI


def synthetic_kitti_clip(
    num_frames: int,
    *,
    size: Sequence[int] = KITTI_SIZE,
    seed: int = 0,
) -> np.ndarray:
    """One synthetic driving-like recording: a scene sliding past a forward camera.

    A sky band, a textured roadside band that scrolls sideways at the
    recording's speed, a road with lane marks moving down the frame, and
    two cars (coloured boxes) drifting at their own velocities.

    Parameters
    ----------
    num_frames : int
        Frames T.
    size : (int, int)
        (height, width); PredNet's KITTI frames are (128, 160).
    seed : int
        Seeds the recording's speeds, colours and texture.

    Returns
    -------
    numpy.ndarray
        uint8 ``[T, H, W, 3]`` (the layout of PredNet's ``X_*.hkl``).
    """
    if not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive integer, got {num_frames!r}")
    height, width = _check_size(size)
    rng = np.random.default_rng([seed, 7])
    horizon = int(height * 0.35)
    road_top = int(height * 0.6)
    texture = rng.integers(40, 200, size=(road_top - horizon, 4 * width // 8 + 8, 3))
    texture = np.repeat(texture, 8, axis=1).astype(np.uint8)  # vertical stripes 8 px wide
    speed = float(rng.uniform(1.0, 3.0)) * width / 160.0  # pixels per frame
    sky = rng.integers(150, 230, size=3).astype(np.uint8)
    cars = [
        (
            rng.uniform(0, width),  # x
            rng.uniform(road_top, height - 12),  # y
            rng.uniform(-2, 2) * width / 160.0,  # vx
            rng.integers(0, 256, size=3).astype(np.uint8),  # colour
        )
        for _ in range(2)
    ]
    car_h, car_w = max(height // 12, 3), max(width // 8, 4)
    frames = np.empty((num_frames, height, width, 3), dtype=np.uint8)
    for t in range(num_frames):
        frame = frames[t]
        frame[:horizon] = sky
        shift = round(t * speed) % (texture.shape[1] - width)
        frame[horizon:road_top] = texture[:, shift : shift + width]
        frame[road_top:] = 90
        # dashed centre line moving towards the camera (down the frame)
        for k in range(-1, 4):
            y = road_top + ((t * 2 + k * 10) % 40) * (height - road_top) / 40
            _fill_box(frame, y, width / 2 - 1, 3, 3, 230)
        for x0, y0, vx, colour in cars:
            x = (x0 + vx * t) % (width + car_w) - car_w
            _fill_box(frame, y0, x, car_h, car_w, colour)
    return frames


def write_synthetic_kitti_hkl(
    folder: str | os.PathLike[str],
    *,
    frames_per_source: Mapping[str, Sequence[int]] | None = None,
    size: Sequence[int] = KITTI_SIZE,
    seed: int = 0,
) -> dict[str, tuple[Path, Path]]:
    """Write PredNet-style ``X_<split>.hkl`` / ``sources_<split>.hkl`` pairs with hickle.

    As PredNet's ``process_kitti.py`` writes them: ``X`` is uint8
    ``[N, H, W, 3]``, the frames of all the split's recordings one after
    the other, and ``sources`` a list of N strings, the recording of each
    frame (``"city-2011_09_26_drive_0001_sync"`` style names).

    Parameters
    ----------
    folder : str or os.PathLike
        Output folder (created).
    frames_per_source : mapping of split -> sequence of int, optional
        Frames of each recording per split. Default: train 12 recordings of
        60 frames, val 2 of 40, test 3 of 40 (a few MB at 128x160).
    size : (int, int)
        (height, width); PredNet's is (128, 160).
    seed : int
        Base seed; every recording gets its own.

    Returns
    -------
    dict
        split -> (X path, sources path).

    Examples
    --------
    >>> from framecast.data.synthetic_video import write_synthetic_kitti_hkl
    >>> write_synthetic_kitti_hkl("data/kitti_synth")  # doctest: +SKIP
    """
    hickle = _import_hickle()
    if frames_per_source is None:
        frames_per_source = {"train": [60] * 12, "val": [40] * 2, "test": [40] * 3}
    unknown = sorted(set(frames_per_source) - set(SPLITS))
    if unknown:
        raise ValueError(f"unknown split(s) {unknown} in frames_per_source; expected {SPLITS}")
    height, width = _check_size(size)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    categories = ("city", "residential", "road")
    written: dict[str, tuple[Path, Path]] = {}
    counter = 0
    for split in SPLITS:
        if split not in frames_per_source:
            continue
        clips, sources = [], []
        for n in frames_per_source[split]:
            counter += 1
            name = f"{categories[counter % 3]}-2011_09_26_drive_{counter:04d}_sync"
            clips.append(synthetic_kitti_clip(int(n), size=(height, width), seed=seed + counter))
            sources += [name] * int(n)
        x = np.concatenate(clips) if clips else np.zeros((0, height, width, 3), np.uint8)
        x_path, s_path = folder / f"X_{split}.hkl", folder / f"sources_{split}.hkl"
        hickle.dump(x, str(x_path), mode="w")
        hickle.dump(sources, str(s_path), mode="w")
        written[split] = (x_path, s_path)
    return written
