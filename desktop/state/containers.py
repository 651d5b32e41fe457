"""Qt-free store of containers keyed by id; fed by the engine sync."""

from __future__ import annotations

from collections.abc import Iterable

from desktop.engine.records import Container
from desktop.state.keyed_store import KeyedStore
from desktop.state.observable import Listeners


class ContainerStore(KeyedStore[Container]):
    """The containers of one engine, by id. Announces `reset`, `upserted(list)`, `removed(list[id])`,
    and `resynced` after every full list."""

    def __init__(self) -> None:
        super().__init__(container_id)
        self.resynced = Listeners()  # after every full list (a reconnect): streams may need reopening

    def sync_all(self, containers: Iterable[Container], keep: "set[str] | frozenset[str]" = frozenset()) -> None:
        """Make the store equal to a full list by diffing: rows keep their identity (and the
        user's selection) across a resync; an empty store takes the fast reset path.
        `keep`: ids the list may not speak for (events newer than it); left as they are."""
        rows = list(containers)
        if not self._items:
            self.replace_all(rows)
        else:
            fresh = {c.id for c in rows}
            self.remove([cid for cid in self._items if cid not in fresh and cid not in keep])
            self.upsert(rows)
        self.resynced.emit()

    def clear(self) -> None:
        if self._items:
            self._items = {}
            self.reset.emit()


def container_id(c: Container) -> str:
    """The key of a container in every store (ids are unique across engines)."""
    return c.id
