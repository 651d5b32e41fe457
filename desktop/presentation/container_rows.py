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

from desktop.engine.records import COMPOSE_PROJECT, DEBUG_ROLE_LABEL, Container
from desktop.presentation.container_columns import (COL_CREATED, COL_ENGINE, COL_IMAGE, COL_NAME, COL_PORTS,
                                                    COL_STATE, EngineLabel, container_sort_key)
from desktop.presentation.containers import is_debug_helper, matches_search

_ACTIVE = ("running", "restarting", "paused")
_SEP = "\n"  # between the label texts kept for the filter (the search field holds one line)
# Columns with an order of their own; the others (CPU %, Memory, Actions) order by name.
KEYED_COLUMNS = (COL_NAME, COL_ENGINE, COL_IMAGE, COL_STATE, COL_PORTS, COL_CREATED)


def key_column(col: int) -> int:
    """The column whose keys `col` sorts by."""
    return col if col in KEYED_COLUMNS else COL_NAME


class ContainerFilter:
    """The criteria of the table. No verdict is cached (a keystroke changes them all); what is
    kept is a label set's searchable text, lower-cased once: containers of one image with no
    labels of their own share one label mapping (records share equal mappings), and a pass over
    20,000 rows then costs a few substring tests per row instead of lower-casing every label of
    every row. Label sets of their own (Compose's carry a replica number) beyond `LABEL_SETS` are
    judged the long way rather than held."""

    LABEL_SETS = 1024

    def __init__(self, owner_of: Callable[[str], str | None] | None = None) -> None:
        self._owner_of = owner_of or (lambda cid: None)
        self.text = ""
        self.running_only = False
        self.engine_key: str | None = None
        self._t = ""  # the text as matched: stripped, lower case
        # id(labels) -> (labels, the values joined, the keys and key=value terms joined, a
        # debug helper's, the Compose project); the mapping is held, so its id is not reused.
        self._labels: dict[int, tuple] = {}

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

    def forget_labels(self) -> None:
        """Drop the kept label texts (a fresh list: the records they were for may be gone)."""
        self._labels.clear()

    def _label_terms(self, labels) -> tuple | None:
        if len(self._labels) >= self.LABEL_SETS:
            return None
        lowered = [(k.lower(), v.lower()) for k, v in labels.items()]
        if any(_SEP in k or _SEP in v for k, v in lowered):  # lines of their own: the long way
            e = self._labels[id(labels)] = (labels, None, None, DEBUG_ROLE_LABEL in labels, None)
            return e
        values = _SEP.join(v for _, v in lowered)
        exact = _SEP + _SEP.join(f"{k}{_SEP}{k}={v}" for k, v in lowered) + _SEP
        project = labels.get(COMPOSE_PROJECT)
        e = self._labels[id(labels)] = (labels, values, exact, DEBUG_ROLE_LABEL in labels,
                                        project.lower() if project else "")
        return e

    def accepts(self, c: Container) -> bool:
        return bool(self.select([c]))

    def select(self, containers: Iterable[Container]) -> list[Container]:
        """The containers the criteria accept, in the order given (one pass, no call per row).
        Judged as `matches_search` judges: a text without "=" is a substring of the name, the
        image, the project or a label's value, or a prefix of the id; any text may be a whole
        label key or key=value (found here as a line of `exact`)."""
        t, running_only, engine_key, owner_of = self._t, self.running_only, self.engine_key, self._owner_of
        if _SEP in t:  # (never typed in the one-line field) would straddle the joined lines
            return [c for c in containers if not is_debug_helper(c) and self._accepts_slowly(c)]
        values_too = "=" not in t
        line = _SEP + t + _SEP
        cache, terms = self._labels, self._label_terms
        out = []
        append = out.append
        for c in containers:
            labels = c.labels
            e = cache.get(id(labels))
            if e is None:
                e = terms(labels)
            if e is None or e[1] is None:
                if not is_debug_helper(c) and self._accepts_slowly(c):
                    append(c)
                continue
            if e[3]:
                continue
            if engine_key is not None and owner_of(c.id) != engine_key:
                continue
            if running_only and c.state not in _ACTIVE:
                continue
            if (not t or t in c.name.lower() or t in c.image.lower() or c.id.startswith(t)
                    or (t in e[1] if values_too else t in e[4]) or line in e[2]):
                append(c)
        return out

    def _accepts_slowly(self, c: Container) -> bool:
        if self.engine_key is not None and self._owner_of(c.id) != self.engine_key:
            return False
        if self.running_only and c.state not in _ACTIVE:
            return False
        return matches_search(c, self._t)


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
