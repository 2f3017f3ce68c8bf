"""Name -> constructor registries for cells, models, datasets, losses, ...

Every built-in entry is one line of the plugin table,
:data:`framecast.plugins.PLUGINS`: a name and the ``"module:attribute"`` that
holds it. A :class:`Registry` reads its kind's section of that table and
imports the module of an entry on its first look-up, so what exists never
depends on what happens to be imported already, and naming the entries
(``available()``, ``in``) imports nothing.

User code adds its own entries at run time, either as one more line of the
table (:meth:`Registry.add`, or ``PLUGINS[kind][name] = "module:attribute"``)
or by registering an object it holds (the :meth:`Registry.register`
decorator). Look-ups ignore case, and a failed look-up lists the valid names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


def load_target(target: str) -> Any:
    """The object that a plugin-table entry ``"package.module:attribute"`` names.

    Parameters
    ----------
    target : str
        A module's dotted name and an attribute of it (dotted for a nested
        one), separated by a colon.

    Raises
    ------
    ValueError
        ``target`` is not of the form ``"module:attribute"``.
    ImportError
        The module cannot be imported, or has no such attribute.

    Examples
    --------
    >>> load_target("os.path:join") is __import__("os").path.join
    True
    """
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"a plugin target is 'module:attribute', got {target!r}")
    module = importlib.import_module(module_name)
    obj: Any = module
    try:
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no attribute {attribute!r}") from None
    return obj


class Registry(Generic[T]):
    """A case-insensitive mapping from names to constructors of one kind.

    Parameters
    ----------
    kind : str
        What the registry holds ("cell", "model", ...), used in messages.
    table : mutable mapping of str to str, optional
        Its section of the plugin table, name -> ``"module:attribute"``
        (names in lower case); read live, so an entry added to it later
        exists from then on. Default: an empty table of its own.

    Examples
    --------
    >>> CELLS = Registry("cell", {"gru": "framecast.cells.vector:VectorGRUCell"})
    >>> @CELLS.register("mycell")
    ... class MyCell: ...
    >>> CELLS.get("MyCell") is MyCell
    True
    >>> CELLS.available()
    ['gru', 'mycell']
    """

    def __init__(self, kind: str, table: MutableMapping[str, str] | None = None) -> None:
        self.kind = kind
        self.table: MutableMapping[str, str] = table if table is not None else {}
        self._registered: dict[str, T] = {}  # objects registered at run time
        self._loaded: dict[str, tuple[str, T]] = {}  # table entries imported: (target, object)

    # ------------------------------------------------------------------ adding entries
    def register(self, name: str) -> Callable[[T], T]:
        """Return a decorator that registers its target under ``name``.

        Raises
        ------
        ValueError
            (when applied) ``name`` is taken, by a table entry or an object.
        """
        key = name.lower()

        def decorator(obj: T) -> T:
            if key in self:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._registered[key] = obj
            return obj

        return decorator

    def add(self, name: str, target: str) -> None:
        """Add the line ``name: "module:attribute"`` to the table; imported on first use.

        Raises
        ------
        ValueError
            ``name`` is taken, or ``target`` is not ``"module:attribute"``.
        """
        if name.lower() in self:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        module_name, sep, attribute = target.partition(":")
        if not (sep and module_name and attribute):
            raise ValueError(f"a plugin target is 'module:attribute', got {target!r}")
        self.table[name.lower()] = target

    # --------------------------------------------------------------------- looking up
    def _table_key(self, key: str) -> str | None:
        if key in self.table:
            return key
        return next((name for name in self.table if name.lower() == key), None)

    def get(self, name: str) -> T:
        """Return the entry called ``name`` (case ignored), importing its module if needed.

        Raises
        ------
        KeyError
            If no entry has that name; the message lists the valid names.
        ImportError
            The module of a table entry cannot be imported (the message
            names the entry).
        """
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a string, got {name!r}")
        key = name.lower()
        if key in self._registered:
            return self._registered[key]
        table_key = self._table_key(key)
        if table_key is None:
            valid = ", ".join(self.available())
            plural = f"{self.kind}es" if self.kind.endswith("s") else f"{self.kind}s"
            raise KeyError(f"unknown {self.kind} {name!r}; valid {plural}: {valid}") from None
        target = self.table[table_key]
        loaded = self._loaded.get(key)
        if loaded is None or loaded[0] != target:
            try:
                obj = cast(T, load_target(target))
            except ImportError as exc:
                raise ImportError(
                    f"{self.kind} {name!r} is {target!r}, which cannot be imported: {exc}",
                    name=exc.name,
                ) from exc
            loaded = self._loaded[key] = (target, obj)
        return loaded[1]

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def source(self, name: str) -> str:
        """Where entry ``name`` lives, as ``"module:attribute"``, without importing it.

        Raises
        ------
        KeyError
            No entry has that name.
        """
        key = name.lower()
        if key in self._registered:
            obj = self._registered[key]
            module = getattr(obj, "__module__", type(obj).__module__)
            return f"{module}:{getattr(obj, '__qualname__', key)}"
        table_key = self._table_key(key)
        if table_key is None:
            self.get(name)  # raises the KeyError that lists the valid names
        return self.table[cast(str, table_key)]

    def available(self) -> list[str]:
        """Sorted names of all entries (nothing is imported)."""
        return sorted(self)

    def __iter__(self) -> Iterator[str]:
        """The names: the table's in its order, then those registered at run time."""
        seen: set[str] = set()
        for name in [*self.table, *self._registered]:
            key = name.lower()
            if key not in seen:
                seen.add(key)
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower()
        return key in self._registered or self._table_key(key) is not None

    def __delitem__(self, name: str) -> None:
        """Remove entry ``name`` (a table line or a registered object)."""
        key = name.lower()
        self._loaded.pop(key, None)
        if key in self._registered:
            del self._registered[key]
            return
        table_key = self._table_key(key)
        if table_key is None:
            self.get(name)  # raises the KeyError that lists the valid names
        del self.table[cast(str, table_key)]

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.available()})"
