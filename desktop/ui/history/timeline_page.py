"""The Timeline page: days of recorded events across engines, filtered by container, project,
engine, type and time range, searched through the history's full-text index; the "not watching"
gaps shown where they fall; crash reports beside it. Every query runs on the history's reader
thread; the page only awaits."""

from __future__ import annotations

import asyncio
import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QTableView, QTabWidget, QVBoxLayout, QWidget)

from desktop.state.activity import describe
from desktop.state.history.crash_reports import CrashReport, list_reports
from desktop.state.history.timeline import Gap, TimelineEvent, TimelineFilter, distinct_values, gaps, query_events
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.message_bar import MessageBar

COLUMNS = ("Time", "Engine", "Type", "Object", "What happened", "Project")
RANGES = (("Last hour", 3600), ("Last day", 86400), ("Last week", 7 * 86400), ("Last month", 30 * 86400),
          ("Everything", None))
KINDS = ("container", "image", "volume", "network", "daemon", "plugin", "service", "node", "secret", "config")
PAGE_ROWS = 2000  # newest first; a narrower filter finds older ones
CHOICES_SECONDS = 30.0  # how stale the container and project menus may get while events pour in
RowRole = Qt.ItemDataRole.UserRole + 1


def _when(ns: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ns / 1e9))


def gap_text(g: Gap) -> str:
    mins = (g.end - g.start) / 60e9
    span = f"{mins:.0f} min" if mins < 120 else f"{mins / 60:.1f} h"
    filled = f"; {g.filled} events read back from the engine's buffer" if g.filled else \
        "; the engine's buffer had nothing more"
    return f"Not watching for {span} (Pilothouse was closed or the engine unreachable){filled}"


