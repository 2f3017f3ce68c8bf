"""Package exports that import their module on first use (PEP 562).

Building the ``seismicity`` dataset imports ``framecast.quake``, and the
loss registry lives in ``framecast.training``; neither should pay for SciPy,
the ETAS likelihood or Lightning until a name from those modules is
actually used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of a package whose names load lazily.

    Parameters
    ----------
    package : str
        The package's name, for error messages.
    exports : mapping of str to str
        Public name -> module that defines it.
    namespace : dict
        The package's ``globals()``: a loaded name is cached there, so each
        module is imported once.

    Examples
    --------
    In a package's ``__init__.py``::

        __getattr__, __dir__ = lazy_exports(__name__, {"train": "pkg.run"}, globals())
    """

    def load(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        namespace[name] = value
        return value

    def names() -> list[str]:
        return sorted([*namespace, *exports])

    return load, names
