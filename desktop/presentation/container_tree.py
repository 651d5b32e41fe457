"""The container table's shape without Qt: standalone containers and Compose projects at the top,
a project's containers under it, each level sorted by the chosen column, and where every row is.

A Qt model adapts it (ui/containers/container_model.py): each change is announced through
`begin(parent, row)` before and `end()` after, so the adapter can bracket it with the
beginInsertRows/endInsertRows (or Remove) pair Qt needs. `parent` is None for the top level, or
the Project the row is under.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.engine.records import Container
from desktop.presentation.container_columns import (COL_NAME, EngineLabel, container_sort_key, project_created,
                                                    project_sort_key)
from desktop.presentation.container_rows import MemberIndex, SortKeyCache

Begin = Callable[["Project | None", int], None]
End = Callable[[], None]
BeginMove = Callable[["Project | None", int, int], None]  # (parent, row, Qt's destination row)


@dataclass(eq=False)
class Project:
    name: str
    pid: int  # stable while the project has rows: the Qt adapter's internal id of its children
    engine_id: str = ""
    children: list[str] = field(default_factory=list)  # container ids, in order
    # service → how many of its containers are here; worked out when asked, dropped on any change
    service_counts: dict[str, int] | None = None
    keys: list = field(default_factory=list, repr=False)  # each child's order key, beside it
    shown: bool = False  # in `top` (False while it waits among the rows still to be added)

    @property
    def key(self) -> tuple[str, str]:
        return (self.engine_id, self.name)


def project_key(c: Container) -> tuple[str, str] | None:
    """Compose projects are per engine: two engines may each have a project `shop`."""
    return (c.engine_id, c.compose_project) if c.compose_project else None


_first = operator.itemgetter(0)


def _quiet_begin(_parent: "Project | None", _row: int) -> None:
    pass


def _quiet_end() -> None:
    pass


def _search(keys: list, k, descending: bool) -> int:
    """Where `k` goes in `keys` (sorted by sort key, ascending or not, then tie-break ascending)."""
    if not descending:
        return bisect.bisect_left(keys, k)
    lo, hi = 0, len(keys)
    sk, tb = k
    while lo < hi:
        mid = (lo + hi) // 2
        msk, mtb = keys[mid]
        if msk > sk or (msk == sk and mtb < tb):
            lo = mid + 1
        else:
            hi = mid
    return lo


class ContainerTree:
    """`top` holds container ids and Projects; `get(cid)` reads the container from the store.

    Every row's order key (its column's sort key, then a unique tie-break: oldest first, then the
    id; a project's is "p" + its name, never a hex id) is kept
    beside it, computed when the row is placed: finding a row or the place for a new one is a
    binary search, not a pass over 20,000 rows. A row is not moved when its container changes
    afterwards (the cells repaint; the next sort puts it in place).
    """

    def __init__(self, get: Callable[[str], Container | None], engine_label: EngineLabel | None = None) -> None:
        self.get = get
        self.engine_label = engine_label or (lambda engine_id: "")
        self.keys = SortKeyCache(get, self.engine_label)
        # Every member of each project, shown or filtered out (set by a model that filters): a
        # project's row, order and replica numbers read all of them. None: the children only.
        self.member_index: MemberIndex | None = None
        self.top: list[str | Project] = []
        self._top_keys: list = []  # beside `top`
        self._key: dict = {}  # top-level cid or project pid -> its key in `_top_keys`
        self._parent: dict[str, Project] = {}  # project member cid -> its project
        self.projects: dict[tuple[str, str], Project] = {}
        self.by_pid: dict[int, Project] = {}
        self._next_pid = 1
        self.sort_col = COL_NAME
        self.descending = False
        # Rows not in `top` yet (a big list is shown a screenful first, the rest added in chunks):
        # (key, item) in order, and the cids/pids among them still wanted.
        self._pending: list = []
        self._pending_at = 0
        self._pending_ids: set = set()

    # -- reading -------------------------------------------------------------------------------------
    def positions(self) -> dict:
        """Row of every top-level item (cid or project pid) and of every child cid in its project."""
        pos: dict = {}
        for i, item in enumerate(self.top):
            if isinstance(item, Project):
                pos[item.pid] = i
                for j, cid in enumerate(item.children):
                    pos[cid] = j
            else:
                pos[item] = i
        return pos

    def __contains__(self, cid: str) -> bool:
        """In the tree (shown or still to be added)."""
        return cid in self._key or cid in self._parent or cid in self._pending_ids

    def _top_row(self, ident) -> int | None:
        k = self._key.get(ident)
        if k is None:
            return None
        i = _search(self._top_keys, k, self.descending)
        return i if i < len(self._top_keys) and self._top_keys[i] == k else None

    def row_of(self, cid: str) -> int | None:
        """The row of a container in its level (None: not shown)."""
        p = self._parent.get(cid)
        if p is None:
            return self._top_row(cid)
        if not p.shown:
            return None
        k = self._child_key(cid)
        i = _search(p.keys, k, self.descending)
        if i < len(p.keys) and p.children[i] == cid:
            return i
        return p.children.index(cid)  # its key changed since it was placed (the record did)

    def project_row(self, p: Project) -> int:
        row = self._top_row(p.pid)
        if row is None:
            raise KeyError(p.name)
        return row

    def project_of(self, cid: str) -> Project | None:
        """The project a container's row is under (None: a top-level row)."""
        return self._parent.get(cid)

    def parent_of(self, c: Container) -> Project | None:
        key = project_key(c)
        return self.projects.get(key) if key else None

    def members(self, p: Project) -> list[Container]:
        ids = p.children if self.member_index is None else self.member_index.ids(p.key)
        return [c for c in (self.get(cid) for cid in ids) if c is not None]

    def scaled(self, c: Container) -> bool:
        """Does c's service have other containers in its project (replicas to tell apart)?"""
        p = self.parent_of(c)
        if p is None or not c.compose_service:
            return False
        if p.service_counts is None:
            counts: dict[str, int] = {}
            for m in self.members(p):
                if m.compose_service:
                    counts[m.compose_service] = counts.get(m.compose_service, 0) + 1
            p.service_counts = counts
        return p.service_counts.get(c.compose_service, 0) > 1

    def find_project(self, name: str, engine_id: str | None = None) -> Project | None:
        """A shown project."""
        if engine_id is not None:
            p = self.projects.get((engine_id, name))
            return p if p is not None and p.shown else None
        return next((p for p in self.projects.values() if p.name == name and p.shown), None)

    @property
    def has_pending(self) -> bool:
        return self._pending_at < len(self._pending)

    # -- order keys ---------------------------------------------------------------------------------
    def sort_key(self, item: "str | Project"):
        if isinstance(item, Project):
            return project_sort_key(item.name, item.engine_id, self.members(item), self.sort_col, self.engine_label)
        return container_sort_key(self.get(item), self.sort_col, self.engine_label)

    def _child_key(self, cid: str):
        return self.keys.key_of(cid, self.sort_col)

    def _item_key(self, item: "str | Project"):
        if isinstance(item, Project):
            members = self.members(item)
            return (project_sort_key(item.name, item.engine_id, members, self.sort_col, self.engine_label),
                    (project_created(members), "p" + item.engine_id + "/" + item.name))
        return self._child_key(item)

    def _ordered(self, items: list) -> list:
        """(key, item) pairs in the tree's order."""
        cids = [i for i in items if not isinstance(i, Project)]
        pairs = list(zip(self.keys.keys_of(cids, self.sort_col), cids))
        if len(cids) < len(items):
            pairs += [(self._item_key(i), i) for i in items if isinstance(i, Project)]
        return self._order(pairs)

    def _order(self, pairs: list) -> list:
        """Sort (key, item) pairs in place in the tree's order; returns them."""
        # No Python function per row (at 20,000 rows the calls cost more than the sort): the
        # keys are taken out into lists and sorted through their C-level __getitem__.
        if self.descending:  # by sort key descending, ties oldest first (two stable sorts)
            order = sorted(range(len(pairs)), key=[k[1] for k, _ in pairs].__getitem__)
            order.sort(key=[k[0] for k, _ in pairs].__getitem__, reverse=True)
            pairs[:] = [pairs[i] for i in order]
        else:
            pairs.sort(key=_first)
        return pairs

    def _set_children(self, p: Project, cids: list[str]) -> None:
        pairs = self._ordered(cids)
        p.keys = [k for k, _ in pairs]
        p.children = [c for _, c in pairs]

    # -- sorting ------------------------------------------------------------------------------------
    def sort(self, col: int, descending: bool = False) -> None:
        """Order every level by `col` (the pending rows too)."""
        self.sort_col, self.descending = col, descending
        for p in self.projects.values():
            self._set_children(p, p.children)
        pairs = self._ordered(self.top)
        self.top = [i for _, i in pairs]
        self._top_keys = [k for k, _ in pairs]
        self._key = {(i.pid if isinstance(i, Project) else i): k for k, i in pairs}
        if self.has_pending:
            rest = [i for _, i in self._pending[self._pending_at:]
                    if (i.pid if isinstance(i, Project) else i) in self._pending_ids]
            self._pending, self._pending_at = self._ordered(rest), 0

    # -- changes ------------------------------------------------------------------------------------
    def _project(self, key: tuple[str, str]) -> Project:
        p = self.projects.get(key)
        if p is None:
            p = Project(key[1], self._next_pid, key[0])
            self._next_pid += 1
            self.projects[key] = p
            self.by_pid[p.pid] = p
        return p

    def rebuild(self, containers: list[Container], shown: int | None = None) -> None:
        """Everything anew (a store reset). With `shown`, only the first `shown` top-level rows are
        placed; `take_pending` adds the others."""
        self.top, self._top_keys, self._key, self._parent = [], [], {}, {}
        self.projects, self.by_pid = {}, {}
        self._pending, self._pending_at, self._pending_ids = [], 0, set()
        # Keys straight from the records in hand (20,000 rows: no store lookups per row).
        col, label, ckey = self.sort_col, self.engine_label, self.keys.key
        top: list = []
        members: dict[tuple[str, str], list[Container]] = {}
        for c in containers:
            key = project_key(c)
            if key:
                cs = members.get(key)
                if cs is None:
                    members[key] = cs = []
                cs.append(c)
            else:
                top.append((ckey(c, col), c.id))
        for key, cs in members.items():
            p = self._project(key)
            kids = [(ckey(c, col), c.id) for c in cs]
            self._order(kids)
            p.keys = [k for k, _ in kids]
            p.children = [cid for _, cid in kids]
            for c in cs:
                self._parent[c.id] = p
            every = cs if self.member_index is None else self.members(p)
            top.append(((project_sort_key(p.name, p.engine_id, every, col, label),
                         (project_created(every), "p" + p.engine_id + "/" + p.name)), p))
        pairs = self._order(top)
        if shown is not None and len(pairs) > shown:
            self._pending = pairs[shown:]
            self._pending_ids = {(i.pid if isinstance(i, Project) else i) for _, i in self._pending}
            pairs = pairs[:shown]
        self.top = [i for _, i in pairs]
        self._top_keys = [k for k, _ in pairs]
        for k, i in pairs:
            if isinstance(i, Project):
                i.shown = True
                self._key[i.pid] = k
            else:
                self._key[i] = k

    def retain(self, keep: "set[str] | frozenset[str]") -> None:
        """Keep only the containers in `keep` (a narrower filter): rows keep their order and keys.
        A project's key reads all its members (`member_index`), so hiding some leaves it as it is."""
        gone_projects = set()
        for p in list(self.projects.values()):
            if all(cid in keep for cid in p.children):
                continue
            kept = [(k, cid) for k, cid in zip(p.keys, p.children) if cid in keep]
            for cid in p.children:
                if cid not in keep:
                    self._parent.pop(cid, None)
            p.keys, p.children = [k for k, _ in kept], [cid for _, cid in kept]
            p.service_counts = None
            if not p.children:
                del self.projects[p.key]
                del self.by_pid[p.pid]
                self._pending_ids.discard(p.pid)
                gone_projects.add(p.pid)
                p.shown = False
        rows = [(k, item) for k, item in zip(self._top_keys, self.top)
                if (item.pid not in gone_projects if isinstance(item, Project) else item in keep)]
        for item in self.top:
            if isinstance(item, Project):
                if item.pid in gone_projects:
                    self._key.pop(item.pid, None)
            elif item not in keep:
                self._key.pop(item, None)
        self._top_keys, self.top = [k for k, _ in rows], [item for _, item in rows]
        self._pending_ids = {i for i in self._pending_ids if (i in keep if isinstance(i, str) else i in self.by_pid)}

    def take_pending(self, n: int, begin: Callable[[None, int, int], None], end: End) -> int:
        """Place up to `n` more of the rows not shown yet, announcing each contiguous run with
        `begin(None, first, last)` ... `end()`. Returns how many were placed."""
        batch = []
        while self._pending_at < len(self._pending) and len(batch) < n:
            k, item = self._pending[self._pending_at]
            self._pending_at += 1
            ident = item.pid if isinstance(item, Project) else item
            if ident not in self._pending_ids:
                continue  # removed meanwhile
            self._pending_ids.discard(ident)
            if isinstance(item, Project):
                if not item.children:
                    continue
            elif self.get(item) is None:
                continue
            batch.append((self._item_key(item), item))  # (records and members changed meanwhile)
        if not self.has_pending:
            self._pending, self._pending_at = [], 0
        self._order(batch)
        i = 0
        while i < len(batch):
            pos = _search(self._top_keys, batch[i][0], self.descending)
            j = i + 1
            if pos < len(self._top_keys):  # the run ends where an already shown row comes first
                bound = self._top_keys[pos]
                while j < len(batch) and _search([bound], batch[j][0], self.descending) == 0:
                    j += 1
            else:
                j = len(batch)
            run = batch[i:j]
            begin(None, pos, pos + len(run) - 1)
            self.top[pos:pos] = [it for _, it in run]
            self._top_keys[pos:pos] = [k for k, _ in run]
            for k, it in run:
                if isinstance(it, Project):
                    it.shown = True
                    self._key[it.pid] = k
                else:
                    self._key[it] = k
            end()
            i = j
        return len(batch)

    def insert(self, c: Container, begin: Begin = _quiet_begin, end: End = _quiet_end) -> Project | None:
        """Add a container that is not in the tree yet. Returns the project it joined, if it joined
        a shown one (its row changed too); a new project is inserted as one top-level row."""
        if c.id in self:
            return None
        key = project_key(c)
        if key:
            p = self.projects.get(key)
            if p is None:
                p = self._project(key)
                self._parent[c.id] = p
                self._set_children(p, [c.id])
                self._place_top(p, begin, end)
                return None
            self._parent[c.id] = p
            k = self._child_key(c.id)
            pos = _search(p.keys, k, self.descending)
            if not p.shown:  # waiting among the rows not added yet: nothing on screen changes
                p.children.insert(pos, c.id)
                p.keys.insert(pos, k)
                p.service_counts = None
                return None
            begin(p, pos)
            p.children.insert(pos, c.id)
            p.keys.insert(pos, k)
            p.service_counts = None
            end()
            return p
        self._place_top(c.id, begin, end)
        return None

    def _place_top(self, item: "str | Project", begin: Begin, end: End) -> None:
        k = self._item_key(item)
        pos = _search(self._top_keys, k, self.descending)
        begin(None, pos)
        self.top.insert(pos, item)
        self._top_keys.insert(pos, k)
        if isinstance(item, Project):
            item.shown = True
            self._key[item.pid] = k
        else:
            self._key[item] = k
        end()

    def remove(self, ids: list[str], begin: Begin = _quiet_begin, end: End = _quiet_end) -> list[Project]:
        """Take containers out (an emptied project goes too). Returns the shown projects that lost
        some rows but remain (their rows changed)."""
        top_rows = []
        by_project: dict[int, set[str]] = {}
        for cid in set(ids):
            if cid in self._pending_ids:
                self._pending_ids.discard(cid)
            elif cid in self._key:
                top_rows.append(self._top_row(cid))
            elif cid in self._parent:
                by_project.setdefault(self._parent[cid].pid, set()).add(cid)
        for row in sorted((r for r in top_rows if r is not None), reverse=True):
            begin(None, row)
            del self._key[self.top[row]]
            del self.top[row]
            del self._top_keys[row]
            end()
        changed = []
        for pid, gone in by_project.items():
            p = self.by_pid[pid]
            for cid in gone:
                del self._parent[cid]
            if all(cid in gone for cid in p.children):
                if not p.shown:
                    del self.projects[p.key]
                    del self.by_pid[p.pid]
                    self._pending_ids.discard(p.pid)
                    p.children, p.keys = [], []
                    continue
                prow = self.project_row(p)
                begin(None, prow)  # (the project's rows still answer until end())
                del self.top[prow]
                del self._top_keys[prow]
                del self._key[p.pid]
                del self.projects[p.key]
                del self.by_pid[p.pid]
                p.shown = False
                end()
                continue
            for row in range(len(p.children) - 1, -1, -1):
                if p.children[row] in gone:
                    if p.shown:
                        begin(p, row)
                    del p.children[row]
                    del p.keys[row]
                    p.service_counts = None
                    if p.shown:
                        end()
            if p.shown:
                changed.append(p)
        return changed

    # -- a changed record's place --------------------------------------------------------------------
    def reorder(self, cid: str, begin_move: BeginMove, end: End) -> bool:
        """Put a container whose record changed where its new order key goes (announced as a
        move: the row keeps its selection). Returns whether it moved."""
        p = self._parent.get(cid)
        if p is None:
            if cid not in self._key:
                return False  # not shown (yet)
            return self._reorder_top(cid, self._child_key(cid), begin_move, end)
        row = self.row_of(cid)
        if row is None:  # its project waits among the rows still to be added: order it quietly
            i = p.children.index(cid)
            del p.children[i], p.keys[i]
            k = self._child_key(cid)
            pos = _search(p.keys, k, self.descending)
            p.children.insert(pos, cid)
            p.keys.insert(pos, k)
            return False
        k = self._child_key(cid)
        if p.keys[row] == k:
            return False
        dest = _search(p.keys, k, self.descending)
        return self._move(p, p.children, p.keys, row, dest, k, begin_move, end)

    def reorder_project(self, p: Project, begin_move: BeginMove, end: End) -> bool:
        """Put a shown project whose members changed where its new order key goes."""
        if not p.shown or p.pid not in self._key:
            return False
        return self._reorder_top(p.pid, self._item_key(p), begin_move, end, p)

    def _reorder_top(self, ident, k, begin_move: BeginMove, end: End, item=None) -> bool:
        old = self._key[ident]
        if old == k:
            return False
        row = self._top_row(ident)
        if row is None:
            return False
        dest = _search(self._top_keys, k, self.descending)
        return self._move(None, self.top, self._top_keys, row, dest, k, begin_move, end, ident)

    def _move(self, parent: "Project | None", items: list, keys: list, row: int, dest: int, k,
              begin_move: BeginMove, end: End, top_ident=None) -> bool:
        # `dest` is where the new key goes in the list as it is (Qt's numbering for a move):
        # row or row + 1 mean the row stays where it is, with its new key.
        if dest in (row, row + 1):
            keys[row] = k
            if top_ident is not None:
                self._key[top_ident] = k
            return False
        begin_move(parent, row, dest)  # (every row still answers where it was until end())
        item = items.pop(row)
        del keys[row]
        at = dest - 1 if dest > row else dest
        items.insert(at, item)
        keys.insert(at, k)
        if top_ident is not None:
            self._key[top_ident] = k
        end()
        return True
