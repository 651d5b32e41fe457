"""The Activity page: the engines' events of this session as a filterable timeline.

With several engines, an Engine column (shown right after Time) says where each event came
from, and the page follows the engine switcher like the other pages.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QTableView, QVBoxLayout, QWidget)

from desktop.state.activity import ActivityEntry, ActivityLog
from desktop.ui.widgets.plain_text import plain_tooltip

COLUMNS = ("Time", "Type", "Object", "What happened", "Engine")
COL_ENGINE = 4  # last in the model (columns 0-3 keep their numbers), shown second
KINDS = ("container", "image", "volume", "network", "daemon", "plugin", "service", "node", "secret", "config")
EntryRole = Qt.ItemDataRole.UserRole + 1


class ActivityModel(QAbstractTableModel):
    """Rows follow the ActivityLog (appends and front trims)."""

    def __init__(self, log: ActivityLog, parent=None) -> None:
        super().__init__(parent)
        self.log = log
        self._rows = len(log.entries)  # rows announced to views (the log may be ahead)
        # A burst of engine events (200 pauses) becomes one insert every 100 ms, not 200: each
        # insert re-filters the proxy and re-lays the view on the UI thread.
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(100)
        self._flush_timer.timeout.connect(self._flush)
        log.appended.connect(self._on_log_appended)
        log.trimmed.connect(self._on_log_trimmed)

    def detach(self) -> None:
        self._flush_timer.stop()
        self.log.appended.disconnect(self._on_log_appended)
        self.log.trimmed.disconnect(self._on_log_trimmed)

    def _on_log_appended(self, entry: ActivityEntry) -> None:
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush(self) -> None:
        n = len(self.log.entries)
        if n > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, n - 1)
            self._rows = n
            self.endInsertRows()

    def _on_log_trimmed(self, count: int) -> None:
        # The log already dropped them: a reset is the honest signal.
        self._flush_timer.stop()
        self.beginResetModel()
        self._rows = len(self.log.entries)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.log.entries):
            return None
        e = self.log.entries[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (time.strftime("%H:%M:%S", time.localtime(e.time)), e.kind, e.name, e.text, e.engine)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            where = f"\nengine {e.engine}" if e.engine else ""
            return plain_tooltip(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(e.time))}\n{e.kind} {e.action}\n"
                                 f"{e.object_id}{where}")
        if role == EntryRole:
            return e
        if role == Qt.ItemDataRole.UserRole:  # sort key
            return (e.time, index.row()) if col == 0 else str(self.data(index)).lower()
        return None


class ActivityFilter(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.text = ""
        self.kind = ""
        self.engine: str | None = None  # None: every engine's events
        self.setSortRole(Qt.ItemDataRole.UserRole)

    def set_filter(self, text: str, kind: str) -> None:
        self.text, self.kind = text.strip().lower(), kind
        self.invalidate()

    def set_engine(self, key: "str | None") -> None:
        if key != self.engine:  # re-filtering a long timeline is not free
            self.engine = key
            self.invalidate()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        e: ActivityEntry = self.sourceModel().index(row, 0, parent).data(EntryRole)
        if e is None or (self.kind and e.kind != self.kind):
            return False
        if self.engine is not None and e.engine != self.engine:
            return False
        if not self.text:
            return True
        return any(self.text in s.lower() for s in (e.name, e.text, e.action, e.object_id, e.engine))


class ActivityPage(QWidget):
    """Sidebar page `activity`; also holds the switch for crash notifications."""

    def __init__(self, log: ActivityLog, notifier=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("activityPage")
        self.model = ActivityModel(log, self)
        self.proxy = ActivityFilter(self)
        self.proxy.setSourceModel(self.model)
        title = QLabel("Activity")
        title.setStyleSheet("font-size: 16pt; font-weight: 600;")
        self.search = QLineEdit()
        self.search.setObjectName("activitySearch")
        self.search.setPlaceholderText("Filter by name, ID or what happened")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Filter activity")
        self.kind = QComboBox()
        self.kind.setObjectName("activityKind")
        self.kind.setAccessibleName("Object type")
        self.kind.addItem("All types", "")
        for k in KINDS:
            self.kind.addItem(k.capitalize() + "s", k)
        self.search.textChanged.connect(self._apply_filter)
        self.kind.currentIndexChanged.connect(self._apply_filter)
        self.notify = QCheckBox("Notify me when a container crashes, runs out of memory or turns unhealthy")
        self.notify.setObjectName("crashNotifications")
        self.notify.setVisible(notifier is not None)
        if notifier is not None:
            self.notify.setChecked(notifier.enabled)
            self.notify.toggled.connect(notifier.set_enabled)

        self.view = QTableView()
        self.view.setObjectName("activityTable")
        self.view.setAccessibleName("Activity")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # newest first
        self.view.verticalHeader().hide()
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setDefaultSectionSize(24)
        h = self.view.horizontalHeader()
        h.resizeSection(0, 90)
        h.resizeSection(1, 100)
        h.resizeSection(2, 260)
        h.resizeSection(COL_ENGINE, 110)
        h.moveSection(h.visualIndex(COL_ENGINE), 1)  # Time, Engine, Type, Object, What happened
        h.setStretchLastSection(False)  # the last logical column is Engine: stretch the text instead
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.view.setColumnHidden(COL_ENGINE, True)  # one engine: nothing to tell apart
        self.count = QLabel()
        self.count.setObjectName("activityCount")
        for sig in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset, self.proxy.layoutChanged):
            sig.connect(self._update_count)

        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.kind)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        foot = QHBoxLayout()
        foot.addWidget(self.count, 1)
        foot.addWidget(self.notify)
        lay.addLayout(foot)
        self._update_count()

    def set_multi_engine(self, several: bool) -> None:
        """Show the Engine column only when events can come from more than one engine."""
        self.view.setColumnHidden(COL_ENGINE, not several)

    def set_engine(self, key: "str | None") -> None:
        """Show one engine's events (the engine switcher's choice), or every engine's (None)."""
        self.proxy.set_engine(key)
        self._update_count()

    def _apply_filter(self, *args) -> None:
        self.proxy.set_filter(self.search.text(), self.kind.currentData())
        self._update_count()

    def _update_count(self, *args) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count.setText(f"{total} events this session" if shown == total else f"{shown} of {total} events shown")
