"""KTH human actions: prepare a cache from the AVI files, and read it with PredRNN's protocol.

KTH [1]_ holds 25 persons x 6 actions x 4 scenarios (d1 outdoors, d2
outdoors with scale variation, d3 outdoors in other clothes, d4 indoors) of
160x120 grayscale video at 25 fps, named
``{action}/person{NN}_{action}_{scenario}_uncomp.avi``. The public archive
holds 599 of the 600 videos (``person13_handclapping_d3`` is missing).

Video prediction on KTH follows PredRNN [2]_ and MCnet [3]_: persons 1-16
train, 17-25 test; 10 frames in, 10 out in training and 20 out at test;
test windows start every 3 frames in running and jogging videos (short: the
person crosses the view) and every 20 frames in the other actions.
framecast keeps a validation split, so by default persons 1-14 train, 15-16
validate and 17-25 test; pass ``persons_train=range(1, 17), persons_val=()``
for PredRNN's exact training set (the "val" split is then empty, and
building it raises :class:`~framecast.data.cache.EmptySplitError`).

Differences from PredRNN's released loader (``core/data_provider/kth_action.py``):
it cuts windows backwards from each video's last frame and applies the
per-action strides (one window length, 3 for running and jogging) to the
training windows too (framecast trains on every window: stride 1), and it
resizes with OpenCV's ``INTER_LINEAR``
(framecast: Pillow bilinear, antialiased when shrinking). Windows span the
whole video, across the sub-sequence bounds listed in KTH's
``00sequences.txt``, as in PredRNN.

References
----------
.. [1] C. Schuldt, I. Laptev and B. Caputo, "Recognizing Human Actions: A
   Local SVM Approach", ICPR 2004.
.. [2] Y. Wang, M. Long, J. Wang, Z. Gao and P. S. Yu, "PredRNN: Recurrent
   Neural Networks for Predictive Learning using Spatiotemporal LSTMs",
   NeurIPS 2017, section 4.2.
.. [3] R. Villegas, J. Yang, S. Hong, X. Lin and H. Lee, "Decomposing Motion
   and Content for Natural Video Sequence Prediction", ICLR 2017.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from framecast.data.cache import CacheWriter, PreparedVideos
from framecast.data.prepare import (
    ClipJob,
    PrepareReport,
    Progress,
    check_on_error,
    write_clips,
)
from framecast.data.video_io import check_size, decode_video
from framecast.data.window import require_option

KTH_ACTIONS: tuple[str, ...] = (
    "boxing",
    "handclapping",
    "handwaving",
    "jogging",
    "running",
    "walking",
)
KTH_PERSONS = range(1, 26)
KTH_SCENARIOS: tuple[str, ...] = ("d1", "d2", "d3", "d4")

KTH_TEST_STRIDE = 20
"""PredRNN's test stride for boxing, handclapping, handwaving and walking."""

KTH_FAST_ACTION_STRIDES: dict[str, int] = {"jogging": 3, "running": 3}
"""PredRNN's test stride for the actions where the person soon leaves the view."""

_FILE_NAME = re.compile(r"^person(\d{2})_([a-z]+)_(d\d)_uncomp\.avi$", re.IGNORECASE)


@dataclass(frozen=True)
class KTHVideo:
    """One KTH file: key ``person01_boxing_d1`` and its parts."""

    key: str
    path: Path
    person: int
    action: str
    scenario: str


def find_kth_videos(source: str | os.PathLike[str]) -> tuple[list[KTHVideo], list[str]]:
    """The KTH videos under ``source``, sorted by key, and the ``.avi`` files not used.

    Files may lie in the official action folders or all in one folder.

    Returns
    -------
    videos : list[KTHVideo]
    ignored : list[str]
        ``.avi`` files whose names are not KTH names, with the reason.

    Raises
    ------
    FileNotFoundError
        If ``source`` is not a folder.
    ValueError
        If two files have the same KTH name.
    """
    root = Path(source).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"KTH folder not found: {str(root)!r}")
    videos: dict[str, KTHVideo] = {}
    ignored: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() == ".avi"):
        match = _FILE_NAME.match(path.name)
        person = int(match.group(1)) if match else 0
        action, scenario = (match.group(2).lower(), match.group(3).lower()) if match else ("", "")
        if not match or person not in KTH_PERSONS or action not in KTH_ACTIONS:
            ignored.append(f"{path}: not named person{{01..25}}_{{action}}_d{{1..4}}_uncomp.avi")
            continue
        if scenario not in KTH_SCENARIOS:
            ignored.append(f"{path}: scenario {scenario!r} is not one of {list(KTH_SCENARIOS)}")
            continue
        key = f"person{person:02d}_{action}_{scenario}"
        if key in videos:
            raise ValueError(f"two files for KTH video {key}: {videos[key].path} and {path}")
        videos[key] = KTHVideo(key, path, person, action, scenario)
    return [videos[k] for k in sorted(videos)], ignored


def _person_splits(
    persons_train: Iterable[int], persons_val: Iterable[int], persons_test: Iterable[int]
) -> dict[int, str]:
    split_of: dict[int, str] = {}
    for split, persons in (("train", persons_train), ("val", persons_val), ("test", persons_test)):
        for person in persons:
            if isinstance(person, bool) or not isinstance(person, int) or person not in KTH_PERSONS:
                raise ValueError(f"persons_{split} holds {person!r}; KTH persons are 1 to 25")
            if person in split_of:
                raise ValueError(
                    f"person {person} is in both persons_{split_of[person]} and persons_{split}"
                )
            split_of[person] = split
    return split_of


