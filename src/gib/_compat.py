"""Deprecation helpers: old calling conventions keep working for one release, with a warning.

``keyword_only`` makes the options after the data keyword-only (as scikit-learn does), while a
call that still passes them by position works and warns; ``renamed`` maps an old argument
name to the new one.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def keyword_only(function: F) -> F:
    """Let ``function``'s keyword-only parameters still be passed by position, with a
    ``DeprecationWarning`` naming them (for one release)."""
    signature = inspect.signature(function)
    positional = [p.name for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keyword = [p.name for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY]

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        extra = len(args) - len(positional)
        if extra > 0:
            if extra > len(keyword):
                raise TypeError(f"{function.__name__}() takes {len(positional)} positional argument(s) and "
                                f"{len(keyword)} keyword-only option(s); got {len(args)} positional.")
            names = keyword[:extra]
            doubled = [name for name in names if name in kwargs]
            if doubled:
                raise TypeError(f"{function.__name__}() got multiple values for {', '.join(doubled)}.")
            warnings.warn(f"pass {', '.join(f'{n}=...' for n in names)} to {function.__name__}() by keyword; "
                          "passing options by position is deprecated.", DeprecationWarning, stacklevel=2)
            kwargs.update(zip(names, args[len(positional):]))
            args = args[: len(positional)]
        return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def renamed(old: str, new: str) -> Callable[[F], F]:
    """Accept the argument ``old`` as ``new``, with a ``DeprecationWarning`` (for one release)."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{function.__name__}() got both `{old}` and its new name `{new}`.")
                warnings.warn(f"`{old}` of {function.__name__}() is now `{new}`; the old name is deprecated.",
                              DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
