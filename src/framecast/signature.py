"""Check keyword options against a constructor's signature before calling it."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping


def accepted_options(fn: Callable[..., object], skip: Iterable[str] = ()) -> list[str]:
    """Names of the keyword parameters ``fn`` accepts, without ``skip``."""
    target = fn.__init__ if inspect.isclass(fn) else fn
    params = inspect.signature(target).parameters
    skipped = {"self", *skip}
    return [
        p.name
        for p in params.values()
        if p.name not in skipped and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def check_options(
    fn: Callable[..., object], options: Mapping[str, object], what: str, skip: Iterable[str] = ()
) -> None:
    """Raise TypeError naming any option ``fn`` does not accept.

    Raises
    ------
    TypeError
        With the unknown names and the accepted ones.
    """
    valid = accepted_options(fn, skip)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise TypeError(f"{what} got unknown option(s) {unknown}; accepted options: {valid}")
