"""The container table's shape without Qt: standalone containers and Compose projects at the top,
a project's services under it, each service's containers (its replicas) under that, each level
sorted by the chosen column, and where every row is.

Every Compose member sits under a service row, a service with one container too: a row never
changes level when a service is scaled up or down (selection, expansion and the keyboard's place
stay put), the shape is the Compose page's, and the service row says how many of its replicas run.

A Qt model adapts it (ui/containers/container_model.py): each change is announced through
`begin(parent, row)` before and `end()` after, so the adapter can bracket it with the
beginInsertRows/endInsertRows (or Remove) pair Qt needs. `parent` is None for the top level, the
Project a service row is under, or the Service a container row is under.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.engine.records import Container
from desktop.presentation.container_columns import (COL_NAME, EngineLabel, container_sort_key, project_created,
                                                    project_sort_key, service_name, service_sort_key)
from desktop.presentation.container_rows import MemberIndex, SortKeyCache

Begin = Callable[["Project | Service | None", int], None]
End = Callable[[], None]
BeginMove = Callable[["Project | Service | None", int, int], None]  # (parent, row, Qt's destination row)
_first = operator.itemgetter(0)


@dataclass(eq=False)
class Service:
    name: str
    pid: int  # stable while the service has rows: the Qt adapter's internal id of its children
    project: "Project"
    children: list[str] = field(default_factory=list)  # container ids, in order
    keys: list = field(default_factory=list, repr=False)  # each child's order key, beside it
    order_key: tuple = ()  # its own key among its project's services, from when it was placed

    def member_ids(self) -> list[str]:
        return self.children


@dataclass(eq=False)
class Project:
    name: str
    pid: int  # stable while the project has rows: the Qt adapter's internal id of its children
    engine_id: str = ""
    children: list[Service] = field(default_factory=list)  # its services, in order
    keys: list = field(default_factory=list, repr=False)  # each service's order key, beside it
    services: dict[str, Service] = field(default_factory=dict, repr=False)  # by name
    shown: bool = False  # in `top` (False while it waits among the rows still to be added)

    @property
    def key(self) -> tuple[str, str]:
        return (self.engine_id, self.name)

    def member_ids(self) -> list[str]:
        return [cid for s in self.children for cid in s.children]


def project_key(c: Container) -> tuple[str, str] | None:
    """Compose projects are per engine: two engines may each have a project `shop`."""
    return (c.engine_id, c.compose_project) if c.compose_project else None


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
    id; a project's is "p" + its name, a service's "s" + its name, never a hex id) is kept
    beside it, computed when the row is placed: finding a row or the place for a new one is a
    binary search, not a pass over 20,000 rows. A row is not moved when its container changes
    afterwards (the cells repaint; the next sort puts it in place).
    """

    def __init__(self, get: Callable[[str], Container | None], engine_label: EngineLabel | None = None) -> None:
        self.get = get
        self.engine_label = engine_label or (lambda engine_id: "")
        self.keys = SortKeyCache(get, self.engine_label)
        # Every member of each project, shown or filtered out (set by a model that filters): a
        # project's and a service's row and order read all of them. None: the rows only.
        self.member_index: MemberIndex | None = None
        self.top: list[str | Project] = []
        self._top_keys: list = []  # beside `top`
        self._key: dict = {}  # top-level cid or project pid -> its key in `_top_keys`
        self._parent: dict[str, Service] = {}  # project member cid -> its service
        self.projects: dict[tuple[str, str], Project] = {}
        self.by_pid: dict[int, Project | Service] = {}  # projects' and services' ids share one space
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
        """Row of every top-level item (cid or project pid), of every service (its pid) in its
        project and of every member cid in its service."""
        pos: dict = {}
        for i, item in enumerate(self.top):
            if isinstance(item, Project):
                pos[item.pid] = i
                for j, s in enumerate(item.children):
                    pos[s.pid] = j
                    for k, cid in enumerate(s.children):
                        pos[cid] = k
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
        s = self._parent.get(cid)
        if s is None:
            return self._top_row(cid)
        if not s.project.shown:
            return None
        k = self._child_key(cid)
        i = _search(s.keys, k, self.descending)
        if i < len(s.keys) and s.children[i] == cid:
            return i
        return s.children.index(cid)  # its key changed since it was placed (the record did)

    def project_row(self, p: Project) -> int:
        row = self._top_row(p.pid)
        if row is None:
            raise KeyError(p.name)
        return row

    def service_row(self, s: Service) -> int:
        p = s.project
        i = _search(p.keys, s.order_key, self.descending)
        if i < len(p.children) and p.children[i] is s:
            return i
        return p.children.index(s)

    def project_of(self, cid: str) -> Project | None:
        """The project a container's row is under (None: a top-level row)."""
        s = self._parent.get(cid)
        return s.project if s is not None else None

    def service_of(self, cid: str) -> Service | None:
        """The service a container's row is under (None: a top-level row)."""
        return self._parent.get(cid)

    def parent_of(self, c: Container) -> Project | None:
        key = project_key(c)
        return self.projects.get(key) if key else None

    def members(self, node: "Project | Service") -> list[Container]:
        if self.member_index is not None:
            p = node if isinstance(node, Project) else node.project
            cs = [c for c in map(self.get, self.member_index.ids(p.key)) if c is not None]
            return cs if isinstance(node, Project) else [c for c in cs if service_name(c) == node.name]
        ids = node.member_ids() if isinstance(node, Project) else node.children
        return [c for c in (self.get(cid) for cid in ids) if c is not None]

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
    def sort_key(self, item: "str | Project | Service"):
        if isinstance(item, Project):
            return project_sort_key(item.name, item.engine_id, self.members(item), self.sort_col, self.engine_label)
        if isinstance(item, Service):
            return service_sort_key(item.name, self.members(item), self.sort_col)
        return container_sort_key(self.get(item), self.sort_col, self.engine_label)

    def _child_key(self, cid: str):
        return self.keys.key_of(cid, self.sort_col)

    def _service_key(self, s: Service, members: list[Container] | None = None):
        members = self.members(s) if members is None else members
        return (service_sort_key(s.name, members, self.sort_col), (project_created(members), "s" + s.name))

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
        # No Python function per row (at 20,000 rows the calls cost more than the sort itself): the
        # keys are taken out into lists and sorted through their C-level __getitem__.
        if self.descending:  # by sort key descending, ties oldest first (two stable sorts)
            order = sorted(range(len(pairs)), key=[k[1] for k, _ in pairs].__getitem__)
            order.sort(key=[k[0] for k, _ in pairs].__getitem__, reverse=True)
            pairs[:] = [pairs[i] for i in order]
        else:
            pairs.sort(key=_first)
        return pairs

    def _set_children(self, s: Service, cids: list[str]) -> None:
        pairs = self._ordered(cids)
        s.keys = [k for k, _ in pairs]
        s.children = [c for _, c in pairs]

    def _set_services(self, p: Project) -> None:
        by_service: dict[str, list[Container]] = {}  # the project's members read once, not per service
        for c in self.members(p):
            by_service.setdefault(service_name(c), []).append(c)
        pairs = self._order([(self._service_key(s, by_service.get(s.name, [])), s) for s in p.children])
        for k, s in pairs:
            s.order_key = k
        p.keys = [k for k, _ in pairs]
        p.children = [s for _, s in pairs]

    # -- sorting ------------------------------------------------------------------------------------
    def sort(self, col: int, descending: bool = False) -> None:
        """Order every level by `col` (the pending rows too)."""
        self.sort_col, self.descending = col, descending
        for p in self.projects.values():
            for s in p.children:
                self._set_children(s, s.children)
            self._set_services(p)
        pairs = self._ordered(self.top)
        self.top = [i for _, i in pairs]
        self._top_keys = [k for k, _ in pairs]
        self._key = {(i.pid if isinstance(i, Project) else i): k for k, i in pairs}
        if self.has_pending:
            rest = [i for _, i in self._pending[self._pending_at:]
                    if (i.pid if isinstance(i, Project) else i) in self._pending_ids]
            self._pending, self._pending_at = self._ordered(rest), 0

    # -- changes ------------------------------------------------------------------------------------
    def _new_id(self) -> int:
        self._next_pid += 1
        return self._next_pid - 1

    def _project(self, key: tuple[str, str]) -> Project:
        p = self.projects.get(key)
        if p is None:
            p = Project(key[1], self._new_id(), key[0])
            self.projects[key] = p
            self.by_pid[p.pid] = p
        return p

    def _service(self, p: Project, name: str) -> Service:
        """A service not in `p.children` yet (the caller places it)."""
        s = Service(name, self._new_id(), p)
        p.services[name] = s
        self.by_pid[s.pid] = s
        return s

    def rebuild(self, containers: list[Container], shown: int | None = None) -> None:
        """Everything anew (a store reset). With `shown`, only the first `shown` top-level rows are
        placed; `take_pending` adds the others."""
        self.top, self._top_keys, self._key, self._parent = [], [], {}, {}
        self.projects, self.by_pid = {}, {}
        self._pending, self._pending_at, self._pending_ids = [], 0, set()
        # Keys straight from the records in hand (20,000 rows: no store lookups per row).
        col, label, ckey, every = self.sort_col, self.engine_label, self.keys.key, self.member_index is not None
        top: list = []
        members: dict[tuple[str, str], dict[str, list[Container]]] = {}
        for c in containers:
            key = project_key(c)
            if key:
                by_service = members.get(key)
                if by_service is None:
                    members[key] = by_service = {}
                cs = by_service.get(service_name(c))
                if cs is None:
                    by_service[service_name(c)] = cs = []
                cs.append(c)
            else:
                top.append((ckey(c, col), c.id))
        for key, by_service in members.items():
            p = self._project(key)
            everyone: list[Container] = []
            services = []
            for name, cs in by_service.items():
                s = self._service(p, name)
                kids = [(ckey(c, col), c.id) for c in cs]
                self._order(kids)
                s.keys = [k for k, _ in kids]
                s.children = [cid for _, cid in kids]
                for c in cs:
                    self._parent[c.id] = s
                services.append((self._service_key(s, None if every else cs), s))
                everyone += cs
            self._order(services)
            for k, s in services:
                s.order_key = k
            p.keys = [k for k, _ in services]
            p.children = [s for _, s in services]
            if every:
                everyone = self.members(p)
            top.append(((project_sort_key(p.name, p.engine_id, everyone, col, label),
                         (project_created(everyone), "p" + p.engine_id + "/" + p.name)), p))
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

    def insert(self, c: Container, begin: Begin = _quiet_begin, end: End = _quiet_end) -> list:
        """Add a container that is not in the tree yet. Returns the shown rows it joined (its
        service and project, or the project a new service joined: their cells changed too); a new
        project is inserted as one top-level row."""
        if c.id in self:
            return []
        key = project_key(c)
        if not key:
            self._place_top(c.id, begin, end)
            return []
        p = self.projects.get(key)
        name = service_name(c)
        if p is None:
            p = self._project(key)
            s = self._service(p, name)
            self._parent[c.id] = s
            self._set_children(s, [c.id])
            p.children = [s]
            self._set_services(p)
            self._place_top(p, begin, end)
            return []
        s = p.services.get(name)
        self_begin, self_end = (begin, end) if p.shown else (_quiet_begin, _quiet_end)
        if s is None:  # a new service of a known project
            s = self._service(p, name)
            self._parent[c.id] = s
            self._set_children(s, [c.id])
            s.order_key = self._service_key(s)
            pos = _search(p.keys, s.order_key, self.descending)
            self_begin(p, pos)
            p.children.insert(pos, s)
            p.keys.insert(pos, s.order_key)
            self_end()
            return [p] if p.shown else []
        self._parent[c.id] = s
        k = self._child_key(c.id)
        pos = _search(s.keys, k, self.descending)
        self_begin(s, pos)  # (quiet while the project waits among the rows not added yet)
        s.children.insert(pos, c.id)
        s.keys.insert(pos, k)
        self_end()
        return [s, p] if p.shown else []

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

    def remove(self, ids: list[str], begin: Begin = _quiet_begin, end: End = _quiet_end) -> list:
        """Take containers out (an emptied service or project goes too). Returns the shown
        services and projects that lost some rows but remain (their cells changed)."""
        top_rows = []
        by_service: dict[int, set[str]] = {}
        for cid in set(ids):
            if cid in self._pending_ids:
                self._pending_ids.discard(cid)
            elif cid in self._key:
                top_rows.append(self._top_row(cid))
            elif cid in self._parent:
                by_service.setdefault(self._parent[cid].pid, set()).add(cid)
        for row in sorted((r for r in top_rows if r is not None), reverse=True):
            begin(None, row)
            del self._key[self.top[row]]
            del self.top[row]
            del self._top_keys[row]
            end()
        by_project: dict[int, list[tuple[Service, set[str]]]] = {}
        for sid, gone in by_service.items():
            s = self.by_pid[sid]
            by_project.setdefault(s.project.pid, []).append((s, gone))
            for cid in gone:
                del self._parent[cid]
        changed = []
        for pid, losses in by_project.items():
            p = self.by_pid[pid]
            if sum(len(gone) for _, gone in losses) == sum(len(s.children) for s in p.children):
                self._drop_project(p, begin, end)
                continue
            for s, gone in losses:
                if len(gone) == len(s.children):
                    self._drop_service(s, begin, end)
                    continue
                for row in range(len(s.children) - 1, -1, -1):
                    if s.children[row] in gone:
                        if p.shown:
                            begin(s, row)
                        del s.children[row]
                        del s.keys[row]
                        if p.shown:
                            end()
                if p.shown:
                    changed.append(s)
            if p.shown:
                changed.append(p)
        return changed

    def _forget(self, p: Project) -> None:
        del self.projects[p.key]
        del self.by_pid[p.pid]
        for s in p.children:
            self.by_pid.pop(s.pid, None)

    def _drop_project(self, p: Project, begin: Begin, end: End) -> None:
        """Every member gone: the project's row goes (with its services)."""
        if not p.shown:
            self._forget(p)
            self._pending_ids.discard(p.pid)
            p.children, p.keys, p.services = [], [], {}
            return
        prow = self.project_row(p)
        begin(None, prow)  # (the project's rows still answer until end())
        del self.top[prow]
        del self._top_keys[prow]
        del self._key[p.pid]
        self._forget(p)
        p.shown = False
        end()

    def _drop_service(self, s: Service, begin: Begin, end: End) -> None:
        p = s.project
        row = self.service_row(s)
        if p.shown:
            begin(p, row)
        del p.children[row]
        del p.keys[row]
        del p.services[s.name]
        del self.by_pid[s.pid]
        if p.shown:
            end()

    # -- a narrower filter -----------------------------------------------------------------------------
    def retain(self, keep: "set[str] | frozenset[str]") -> None:
        """Keep only the containers in `keep` (a narrower filter): rows keep their order and keys.
        A project's and a service's key read all their members (`member_index`), so hiding some
        leaves them where they are."""
        gone_projects = set()
        for p in list(self.projects.values()):
            if all(cid in keep for cid in p.member_ids()):
                continue
            for sv in list(p.children):
                if all(cid in keep for cid in sv.children):
                    continue
                kept = [(k, cid) for k, cid in zip(sv.keys, sv.children) if cid in keep]
                for cid in sv.children:
                    if cid not in keep:
                        self._parent.pop(cid, None)
                sv.keys, sv.children = [k for k, _ in kept], [cid for _, cid in kept]
                if not sv.children:
                    del p.services[sv.name]
                    del self.by_pid[sv.pid]
            services = [(k, sv) for k, sv in zip(p.keys, p.children) if sv.children]
            p.keys, p.children = [k for k, _ in services], [sv for _, sv in services]
            if not p.children:
                self._forget(p)
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

    # -- a changed record's place --------------------------------------------------------------------
    def reorder(self, cid: str, begin_move: BeginMove, end: End) -> bool:
        """Put a container whose record changed where its new order key goes (announced as a
        move: the row keeps its selection). Returns whether it moved. Its service and project
        follow with `reorder_group`."""
        sv = self._parent.get(cid)
        k = self._child_key(cid)
        if sv is None:
            old = self._key.get(cid)
            if old is None or old == k:
                return False  # not shown (yet), or in place
            row = self._top_row(cid)
            dest = _search(self._top_keys, k, self.descending)
            return self._move(None, self.top, self._top_keys, row, dest, k, begin_move, end,
                              lambda: self._key.__setitem__(cid, k))
        row = sv.children.index(cid)
        if sv.keys[row] == k:
            return False
        dest = _search(sv.keys, k, self.descending)
        if not sv.project.shown:  # waiting among the rows still to be added: nothing on screen moves
            begin_move, end = _quiet_move, _quiet_end
        return self._move(sv, sv.children, sv.keys, row, dest, k, begin_move, end)

    def reorder_group(self, p: Project, begin_move: BeginMove, end: End) -> None:
        """Put a project's services, and the project among the top-level rows, where their new
        order keys go (their members changed)."""
        quiet = not p.shown
        move, fin = (_quiet_move, _quiet_end) if quiet else (begin_move, end)
        for sv in list(p.children):
            k = self._service_key(sv)
            if k == sv.order_key:
                continue
            row = self.service_row(sv)
            dest = _search(p.keys, k, self.descending)
            self._move(p, p.children, p.keys, row, dest, k, move, fin,
                       lambda sv=sv, k=k: setattr(sv, "order_key", k))
        if quiet or p.pid not in self._key:
            return
        k = self._item_key(p)
        if self._key[p.pid] == k:
            return
        row = self._top_row(p.pid)
        dest = _search(self._top_keys, k, self.descending)
        self._move(None, self.top, self._top_keys, row, dest, k, begin_move, end,
                   lambda: self._key.__setitem__(p.pid, k))

    @staticmethod
    def _move(parent, items: list, keys: list, row: int, dest: int, k, begin_move: BeginMove, end: End,
              rekeyed: Callable[[], None] | None = None) -> bool:
        # `dest` is where the new key goes in the list as it is (Qt's numbering for a move):
        # row or row + 1 mean the row stays where it is, with its new key. `rekeyed` records the
        # new key where rows are looked up, before end() (Qt reads the rows again there).
        if dest in (row, row + 1):
            keys[row] = k
            if rekeyed is not None:
                rekeyed()
            return False
        begin_move(parent, row, dest)  # (every row still answers where it was until end())
        item = items.pop(row)
        del keys[row]
        at = dest - 1 if dest > row else dest
        items.insert(at, item)
        keys.insert(at, k)
        if rekeyed is not None:
            rekeyed()
        end()
        return True


def _quiet_move(_parent, _row: int, _dest: int) -> None:
    pass
