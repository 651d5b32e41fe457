"""Qt adapter over ContainerStore: a two-level tree (Compose projects → their containers).

Top-level rows are standalone containers and Compose projects; a project's children are its
containers. The view above is virtualised (uniform row heights), so 1000s of rows cost only
what is on screen.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from desktop.presentation import containers as pres
from desktop.engine.records import Container
from desktop.presentation import stats as stats_text
from desktop.presentation.sizes import binary_size
from desktop.state.containers import ContainerStore
from desktop.ui.widgets.plain_text import plain_tooltip

COLUMNS = ("Name", "Engine", "Image", "State", "Ports", "Created", "CPU %", "Memory", "Actions")
(COL_NAME, COL_ENGINE, COL_IMAGE, COL_STATE, COL_PORTS, COL_CREATED, COL_CPU, COL_MEM,
 COL_ACTIONS) = range(len(COLUMNS))
STATS_COLUMNS = (COL_CPU, COL_MEM)  # filled from live stats, only for rows on screen

ContainerRole = Qt.ItemDataRole.UserRole + 1  # the Container (None on a project row)
KindRole = Qt.ItemDataRole.UserRole + 2  # "container" or "project"
SortRole = Qt.ItemDataRole.UserRole + 3
MembersRole = Qt.ItemDataRole.UserRole + 4  # a project's containers (list[Container])
StateKeyRole = Qt.ItemDataRole.UserRole + 5
FilterTextRole = Qt.ItemDataRole.UserRole + 6

_TOP = 0  # internalId of top-level indexes; project children use the project's id


@dataclass
class _Project:
    name: str
    pid: int
    engine_id: str = ""
    children: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.engine_id, self.name)


def _pkey(c: Container) -> tuple[str, str] | None:
    """Compose projects are per engine: two engines may each have a project `shop`."""
    return (c.engine_id, c.compose_project) if c.compose_project else None


class ContainerTreeModel(QAbstractItemModel):
    """Rows follow the store: reset, upserts and removals map to fine-grained model signals."""

    # cid -> latest StatsSample or None; set by desktop/ui/monitoring/container_stats_columns.py.
    stats_source = None

    def __init__(self, store: ContainerStore, parent=None, engine_label=None) -> None:
        super().__init__(parent)
        self._store = store
        self._engine_label = engine_label or (lambda engine_id: "")
        self._top: list[str | _Project] = []
        self._projects: dict[tuple[str, str], _Project] = {}
        self._by_pid: dict[int, _Project] = {}
        self._next_pid = 1
        # Row of every top-level item (cid or project pid) and of every child cid in its project,
        # rebuilt lazily after any structural change: Qt asks parent() for every index it holds,
        # and a list.index() there made a burst of 200 changes cost ~300 ms of UI thread.
        self._pos: dict | None = None
        self._pending: dict[str, str] = {}  # container id → "Stopping…" while an action runs
        self._sort_col = COL_NAME
        self._descending = False
        self._rebuild()
        store.reset.connect(self._on_store_reset)
        store.upserted.connect(self._on_store_upserted)
        store.removed.connect(self._on_store_removed)

    def detach(self) -> None:
        """Stop following the store (before the widgets go away)."""
        self._store.reset.disconnect(self._on_store_reset)
        self._store.upserted.disconnect(self._on_store_upserted)
        self._store.removed.disconnect(self._on_store_removed)

    # -- structure ----------------------------------------------------------------------------
    def _project(self, key: tuple[str, str]) -> _Project:
        p = self._projects.get(key)
        if p is None:
            p = _Project(key[1], self._next_pid, key[0])
            self._next_pid += 1
            self._projects[key] = p
            self._by_pid[p.pid] = p
        return p

    def _positions(self) -> dict:
        if self._pos is None:
            pos: dict = {}
            for i, item in enumerate(self._top):
                if isinstance(item, _Project):
                    pos[item.pid] = i
                    for j, cid in enumerate(item.children):
                        pos[cid] = j
                else:
                    pos[item] = i
            self._pos = pos
        return self._pos

    def _rebuild(self) -> None:
        self._pos = None
        self._top, self._projects, self._by_pid = [], {}, {}
        for c in sorted(self._store.all(), key=lambda c: c.created):
            proj = _pkey(c)
            if proj:
                p = self._projects.get(proj)
                if p is None:
                    p = self._project(proj)
                    self._top.append(p)
                p.children.append(c.id)
            else:
                self._top.append(c.id)
        self._sort_all()

    # -- sorting (in the source model: a proxy's lessThan would call data() 20,000 times) -------
    def _key(self, item: "str | _Project"):
        col = self._sort_col
        if isinstance(item, _Project):
            members = self.members(item)
            if col == COL_CREATED:
                return min((c.created for c in members), default=0.0)
            if col == COL_STATE:
                return pres.project_state(members)[0].lower()
            if col == COL_IMAGE:
                return ""
            if col == COL_ENGINE:
                return self._engine_label(item.engine_id).lower()
            return item.name.lower()
        c = self._store.get(item)
        if c is None:
            return 0.0 if col == COL_CREATED else ""
        if col == COL_CREATED:
            return c.created
        if col == COL_IMAGE:
            return c.image.lower()
        if col == COL_ENGINE:
            return self._engine_label(c.engine_id).lower()
        if col == COL_STATE:
            return pres.state_text(c).lower()
        if col == COL_PORTS:
            return ", ".join(label for label, _ in pres.port_links(c))
        return (c.compose_service if c.compose_project and c.compose_service else c.name).lower()

    def _sorted(self, items: list) -> list:
        return sorted(items, key=self._key, reverse=self._descending)

    def _sort_all(self) -> None:
        self._pos = None
        self._top = self._sorted(self._top)
        for p in self._projects.values():
            p.children = self._sorted(p.children)

    def _insert_pos(self, items: list, item) -> int:
        keys = [self._key(x) for x in items]
        k = self._key(item)
        if self._descending:
            # bisect needs ascending order; search the mirrored list.
            return len(items) - bisect.bisect_left(keys[::-1], k)
        return bisect.bisect_right(keys, k)

    def _identity(self, index: QModelIndex):
        item = self._item(index)
        if isinstance(item, _Project):
            return ("p", item.key)
        return ("c", item.id) if item is not None else None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [(self._identity(i), i.column()) for i in persistent]
        self._sort_col, self._descending = column, order == Qt.SortOrder.DescendingOrder
        self._sort_all()
        new = []
        for ident, col in ids:
            if ident is None:
                new.append(QModelIndex())
            elif ident[0] == "p":
                new.append(self.project_index(ident[1][1], col, engine_id=ident[1][0]))
            else:
                new.append(self.index_of(ident[1], col))
        self.changePersistentIndexList(persistent, new)
        self.layoutChanged.emit()

    def set_pending(self, cid: str, text: str | None) -> None:
        """Show an action in progress in the row's state cell (None: done)."""
        if text is None:
            self._pending.pop(cid, None)
        else:
            self._pending[cid] = text
        idx = self.index_of(cid, COL_STATE)
        if idx.isValid():
            self.dataChanged.emit(idx, idx)

    def filter_item(self, row: int, parent: QModelIndex) -> "Container | None":
        """For the filter proxy without a Qt round trip: the container at a row (None: a project)."""
        if not parent.isValid():
            item = self._top[row] if row < len(self._top) else None
            return self._store.get(item) if isinstance(item, str) else None
        p = self._by_pid.get(parent.internalId()) if parent.internalId() != _TOP else None
        if p is None:
            item = self._top[parent.row()] if parent.row() < len(self._top) else None
            p = item if isinstance(item, _Project) else None
        if p is None or row >= len(p.children):
            return None
        return self._store.get(p.children[row])

    def _top_row_of_project(self, p: _Project) -> int:
        return self._positions()[p.pid]

    def index_of(self, cid: str, column: int = 0) -> QModelIndex:
        c = self._store.get(cid)
        if c is None:
            return QModelIndex()
        row = self._positions().get(cid)
        if row is None:  # in the store, not (yet) in the model
            return QModelIndex()
        proj = _pkey(c)
        if proj and proj in self._projects:
            return self.createIndex(row, column, self._projects[proj].pid)
        return self.createIndex(row, column, _TOP)

    def project_indexes(self) -> list[QModelIndex]:
        """The row of every Compose project (the only rows with children)."""
        pos = self._positions()
        return [self.createIndex(pos[p.pid], 0, _TOP) for p in self._projects.values()]

    def project_index(self, name: str, column: int = 0, engine_id: str | None = None) -> QModelIndex:
        """The row of Compose project `name` (on `engine_id`, or the first engine that has one)."""
        if engine_id is not None:
            p = self._projects.get((engine_id, name))
        else:
            p = next((p for p in self._projects.values() if p.name == name), None)
        if p is None:
            return QModelIndex()
        return self.createIndex(self._top_row_of_project(p), column, _TOP)

    # -- store → model --------------------------------------------------------------------------
    def _on_store_reset(self) -> None:
        self.beginResetModel()
        self._rebuild()
        self.endResetModel()

    def _on_store_upserted(self, rows: list[Container]) -> None:
        last = self.columnCount() - 1
        for c in rows:
            idx = self.index_of(c.id)
            if idx.isValid():
                self.dataChanged.emit(idx, self.index(idx.row(), last, idx.parent()))
                if idx.parent().isValid():
                    p = idx.parent()
                    self.dataChanged.emit(p, self.index(p.row(), last))
                continue
            proj = _pkey(c)
            if proj:
                p = self._projects.get(proj)
                if p is None:
                    p = self._project(proj)
                    p.children.append(c.id)
                    pos = self._insert_pos(self._top, p)
                    self.beginInsertRows(QModelIndex(), pos, pos)
                    self._top.insert(pos, p)
                    self._pos = None
                    self.endInsertRows()
                else:
                    parent = self.project_index(proj[1], engine_id=proj[0])
                    pos = self._insert_pos(p.children, c.id)
                    self.beginInsertRows(parent, pos, pos)
                    p.children.insert(pos, c.id)
                    self._pos = None
                    self.endInsertRows()
                    self.dataChanged.emit(parent, self.index(parent.row(), last))
            else:
                pos = self._insert_pos(self._top, c.id)
                self.beginInsertRows(QModelIndex(), pos, pos)
                self._top.insert(pos, c.id)
                self._pos = None
                self.endInsertRows()

    def _on_store_removed(self, ids: list[str]) -> None:
        gone = set(ids)
        # Top-level containers.
        for row in range(len(self._top) - 1, -1, -1):
            item = self._top[row]
            if isinstance(item, str) and item in gone:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._top[row]
                self._pos = None
                self.endRemoveRows()
        # Project members; an emptied project goes too.
        for p in list(self._projects.values()):
            if not gone.intersection(p.children):
                continue
            prow = self._top_row_of_project(p)
            if all(cid in gone for cid in p.children):
                self.beginRemoveRows(QModelIndex(), prow, prow)
                del self._top[prow]
                del self._projects[p.key]
                del self._by_pid[p.pid]
                self._pos = None
                self.endRemoveRows()
                continue
            parent = self.createIndex(prow, 0, _TOP)
            for row in range(len(p.children) - 1, -1, -1):
                if p.children[row] in gone:
                    self.beginRemoveRows(parent, row, row)
                    del p.children[row]
                    self._pos = None
                    self.endRemoveRows()
            self.dataChanged.emit(parent, self.index(prow, self.columnCount() - 1))

    # -- QAbstractItemModel -----------------------------------------------------------------------
    def index(self, row: int, column: int, parent=QModelIndex()) -> QModelIndex:
        if column < 0 or column >= len(COLUMNS) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, _TOP) if row < len(self._top) else QModelIndex()
        if parent.internalId() != _TOP:
            return QModelIndex()
        item = self._top[parent.row()] if parent.row() < len(self._top) else None
        if isinstance(item, _Project) and row < len(item.children):
            return self.createIndex(row, column, item.pid)
        return QModelIndex()

    def parent(self, index=QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        p = self._by_pid.get(index.internalId())
        if p is None:
            return QModelIndex()
        return self.createIndex(self._top_row_of_project(p), 0, _TOP)

    def rowCount(self, parent=QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._top)
        if parent.column() > 0 or parent.internalId() != _TOP:
            return 0
        item = self._top[parent.row()] if parent.row() < len(self._top) else None
        return len(item.children) if isinstance(item, _Project) else 0

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def _item(self, index: QModelIndex) -> Container | _Project | None:
        if index.internalId() == _TOP:
            if index.row() >= len(self._top):
                return None
            item = self._top[index.row()]
            return item if isinstance(item, _Project) else self._store.get(item)
        p = self._by_pid.get(index.internalId())
        if p is None or index.row() >= len(p.children):
            return None
        return self._store.get(p.children[index.row()])

    def members(self, p: _Project) -> list[Container]:
        return [c for c in (self._store.get(cid) for cid in p.children) if c is not None]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item = self._item(index)
        if item is None:
            return None
        col = index.column()
        if isinstance(item, _Project):
            return self._project_data(item, col, role)
        c = item
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NAME:
                return c.compose_service if c.compose_project and c.compose_service else c.name
            if col == COL_IMAGE:
                return c.image
            if col == COL_ENGINE:
                return self._engine_label(c.engine_id)
            if col == COL_STATE:
                return self._pending.get(c.id) or pres.state_text(c)
            if col == COL_PORTS:
                return ", ".join(label for label, _ in pres.port_links(c))
            if col == COL_CREATED:
                return pres.age(c.created)
            if col in STATS_COLUMNS:
                return self._stats_text(c, col)
            return None
        if role == ContainerRole:
            return c
        if role == KindRole:
            return "container"
        if role == StateKeyRole:
            return pres.state_key(c)
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_STATE:
            return QColor(pres.state_colour(c))
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_NAME:
                return plain_tooltip(f"{c.name}\nID {c.short_id}\n{c.command}")
            if col == COL_STATE:
                return plain_tooltip(c.status)
            if col == COL_PORTS and c.published_ports:
                return "Click a port to open it in the browser"
        if role == SortRole:
            if col == COL_CREATED:
                return c.created
            if col in STATS_COLUMNS:
                s = self.stats_source(c.id) if self.stats_source else None
                return -1.0 if s is None else (s.cpu_percent if col == COL_CPU else float(s.mem_used))
            return (self.data(index, Qt.ItemDataRole.DisplayRole) or "").lower()
        if role == Qt.ItemDataRole.TextAlignmentRole and col in STATS_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_MEM:
            s = self.stats_source(c.id) if self.stats_source else None
            return stats_text.memory_tooltip(s) if s is not None else None
        if role == FilterTextRole:
            return c
        if role == Qt.ItemDataRole.AccessibleTextRole and col == COL_NAME:
            return f"Container {c.name}, {pres.state_text(c)}"
        return None

    def _stats_text(self, c: Container, col: int) -> str:
        s = self.stats_source(c.id) if self.stats_source and c.state == "running" else None
        if s is None:
            return ""
        return stats_text.percent(s.cpu_percent) if col == COL_CPU else binary_size(s.mem_used)

    def _project_data(self, p: _Project, col: int, role: int):
        members = self.members(p)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NAME:
                return p.name
            if col == COL_IMAGE:
                return f"{len(members)} container{'s' if len(members) != 1 else ''} (Compose)"
            if col == COL_ENGINE:
                return self._engine_label(p.engine_id)
            if col == COL_STATE:
                return pres.project_state(members)[0]
            if col == COL_CREATED:
                return pres.age(min((c.created for c in members), default=0))
            return None
        if role == KindRole:
            return "project"
        if role == MembersRole:
            return members
        if role == StateKeyRole:
            return pres.project_state(members)[1]
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_STATE:
            return QColor(pres.STATE_COLOURS[pres.project_state(members)[1]])
        if role == SortRole:
            if col == COL_CREATED:
                return min((c.created for c in members), default=0)
            return (self._project_data(p, col, Qt.ItemDataRole.DisplayRole) or "").lower()
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_NAME:
            return plain_tooltip(f"Compose project {p.name}")
        if role == Qt.ItemDataRole.AccessibleTextRole and col == COL_NAME:
            return f"Compose project {p.name}, {pres.project_state(members)[0]}"
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS


# Computed once: OR-ing PySide6 enum flags runs Python's enum machinery, and Qt asks for every
# visible cell's flags on every repaint.
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def containers_at(indexes: list[QModelIndex | QPersistentModelIndex]) -> list[Container]:
    """The containers a selection means: a project row means all its containers."""
    seen: dict[str, Container] = {}
    for idx in indexes:
        kind = idx.data(KindRole)
        if kind == "project":
            for c in idx.data(MembersRole) or []:
                seen.setdefault(c.id, c)
        elif kind == "container":
            c = idx.data(ContainerRole)
            if c is not None:
                seen.setdefault(c.id, c)
    return list(seen.values())
