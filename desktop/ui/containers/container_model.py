"""Qt adapter over a ContainerStore: the Qt-free ContainerTree (presentation/container_tree.py)
gives the shape, the column table (presentation/container_columns.py) the text and sort keys,
presentation/container_rows.py the filter and the cached order keys.

The model filters and sorts itself, with no proxy between it and the view: a QSortFilterProxyModel
asks the Python model for every row again on each relayout (~60,000 calls at 20,000 containers),
and the view's own relayout is already a call or two per row. The tree holds only the containers
the filter accepts; a filter change rebuilds it (or drops rows from it) in one pass inside one
layout change, selection and expanded rows following by identity.

Top-level rows are standalone containers and Compose projects; a project's children are its
services, a service's its containers (the replicas). The view above is virtualised (uniform row heights), so 1000s of rows cost only
what is on screen.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor

from desktop.engine.records import Container
from desktop.presentation import containers as pres
from desktop.presentation import stats as stats_text
from desktop.presentation.container_columns import (COL_CREATED, COL_ENGINE, COL_MEM, COL_NAME, COL_PORTS, COL_STATE, COLUMNS,
                                                    STATS_COLUMNS, container_text, project_created, project_text,
                                                    service_sort_key, service_text, stats_sort_value)
from desktop.presentation.container_rows import ContainerFilter, MemberIndex
from desktop.presentation.container_tree import ContainerTree, Project, Service
from desktop.state.containers import ContainerStore
from desktop.ui.widgets.plain_text import plain_tooltip

ContainerRole = Qt.ItemDataRole.UserRole + 1  # the Container (None on a project row)
KindRole = Qt.ItemDataRole.UserRole + 2  # "container", "service" or "project"
SortRole = Qt.ItemDataRole.UserRole + 3
MembersRole = Qt.ItemDataRole.UserRole + 4  # a project's or service's containers (list[Container])
StateKeyRole = Qt.ItemDataRole.UserRole + 5
FilterTextRole = Qt.ItemDataRole.UserRole + 6

_ACCESSIBLETEXT = int(Qt.ItemDataRole.AccessibleTextRole)
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_TEXTALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_UNANSWERED = frozenset(int(r) for r in (Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.FontRole,
                                         Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.CheckStateRole,
                                         Qt.ItemDataRole.SizeHintRole, Qt.ItemDataRole.EditRole,
                                         Qt.ItemDataRole.StatusTipRole, Qt.ItemDataRole.WhatsThisRole))
_NCOLS = len(COLUMNS)
_TOP = 0  # internalId of top-level indexes; a project's services use its pid, a service's replicas the service's
# A list longer than this is shown in part first, the rest added in chunks sized to keep each
# turn of the event loop short. Each chunk relayouts and repaints every visible row (Qt's tree
# view does on any insert), so a list of a usual size goes in whole: one reset, one paint.
FIRST_ROWS = 1000
CHUNK_BUDGET_S = 0.012
# The turn after a chunk (the view's relayout and a paint) longer than this: chunks double.
RELAYOUT_OVERRUN_S = 0.05


class ContainerTreeModel(QAbstractItemModel):
    """Rows follow the store: reset, upserts and removals map to fine-grained model signals.

    A reset with thousands of containers shows the first FIRST_ROWS top-level rows at once and
    inserts the rest from later turns of the event loop (`loading` until `all_rows_added`).
    """

    all_rows_added = Signal()
    filter_applied = Signal()  # the rows were filtered anew (projects may have come back)

    def __init__(self, store: ContainerStore, parent=None, engine_label=None, owner_of=None) -> None:
        super().__init__(parent)
        self._store = store
        self._engine_label = engine_label or (lambda engine_id: "")
        self.tree = ContainerTree(store.get, self._engine_label)
        self.filter = ContainerFilter(owner_of)
        self._members = MemberIndex()
        self.tree.member_index = self._members
        self._shown: set[str] = set()  # ids of the containers in the tree (the filter accepts them)
        self._pending: dict[str, str] = {}  # container id → "Stopping…" while an action runs
        self.stats_source = None  # cid → latest StatsSample or None, once monitoring provides one
        self.first_rows = FIRST_ROWS
        self._top_indexes: list[QModelIndex] = []  # column 0 of top-level row r, made once (index())
        self._chunk = 500
        self._chunk_done = 0.0  # when the last chunk went in (0: none since the last reset)
        self._more = QTimer(self)
        self._more.setSingleShot(True)
        self._more.setInterval(0)
        self._more.timeout.connect(self._add_more_rows)
        self._fill(store.all(), None)
        store.reset.connect(self._on_store_reset)
        store.upserted.connect(self._on_store_upserted)
        store.removed.connect(self._on_store_removed)

    def set_stats_source(self, latest) -> None:
        """Where the CPU % and Memory cells read a container's latest sample (cid → sample or None)."""
        self.stats_source = latest

    def detach(self) -> None:
        """Stop following the store (before the widgets go away)."""
        self._store.reset.disconnect(self._on_store_reset)
        self._store.upserted.disconnect(self._on_store_upserted)
        self._store.removed.disconnect(self._on_store_removed)

    # -- rows of the tree ----------------------------------------------------------------------------
    def _parent_index(self, p: Project | Service | None) -> QModelIndex:
        if p is None:
            return QModelIndex()
        if isinstance(p, Service):
            return self.createIndex(self.tree.service_row(p), 0, p.project.pid)
        return self.createIndex(self.tree.project_row(p), 0, _TOP)

    def _begin_insert(self, p: Project | Service | None, row: int) -> None:
        self.beginInsertRows(self._parent_index(p), row, row)

    def _begin_insert_range(self, p: Project | None, first: int, last: int) -> None:
        self.beginInsertRows(self._parent_index(p), first, last)

    def _begin_remove(self, p: Project | Service | None, row: int) -> None:
        self.beginRemoveRows(self._parent_index(p), row, row)

    def _begin_move(self, p: Project | Service | None, row: int, dest: int) -> None:
        parent = self._parent_index(p)
        self.beginMoveRows(parent, row, row, parent, dest)

    def _row_changed(self, idx: QModelIndex) -> None:
        self.dataChanged.emit(idx, self.index(idx.row(), len(COLUMNS) - 1, idx.parent()))

    def _identity(self, index: QModelIndex):
        item = self._item(index)
        if isinstance(item, Project):
            return ("p", item.key)
        if isinstance(item, Service):
            return ("s", (item.project.engine_id, item.project.name, item.name))
        return ("c", item.id) if item is not None else None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # Sorted here: a proxy's lessThan would call data() 20,000 times.
        self._relayout(lambda: self.tree.sort(column, order == Qt.SortOrder.DescendingOrder))

    def _relayout(self, change) -> None:
        """Run `change` (the tree reordered or rebuilt) as one layout change; every persistent
        index (selection, expanded rows, current row) follows its row by identity (a rebuild makes
        new Project and Service objects)."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [(self._identity(i), i.column()) for i in persistent]
        change()
        self.changePersistentIndexList(persistent, [self._index_for(ident, col) for ident, col in ids])
        self.layoutChanged.emit()

    def _index_for(self, ident, column: int) -> QModelIndex:
        """The row an `_identity` names now (invalid: not shown)."""
        if ident is None:
            return QModelIndex()
        if ident[0] == "p":
            return self.project_index(ident[1][1], column, engine_id=ident[1][0])
        if ident[0] == "s":
            engine_id, project, service = ident[1]
            return self.service_index(project, service, column, engine_id=engine_id)
        return self.index_of(ident[1], column)

    # -- filtering ---------------------------------------------------------------------------------
    def set_filter(self, text: str | None = None, running_only: bool | None = None, engine_key=...) -> None:
        """Show the containers that match `text`, only the active ones, or one engine's (its
        session key; None: every engine). Unchanged arguments keep their value."""
        if self.filter.set(text, running_only, engine_key):
            self._refilter()

    def _refilter(self) -> None:
        rows = self.filter.select(self._store.all())
        ids = {c.id for c in rows}
        if ids == self._shown:
            return  # the same rows (a keystroke that hides nothing more)
        loading = self.tree.has_pending
        narrower = ids <= self._shown
        if narrower:  # fewer rows: the order stands, nothing to sort again
            self._relayout(lambda: self._retain(ids))
        else:
            self._relayout(lambda: self._place(rows, ids, self.first_rows if loading else None))
        if loading and not self.tree.has_pending:  # the filter left fewer rows than a screenful
            self._more.stop()
            self.all_rows_added.emit()
        if not narrower:  # rows came back: the page opens their projects (the rows a narrower
            self.filter_applied.emit()  # filter leaves keep their expanded state)

    def _fill(self, every: list[Container], shown: int | None) -> None:
        """Everything anew from the store's records (`shown`: place only that many rows now)."""
        self._members.rebuild(every)
        self.filter.forget_labels()
        rows = self.filter.select(every)
        self._place(rows, {c.id for c in rows}, shown)

    def _retain(self, ids: set[str]) -> None:
        self.tree.retain(ids)
        self._shown = ids

    def _place(self, rows: list[Container], ids: set[str], shown: int | None) -> None:
        self.tree.rebuild(rows, shown=shown if shown is not None and len(rows) > shown else None)
        self._shown = ids

    def set_pending(self, cid: str, text: str | None) -> None:
        """Show an action in progress in the row's state cell (None: done)."""
        if text is None:
            self._pending.pop(cid, None)
        else:
            self._pending[cid] = text
        idx = self.index_of(cid, COL_STATE)
        if idx.isValid():
            self.dataChanged.emit(idx, idx)

    def node_at(self, index: QModelIndex) -> "Project | Service | None":
        """The project or service a row is (None: a container row, or no row)."""
        if not index.isValid():
            return None
        if index.internalId() == _TOP:
            item = self.tree.top[index.row()] if index.row() < len(self.tree.top) else None
            return item if isinstance(item, Project) else None
        node = self.tree.by_pid.get(index.internalId())
        if isinstance(node, Project) and index.row() < len(node.children):
            return node.children[index.row()]
        return None

    def index_of(self, cid: str, column: int = 0) -> QModelIndex:
        row = self.tree.row_of(cid)
        if row is None:  # not (yet) in the model
            return QModelIndex()
        s = self.tree.service_of(cid)
        return self.createIndex(row, column, s.pid if s is not None else _TOP)

    def project_indexes(self) -> list[QModelIndex]:
        """The row of every Compose project shown and of each of its services (the rows with children)."""
        out = []
        for p in self.tree.projects.values():
            if p.shown:
                out.append(self.createIndex(self.tree.project_row(p), 0, _TOP))
                out += [self.createIndex(row, 0, p.pid) for row in range(len(p.children))]
        return out

    def service_index(self, project: str, service: str, column: int = 0, engine_id: str | None = None) -> QModelIndex:
        """The row of a shown Compose project's service."""
        p = self.tree.find_project(project, engine_id)
        s = p.services.get(service) if p is not None else None
        if s is None:
            return QModelIndex()
        return self.createIndex(self.tree.service_row(s), column, p.pid)

    def project_index(self, name: str, column: int = 0, engine_id: str | None = None) -> QModelIndex:
        """The row of Compose project `name` (on `engine_id`, or the first engine that has one)."""
        p = self.tree.find_project(name, engine_id)
        if p is None:
            return QModelIndex()
        return self.createIndex(self.tree.project_row(p), column, _TOP)

    # -- store → model --------------------------------------------------------------------------
    def _on_store_reset(self) -> None:
        self.beginResetModel()
        self._fill(self._store.all(), self.first_rows)
        self.endResetModel()
        self._chunk_done = 0.0
        if self.tree.has_pending:
            self._more.start()
        else:
            self._more.stop()

    @property
    def loading(self) -> bool:
        """Rows of the last reset are still being added."""
        return self.tree.has_pending

    def _add_more_rows(self) -> None:
        t = time.perf_counter()
        # A tree view lays out every row again after an insert at the top level, so what a chunk
        # costs grows with the rows already in: once the turn after the last chunk (that layout
        # and a paint) overran the budget several times over, every further chunk stalls about
        # as long whatever its size, and each doubles the rows shown: a few such layouts, not
        # dozens.
        turn = t - self._chunk_done if self._chunk_done else 0.0
        n = self._chunk
        if turn > RELAYOUT_OVERRUN_S:
            n = max(n, len(self.tree.top))
        n = self.tree.take_pending(n, self._begin_insert_range, self.endInsertRows)
        done = time.perf_counter()
        spent = done - t
        if n and spent > 0:  # aim the next chunk at the budget (a busy machine makes it smaller)
            self._chunk = max(100, min(5000, int(self._chunk * CHUNK_BUDGET_S / spent)))
        if self.tree.has_pending:
            self._chunk_done = done
            self._more.start()
        else:
            self._chunk_done = 0.0
            self.all_rows_added.emit()

    def _on_store_upserted(self, rows: list[Container]) -> None:
        tree, shown, accepts = self.tree, self._shown, self.filter.accepts
        touched: dict[int, Project] = {}  # projects whose members changed
        for c in rows:
            self._members.add(c)
            if c.id in shown:
                if not accepts(c):  # no longer matches: its row goes
                    shown.discard(c.id)
                    self._note(tree.remove([c.id], self._begin_remove, self.endRemoveRows), touched)
                    continue
                tree.reorder(c.id, self._begin_move, self.endMoveRows)
                idx = self.index_of(c.id)
                if idx.isValid():  # (not when it waits among the rows still to be added)
                    self._row_changed(idx)
                p = tree.project_of(c.id)
                if p is not None:
                    touched[p.pid] = p
                continue
            if accepts(c):
                shown.add(c.id)
                self._note(tree.insert(c, self._begin_insert, self.endInsertRows), touched)
                continue
            p = tree.parent_of(c)  # a filtered-out member still counts in its project's rows
            if p is not None:
                touched[p.pid] = p
        self._groups_changed(touched.values())

    def _on_store_removed(self, ids: list[str]) -> None:
        touched: dict[int, Project] = {}
        for cid in ids:
            self.tree.keys.forget(cid)
            key = self._members.discard(cid)
            p = self.tree.projects.get(key) if key is not None else None
            if p is not None and cid not in self._shown:
                touched[p.pid] = p
        gone = [cid for cid in ids if cid in self._shown]
        self._shown.difference_update(gone)
        self._note(self.tree.remove(gone, self._begin_remove, self.endRemoveRows), touched)
        self._groups_changed(touched.values())

    @staticmethod
    def _note(nodes, touched: dict) -> None:
        for node in nodes:
            p = node if isinstance(node, Project) else node.project
            touched[p.pid] = p

    def _groups_changed(self, projects) -> None:
        """Members came, went or changed: the project's and its services' rows read anew and move
        to their place."""
        for p in projects:
            if p.pid not in self.tree.by_pid:
                continue  # it went with its last shown member
            self.tree.reorder_group(p, self._begin_move, self.endMoveRows)
            if not p.shown:
                continue
            pidx = self._parent_index(p)
            self._row_changed(pidx)
            for row in range(len(p.children)):
                self._row_changed(self.index(row, 0, pidx))

    # -- QAbstractItemModel -----------------------------------------------------------------------
    def index(self, row: int, column: int, parent=QModelIndex()) -> QModelIndex:
        # The view calls this for column 0 of every row on every relayout (sort, filter, a chunk
        # of a big list, an insert at the top level): those indexes are made once and kept, by
        # row (an index is only (row, column, id), valid for any content), which saves the
        # createIndex call that is a third of this method's cost at 20,000 rows.
        if not parent.isValid():
            top = self.tree.top
            if not 0 <= row < len(top):
                return QModelIndex()
            if column == 0:
                made = self._top_indexes
                if row >= len(made):
                    made.extend([self.createIndex(r, 0, _TOP) for r in range(len(made), len(top))])
                return made[row]
            if 0 < column < _NCOLS:
                return self.createIndex(row, column, _TOP)
            return QModelIndex()
        if column < 0 or column >= _NCOLS or row < 0:
            return QModelIndex()
        node = self._item(parent)
        if isinstance(node, (Project, Service)) and row < len(node.children):
            return self.createIndex(row, column, node.pid)
        return QModelIndex()

    def hasChildren(self, parent=QModelIndex()) -> bool:  # noqa: N802 - Qt's name
        # Also once per row on every relayout, so as few calls into Qt as can tell the rows
        # apart (an invalid index has row -1 and id 0): a top-level container row, the common
        # case, answers after two. A shown project always has a service, a service always a
        # container; only column 0 has children.
        row = parent.row()
        iid = parent.internalId()
        top = self.tree.top
        if iid == _TOP:
            if row < 0:
                return bool(top)
            return row < len(top) and type(top[row]) is Project and parent.column() == 0
        return type(self.tree.by_pid.get(iid)) is Project and parent.column() == 0  # (a service row)

    def parent(self, index=QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        node = self.tree.by_pid.get(index.internalId())
        if isinstance(node, Project):
            return self.createIndex(self.tree.project_row(node), 0, _TOP)
        if isinstance(node, Service):
            return self.createIndex(self.tree.service_row(node), 0, node.project.pid)
        return QModelIndex()

    def rowCount(self, parent=QModelIndex()) -> int:
        if not parent.isValid():
            return len(self.tree.top)
        if parent.column() > 0:
            return 0
        node = self._item(parent)
        return len(node.children) if isinstance(node, (Project, Service)) else 0

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def _item(self, index: QModelIndex) -> Container | Project | Service | None:
        if index.internalId() == _TOP:
            if index.row() >= len(self.tree.top):
                return None
            item = self.tree.top[index.row()]
            return item if isinstance(item, Project) else self._store.get(item)
        node = self.tree.by_pid.get(index.internalId())
        if node is None or index.row() >= len(node.children):
            return None
        if isinstance(node, Project):
            return node.children[index.row()]
        return self._store.get(node.children[index.row()])

    def members(self, p: Project | Service) -> list[Container]:
        return self.tree.members(p)

    def data(self, index: QModelIndex, role: int = _DISPLAY):
        # Roles never answered here go back before the row is looked up. (The roles are plain
        # ints here: an enum member's lookup costs more than the comparison.)
        if role in _UNANSWERED or not index.isValid():
            return None
        item = self._item(index)
        if item is None:
            return None
        return self._data(item, index.column(), role)

    def _data(self, item, col: int, role: int):
        if isinstance(item, Project):
            return self._project_data(item, col, role)
        if isinstance(item, Service):
            return self._service_data(item, col, role)
        c = item
        if role == _DISPLAY:
            return self._container_text(c, col)
        if role == ContainerRole:
            return c
        if role == KindRole:
            return "container"
        if role == StateKeyRole:
            return pres.state_key(c)
        if role == _FOREGROUND and col == COL_STATE:
            return QColor(pres.state_colour(c))
        if role == _TOOLTIP:
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
                return stats_sort_value(self.stats_source(c.id) if self.stats_source else None, col)
            return (self._container_text(c, col) or "").lower()
        if role == _TEXTALIGNMENT and col in STATS_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == _TOOLTIP and col == COL_MEM:
            s = self.stats_source(c.id) if self.stats_source else None
            return stats_text.memory_tooltip(s) if s is not None else None
        if role == FilterTextRole:
            return c
        if role == _ACCESSIBLETEXT and col == COL_NAME:
            return f"Container {c.name}, {pres.state_text(c)}"
        return None

    def _container_text(self, c: Container, col: int) -> str | None:
        stats = self.stats_source(c.id) if col in STATS_COLUMNS and self.stats_source else None
        return container_text(c, col, self._engine_label, self._pending.get(c.id), stats)

    def _project_data(self, p: Project, col: int, role: int):
        members = self.members(p)
        if role == _DISPLAY:
            return project_text(p.name, p.engine_id, members, col, self._engine_label)
        if role == KindRole:
            return "project"
        if role == MembersRole:
            return members
        if role == StateKeyRole:
            return pres.project_state(members)[1]
        if role == _FOREGROUND and col == COL_STATE:
            return QColor(pres.STATE_COLOURS[pres.project_state(members)[1]])
        if role == SortRole:
            if col == COL_CREATED:
                return project_created(members)
            return (project_text(p.name, p.engine_id, members, col, self._engine_label) or "").lower()
        if role == _TOOLTIP and col == COL_NAME:
            return plain_tooltip(f"Compose project {p.name}")
        if role == _ACCESSIBLETEXT and col == COL_NAME:
            return f"Compose project {p.name}, {pres.project_state(members)[0]}"
        return None

    def _service_data(self, s: Service, col: int, role: int):
        members = self.members(s)
        if role == _DISPLAY:
            if col == COL_ENGINE:
                return self._engine_label(s.project.engine_id)
            return service_text(s.name, members, col)
        if role == KindRole:
            return "service"
        if role == MembersRole:
            return members
        if role == StateKeyRole:
            return pres.project_state(members)[1]
        if role == _FOREGROUND and col == COL_STATE:
            return QColor(pres.STATE_COLOURS[pres.project_state(members)[1]])
        if role == SortRole:
            return service_sort_key(s.name, members, col)
        if role == _TOOLTIP and col == COL_NAME:
            n = len(members)
            return plain_tooltip(f"Compose service {s.name} of {s.project.name}: {n} container{'s' if n != 1 else ''}")
        if role == _ACCESSIBLETEXT and col == COL_NAME:
            return f"Compose service {s.name}, {pres.project_state(members)[0]}"
        return None

    # flags(): Qt's own (enabled, selectable) answers without a Python call; the view asks for
    # it twice per row on every relayout.


def containers_at(indexes: list[QModelIndex | QPersistentModelIndex]) -> list[Container]:
    """The containers a selection means: a project or service row means all its containers."""
    seen: dict[str, Container] = {}
    for idx in indexes:
        kind = idx.data(KindRole)
        if kind in ("project", "service"):
            for c in idx.data(MembersRole) or []:
                seen.setdefault(c.id, c)
        elif kind == "container":
            c = idx.data(ContainerRole)
            if c is not None:
                seen.setdefault(c.id, c)
    return list(seen.values())
