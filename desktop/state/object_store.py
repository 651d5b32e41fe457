"""A Qt-free keyed store that relists on demand, coalescing bursts of events into one list call.

ImageStore, VolumeStore and NetworkStore are this with their own list call and event filter.
Announces `reset`, `upserted(list)`, `removed(list[key])` like ContainerStore, so the UI
adapts them the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from desktop.engine.errors import EngineError
from desktop.engine.tasks import cancel_and_wait
from desktop.state.keyed_store import KeyedStore

log = logging.getLogger(__name__)
T = TypeVar("T")


class ObjectStore(KeyedStore[T]):
    """Items keyed by `key(item)`; `refresh()` relists, merging the difference into fine signals."""

    def __init__(self, lister: Callable[[], Awaitable[list[T]]], key: Callable[[T], str]) -> None:
        super().__init__(key)
        self._lister = lister
        self.loaded = False
        self._task: asyncio.Task | None = None
        self._again = False
        # A list or inspect in flight may answer with an object deleted meanwhile: removals made
        # during a fetch are remembered (key -> removal number) so its stale answer can't revive them.
        self._removals = 0
        self._removed_at: dict[str, int] = {}
        self._fetching = 0

    def replace_all(self, items: Iterable[T]) -> None:
        self.loaded = True
        super().replace_all(items)

    def merge(self, items: Iterable[T]) -> None:
        """Make the store equal to `items`, announcing only what changed."""
        new = {self._key(i): i for i in items}
        gone = [k for k in self._items if k not in new]
        old = self._items
        # `is` first: a relist that reuses unchanged records (swarm tasks) skips comparing them.
        changed = [i for k, i in new.items() if old.get(k) is not i and old.get(k) != i]
        if not self.loaded:
            self.replace_all(new.values())
            return
        if gone:
            for k in gone:
                del self._items[k]
            self.removed.emit(gone)
        if changed:
            for i in changed:
                self._items[self._key(i)] = i
            self.upserted.emit(changed)

    def remove(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if self._fetching:
            self._removals += 1
            for k in keys:
                self._removed_at[k] = self._removals
        super().remove(keys)

    async def fetch(self, call: Callable[[], Awaitable[Any]]) -> tuple[Any, Callable[[str], bool]]:
        """Await `call()`; also return `stale(key)`: was that key removed while the call ran?"""
        start = self._removals
        self._fetching += 1
        try:
            result = await call()
        finally:
            self._fetching -= 1
        removed_at = dict(self._removed_at)
        if not self._fetching:
            self._removed_at.clear()
        return result, lambda key: removed_at.get(key, start) > start

    async def _list_fresh(self) -> list[T]:
        items, stale = await self.fetch(self._lister)
        return [i for i in items if not stale(self._key(i))]

    async def load(self) -> None:
        """List now (the resync hook): replaces the store."""
        self.replace_all(await self._list_fresh())

    def refresh(self) -> None:
        """Relist soon; events arriving meanwhile are folded into one more list."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            try:
                self.merge(await self._list_fresh())
            except EngineError as err:
                log.info("relist failed: %s", err)
                return

    async def wait_idle(self) -> None:
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def aclose(self) -> None:
        await cancel_and_wait(self._task)


def key_of(attr: str) -> Callable[[Any], str]:
    return lambda item: getattr(item, attr)
