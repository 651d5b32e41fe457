"""Qt-free store of containers keyed by id; fed by the engine sync."""

from __future__ import annotations

from collections.abc import Iterable

from desktop.engine.records import Container
from desktop.state.observable import Listeners


class ContainerStore:
    """The containers of one engine. Announces `reset`, `upserted(list)`, `removed(list[id])`."""

    def __init__(self) -> None:
        self._by_id: dict[str, Container] = {}
        self.reset = Listeners()
        self.upserted = Listeners()
        self.removed = Listeners()
        self.resynced = Listeners()  # after every full list (a reconnect): streams may need reopening

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, cid: str) -> bool:
        return cid in self._by_id

    def get(self, cid: str) -> Container | None:
        return self._by_id.get(cid)

    def all(self) -> list[Container]:
        return list(self._by_id.values())

    def replace_all(self, containers: Iterable[Container]) -> None:
        self._by_id = {c.id: c for c in containers}
        self.reset.emit()

    def sync_all(self, containers: Iterable[Container], keep: "set[str] | frozenset[str]" = frozenset()) -> None:
        """Make the store equal to a full list by diffing: rows keep their identity (and the
        user's selection) across a resync; an empty store takes the fast reset path.
        `keep`: ids the list may not speak for (events newer than it); left as they are."""
        rows = list(containers)
        if not self._by_id:
            self.replace_all(rows)
        else:
            fresh = {c.id for c in rows}
            self.remove([cid for cid in self._by_id if cid not in fresh and cid not in keep])
            self.upsert(rows)
        self.resynced.emit()

    def upsert(self, containers: Iterable[Container]) -> None:
        changed = []
        for c in containers:
            old = self._by_id.get(c.id)
            if old != c:
                self._by_id[c.id] = c
                changed.append(c)
        if changed:
            self.upserted.emit(changed)

    def remove(self, ids: Iterable[str]) -> None:
        gone = [cid for cid in ids if self._by_id.pop(cid, None) is not None]
        if gone:
            self.removed.emit(gone)

    def clear(self) -> None:
        if self._by_id:
            self._by_id = {}
            self.reset.emit()
