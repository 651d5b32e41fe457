"""The Activity timeline's table models: events and "not watching" gaps newest first (live events
inserted at the top as they come), and the crash reports beside them."""

from __future__ import annotations

import bisect
import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from desktop.state.activity import describe
from desktop.state.history.crash_reports import CrashReport
from desktop.state.history.timeline import Gap, TimelineEvent, event_key
from desktop.state.history.timeline_sort import SortKey
from desktop.ui.widgets.plain_text import plain_tooltip

COLUMNS = ("Time", "Engine", "Type", "Object", "What happened", "Project")
COL_TIME, COL_ENGINE, COL_TYPE, COL_OBJECT, COL_TEXT, COL_PROJECT = range(len(COLUMNS))
SORT_OF_COLUMN = {COL_ENGINE: "engine", COL_TYPE: "type", COL_OBJECT: "object", COL_TEXT: "what",
                  COL_PROJECT: "project"}  # (Time is the timeline's own order)
RowRole = Qt.ItemDataRole.UserRole + 1
NEAR_SECONDS = 10.0  # rows this close to the cursor's moment are shown as "at" it


def when(ns: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ns / 1e9))


def gap_text(g: Gap) -> str:
    secs = (g.end - g.start) / 1e9
    mins = secs / 60
    # (under a minute it said "0 min": a restart of the app is seconds)
    span = f"{secs:.0f} s" if secs < 59.5 else f"{mins:.0f} min" if mins < 120 else f"{mins / 60:.1f} h"
    filled = f"; {g.filled} events read back from the engine's buffer" if g.filled else \
        "; the engine's buffer had nothing more"
    return f"Not watching for {span} (Pilothouse was closed or the engine unreachable){filled}"


def row_time(r) -> int:
    """When a row happened (ns): an event's time, a gap's end (where it sits, newest first)."""
    return r.end if isinstance(r, Gap) else r.time_nano


def row_key(r) -> tuple:
    return ("gap", r.engine, r.start) if isinstance(r, Gap) else event_key(r)


class TimelineModel(QAbstractTableModel):
    """Rows: TimelineEvents and Gaps, newest first; or, sorted by a column, events alone in its order."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[TimelineEvent | Gap] = []
        self._keys: set[tuple] = set()
        self.near: float | None = None  # the cursor's moment (s): rows near it are bold
        self.sort: tuple[str, bool] | None = None  # (timeline_sort column, descending), or time order
        self._sort_keys: list[SortKey] = []  # beside the rows while sorted

    def set_rows(self, rows, sort: tuple[str, bool] | None = None, sort_keys: list[SortKey] | None = None) -> None:
        """Rows in time order, or in `sort`'s (with their keys, made off this thread, if given)."""
        self.beginResetModel()
        self.rows = list(rows)
        self._keys = {row_key(r) for r in self.rows}
        self.sort = sort
        self._sort_keys = (list(sort_keys) if sort_keys is not None else [SortKey(r, *sort) for r in self.rows]) \
            if sort else []
        self.endResetModel()

    def insert_sorted(self, events: list[TimelineEvent], complete: bool) -> int:
        """Live events where the sort puts them, skipping any already shown; one that sorts after
        the last row is left out unless the rows are every match (`complete`): rows not read
        may come before it. Returns how many went in."""
        n = 0
        for e in events:
            k = event_key(e)
            if k in self._keys:
                continue
            key = SortKey(e, *self.sort)
            at = bisect.bisect_right(self._sort_keys, key)
            if at == len(self.rows) and not complete:
                continue
            self._keys.add(k)
            self.beginInsertRows(QModelIndex(), at, at)
            self.rows.insert(at, e)
            self._sort_keys.insert(at, key)
            self.endInsertRows()
            n += 1
        return n

    def trim(self, keep: int) -> None:
        """Drop the rows after the first `keep` (a page open for days)."""
        n = len(self.rows)
        if n > keep:
            self.beginRemoveRows(QModelIndex(), keep, n - 1)
            for r in self.rows[keep:]:
                self._keys.discard(row_key(r))
            del self.rows[keep:]
            del self._sort_keys[keep:]
            self.endRemoveRows()

    def insert_newest(self, events: list[TimelineEvent]) -> int:
        """Live events (oldest first) on top, skipping any already shown; returns how many."""
        new = []
        for e in events:
            k = event_key(e)
            if k not in self._keys:
                self._keys.add(k)
                new.append(e)
        if new:
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            self.rows[:0] = reversed(new)
            self.endInsertRows()
        return len(new)

    def row_of_key(self, key: tuple) -> int:
        return next((i for i, r in enumerate(self.rows) if row_key(r) == key), -1)

    def nearest_row(self, t: float) -> int:
        """The row closest in time to `t` (s); -1 without rows."""
        if not self.rows:
            return -1
        ns = t * 1e9
        return min(range(len(self.rows)), key=lambda i: (abs(row_time(self.rows[i]) - ns), isinstance(self.rows[i], Gap)))

    def set_near(self, t: float | None) -> None:
        self.near = t
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1),
                                  [Qt.ItemDataRole.FontRole])

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.InitialSortOrderRole:  # a first click sorts names A to Z, time newest first
            return Qt.SortOrder.DescendingOrder if section == COL_TIME else Qt.SortOrder.AscendingOrder
        if role == Qt.ItemDataRole.ToolTipRole:
            return "Back to time order, newest first" if section == COL_TIME else \
                f"Sort by {COLUMNS[section].lower()}; click Time to go back to time order"
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == RowRole:
            return r
        if role == Qt.ItemDataRole.FontRole:
            if self.near is not None and abs(row_time(r) / 1e9 - self.near) <= NEAR_SECONDS:
                f = QFont()
                f.setBold(True)
                return f
            return None
        if isinstance(r, Gap):
            if role == Qt.ItemDataRole.DisplayRole:
                return (when(r.end), r.engine, "", "", gap_text(r), "")[col]
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor("#8a6d00"))
            if role == Qt.ItemDataRole.ToolTipRole:
                return plain_tooltip(f"{gap_text(r)}\nFrom {when(r.start)} to {when(r.end)}")
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells(r)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            # The cell's whole text first (a narrow column cuts it), then the event as recorded.
            cell = self._cells(r)[col] if col in (COL_OBJECT, COL_TEXT, COL_PROJECT) else ""
            return plain_tooltip("\n".join([*([cell] if cell else []), f"{r.type} {r.action} {r.actor}",
                                            f"engine {r.engine}",
                                            *(f"{k}={v}" for k, v in sorted(r.attributes.items()))]))
        return None

    @staticmethod
    def _cells(r: TimelineEvent) -> tuple[str, ...]:
        name, text = describe(r.to_engine_event())
        if r.filled:
            text += " (read back from the engine)"
        return when(r.time_nano), r.engine, r.type, r.name or name, text, r.project


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
