"""Classify new inputs: text files, frame arrays, video caches, seismicity frames.

What ``--input`` may be depends on what the classifier was trained on:

- text: one ``.txt`` file or a folder searched recursively for them (one
  prediction per file), tokenised with the training vocabulary;
- frames: a ``.npy``/``.npz`` array of sequences ``(N, T, C, H, W)`` or one
  ``(T, C, H, W)`` (uint8 read as value / 255), one prediction per
  sequence; or a prepared-video cache (``.h5``), one prediction per clip
  (the mean of its windows' probabilities);
- earthquake alarms: seismicity frames (``.h5`` of ``framecast quake
  grid``): the alarm for the window after the last bin.

The predictions go to ``predictions.csv``: one row per item with the
predicted class and the probability of every class.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from framecast.classify.checkpoint import LoadedClassifier, load_classifier
from framecast.classify.vocabulary import tokenize
from framecast.files import atomic_write, check_writable_dir

DEFAULT_TEXT_LENGTH = 200


def _text_inputs(loaded: LoadedClassifier, source: Path) -> tuple[list[str], Tensor]:
    files = [source] if source.is_file() else sorted(source.rglob("*.txt"))
    if not files:
        raise ValueError(f"no .txt file found under {str(source)!r}")
    options = loaded.config.data.options
    length = int(options.get("max_length", options.get("length", DEFAULT_TEXT_LENGTH)))
    truncation = str(options.get("truncation", "end"))
    vocabulary = loaded.vocabulary
    if vocabulary is None:
        raise ValueError(
            f"checkpoint {str(loaded.path)!r} holds no vocabulary; it is not a text classifier"
        )
    rows = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(
                f"text file {file}: not UTF-8 (byte {err.start}: {err.reason})"
            ) from None
        rows.append(vocabulary.encode(tokenize(text), length, truncation))
    return [str(f) for f in files], torch.tensor(rows, dtype=torch.int64)  # (N, L)


def _array_inputs(source: Path) -> tuple[list[str], Tensor]:
    if source.suffix == ".npz":
        with np.load(source, allow_pickle=False) as archive:
            if len(archive.files) != 1:
                raise ValueError(
                    f"{str(source)!r} holds arrays {archive.files}; expected exactly one"
                )
            array = archive[archive.files[0]]
    else:
        array = np.load(source, allow_pickle=False)
    if array.ndim == 4:
        array = array[None]
    if array.ndim != 5:
        raise ValueError(
            f"{str(source)!r} holds an array of shape {array.shape}; expected (N, T, C, H, W) "
            "or (T, C, H, W)"
        )
    scale = 255.0 if array.dtype == np.uint8 else 1.0
    data = torch.from_numpy(array.astype(np.float32) / np.float32(scale))  # (N, T, C, H, W)
    return [f"{source.name}[{i}]" for i in range(len(data))], data


def _cache_probabilities(loaded: LoadedClassifier, source: Path) -> tuple[list[str], Tensor]:
    import h5py

    from framecast.data.cache import read_cache_index

    index = read_cache_index(source)
    length = int(loaded.config.data.options.get("num_frames", 16))
    names, probs = [], []
    with h5py.File(source, "r") as handle, torch.no_grad():
        frames = handle["frames"]
        for k, key in enumerate(index.keys):
            first, end = int(index.offsets[k]), int(index.offsets[k + 1])
            starts = list(range(first, end - length + 1, length))
            if not starts:
                continue
            windows = np.stack([frames[s : s + length] for s in starts]).astype(np.float32) / 255.0
            p = torch.softmax(loaded.model(torch.from_numpy(windows)), -1).mean(0)  # (K,)
            names.append(key)
            probs.append(p)
    if not probs:
        raise ValueError(f"no clip of {str(source)!r} has {length} frames")
    return names, torch.stack(probs)


def _alarm_input(loaded: LoadedClassifier, source: Path) -> tuple[list[str], Tensor]:
    from framecast.quake.frames import SeismicityFrames

    frames = SeismicityFrames.load(source)
    options = loaded.config.data.options
    names = list(options.get("channels") or frames.channels)
    missing = [c for c in names if c not in frames.channels]
    if missing:
        raise ValueError(f"{str(source)!r} lacks the channels {missing} the classifier reads")
    n = int(options.get("n_context", 16))
    if frames.num_bins < n:
        raise ValueError(f"{str(source)!r} holds {frames.num_bins} bins; the classifier needs {n}")
    data = frames.frames[-n:, [frames.channels.index(c) for c in names]]  # (n, C, H, W)
    if options.get("log1p", True):
        data = np.log1p(np.maximum(data, 0.0))
    window = int(options.get("window_bins", 7))
    label = f"{frames.end} + {window} bins"
    return [label], torch.from_numpy(np.asarray(data, dtype=np.float32))[None]


def predict_inputs(
    checkpoint: str | Path, source: str | Path, out_dir: str | Path, batch_size: int = 64
) -> Path:
    """Classify every item of ``source`` and write ``out_dir/predictions.csv``; returns its path.

    Raises
    ------
    FileNotFoundError
        No ``source``.
    ValueError
        An input the classifier cannot read (see the module docstring).
    """
    loaded = load_classifier(checkpoint)
    source = Path(source).expanduser()
    if not source.exists():
        raise FileNotFoundError(f"input {str(source)!r} does not exist")
    out = check_writable_dir(out_dir)
    kind = loaded.config.data.name
    probs: Tensor
    if loaded.vocabulary is not None:
        names, inputs = _text_inputs(loaded, source)
    elif kind == "quake_alarms":
        names, inputs = _alarm_input(loaded, source)
    elif source.suffix in (".h5", ".hdf5"):
        names, probs = _cache_probabilities(loaded, source)
        inputs = None  # type: ignore[assignment]
    elif source.suffix in (".npy", ".npz"):
        names, inputs = _array_inputs(source)
    else:
        raise ValueError(
            f"cannot read {str(source)!r} for a classifier trained on {kind!r}: expected a "
            ".npy/.npz array of frame sequences or a prepared-video cache (.h5)"
        )
    if inputs is not None:
        with torch.no_grad():
            probs = torch.cat(
                [
                    torch.softmax(loaded.model(inputs[i : i + batch_size]).float(), -1)
                    for i in range(0, len(inputs), batch_size)
                ]
            )  # (N, K)
    classes = loaded.class_names
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["item", "predicted", *(f"p_{c}" for c in classes)])
    for name, row in zip(names, probs.tolist(), strict=True):
        writer.writerow([name, classes[int(np.argmax(row))], *(f"{p:.6f}" for p in row)])
    path = out / "predictions.csv"
    with atomic_write(path) as partial:
        partial.write_text(buffer.getvalue())
    return path
