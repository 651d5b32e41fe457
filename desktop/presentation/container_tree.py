"""The container table's shape without Qt: standalone containers and Compose projects at the top,
a project's containers under it, each level sorted by the chosen column, and where every row is.

A Qt model adapts it (ui/containers/container_model.py): each change is announced through
`begin(parent, row)` before and `end()` after, so the adapter can bracket it with the
beginInsertRows/endInsertRows (or Remove) pair Qt needs. `parent` is None for the top level, or
the Project the row is under.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.engine.records import Container
from desktop.presentation.container_columns import COL_NAME, EngineLabel, container_sort_key, project_sort_key

Begin = Callable[["Project | None", int], None]
End = Callable[[], None]


@dataclass(eq=False)
class Project:
    name: str
    pid: int  # stable while the project has rows: the Qt adapter's internal id of its children
    engine_id: str = ""
    children: list[str] = field(default_factory=list)  # container ids, in order
    # service → how many of its containers are here; worked out when asked, dropped on any change
    service_counts: dict[str, int] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.engine_id, self.name)


def project_key(c: Container) -> tuple[str, str] | None:
    """Compose projects are per engine: two engines may each have a project `shop`."""
    return (c.engine_id, c.compose_project) if c.compose_project else None


def _quiet_begin(_parent: "Project | None", _row: int) -> None:
    pass


def _quiet_end() -> None:
    pass


class ContainerTree:
    """`top` holds container ids and Projects; `get(cid)` reads the container from the store."""

    def __init__(self, get: Callable[[str], Container | None], engine_label: EngineLabel | None = None) -> None:
        self.get = get
        self.engine_label = engine_label or (lambda engine_id: "")
        self.top: list[str | Project] = []
        self.projects: dict[tuple[str, str], Project] = {}
        self.by_pid: dict[int, Project] = {}
        self._next_pid = 1
        self.sort_col = COL_NAME
        self.descending = False
        # Row of every top-level item (cid or project pid) and of every child cid in its project,
        # rebuilt lazily after any structural change: Qt asks parent() for every index it holds,
        # and a list.index() there made a burst of 200 changes cost ~300 ms of UI thread.
        self._pos: dict | None = None

    # -- reading -------------------------------------------------------------------------------------
    def positions(self) -> dict:
        if self._pos is None:
            pos: dict = {}
            for i, item in enumerate(self.top):
                if isinstance(item, Project):
                    pos[item.pid] = i
                    for j, cid in enumerate(item.children):
                        pos[cid] = j
                else:
                    pos[item] = i
            self._pos = pos
        return self._pos

    def row_of(self, cid: str) -> int | None:
        """The row of a container in its level (None: not in the tree)."""
        return self.positions().get(cid)

    def project_row(self, p: Project) -> int:
        return self.positions()[p.pid]

    def parent_of(self, c: Container) -> Project | None:
        key = project_key(c)
        return self.projects.get(key) if key else None

    def members(self, p: Project) -> list[Container]:
        return [c for c in (self.get(cid) for cid in p.children) if c is not None]

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
        if engine_id is not None:
            return self.projects.get((engine_id, name))
        return next((p for p in self.projects.values() if p.name == name), None)

    # -- sorting ------------------------------------------------------------------------------------
    def sort_key(self, item: "str | Project"):
        if isinstance(item, Project):
            return project_sort_key(item.name, item.engine_id, self.members(item), self.sort_col, self.engine_label)
        return container_sort_key(self.get(item), self.sort_col, self.engine_label)

    def _sorted(self, items: list) -> list:
        return sorted(items, key=self.sort_key, reverse=self.descending)

    def sort(self, col: int, descending: bool = False) -> None:
        self.sort_col, self.descending = col, descending
        self._pos = None
        self.top = self._sorted(self.top)
        for p in self.projects.values():
            p.children = self._sorted(p.children)

    def _insert_pos(self, items: list, item) -> int:
        keys = [self.sort_key(x) for x in items]
        k = self.sort_key(item)
        if self.descending:
            # bisect needs ascending order; search the mirrored list.
            return len(items) - bisect.bisect_left(keys[::-1], k)
        return bisect.bisect_right(keys, k)

    # -- changes ------------------------------------------------------------------------------------
    def _project(self, key: tuple[str, str]) -> Project:
        p = self.projects.get(key)
        if p is None:
            p = Project(key[1], self._next_pid, key[0])
            self._next_pid += 1
            self.projects[key] = p
            self.by_pid[p.pid] = p
        return p

    def rebuild(self, containers: list[Container]) -> None:
        """Everything anew (a store reset), oldest first before sorting, so ties keep that order."""
        self._pos = None
        self.top, self.projects, self.by_pid = [], {}, {}
        for c in sorted(containers, key=lambda c: c.created):
            key = project_key(c)
            if key:
                p = self.projects.get(key)
                if p is None:
                    p = self._project(key)
                    self.top.append(p)
                p.children.append(c.id)
            else:
                self.top.append(c.id)
        self.sort(self.sort_col, self.descending)

    def insert(self, c: Container, begin: Begin = _quiet_begin, end: End = _quiet_end) -> Project | None:
        """Add a container that is not in the tree yet. Returns the project it joined, if it joined
        an existing one (its row changed too); a new project is inserted as one top-level row."""
        key = project_key(c)
        if key:
            p = self.projects.get(key)
            if p is None:
                p = self._project(key)
                p.children.append(c.id)
                pos = self._insert_pos(self.top, p)
                begin(None, pos)
                self.top.insert(pos, p)
                self._pos = None
                end()
                return None
            pos = self._insert_pos(p.children, c.id)
            begin(p, pos)
            p.children.insert(pos, c.id)
            p.service_counts = None
            self._pos = None
            end()
            return p
        pos = self._insert_pos(self.top, c.id)
        begin(None, pos)
        self.top.insert(pos, c.id)
        self._pos = None
        end()
        return None

    def remove(self, ids: list[str], begin: Begin = _quiet_begin, end: End = _quiet_end) -> list[Project]:
        """Take containers out (an emptied project goes too). Returns the projects that lost some
        rows but remain (their rows changed)."""
        gone = set(ids)
        for row in range(len(self.top) - 1, -1, -1):  # top-level containers
            item = self.top[row]
            if isinstance(item, str) and item in gone:
                begin(None, row)
                del self.top[row]
                self._pos = None
                end()
        changed = []
        for p in list(self.projects.values()):  # project members
            if not gone.intersection(p.children):
                continue
            if all(cid in gone for cid in p.children):
                prow = self.project_row(p)
                begin(None, prow)
                del self.top[prow]
                del self.projects[p.key]
                del self.by_pid[p.pid]
                self._pos = None
                end()
                continue
            for row in range(len(p.children) - 1, -1, -1):
                if p.children[row] in gone:
                    begin(p, row)
                    del p.children[row]
                    p.service_counts = None
                    self._pos = None
                    end()
            changed.append(p)
        return changed
