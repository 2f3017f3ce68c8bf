"""The records of the trained weights framecast ships, and where they live.

A shipped entry is two files in ``src/framecast/pretrained/``: ``NAME.ckpt``
(weights and config, no optimiser state) and ``NAME.json``
(:class:`Pretrained`: the config and command that trained it, steps, CPU
hours, the test scores that ``framecast evaluate`` reproduces).
``pretrained:NAME`` names one wherever a checkpoint is read
(:func:`framecast.checkpoint.resolve_checkpoint`).

This module reads and writes only the records; it sits below
:mod:`framecast.checkpoint`. The tools that export and score weights for
shipping, which read checkpoints, are in :mod:`framecast.zoo`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PRETRAINED_DIR = Path(__file__).parent / "pretrained"
"""Where the shipped weights and their metadata live."""
PREFIX = "pretrained:"
"""``framecast evaluate pretrained:NAME`` names a shipped checkpoint."""


@dataclass(frozen=True)
class Pretrained:
    """One shipped checkpoint and the record of how it was made.

    Attributes
    ----------
    name : str
        File stem in :data:`PRETRAINED_DIR`.
    description : str
        Model and data in a few words.
    config : str
        The config that trained it, relative to the repository root.
    command : str
        The commands of the stretches (train, then each resume).
    steps : int
        Optimiser steps of the exported checkpoint.
    cpu_hours : float
        Wall-clock training hours so far, all stretches together.
    machine : str
        The CPU(s) it trained on.
    test : dict
        Test scores of the exported weights: ``sequences`` and the mean
        ``mse_per_frame_sum`` and ``ssim``, and the best trivial baseline's.
    target : str
        What it is meant to reach, and whether it has.
    """

    name: str
    description: str
    config: str
    command: str
    steps: int
    cpu_hours: float
    machine: str
    test: dict[str, Any] = field(default_factory=dict)
    target: str = ""

    @property
    def weights(self) -> Path:
        """The ``.ckpt`` file of the weights."""
        return PRETRAINED_DIR / f"{self.name}.ckpt"


def available() -> list[Pretrained]:
    """Every shipped entry whose metadata and weights are both present, by name."""
    entries = []
    for meta in sorted(PRETRAINED_DIR.glob("*.json")):
        entry = read_entry(meta)
        if entry.weights.is_file():
            entries.append(entry)
    return entries


def read_entry(path: Path) -> Pretrained:
    """The :class:`Pretrained` record stored in ``path`` (JSON, never code).

    Raises
    ------
    ValueError
        A file that is not such a record, naming the file and the field.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a JSON record of shipped weights ({exc})") from None
    known = set(Pretrained.__dataclass_fields__)
    if not isinstance(data, dict) or set(data) - known:
        extra = sorted(set(data) - known) if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"{path}: unexpected fields {extra}; expected {sorted(known)}")
    try:
        return Pretrained(**data)
    except TypeError as exc:
        raise ValueError(f"{path}: {exc}") from None


def write_entry(entry: Pretrained) -> Path:
    """Write ``entry``'s metadata beside its weights; return the JSON path."""
    from framecast.files import atomic_write

    path = PRETRAINED_DIR / f"{entry.name}.json"
    with atomic_write(path) as tmp:
        Path(tmp).write_text(json.dumps(asdict(entry), indent=2) + "\n", encoding="utf-8")
    return path


def find(name: str) -> Pretrained:
    """The shipped entry called ``name`` (with or without :data:`PREFIX`).

    Raises
    ------
    ValueError
        No such entry, listing the ones there are.
    """
    stem = name.removeprefix(PREFIX)
    for entry in available():
        if entry.name == stem:
            return entry
    names = ", ".join(e.name for e in available()) or "none"
    raise ValueError(f"no shipped weights called {stem!r}; shipped: {names}")


def table(entries: list[Pretrained]) -> str:
    """A Markdown table of ``entries``: what, steps, hours, test MSE and SSIM, target."""
    rows = [
        "| name | model and data | steps | CPU hours | test MSE per frame | SSIM "
        "| best trivial (MSE) | target |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for e in entries:
        t = e.test
        best = t.get("best_trivial", "")
        best_mse = t.get("best_trivial_mse")
        best_text = f"{best} ({best_mse:.1f})" if best and best_mse is not None else ""
        mse = t.get("mse_per_frame_sum")
        ssim = t.get("ssim")
        rows.append(
            f"| `{e.name}` | {e.description} | {e.steps:,} | {e.cpu_hours:.1f} "
            f"| {'' if mse is None else f'{mse:.1f}'} | {'' if ssim is None else f'{ssim:.3f}'} "
            f"| {best_text} | {e.target} |"
        )
    return "\n".join(rows)