def prepare_kth(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: tuple[int, int] = (64, 64),
    grayscale: bool = True,
    persons_train: Iterable[int] = range(1, 15),
    persons_val: Iterable[int] = range(15, 17),
    persons_test: Iterable[int] = range(17, 26),
    actions: Iterable[str] = KTH_ACTIONS,
    check_length: bool = True,
    on_error: str = "skip",
    overwrite: bool = False,
    progress: Progress | None = None,
) -> PrepareReport:
    """Decode the KTH videos under ``source`` into a cache at ``out`` (resumable).

    Parameters
    ----------
    source : str or os.PathLike
        Folder with ``{action}/person{NN}_{action}_{scenario}_uncomp.avi``
        (or all the files in it directly).
    out : str or os.PathLike
        The cache file (``.h5``); work happens in ``<out>.partial``, and an
        interrupted run continues where it stopped when re-run.
    size : (int, int)
        ``(height, width)`` of the frames: (64, 64) as SVG (Denton and Fergus
        2018), (128, 128) as MCnet and PredRNN; KTH's own 160x120 (width x
        height) halves to (60, 80).
    grayscale : bool
        One channel (KTH is grayscale); False stores RGB.
    persons_train, persons_val, persons_test : Iterable[int]
        Persons (1-25) of each split; default 1-14, 15-16, 17-25. Persons in
        none of them are not written.
    actions : Iterable[str]
        Actions to keep (default all six).
    check_length : bool
        Skip videos that decode fewer frames than their header announces.
    on_error : {"skip", "raise"}
        What to do with an unreadable or corrupt video: skip it (its name and
        the reason go into the report) or stop.
    overwrite : bool
        Replace an existing cache at ``out``.
    progress : callable, optional
        Called with one line per clip (``print`` in the CLI).

    Returns
    -------
    PrepareReport

    Raises
    ------
    FileNotFoundError
        If ``source`` is not a folder.
    ValueError
        Bad size, persons or actions; no KTH video found; ``out`` exists;
        an unfinished ``<out>.partial`` with other settings.
    VideoDecodeError
        A corrupt video with ``on_error="raise"``.
    """
    height, width = check_size(size)
    check_on_error(on_error)
    split_of = _person_splits(persons_train, persons_val, persons_test)
    actions = [str(a).lower() for a in actions]
    unknown = sorted(set(actions) - set(KTH_ACTIONS))
    if unknown or not actions:
        raise ValueError(f"actions must be among {list(KTH_ACTIONS)}, got {actions!r}")
    videos, ignored = find_kth_videos(source)
    if not videos:
        raise ValueError(
            f"no KTH video (person{{NN}}_{{action}}_{{scenario}}_uncomp.avi) found under "
            f"{str(source)!r}"
        )
    report = PrepareReport(out=Path(out), dataset="kth", ignored=ignored)
    jobs = []
    for video in videos:
        if video.action not in actions or video.person not in split_of:
            report.ignored.append(f"{video.path}: person or action not selected")
            continue
        load = partial(
            decode_video,
            video.path,
            size=(height, width),
            grayscale=grayscale,
            check_length=check_length,
        )
        meta = {
            "person": video.person,
            "action": video.action,
            "scenario": video.scenario,
            "file": video.path.relative_to(Path(source).expanduser()).as_posix(),
        }
        jobs.append(ClipJob(video.key, split_of[video.person], meta, load))
    settings = {
        "size": [height, width],
        "grayscale": bool(grayscale),
        "check_length": bool(check_length),
        "persons": {
            s: sorted(p for p, q in split_of.items() if q == s) for s in ("train", "val", "test")
        },
        "actions": sorted(actions),
        "resize": "pillow-bilinear",
    }
    with CacheWriter(
        out,
        dataset="kth",
        source=str(source),
        frame_shape=(1 if grayscale else 3, height, width),
        settings=settings,
        overwrite=overwrite,
    ) as writer:
        return write_clips(writer, jobs, report, on_error=on_error, progress=progress)


def kth_dataset(
    split: str,
    *,
    n_context: int = 10,
    n_target: int = 10,
    path: str | None = None,
    stride: int = 1,
    test_stride: int = KTH_TEST_STRIDE,
    test_strides_by_action: Mapping[str, int] | None = None,
    n_target_test: int | None = None,
) -> PreparedVideos:
    """KTH actions from a prepared cache, PredRNN's protocol (Wang et al. 2017).

    Train windows start every ``stride`` frames; val and test windows every
    ``test_stride`` frames (20), except the actions in
    ``test_strides_by_action`` (default running and jogging: 3). Prepare the
    cache with ``framecast data prepare kth`` (:func:`prepare_kth`). For
    PredRNN's test, set ``n_target_test=20`` (or ``n_target=20``).

    Raises
    ------
    ValueError
        If ``path`` is not given or is not a KTH cache.
    """
    path = require_option(
        "kth",
        "path",
        path,
        "a cache written by `framecast data prepare kth --source KTH_FOLDER --out kth.h5`",
    )
    strides = dict(
        KTH_FAST_ACTION_STRIDES if test_strides_by_action is None else test_strides_by_action
    )
    unknown = sorted(set(strides) - set(KTH_ACTIONS))
    if unknown:
        raise ValueError(
            f"test_strides_by_action names unknown actions {unknown}; KTH has {list(KTH_ACTIONS)}"
        )
    dataset = PreparedVideos(
        split,
        path,
        n_context=n_context,
        n_target=n_target,
        stride=stride,
        test_stride=test_stride,
        strides_by_meta={"action": strides},
        n_target_test=n_target_test,
    )
    if dataset.dataset_name != "kth":
        raise ValueError(
            f"{str(path)!r} is a {dataset.dataset_name!r} cache, not a KTH one; read it with "
            "the 'prepared' dataset"
        )
    return dataset
