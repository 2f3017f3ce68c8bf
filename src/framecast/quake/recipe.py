"""Which recipe a run used: the config file's SHA-256, its overrides, and whether it was frozen.

Issue 21, item 7 (pre-registration): a network recipe is frozen in a file
under ``configs/quake/frozen/`` before it is scored on a test period, and
every report records that file's hash, so a reader can check that the
recipe scored is the one registered. A frozen file is a template: applying
it to a new catalog may change only the catalog, the region, the periods and
mc (:data:`TEMPLATE_KEYS`); the report lists any other override as a
departure from the recipe.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FROZEN_FOLDER = "frozen"
"""A config is a frozen recipe when it lies in a folder of this name."""
TEMPLATE_KEYS = (
    "out_dir",
    "catalog.path",
    "catalog.format",
    "frames.region",
    "frames.cell",
    "frames.unit",
    "frames.polygon",
    "frames.start",
    "frames.end",
    "frames.mc",
    "periods.val_start",
    "periods.test_start",
    "etas.fit_start",
    "etas.auxiliary_start",
)
"""The keys a frozen template may change: catalog, region, periods and mc."""


@dataclass(frozen=True)
class Recipe:
    """The provenance of a run's settings.

    Attributes
    ----------
    path : str
        The config file as given.
    sha256 : str
        Of the file's bytes.
    overrides : tuple of str
        ``section.key=value`` overrides applied on top of it.
    frozen : bool
        The file lies in a ``frozen/`` folder.
    """

    path: str
    sha256: str
    overrides: tuple[str, ...]
    frozen: bool

    def departures(self) -> list[str]:
        """Overrides of a frozen recipe beyond :data:`TEMPLATE_KEYS` (empty if not frozen)."""
        if not self.frozen:
            return []
        return [o for o in self.overrides if o.split("=", 1)[0].strip() not in TEMPLATE_KEYS]

    def section(self) -> str:
        """The report's Markdown block."""
        kind = "a frozen recipe" if self.frozen else "not a frozen recipe"
        lines = [
            "## Recipe",
            "",
            f"Config `{self.path}` ({kind}), SHA-256 `{self.sha256}`.",
        ]
        if self.overrides:
            lines += ["", "Overrides: " + ", ".join(f"`{o}`" for o in self.overrides) + "."]
        departures = self.departures()
        if departures:
            lines += [
                "",
                "**Departures from the frozen recipe** (beyond catalog, region, periods and "
                "mc): " + ", ".join(f"`{o}`" for o in departures) + ". This run is not the "
                "registered recipe.",
            ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "overrides": list(self.overrides)}


def read_recipe(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """The :class:`Recipe` of config file ``path``.

    Raises
    ------
    FileNotFoundError
        ``path`` is not a file.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"experiment file not found: {str(path)!r}")
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    frozen = FROZEN_FOLDER in file.resolve().parent.parts[-2:]
    return Recipe(str(path), digest, tuple(overrides), frozen)
