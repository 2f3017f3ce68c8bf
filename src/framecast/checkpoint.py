"""Rebuild a trained model from a checkpoint, with no CLI and no config file."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from framecast.config import Config, config_from_dict
from framecast.models import ForecastModel, build_model


def read_checkpoint(path: str | Path) -> dict:
    """Load a framecast (Lightning) checkpoint as a dict on the CPU.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a readable checkpoint, or not one written by framecast.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    try:
        # weights_only=True refuses arbitrary pickled objects; a framecast
        # checkpoint holds only tensors and plain containers.
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError) as err:
        raise ValueError(
            f"checkpoint {str(path)!r} is corrupt or not a torch checkpoint: {err}"
        ) from err
    if not isinstance(ckpt, dict) or "config" not in ckpt.get("hyper_parameters", {}):
        raise ValueError(
            f"checkpoint {str(path)!r} was not written by framecast (no stored config)"
        )
    return ckpt


def load(path: str | Path) -> tuple[ForecastModel, Config]:
    """Rebuild the model stored in a checkpoint, in eval mode on the CPU.

    Parameters
    ----------
    path : path
        A ``.ckpt`` written by ``framecast train``.

    Returns
    -------
    model : ForecastModel
    config : Config
        The fully resolved config of the run.
    """
    ckpt = read_checkpoint(path)
    config = config_from_dict(ckpt["hyper_parameters"]["config"])
    if config.model.in_channels is None:
        raise ValueError(f"checkpoint {str(path)!r} has no model.in_channels in its config")
    model = build_model(config.model.name, config.model.in_channels, config.model.options)
    prefix = "model."
    state = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    model.load_state_dict(state)
    model.eval()
    return model, config
