"""Name -> constructor registries for cells, models, datasets and losses.

A name is written in one place: the ``@REGISTRY.register("name")`` line
above the class or function it names. Look-ups ignore case, and a failed
look-up lists the valid names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """A case-insensitive mapping from names to constructors of one kind.

    Parameters
    ----------
    kind : str
        What the registry holds ("cell", "model", ...), used in messages.

    Examples
    --------
    >>> CELLS = Registry("cell")
    >>> @CELLS.register("mycell")
    ... class MyCell: ...
    >>> CELLS.get("MyCell") is MyCell
    True
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Return a decorator that registers its target under ``name``."""
        key = name.lower()

        def decorator(obj: T) -> T:
            if key in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[key] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        """Return the entry called ``name`` (case ignored).

        Raises
        ------
        KeyError
            If no entry has that name; the message lists the valid names.
        """
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a string, got {name!r}")
        try:
            return self._entries[name.lower()]
        except KeyError:
            valid = ", ".join(self.available())
            plural = f"{self.kind}es" if self.kind.endswith("s") else f"{self.kind}s"
            raise KeyError(f"unknown {self.kind} {name!r}; valid {plural}: {valid}") from None

    def available(self) -> list[str]:
        """Sorted names of all registered entries."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.available()})"
