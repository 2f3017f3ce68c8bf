"""Every YAML that framecast reads goes through here: safe, bounded, one-line errors.

PyYAML's safe loader builds no Python objects from tags, but it follows
aliases without limit: a few hundred bytes of nested aliases (a "billion
laughs" document) expand into billions of nodes once anything walks the
result (a deep copy, a config check), and the command hangs with memory
growing. PyYAML has no setting for this, so :class:`BoundedSafeLoader`
adds the limit SnakeYAML Engine and Symfony's parser apply: after the
document is composed (aliases are still shared references then, cheap to
hold), it counts the nodes the document would expand to and refuses it
past :data:`MAX_EXPANDED_NODES`, before anything is constructed.

Errors are ``ValueError`` with one line naming the file (or the
override) and, where PyYAML gives one, the line and column.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

MAX_EXPANDED_NODES = 100_000
"""Nodes a YAML document may hold once its aliases are expanded (configs hold hundreds)."""

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlLimitError(yaml.YAMLError):
    """A document whose aliases expand past :data:`MAX_EXPANDED_NODES`, or refer to themselves."""


def expanded_size(node: yaml.Node, limit: int = MAX_EXPANDED_NODES) -> int:
    """The number of nodes ``node`` stands for with every alias expanded.

    Shared nodes (the targets of aliases) are counted once per reference,
    as a walk of the constructed data would meet them; each node's size is
    computed once, so the cost is linear in the composed document.

    Parameters
    ----------
    node : yaml.Node
        A composed document (PyYAML's node graph).
    limit : int
        Stop counting, and raise, past this many nodes.

    Returns
    -------
    int

    Raises
    ------
    YamlLimitError
        Past ``limit`` nodes, or an alias inside the node it refers to.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(current: yaml.Node) -> int:
        key = id(current)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise YamlLimitError("an alias refers to a node that contains it (a recursive alias)")
        total = 1
        if isinstance(current, yaml.SequenceNode | yaml.MappingNode):
            active.add(key)
            children: list[yaml.Node] = (
                list(current.value)
                if isinstance(current, yaml.SequenceNode)
                else [child for pair in current.value for child in pair]
            )
            for child in children:
                total += size(child)
                if total > limit:
                    raise YamlLimitError(
                        f"its aliases expand to more than {limit:,} nodes (an alias bomb?); "
                        "write the values out instead of nesting aliases"
                    )
            active.discard(key)
        sizes[key] = total
        return total

    return size(node)


class BoundedSafeLoader(_Loader):  # type: ignore[misc, valid-type]
    """PyYAML's safe loader (its C version where built) that refuses alias bombs.

    See the module: the composed document is measured with
    :func:`expanded_size` before it is constructed.
    """

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            expanded_size(node)
        return node


def _where(error: yaml.YAMLError, text: str) -> str:
    """ ", line L, column C" of a PyYAML error, where it tells."""
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        return f", line {mark.line + 1}, column {mark.column + 1}"
    if isinstance(error, yaml.reader.ReaderError):  # a bad character: only its offset
        return f", line {text.count(chr(10), 0, error.position) + 1}"
    return ""


def _problem(error: yaml.YAMLError) -> str:
    if isinstance(error, YamlLimitError):
        return str(error)
    if isinstance(error, yaml.reader.ReaderError):
        return f"unacceptable character #x{error.character:04x} (binary data?)"
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if isinstance(error, yaml.constructor.ConstructorError) and "tag" in problem:
        problem += " (YAML tags are not accepted)"
    return " ".join(str(problem).split())


def load_yaml_text(text: str, source: str) -> Any:
    """Parse one YAML document with :class:`BoundedSafeLoader`.

    Parameters
    ----------
    text : str
        The document.
    source : str
        What it is, for messages: ``"config file 'a.yaml'"``, ``"override 'x=1'"``.

    Returns
    -------
    Any
        The data (None for an empty document).

    Raises
    ------
    ValueError
        Invalid YAML, a tag, a control character, or an alias bomb: one line
        naming ``source`` and, where known, the line and column.
    """
    try:
        return yaml.load(text, Loader=BoundedSafeLoader)  # a safe loader (no tags)
    except yaml.YAMLError as error:
        raise ValueError(
            f"{source}{_where(error, text)}: invalid YAML: {_problem(error)}"
        ) from None
    except RecursionError:
        raise ValueError(f"{source}: invalid YAML: nested too deeply") from None


def read_yaml_file(path: str | os.PathLike[str], what: str = "YAML file") -> Any:
    """Read and parse the YAML file ``path`` (see :func:`load_yaml_text`).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    what : str
        What the file is, for messages (``"config file"``).

    Returns
    -------
    Any
        The data (None for an empty file).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not UTF-8 text (a binary file), unreadable (permission denied), or
        invalid YAML; one line naming the file.
    """
    path = Path(path)
    name = f"{what} {str(path)!r}"
    if not path.is_file():
        raise FileNotFoundError(f"{name} does not exist")
    try:
        raw = path.read_bytes()
    except PermissionError:
        raise ValueError(f"cannot read {name}: permission denied") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{name} is not UTF-8 text (byte {error.start}); is it a binary file?"
        ) from None
    return load_yaml_text(text, name)


def parse_override_value(raw: str, item: str) -> Any:
    """The value of a ``key=value`` override, read as YAML (``3e-4``, ``[1, 2]``, ``null``).

    Raises
    ------
    ValueError
        Invalid YAML or a tag, naming the override.
    """
    return load_yaml_text(raw, f"override {item!r}")
