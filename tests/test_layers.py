"""The layers of framecast, checked on the source: the core imports no application, no circles.

The graph is read with :mod:`ast` from every module under ``src/framecast``
(nothing is imported): every ``import`` and ``from ... import`` of a
framecast module, at module level, under ``if TYPE_CHECKING:`` or inside a
function (a lazy import). The layers, bottom to top:

* the core: every module outside the applications and the CLI;
* the applications, :data:`framecast.plugins.APPLICATIONS` (``quake``,
  ``classify``, ``experiments`` (compare), ``tuning``);
* the command line, :mod:`framecast.cli` (and `python -m framecast`, which calls it).

Rules:

1. No import runs upward, lazy or not: the core imports no application and
   not the CLI, an application does not import the CLI. The CLI's lazy
   imports of the applications inside its command functions (which keep
   ``framecast --help`` fast) are edges of the graph like any other; they
   run downward, so they are allowed.
2. No circle among module-level imports (``TYPE_CHECKING`` ones included),
   counting that importing ``a.b.c`` runs ``a/b/__init__.py`` first.
3. No circle even through lazy imports, but for :data:`KNOWN_LAZY_CIRCLES`
   (each with its reason; the test fails when one disappears, so that the
   list only shrinks).
4. The core names application modules only in the plugin table
   (:mod:`framecast.plugins`): no string elsewhere in the core holds an
   application module's name, so no dynamic import (``importlib``,
   :func:`framecast.lazy.lazy_exports`) runs upward either.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from framecast.plugins import APPLICATIONS

SRC = Path(__file__).resolve().parents[1] / "src"
CLI = ("framecast.cli", "framecast.__main__")  # `python -m framecast` is the command too
PLUGIN_TABLE = "framecast.plugins"

KNOWN_LAZY_CIRCLES: dict[frozenset[str], str] = {}
"""Circles through lazy imports that are known and not yet removed, and why: none (the last,
``checkpoint`` <-> ``zoo``, went when the shipped entries moved to ``zoo_entries``)."""


@dataclass(frozen=True)
class Edge:
    """One import of a framecast module by another."""

    source: str
    target: str
    line: int
    kind: str  # "module" (runs at import), "type" (TYPE_CHECKING only) or "lazy" (in a function)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of ``src/framecast``, by dotted name."""
    return {_module_name(p): p for p in sorted((SRC / "framecast").rglob("*.py"))}


def _known(name: str) -> str:
    """The framecast module that ``name`` (a module, or a module's attribute) lives in."""
    mods = modules()
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def _imports(module: str, path: Path) -> list[Edge]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    edges: list[Edge] = []

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = node.module or ""
        if node.level:  # a relative import
            parts = package.split(".")
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        # `from pkg import sub` imports the submodule; `from mod import name`, the module
        return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules() else base for a in node.names]

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, "lazy")
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                checked = "type" if kind == "module" else kind
                visit(ast.Module(body=child.body, type_ignores=[]), checked)
                visit(ast.Module(body=child.orelse, type_ignores=[]), kind)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                for name in targets(child):
                    if name == "framecast" or name.startswith("framecast."):
                        target = _known(name)
                        if target and target != module:
                            edges.append(Edge(module, target, child.lineno, kind))
            else:
                visit(child, kind)

    visit(tree, "module")
    return edges


@cache
def edges() -> tuple[Edge, ...]:
    """Every import of a framecast module in ``src/framecast``."""
    return tuple(e for m, p in modules().items() for e in _imports(m, p))


def layer(module: str) -> int:
    """0 for the core, 1 for an application, 2 for the CLI."""
    if module in CLI:
        return 2
    if any(module == app or module.startswith(app + ".") for app in APPLICATIONS):
        return 1
    return 0


def _parents(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(2, len(parts))}


def _runs(e: Edge) -> set[str]:
    """The modules that import ``e`` runs: its target, and the packages above it not yet running."""
    ran = {e.target} | (_parents(e.target) - _parents(e.source))
    return {m for m in ran if m != e.source and m in modules()}


def circles(kinds: set[str]) -> list[frozenset[str]]:
    """The strongly connected components (of 2 or more modules) of the imports of ``kinds``.

    An import of ``a.b.c`` is also an import of the packages ``a.b`` it runs
    first, unless the importing module is inside them already.
    """
    graph: dict[str, set[str]] = defaultdict(set)
    for e in edges():
        if e.kind in kinds:
            graph[e.source] |= _runs(e)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def connect(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(modules()):
        if v not in index:
            connect(v)
    return found


def _describe(component: frozenset[str], kinds: set[str]) -> str:
    """The imports that close the circle ``component``, one per line."""
    lines = {
        f"  {e.source}:{e.line} -> {e.target} ({e.kind})"
        for e in edges()
        if e.kind in kinds and e.source in component and _runs(e) & component
    }
    return "circle " + ", ".join(sorted(component)) + ":\n" + "\n".join(sorted(lines))


def test_the_walker_sees_the_whole_source():
    found = edges()
    assert len(modules()) > 150 and len(found) > 500
    kinds = {e.kind for e in found}
    assert kinds == {"module", "type", "lazy"}
    # a module-level, a TYPE_CHECKING and a lazy import it must see
    assert Edge("framecast.quake.stages", "framecast.quake.settings", 0, "module") in {
        Edge(e.source, e.target, 0, e.kind) for e in found
    }
    assert any(e.source == "framecast.cli" and e.target == "framecast.quake.cli" for e in found)
    assert any(e.kind == "type" and e.source == "framecast.checkpoint" for e in found)


def test_no_import_runs_upward():
    upward = [
        f"{e.source}:{e.line} imports {e.target} ({e.kind})"
        for e in edges()
        if layer(e.source) < layer(e.target)
    ]
    assert upward == [], "the core imports no application and nothing imports the CLI:\n" + (
        "\n".join(upward)
    )


def test_no_circle_among_module_level_imports():
    kinds = {"module", "type"}
    found = circles(kinds)
    assert found == [], "\n".join(_describe(c, kinds) for c in found)


def test_no_circle_through_lazy_imports_but_the_known_ones():
    kinds = {"module", "type", "lazy"}
    found = set(circles(kinds))
    new = [_describe(c, kinds) for c in found - set(KNOWN_LAZY_CIRCLES)]
    assert new == [], "import circles through lazy imports:\n" + "\n".join(new)
    gone = set(KNOWN_LAZY_CIRCLES) - found
    assert not gone, f"no longer circles, remove them from KNOWN_LAZY_CIRCLES: {gone}"


def test_the_core_names_applications_only_in_the_plugin_table():
    pattern = re.compile(r"\b(" + "|".join(re.escape(a) for a in APPLICATIONS) + r")\b")
    named = []
    for module, path in modules().items():
        if layer(module) != 0 or module == PLUGIN_TABLE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        named += [
            f"{module}:{node.lineno} {node.value[:60]!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and pattern.search(node.value)
        ]
    assert named == [], "\n".join(named)
