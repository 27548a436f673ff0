"""A name → item registry where a taken name is an error naming both places.

Stages and task builders register by name, and the recipe refers to them by that name. Silently replacing one
registration by another (a plugin's `triage` by the built-in one, or the reverse) would build a different dataset
than the recipe says, so a second registration of a name fails and the message names the two definitions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryError(ValueError):
    """A name registered twice, or looked up and not found; one line."""


def origin(fn: Callable) -> str:
    """Where `fn` is defined, as `module.qualname (file:line)`."""
    try:
        where = f"{inspect.getsourcefile(fn)}:{inspect.getsourcelines(fn)[1]}"
    except (OSError, TypeError):
        where = "unknown file"
    return f"{fn.__module__}.{fn.__qualname__} ({where})"


class Registry(Generic[T]):
    """Items of one kind (`stage`, `task`) by name, with where each was defined."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}

    def add(self, name: str, item: T, fn: Callable) -> None:
        """Register `item` (defined by `fn`) as `name`. Re-running the same definition (a module imported again
        under the same file and line) is allowed; a different definition of a taken name is an error."""
        where = origin(fn)
        taken = self._origins.get(name)
        if taken is not None and taken.split(" ", 1)[1:] != where.split(" ", 1)[1:]:
            raise RegistryError(f"{self.kind} {name!r} is registered twice: by {taken} and by {where}")
        self._items[name] = item
        self._origins[name] = where

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise RegistryError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._items))}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def names(self) -> list[str]:
        return sorted(self._items)