class TimelineModel(QAbstractTableModel):
    """Rows: TimelineEvents and Gaps, newest first."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[TimelineEvent | Gap] = []

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == RowRole:
            return r
        if isinstance(r, Gap):
            if role == Qt.ItemDataRole.DisplayRole:
                return (_when(r.end), r.engine, "", "", gap_text(r), "")[col]
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor("#8a6d00"))
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"From {_when(r.start)} to {_when(r.end)}"
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            name, text = describe(r.to_engine_event())
            if r.filled:
                text += " (read back from the engine)"
            return (_when(r.time_nano), r.engine, r.type, r.name or name, text, r.project)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join([f"{r.type} {r.action} {r.actor}", *(f"{k}={v}" for k, v in sorted(r.attributes.items()))])
        return None


class TimelinePage(QWidget):
    """Sidebar page `timeline`. `report_opened(CrashReport)` when a report is double-clicked."""

    report_opened = Signal(object)
    refreshed = Signal(int)  # rows shown (tests wait on it)

    def __init__(self, store, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("timelinePage")
        self.store = store
        self.tasks = TaskSet()
        self._engine: str | None = None
        self._query_task: asyncio.Task | None = None
        self._dirty = True
        self.last_query_seconds = 0.0
        self._choices_at = -CHOICES_SECONDS

        title = QLabel("Timeline")
        title.setObjectName("pageTitle")
        title.setStyleSheet("font-size: 16pt; font-weight: 600;")
        self.message = MessageBar(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search names, images, projects, actions…")
        self.search.setClearButtonEnabled(True)
        self.container = QComboBox()
        self.container.setEditable(True)
        self.container.lineEdit().setPlaceholderText("Any container")
        self.project = QComboBox()
        self.project.setEditable(True)
        self.project.lineEdit().setPlaceholderText("Any project")
        self.kind = QComboBox()
        self.kind.addItem("All types", None)
        for k in KINDS:
            self.kind.addItem(k.capitalize(), k)
        self.range = QComboBox()
        for label, secs in RANGES:
            self.range.addItem(label, secs)
        self.range.setCurrentIndex(1)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        bar.addWidget(self.container, 2)
        bar.addWidget(self.project, 2)
        bar.addWidget(self.kind)
        bar.addWidget(self.range)

        self.model = TimelineModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.setAlternatingRowColors(True)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.view.setColumnHidden(1, True)
        self.status = QLabel()
        self.status.setObjectName("timelineStatus")

        self.reports = QTableView()
        self.reports_model = ReportsModel(self)
        self.reports.setModel(self.reports_model)
        self.reports.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.reports.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.reports.verticalHeader().hide()
        self.reports.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.reports.horizontalHeader().setStretchLastSection(True)
        self.reports.doubleClicked.connect(self._on_reports_double_clicked)
        self.reports.activated.connect(self._on_reports_double_clicked)

        events_tab = QWidget()
        el = QVBoxLayout(events_tab)
        el.setContentsMargins(0, 0, 0, 0)
        el.addLayout(bar)
        el.addWidget(self.view, 1)
        el.addWidget(self.status)
        self.tabs = QTabWidget()
        self.tabs.addTab(events_tab, "Events")
        self.tabs.addTab(self.reports, "Crash reports")

        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.message)
        lay.addWidget(self.tabs, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.refresh)
        self._live = QTimer(self)  # new events: at most one re-query a second
        self._live.setSingleShot(True)
        self._live.setInterval(1000)
        self._live.timeout.connect(self._on_live_timeout)
        self.search.textChanged.connect(self._debounce.start)
        self.container.currentTextChanged.connect(self._debounce.start)
        self.project.currentTextChanged.connect(self._debounce.start)
        self.kind.currentIndexChanged.connect(self.refresh)
        self.range.currentIndexChanged.connect(self.refresh)

    # -- following the app ---------------------------------------------------------------------
    def set_engine(self, key: str | None) -> None:
        if key != self._engine:
            self._engine = key
            self.refresh()

    def set_multi_engine(self, several: bool) -> None:
        self.view.setColumnHidden(1, not several)

    def note_new_events(self) -> None:
        """Events arrived: re-query soon if shown, else when next shown."""
        self._dirty = True
        if self.isVisible() and not self._live.isActive():
            self._live.start()

    def _on_live_timeout(self) -> None:
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    # -- querying --------------------------------------------------------------------------------
    def current_filter(self) -> TimelineFilter:
        secs = self.range.currentData()
        since = time.time_ns() - int(secs * 1e9) if secs else None
        kind = self.kind.currentData()
        return TimelineFilter(engine=self._engine, container=self.container.currentText().strip() or None,
                              project=self.project.currentText().strip() or None,
                              types=(kind,) if kind else (), text=self.search.text(), since=since,
                              limit=PAGE_ROWS)

    def refresh(self) -> None:
        self._dirty = False
        if self._query_task is not None and not self._query_task.done():
            self._query_task.cancel()
        self._query_task = self.tasks.spawn(self._query(self.current_filter()))

    async def _query(self, f: TimelineFilter) -> None:
        try:
            await asyncio.wrap_future(self.store.flush())
            t0 = time.perf_counter()
            rows = await self.store.read(query_events, f)
            self.last_query_seconds = time.perf_counter() - t0
            found_gaps = [] if (f.container or f.project or f.text or f.types) else \
                await self.store.read(gaps, f.since, None, f.engine)
            reports = await self.store.read(list_reports, 200)
            names = projects = None
            if time.monotonic() - self._choices_at > CHOICES_SECONDS:  # a scan of the name index
                self._choices_at = time.monotonic()
                names = await self.store.read(distinct_values, "name")
                projects = await self.store.read(distinct_values, "project")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the history is unavailable: say so, keep the page
            self.message.show_error(f"The history cannot be read: {exc}")
            return
        merged: list = list(rows)
        if found_gaps:
            merged += [g for g in found_gaps if not rows or g.end >= rows[-1].time_nano or len(rows) < f.limit]
            merged.sort(key=lambda r: r.end if isinstance(r, Gap) else r.time_nano, reverse=True)
        self.model.set_rows(merged)
        self.reports_model.set_reports(reports)
        if names is not None:
            self._fill_choices(self.container, names)
            self._fill_choices(self.project, projects)
        more = " (the newest; narrow the filter for older ones)" if len(rows) >= f.limit else ""
        self.status.setText(f"{len(rows):,} events{more} · found in {self.last_query_seconds * 1000:.0f} ms"
                            f" · {len(reports)} crash report(s)")
        self.refreshed.emit(len(rows))

    @staticmethod
    def _fill_choices(combo: QComboBox, values: list[str]) -> None:
        have = [combo.itemText(i) for i in range(combo.count())]
        if have == ["", *values]:
            return
        text = combo.currentText()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("")
        combo.addItems(values)
        combo.setEditText(text)
        combo.blockSignals(False)

    def show_notice(self, sentence: str) -> None:
        self.message.show_error(sentence)

    def _on_reports_double_clicked(self, index: QModelIndex) -> None:
        r = self.reports_model.report_at(index.row())
        if r is not None:
            self.report_opened.emit(r)

    async def aclose(self) -> None:
        self._debounce.stop()
        self._live.stop()
        await self.tasks.cancel_all()


class ReportsModel(QAbstractTableModel):
    HEADERS = ("When", "Container", "Exits", "Cause")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._reports: list[CrashReport] = []

    def set_reports(self, reports: list[CrashReport]) -> None:
        self.beginResetModel()
        self._reports = list(reports)
        self.endResetModel()

    def report_at(self, row: int) -> CrashReport | None:
        return self._reports[row] if 0 <= row < len(self._reports) else None

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._reports)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        r = self.report_at(index.row()) if index.isValid() else None
        if r is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.last_time)), r.name, str(r.exits),
                    r.cause)[index.column()]
        if role == RowRole:
            return r
        return None
