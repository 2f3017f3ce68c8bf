"""Tables of what is registered, for ``framecast list`` and the README."""

from __future__ import annotations

import inspect
from pathlib import Path

from framecast.cells import CELLS
from framecast.classify.registry import CLASSIFIERS, LABELLED_DATA
from framecast.data import DATASETS
from framecast.models import MODELS
from framecast.models.side_inputs import SIDE_ENCODERS, SIDE_INPUTS
from framecast.training.losses import LOSSES


def _summary(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].rstrip(":") if doc else ""


def registry_tables() -> str:
    """Markdown tables of what is registered: forecasters, cells, datasets, losses,
    side inputs, sequence classifiers and their datasets.

    The README embeds this text; a test keeps the two in sync.
    """
    # import every module that registers something, so the tables do not
    # depend on what happens to be imported already
    import framecast.classify.alarms
    import framecast.classify.data
    import framecast.classify.models
    import framecast.classify.text
    import framecast.quake.etas_residual  # noqa: F401

    out: list[str] = []
    for title, registry in (
        ("Models", MODELS),
        ("Cells", CELLS),
        ("Datasets", DATASETS),
        ("Losses", LOSSES),
        ("Side-input encoders", SIDE_ENCODERS),
        ("Side-input injections", SIDE_INPUTS),
        ("Sequence classifiers", CLASSIFIERS),
        ("Labelled datasets (classifiers)", LABELLED_DATA),
    ):
        out += [f"### {title}", "", "| name | description |", "|---|---|"]
        out += [f"| `{name}` | {_summary(registry.get(name))} |" for name in registry.available()]
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
