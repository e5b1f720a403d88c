"""A small explicit name registry: config strings become classes here and only here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from recstack.errors import ConfigError

T = TypeVar("T")

__all__ = ["Registry"]


class Registry(Generic[T]):
    """Maps names used in configs to classes (or factories).

    Example:
        >>> models: Registry[type] = Registry("model")
        >>> @models.register("two_tower")
        ... class TwoTower: ...
        >>> models.get("two_tower") is TwoTower
        True
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name`` (names are unique)."""

        def decorator(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.what} {name!r} is already registered")
            self._entries[name] = obj
            return obj

        return decorator

    def get(self, name: str, *, path: str = "") -> T:
        """The entry for ``name``; an unknown name lists the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            where = f" at {path}" if path else ""
            known = ", ".join(sorted(self._entries)) or "(none)"
            raise ConfigError(f"unknown {self.what} {name!r}{where}; known: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))
