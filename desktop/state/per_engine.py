"""One thing per followed engine (a stats hub, a dashboard's figures, the object stores), made
when first asked for and dropped when its engine stops being followed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from desktop.state.engines import EngineRegistry, EngineSession

T = TypeVar("T")


class PerEngine(Generic[T]):
    """`get(key)`: that engine's T, made now with `make(session)` if needed (None for an engine not
    followed). `adopt(key, t)` hands in one made elsewhere: its owner closes it, so `dropped` is
    told `owned=False`. With `eager`, every engine's T is made as soon as the engine is followed.

    `dropped(key, t, owned)` runs when an engine is removed, and for every T at `close()`.
    """

    def __init__(self, registry: EngineRegistry, make: Callable[[EngineSession], T],
                 dropped: Callable[[str, T, bool], None] | None = None, *, eager: bool = False) -> None:
        self.registry = registry
        self._make = make
        self._dropped = dropped or (lambda key, t, owned: None)
        self._made: dict[str, T] = {}
        self._adopted: set[str] = set()
        self._closed = False
        self._eager = eager
        registry.removed.connect(self._on_registry_removed)
        if eager:
            registry.added.connect(self._on_registry_added)
            for s in registry.sessions:
                self.get(s.key)

    def adopt(self, key: str, t: T) -> None:
        self._made[key] = t
        self._adopted.add(key)

    def get(self, key: str) -> T | None:
        t = self._made.get(key)
        if t is not None or self._closed:
            return t
        session = self.registry.get(key)
        if session is None:
            return None
        t = self._made[key] = self._make(session)
        return t

    def existing(self, key: str) -> T | None:
        """That engine's T if one was made (reading never makes one)."""
        return self._made.get(key)

    def __getitem__(self, key: str) -> T:
        return self._made[key]

    def __len__(self) -> int:
        return len(self._made)

    def keys(self) -> list[str]:
        return list(self._made)

    def values(self) -> list[T]:
        return list(self._made.values())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._made))

    def _drop(self, key: str) -> None:
        t = self._made.pop(key, None)
        if t is not None:
            owned = key not in self._adopted
            self._adopted.discard(key)
            self._dropped(key, t, owned)

    def _on_registry_added(self, session: EngineSession) -> None:
        self.get(session.key)

    def _on_registry_removed(self, session: EngineSession) -> None:
        self._drop(session.key)

    def close(self) -> None:
        """Stop following the registry; `dropped` is told of every T, which stay readable (the
        adopted ones are not closed) while nothing new is made."""
        if self._closed:
            return
        self._closed = True
        self.registry.removed.disconnect(self._on_registry_removed)
        if self._eager:
            self.registry.added.disconnect(self._on_registry_added)
        for key, t in list(self._made.items()):
            self._dropped(key, t, key not in self._adopted)
