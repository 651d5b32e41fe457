"""Which containers the table shows and how fast it can order them (no Qt).

The Containers table filters and sorts in its own model rather than through a Qt proxy: a proxy
asks the Python model for every row again on each relayout (~60,000 calls at 20,000 rows). These
are the pieces that make one filter pass and one sort cheap:

- `ContainerFilter`: the search text, the running-only toggle and the engine shown;
- `SortKeyCache`: each container's order key per column, computed once per record;
- `MemberIndex`: every container of each Compose project, shown or filtered out (a project's
  row reads its state and count from all of them, as it did when a proxy hid some).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from desktop.engine.records import Container
from desktop.presentation.container_columns import (COL_CREATED, COL_ENGINE, COL_IMAGE, COL_NAME, COL_PORTS,
                                                    COL_STATE, EngineLabel, container_sort_key)
from desktop.presentation.containers import is_debug_helper, matches_search

_ACTIVE = ("running", "restarting", "paused")
# Columns with an order of their own; the others (CPU %, Memory, Actions) order by name.
KEYED_COLUMNS = (COL_NAME, COL_ENGINE, COL_IMAGE, COL_STATE, COL_PORTS, COL_CREATED)


def key_column(col: int) -> int:
    """The column whose keys `col` sorts by."""
    return col if col in KEYED_COLUMNS else COL_NAME


class ContainerFilter:
    """The criteria of the table. No verdict is cached: a keystroke changes them all, and the
    plain test answers most containers at its first comparison (a cache costs more than it saves)."""

    def __init__(self, owner_of: Callable[[str], str | None] | None = None) -> None:
        self._owner_of = owner_of or (lambda cid: None)
        self.text = ""
        self.running_only = False
        self.engine_key: str | None = None
        self._t = ""  # the text as matched: stripped, lower case

    def set(self, text: str | None = None, running_only: bool | None = None,
            engine_key: "str | None | type[...]" = ...) -> bool:
        """Change the criteria. Returns whether anything changed."""
        before = (self._t, self.running_only, self.engine_key)
        if text is not None:
            self.text = text
            self._t = text.strip().lower()
        if running_only is not None:
            self.running_only = running_only
        if engine_key is not ...:
            self.engine_key = engine_key
        return before != (self._t, self.running_only, self.engine_key)

    @property
    def active(self) -> bool:
        return bool(self._t or self.running_only or self.engine_key is not None)

    def accepts(self, c: Container) -> bool:
        if is_debug_helper(c):
            return False
        if self.engine_key is not None and self._owner_of(c.id) != self.engine_key:
            return False
        if self.running_only and c.state not in _ACTIVE:
            return False
        return not self._t or matches_search(c, self._t)


class SortKeyCache:
    """A container's order key in a column (its column's sort key, then oldest first, then the id),
    its sort key computed once per record and column: a sort by a column used before costs one
    dict lookup per row. Equal key strings are shared (most rows repeat an image or a state)."""

    def __init__(self, get: Callable[[str], Container | None], engine_label: EngineLabel) -> None:
        self._get = get
        self._label = engine_label
        self._keys: dict[int, dict[str, tuple[Container, object]]] = {col: {} for col in KEYED_COLUMNS}
        self._shared: dict[int, dict] = {col: {} for col in KEYED_COLUMNS}

    def key(self, c: Container, col: int) -> tuple:
        col = key_column(col)
        cache = self._keys[col]
        e = cache.get(c.id)
        if e is None or e[0] is not c:
            k = container_sort_key(c, col, self._label)
            if col != COL_NAME and col != COL_CREATED:
                k = self._shared[col].setdefault(k, k)
            e = cache[c.id] = (c, k)
        return (e[1], (c.created, c.id))

    def key_of(self, cid: str, col: int) -> tuple:
        c = self._get(cid)
        if c is None:
            return (container_sort_key(None, key_column(col), self._label), (0.0, cid))
        return self.key(c, col)

    def keys_of(self, cids: list[str], col: int) -> list[tuple]:
        """`key_of` for many rows in one call (a sort of 20,000 rows: one Python call per row fewer)."""
        kc = key_column(col)
        cache, shared, get, label = self._keys[kc], self._shared[kc], self._get, self._label
        out = []
        append = out.append
        for cid in cids:
            c = get(cid)
            if c is None:
                append((container_sort_key(None, kc, label), (0.0, cid)))
                continue
            e = cache.get(cid)
            if e is None or e[0] is not c:
                k = container_sort_key(c, kc, label)
                if kc != COL_NAME and kc != COL_CREATED:
                    k = shared.setdefault(k, k)
                e = cache[cid] = (c, k)
            append((e[1], (c.created, cid)))
        return out

    def forget(self, cid: str) -> None:
        for cache in self._keys.values():
            cache.pop(cid, None)


class MemberIndex:
    """Project key (engine id, project name) → its containers' ids, shown or not, in arrival order."""

    def __init__(self) -> None:
        self._members: dict[tuple[str, str], dict[str, None]] = {}
        self._of: dict[str, tuple[str, str]] = {}

    def rebuild(self, containers: Iterable[Container]) -> None:
        self._members, self._of = {}, {}
        for c in containers:
            self.add(c)

    def add(self, c: Container) -> None:
        key = (c.engine_id, c.compose_project) if c.compose_project else None
        old = self._of.get(c.id)
        if old == key:
            return
        if old is not None:
            self.discard(c.id)
        if key is not None:
            self._members.setdefault(key, {})[c.id] = None
            self._of[c.id] = key

    def discard(self, cid: str) -> tuple[str, str] | None:
        key = self._of.pop(cid, None)
        if key is not None:
            m = self._members.get(key)
            if m is not None:
                m.pop(cid, None)
                if not m:
                    del self._members[key]
        return key

    def ids(self, key: tuple[str, str]) -> list[str]:
        return list(self._members.get(key, ()))
