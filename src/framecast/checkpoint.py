"""Rebuild a trained model from a checkpoint, with no CLI and no config file."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor

    from framecast.config import Config
    from framecast.models import ForecastModel

LAST_CHECKPOINT = "last.ckpt"
BEST_PATTERN = "best*.ckpt"

_EXPECTED = "expected a .ckpt written by framecast train, or its run folder"


def resolve_checkpoint(path: str | Path) -> Path:
    """The checkpoint file that ``path`` names: the file itself or a run folder's checkpoint.

    A run folder (the folder ``framecast train`` prints, which ``--resume``
    accepts) gives its ``checkpoints/last.ckpt``, or the newest
    ``checkpoints/best*.ckpt`` when there is no ``last.ckpt``. A
    ``checkpoints`` folder itself is accepted too, and ``pretrained:NAME``
    names shipped weights (:mod:`framecast.zoo_entries`).

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``, or a folder without a checkpoint.
    ValueError
        ``pretrained:NAME`` with no such shipped weights.
    """
    from framecast.zoo_entries import PREFIX, find

    if str(path).startswith(PREFIX):
        return find(str(path)).weights
    path = Path(path).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    for folder in (path / "checkpoints", path):
        if (folder / LAST_CHECKPOINT).is_file():
            return folder / LAST_CHECKPOINT
        best = sorted(folder.glob(BEST_PATTERN), key=lambda p: p.stat().st_mtime)
        if best:
            return best[-1]
    raise FileNotFoundError(
        f"folder {str(path)!r} holds no checkpoints/{LAST_CHECKPOINT} or "
        f"checkpoints/{BEST_PATTERN}; {_EXPECTED}"
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def read_checkpoint(path: str | Path) -> dict:
    """Load a framecast (Lightning) checkpoint as a dict on the CPU.

    Parameters
    ----------
    path : path
        A ``.ckpt`` file, or a run folder (see :func:`resolve_checkpoint`).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a readable checkpoint, or not one written by framecast.
    """
    import torch

    path = resolve_checkpoint(path)
    name = str(path)
    if path.stat().st_size == 0:
        raise ValueError(f"{name!r} is not a framecast checkpoint (the file is empty); {_EXPECTED}")
    # torch.save writes a zip archive; anything else (text, random bytes, a
    # truncated copy) is refused before unpickling reports a bare key or byte.
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{name!r} is not a framecast checkpoint (not a torch zip archive: corrupt, truncated "
            f"or another kind of file); {_EXPECTED}"
        )
    try:
        # weights_only=True refuses arbitrary pickled objects; a framecast
        # checkpoint holds only tensors and plain containers.
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (
        RuntimeError,
        EOFError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        OSError,
        KeyError,
        ValueError,
        AttributeError,
    ) as err:
        raise ValueError(
            f"{name!r} is not a framecast checkpoint (torch cannot read it: {_first_line(err)})"
        ) from err
    if not isinstance(ckpt, dict) or "config" not in (ckpt.get("hyper_parameters") or {}):
        raise ValueError(
            f"{name!r} is not a framecast checkpoint (a torch file without a stored config)"
        )
    if not isinstance(ckpt.get("state_dict"), dict):
        raise ValueError(f"{name!r} is not a framecast checkpoint (it holds no state_dict)")
    return ckpt


def check_state_dict(expected: dict[str, Tensor], state: dict[str, Tensor], where: str) -> None:
    """Refuse a state dict whose keys or shapes differ from the model's, in one line.

    Raises
    ------
    ValueError
        Missing or unexpected keys, or tensors of another shape; the message
        names the first few.
    """
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    problems = []
    for label, items in (
        ("missing weights", missing),
        ("unexpected weights", unexpected),
        ("shapes stored vs expected", shapes),
    ):
        if items:
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            problems.append(f"{label}: {', '.join(items[:3])}{more}")
    if problems:
        raise ValueError(
            f"{where}: the stored weights do not match the model its config builds ("
            + "; ".join(problems)
            + ")"
        )


def load(path: str | Path) -> tuple[ForecastModel, Config]:
    """Rebuild the model stored in a checkpoint, in eval mode on the CPU.

    Parameters
    ----------
    path : path
        A ``.ckpt`` written by ``framecast train``, or its run folder (whose
        ``checkpoints/last.ckpt`` is read).

    Returns
    -------
    model : ForecastModel
    config : Config
        The fully resolved config of the run.

    Raises
    ------
    FileNotFoundError
        No checkpoint at ``path``.
    ValueError
        Not a framecast checkpoint, a classifier's checkpoint (the message
        names ``framecast classify evaluate``), or weights that do not fit
        its config.
    """
    from framecast.config import config_from_dict
    from framecast.models import build_model

    path = resolve_checkpoint(path)
    ckpt = read_checkpoint(path)
    stored = ckpt["hyper_parameters"]["config"]
    model_section = stored.get("model") if isinstance(stored, dict) else None
    if isinstance(model_section, dict) and "class_names" in model_section:
        raise ValueError(
            f"{str(path)!r} is a classifier checkpoint (framecast classify train), not a "
            "forecaster's; use framecast classify evaluate (or classify predict)"
        )
    config = config_from_dict(stored)
    if config.model.in_channels is None:
        raise ValueError(f"checkpoint {str(path)!r} has no model.in_channels in its config")
    model = build_model(config.model.name, config.model.in_channels, config.model.options)
    prefix = "model."
    state = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    check_state_dict(model.state_dict(), state, f"checkpoint {str(path)!r}")
    model.load_state_dict(state)
    model.eval()
    return model, config
