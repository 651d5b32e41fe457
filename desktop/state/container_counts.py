"""How many containers a store holds and how many run, kept current as the store changes (Qt-free).

Counted from the same announcements the rows follow, in the same call, so a count beside the
table never disagrees with the rows it sits under; O(changed rows), not O(all), per change.
"""

from __future__ import annotations

from collections.abc import Callable


class StateTally:
    """`total` and `running` of a ContainerStore-like store; `changed()` after every change."""

    def __init__(self, store, changed: Callable[[], None] = lambda: None,
                 counts: Callable[[object], bool] = lambda c: True) -> None:
        """`counts(container)`: whether a row is one the table shows (the app's own helpers are not)."""
        self._store = store
        self._changed = changed
        self._counts = counts
        self._state: dict[str, str] = {}
        self.running = 0
        store.reset.connect(self._on_store_reset)
        store.upserted.connect(self._on_store_upserted)
        store.removed.connect(self._on_store_removed)
        self._recount()

    @property
    def total(self) -> int:
        return len(self._state)

    def detach(self) -> None:
        self._store.reset.disconnect(self._on_store_reset)
        self._store.upserted.disconnect(self._on_store_upserted)
        self._store.removed.disconnect(self._on_store_removed)

    def _recount(self) -> None:
        self._state = {c.id: c.state for c in self._store.all() if self._counts(c)}
        self.running = sum(1 for s in self._state.values() if s == "running")

    def _on_store_reset(self) -> None:
        self._recount()
        self._changed()

    def _on_store_upserted(self, rows) -> None:
        for c in rows:
            if not self._counts(c):
                continue
            old = self._state.get(c.id)
            self.running += (c.state == "running") - (old == "running")
            self._state[c.id] = c.state
        self._changed()

    def _on_store_removed(self, ids) -> None:
        for cid in ids:
            if self._state.pop(cid, None) == "running":
                self.running -= 1
        self._changed()
