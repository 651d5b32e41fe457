"""Which containers the table shows and how fast it can order them (no Qt).

The Containers table filters and sorts in its own model rather than through a Qt proxy: a proxy
asks the Python model for every row again on each relayout (~60,000 calls at 20,000 rows). These
are the pieces that make one filter pass and one sort cheap:

- `ContainerFilter`: the search text, the running-only toggle and the engine shown; a verdict per
  container kept with the record it was made for (records are replaced, never changed, so `is`
  tells a stale one);
- `SortKeyCache`: each container's order key per column, computed once per record;
- `MemberIndex`: every container of each Compose project, shown or filtered out (a project's
  row reads its state and count from all of them, as it did when a proxy hid some).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from desktop.engine.records import Container
from desktop.presentation.container_columns import (COL_CREATED, COL_ENGINE, COL_IMAGE, COL_NAME, COL_PORTS,
                                                    COL_STATE, EngineLabel, container_sort_key)
from desktop.presentation.containers import is_debug_helper, matches_filter

_ACTIVE = ("running", "restarting", "paused")
# Columns with an order of their own; the others (CPU %, Memory, Actions) order by name.
KEYED_COLUMNS = (COL_NAME, COL_ENGINE, COL_IMAGE, COL_STATE, COL_PORTS, COL_CREATED)
_SEP = "\n"  # between the fields searched as one string: no typed text spans two fields


def key_column(col: int) -> int:
    """The column whose keys `col` sorts by."""
    return col if col in KEYED_COLUMNS else COL_NAME


class ContainerFilter:
    """The criteria of the table and a cached verdict per container."""

    def __init__(self, owner_of: Callable[[str], str | None] | None = None) -> None:
        self._owner_of = owner_of or (lambda cid: None)
        self.text = ""
        self.running_only = False
        self.engine_key: str | None = None
        self._t = ""  # the text as matched: stripped, lower case
        self._verdicts: dict[str, tuple[Container, bool]] = {}
        # name, image and project in one lower-case string, and the label keys / key=value pairs,
        # per record: a keystroke then costs a substring test per container, not a dozen
        self._hay: dict[str, tuple] = {}
        # Label keys and key=value pairs → the containers that have them (from the haystacks made
        # so far), and the containers searched the plain way: a longer text matches only what the
        # shorter one did, except by a whole key or pair (see `narrows`).
        self._exact: dict[str, set[str]] = {}
        self._odd: set[str] = set()
        self.narrows = False

    def set(self, text: str | None = None, running_only: bool | None = None,
            engine_key: "str | None | type[...]" = ...) -> bool:
        """Change the criteria. Returns whether anything changed."""
        before = (self._t, self.running_only, self.engine_key)
        old_t = self._t
        if text is not None:
            self.text = text
            self._t = text.strip().lower()
        if running_only is not None:
            self.running_only = running_only
        if engine_key is not ...:
            self.engine_key = engine_key
        changed = before != (self._t, self.running_only, self.engine_key)
        # Only the text grew at its end: what it matches now, the old text matched (substrings,
        # id prefixes), but for containers with a label key or key=value equal to the new text.
        self.narrows = changed and before[1:] == (self.running_only, self.engine_key) and self._t.startswith(old_t)
        if changed:
            self._verdicts = {}
            if not self._t:
                self._hay, self._exact, self._odd = {}, {}, set()  # built again at the next search
        return changed

    @property
    def active(self) -> bool:
        return bool(self._t or self.running_only or self.engine_key is not None)

    def forget(self, cid: str) -> None:
        self._verdicts.pop(cid, None)
        self._hay.pop(cid, None)

    def accepts(self, c: Container) -> bool:
        v = self._verdicts.get(c.id)
        if v is not None and v[0] is c:
            return v[1]
        ok = self._judge(c)
        self._verdicts[c.id] = (c, ok)
        return ok

    def _judge(self, c: Container) -> bool:
        if is_debug_helper(c):
            return False
        if self.engine_key is not None and self._owner_of(c.id) != self.engine_key:
            return False
        if self.running_only and c.state not in _ACTIVE:
            return False
        t = self._t
        if not t:
            return True
        if _SEP in t:
            return matches_filter(c, t)
        h = self._hay.get(c.id)
        if h is None or h[0] is not c:
            h = self._hay[c.id] = _haystack(c)
            self._index(c.id, h)
        _, fields, values, keys, pairs = h
        if keys is None:  # a label value holds the separator: the plain way
            return matches_filter(c, t)
        if t in fields or c.id.startswith(t):
            return True
        if "=" in t:
            return f"{_SEP}{t}{_SEP}" in pairs or f"{_SEP}{t}{_SEP}" in keys
        return t in values or f"{_SEP}{t}{_SEP}" in keys


    def _index(self, cid: str, h: tuple) -> None:
        _, _, _, keys, pairs = h
        if keys is None:
            self._odd.add(cid)
            return
        for whole in (keys, pairs):
            for x in whole.split(_SEP):
                if x:
                    self._exact.setdefault(x, set()).add(cid)

    def narrowing_extra(self) -> set[str]:
        """With `narrows`: the ids that may match the new text without having matched the old one
        (besides those, only the containers the old criteria accepted can match)."""
        return self._exact.get(self._t, set()) | self._odd


def _haystack(c: Container) -> tuple:
    """What `matches_filter` looks at, prepared once per record (the same answers, faster): name,
    image and project; label values; label keys and key=value pairs, each between separators so a
    whole one can be looked for."""
    fields = f"{c.name}{_SEP}{c.image}{_SEP}{c.compose_project or ''}".lower()
    labels = c.labels
    if not labels:
        return c, fields, "", _SEP, _SEP
    keys = [k.lower() for k in labels]
    values = [v.lower() for v in labels.values()]
    if any(_SEP in x for x in keys) or any(_SEP in x for x in values):
        return c, fields, "", None, None
    pairs = _SEP.join(f"{k}={v}" for k, v in zip(keys, values))
    return c, fields, _SEP.join(values), f"{_SEP}{_SEP.join(keys)}{_SEP}", f"{_SEP}{pairs}{_SEP}"


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
