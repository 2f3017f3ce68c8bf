"""Rebuild a trained classifier (and its vocabulary) from a checkpoint, with no CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from framecast.checkpoint import check_state_dict, read_checkpoint, resolve_checkpoint
from framecast.classify.config import ClassifyConfig, classify_config_from_dict
from framecast.classify.models import build_classifier
from framecast.classify.vocabulary import Vocabulary


@dataclass
class LoadedClassifier:
    """A classifier in eval mode on the CPU, its resolved config and its vocabulary (text)."""

    model: nn.Module
    config: ClassifyConfig
    vocabulary: Vocabulary | None
    path: Path

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.config.model.class_names or ())


def load_classifier(path: str | Path) -> LoadedClassifier:
    """Load a checkpoint written by ``framecast classify train`` (or its run folder).

    Raises
    ------
    FileNotFoundError
        No checkpoint at ``path``.
    ValueError
        Not a classifier checkpoint (a forecaster's, say), or weights that do
        not fit its config.
    """
    path = resolve_checkpoint(path)
    ckpt = read_checkpoint(path)
    stored = ckpt["hyper_parameters"]["config"]
    model_section = stored.get("model", {}) if isinstance(stored, dict) else {}
    if "class_names" not in model_section:
        raise ValueError(
            f"{str(path)!r} is a framecast checkpoint but not a classifier's (it has no "
            "model.class_names); use framecast evaluate/predict for forecasters"
        )
    config = classify_config_from_dict(stored)
    m = config.model
    if m.input_size is None or not m.class_names:
        raise ValueError(f"checkpoint {str(path)!r} has no resolved model.input_size/class_names")
    model = build_classifier(m.name, m.input_size, len(m.class_names), m.options)
    prefix = "model."
    state = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    check_state_dict(model.state_dict(), state, f"checkpoint {str(path)!r}")
    model.load_state_dict(state)
    model.eval()
    words = ckpt["hyper_parameters"].get("vocabulary")
    vocabulary = Vocabulary(tuple(words)) if words else None
    return LoadedClassifier(model, config, vocabulary, path)
