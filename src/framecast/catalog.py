"""Tables of the built-in plugins, for ``framecast list`` and the README."""

from __future__ import annotations

import inspect
from pathlib import Path

from framecast.plugins import PLUGINS
from framecast.registry import load_target

TABLES: tuple[tuple[str, str], ...] = (
    ("Models", "model"),
    ("Cells", "cell"),
    ("Datasets", "dataset"),
    ("Losses", "loss"),
    ("Side-input encoders", "side encoder"),
    ("Side-input injections", "side input"),
    ("Sequence classifiers", "classifier"),
    ("Labelled datasets (classifiers)", "labelled dataset"),
)
"""The README's tables: title and plugin-table kind."""


def _summary(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].rstrip(":") if doc else ""


def registry_tables() -> str:
    """Markdown tables of the built-in plugins: forecasters, cells, datasets, losses,
    side inputs, sequence classifiers and their datasets.

    Read from the plugin table (:data:`framecast.plugins.PLUGINS`), so the
    text never depends on what was imported before. The README embeds it; a
    test keeps the two in sync.
    """
    out: list[str] = []
    for title, kind in TABLES:
        table = PLUGINS[kind]
        out += [f"### {title}", "", "| name | description |", "|---|---|"]
        out += [f"| `{name}` | {_summary(load_target(table[name]))} |" for name in sorted(table)]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


README_START = "<!-- registry:start"
README_END = "<!-- registry:end -->"


def update_readme(path: str | Path) -> bool:
    """Rewrite the registry tables between the README's markers; True if changed."""
    path = Path(path)
    text = path.read_text()
    start = text.index("\n", text.index(README_START)) + 1
    end = text.index(README_END)
    new = text[:start] + registry_tables() + text[end:]
    if new != text:
        path.write_text(new)
    return new != text
