"""The one store shape every list in the app has: items by key, announcing `reset()`,
`upserted(list[item])` and `removed(list[key])`, read with `get(key)` and `all()`.

ContainerStore, ObjectStore (images, volumes, networks) and the merged-across-engines stores
are this with their own way of being fed; the Qt models adapt any of them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from desktop.state.observable import Listeners

T = TypeVar("T")


class KeyedStore(Generic[T]):
    """Items keyed by `key(item)`. `replace_all`, `upsert` and `remove` announce what changed."""

    def __init__(self, key: Callable[[T], str]) -> None:
        self._key = key
        self._items: dict[str, T] = {}
        self.reset = Listeners()
        self.upserted = Listeners()
        self.removed = Listeners()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def all(self) -> list[T]:
        return list(self._items.values())

    def replace_all(self, items: Iterable[T]) -> None:
        self._items = {self._key(i): i for i in items}
        self.reset.emit()

    def upsert(self, items: Iterable[T]) -> None:
        """Store the items that differ from what is kept, and announce just those."""
        changed = []
        for i in items:
            k = self._key(i)
            if self._items.get(k) != i:
                self._items[k] = i
                changed.append(i)
        if changed:
            self.upserted.emit(changed)

    def remove(self, keys: Iterable[str]) -> None:
        gone = [k for k in keys if self._items.pop(k, None) is not None]
        if gone:
            self.removed.emit(gone)
