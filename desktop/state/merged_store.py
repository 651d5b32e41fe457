"""One store over the same kind of store of every engine: the "All engines" view of containers,
images, volumes and networks. Each engine's rows come and go with its own store's announcements;
an engine's rows can be hidden (while it is unreachable) and shown again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from desktop.state.keyed_store import KeyedStore

T = TypeVar("T")


class MergedStore(KeyedStore[T]):
    """Keys are `merged_key(engine, key in its store)`; `owner(key)` names the engine.

    `bulk_as_reset`: when a whole engine's rows arrive at once (followed with rows already in its
    store, or shown again), announce a `reset` rather than one `upserted` of them all.
    """

    def __init__(self, key: Callable[[T], str], merged_key: Callable[[str, str], str],
                 bulk_as_reset: bool = False) -> None:
        super().__init__(key)
        self._merged_key = merged_key
        self._bulk_as_reset = bulk_as_reset
        self._owner: dict[str, str] = {}  # merged key → engine
        self._stores: dict[str, KeyedStore[T]] = {}  # engine → its store
        self._shown: set[str] = set()  # engines whose rows are in the merged store
        self._hooks: dict[str, tuple] = {}

    def owner(self, key: str) -> str | None:
        return self._owner.get(key)

    def store(self, engine: str) -> KeyedStore[T]:
        return self._stores[engine]

    # -- following engines ---------------------------------------------------------------------
    def follow(self, engine: str, store: KeyedStore[T], shown: bool = True) -> None:
        def on_reset() -> None:
            if engine in self._shown:
                self._drop(engine)
                self._take(engine)
                self.reset.emit()

        def on_upserted(items: list[T]) -> None:
            if engine in self._shown:
                for i in items:
                    k = self._merged_key(engine, self._key(i))
                    self._items[k] = i
                    self._owner[k] = engine
                self.upserted.emit(items)

        def on_removed(keys: list[str]) -> None:
            if engine in self._shown:
                gone = []
                for k in keys:
                    mk = self._merged_key(engine, k)
                    if self._owner.get(mk) == engine:
                        del self._owner[mk]
                        del self._items[mk]
                        gone.append(mk)
                if gone:
                    self.removed.emit(gone)

        self._stores[engine] = store
        self._hooks[engine] = (on_reset, on_upserted, on_removed)
        store.reset.connect(on_reset)
        store.upserted.connect(on_upserted)
        store.removed.connect(on_removed)
        self.set_shown(engine, shown)

    def unfollow(self, engine: str) -> None:
        self.set_shown(engine, False)
        store = self._stores.pop(engine, None)
        hooks = self._hooks.pop(engine, None)
        if store is not None and hooks is not None:
            store.reset.disconnect(hooks[0])
            store.upserted.disconnect(hooks[1])
            store.removed.disconnect(hooks[2])

    def set_shown(self, engine: str, shown: bool) -> None:
        """Show or hide one engine's rows."""
        if shown == (engine in self._shown):
            return
        if shown:
            self._shown.add(engine)
            items = self._take(engine)
            if items:
                self.reset.emit() if self._bulk_as_reset else self.upserted.emit(items)
        else:
            self._shown.discard(engine)
            gone = self._drop(engine)
            if gone:
                self.removed.emit(gone)

    def _shown_in_order(self) -> list[str]:
        return [k for k in self._stores if k in self._shown]

    def _take(self, engine: str) -> list[T]:
        items = self._stores[engine].all()
        for i in items:
            k = self._merged_key(engine, self._key(i))
            self._items[k] = i
            self._owner[k] = engine
        return items

    def _drop(self, engine: str) -> list[str]:
        gone = [k for k, e in self._owner.items() if e == engine]
        for k in gone:
            del self._items[k]
            del self._owner[k]
        return gone
