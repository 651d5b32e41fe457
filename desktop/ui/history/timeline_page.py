"""The Activity page: the timeline of every followed engine. Days of recorded events (the history
file, read on its reader thread) with this session's events added on top as they happen; filtered
by container, project, type and time range (the engine switcher picks the engine), searched
through the history's full-text index; the "not watching" gaps where they fall; crash reports
beside it. Selecting an event moves the shared time cursor; the pane below shows the figures and
the log lines at that moment, and a moment pointed at elsewhere (a graph) scrolls the timeline there.

Without a history file (none kept, or it cannot be opened) the page shows this session's events.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget)

from desktop.state.history.crash_reports import list_reports
from desktop.state.history.live_events import LiveEvents
from desktop.state.history.schema import HistoryUpdating
from desktop.state.history.time_cursor import Moment, TimeCursor
from desktop.state.history.timeline import (Gap, TimelineFilter, distinct_values, gaps, matches, query_around,
                                            query_events, rows_around)
from desktop.state.history.timeline_sort import SORT_WINDOW, SortKey, query_sorted
from desktop.ui.async_tasks import TaskSet
from desktop.ui.history.moment_pane import MomentPane
from desktop.ui.history.time_range import CustomRange
from desktop.ui.history.timeline_model import (COL_ENGINE, COL_OBJECT, COL_PROJECT, COL_TEXT, COL_TIME, COLUMNS,
                                               SORT_OF_COLUMN, ReportsModel, RowRole, TimelineModel, row_key,
                                               row_time)
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.palette_sheet import set_sheet

RANGES = (("Last hour", 3600), ("Last day", 86400), ("Last week", 7 * 86400), ("Last month", 30 * 86400),
          ("Everything", None))
AROUND = "around"  # the range item of a moment pointed at from elsewhere
CUSTOM = "custom"  # the range item of a from/to range typed in
KINDS = ("container", "image", "volume", "network", "daemon", "plugin", "service", "node", "secret", "config")
PAGE_ROWS = 2000  # newest first; a narrower filter finds older ones
FIRST_SCREEN = 100  # a search shows this many at once, then reads the rest of the page
CHOICES_SECONDS = 30.0  # how stale the container and project menus may get while events pour in
LIVE_BATCH_MS = 100  # a burst of events (200 pauses) is one insert, not 200
# Column widths fitted to their content up to these (px); the rest goes to "What happened", and a
# cut cell's tooltip holds its full text.
WIDEST = {COL_OBJECT: 240, COL_PROJECT: 160}
MOMENT_SHARE = 0.4  # of the splitter, once there is a moment to show (before: its caption only)


class TimelinePage(QWidget):
    """Sidebar page `activity`. `report_opened(CrashReport)` when a report is double-clicked;
    `refreshed(rows)` after every read of the history (tests wait on it); `logs_requested(Moment)`
    for the container's own Logs tab at the moment."""

    report_opened = Signal(object)
    refreshed = Signal(int)
    logs_requested = Signal(object)  # (Moment): open that container's logs at the moment

    def __init__(self, events, store=None, notifier=None, cursor: TimeCursor | None = None,
                 client_for_key=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("activityPage")
        self.store = store
        self.events = events
        self.cursor = cursor if cursor is not None else TimeCursor()
        self.tasks = TaskSet()
        self.live = LiveEvents()
        self._engine: str | None = None
        self._query_task: asyncio.Task | None = None
        self._querying = False
        self._dirty = True
        self._shown_seq = 0  # live events up to this one are on screen (or did not match)
        self._at_newest = True  # the rows reach the newest event: live ones go on top
        self._around: float | None = None  # the moment the rows are centred on, if any
        self._selecting = False  # the page selects a row itself: not a new moment
        self._pending: Moment | None = None  # a moment to show once the page is shown
        self.last_query_seconds = 0.0
        self._events_found = 0
        self._choices_at = -CHOICES_SECONDS
        self._custom_set = False
        self._sort: tuple[str, bool] | None = None  # a column's order (header clicked), or time order
        self._sorted_complete = False  # sorted, the rows are every match (live ones may go last)

        title = QLabel("Activity")
        title.setObjectName("pageTitle")
        set_sheet(title, "font-size: 16pt; font-weight: 600;")
        self.message = MessageBar(self)
        self.search = QLineEdit()
        self.search.setObjectName("activitySearch")
        self.search.setPlaceholderText("Search names, images, projects, IDs, what happened (\"exit 137\")…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the activity")
        self.container = QComboBox()
        self.container.setEditable(True)
        self.container.setAccessibleName("Container name or ID")
        self.container.lineEdit().setPlaceholderText("Any container")
        self.project = QComboBox()
        self.project.setEditable(True)
        self.project.setAccessibleName("Compose project")
        self.project.lineEdit().setPlaceholderText("Any project")
        for box in (self.container, self.project):  # a long name must not widen the page
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(16)
            box.currentTextChanged.connect(box.setToolTip)
        self.kind = QComboBox()
        self.kind.setObjectName("activityKind")
        self.kind.setAccessibleName("Object type")
        self.kind.addItem("All types", None)
        for k in KINDS:
            self.kind.addItem(k.capitalize() + "s", k)
        self.range = QComboBox()
        self.range.setAccessibleName("Time range")
        for label, secs in RANGES:
            self.range.addItem(label, secs)
        self.range.addItem("Custom range…", CUSTOM)
        self.range.setCurrentIndex(1)
        self.custom = CustomRange(self)
        self.custom.hide()
        self.engine_choice = QComboBox()
        self.engine_choice.setObjectName("activityEngine")
        self.engine_choice.setAccessibleName("Engine")
        self.engine_choice.addItem("All engines", None)
        self.engine_choice.hide()  # one engine: nothing to choose
        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(self.search, 3)
        bar.addWidget(self.container, 2)
        bar.addWidget(self.project, 2)
        bar.addWidget(self.engine_choice)
        bar.addWidget(self.kind)
        bar.addWidget(self.range)
        ranges = QHBoxLayout()
        ranges.addStretch(1)
        ranges.addWidget(self.custom)

        self.model = TimelineModel(self)
        self.view = QTableView()
        self.view.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.view.setObjectName("activityTable")
        self.view.setAccessibleName("Activity")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for col in WIDEST:  # fitted by the page, capped: a long image name must not eat the row
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
        hh.setResizeContentsPrecision(200)  # the rows measured for a width: not all 4,000
        # A header click sorts by its column (the history answers, off this thread); Time is the
        # timeline's own order, newest first, with its gaps.
        hh.setSectionsClickable(True)
        hh.setSortIndicatorShown(True)
        hh.setSortIndicator(COL_TIME, Qt.SortOrder.DescendingOrder)
        hh.sortIndicatorChanged.connect(self._on_header_sort_indicator_changed)
        self.view.setColumnHidden(COL_ENGINE, True)  # one engine: nothing to tell apart
        self.view.selectionModel().currentRowChanged.connect(self._on_view_current_row_changed)
        self.status = QLabel()
        self.status.setObjectName("timelineStatus")
        self.moment = MomentPane(store, client_for_key or _no_engine, self)
        self.moment.point_requested.connect(self._on_moment_point_requested)
        self.moment.logs_requested.connect(self.logs_requested)
        split = self.split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("activitySplit")
        split.addWidget(self.view)
        split.addWidget(self.moment)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        self._split_state = "start"  # "start", then "moment" once grown for a moment, "user" once dragged
        split.splitterMoved.connect(self._on_split_moved)
        # Made after the moment pane: Tab reaches the check box under the pane after the pane's own controls.
        self.notify = QCheckBox("Notify me when a container crashes, runs out of memory or turns unhealthy")
        self.notify.setObjectName("crashNotifications")
        self.notify.setVisible(notifier is not None)
        if notifier is not None:
            self.notify.setChecked(notifier.enabled)
            self.notify.toggled.connect(notifier.set_enabled)

        self.reports = QTableView()
        self.reports.setTabKeyNavigation(False)
        self.reports.setAccessibleName("Crash reports")
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
        el.addWidget(split, 1)
        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        foot.addWidget(self.notify)
        el.addLayout(foot)
        self.tabs = QTabWidget()
        self.tabs.addTab(events_tab, "Events")
        self.tabs.addTab(self.reports, "Crash reports")
        self.tabs.setTabVisible(1, store is not None)

        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addLayout(ranges)
        lay.addWidget(self.message)
        lay.addWidget(self.tabs, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.refresh)
        self._stored = QTimer(self)  # the history changed behind the page: at most one re-read a second
        self._stored.setSingleShot(True)
        self._stored.setInterval(1000)
        self._stored.timeout.connect(self._on_stored_timeout)
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(LIVE_BATCH_MS)
        self._flush_timer.timeout.connect(self._flush_live)
        self.search.textChanged.connect(self._debounce.start)
        self.container.currentTextChanged.connect(self._debounce.start)
        self.project.currentTextChanged.connect(self._debounce.start)
        self.kind.currentIndexChanged.connect(self.refresh)
        self.range.currentIndexChanged.connect(self._on_range_changed)
        self.custom.changed.connect(self._debounce.start)
        self.engine_choice.currentIndexChanged.connect(self.refresh)
        self.live.appended.connect(self._on_live_appended)
        events.connect(self.live.on_event)
        self.cursor.moved.connect(self._on_cursor_moved)

    @property
    def busy(self) -> bool:
        """A read of the history is under way or due."""
        return self._querying or self._stored.isActive() or self._debounce.isActive()

    # -- following the app ---------------------------------------------------------------------
    def set_engine(self, key: str | None) -> None:
        """Show one engine's events (the engine switcher's choice), or every engine's (None)."""
        if key != self._engine:
            self._engine = key
            i = self.engine_choice.findData(key)
            if i < 0 and key is not None:
                self.engine_choice.addItem(key, key)
                i = self.engine_choice.count() - 1
            self.engine_choice.blockSignals(True)
            self.engine_choice.setCurrentIndex(max(i, 0))
            self.engine_choice.blockSignals(False)
            self.refresh()

    def set_multi_engine(self, several: bool, keys=()) -> None:
        """Show the Engine column and the engine filter only when events can come from more than
        one engine; `keys` are the engines followed (the filter's choices)."""
        self.view.setColumnHidden(COL_ENGINE, not several)
        self.engine_choice.setVisible(several)
        have = [self.engine_choice.itemData(i) for i in range(1, self.engine_choice.count())]
        want = list(dict.fromkeys([*keys, *([self._engine] if self._engine else [])]))
        if have != want:
            chosen = self.engine_choice.currentData()
            self.engine_choice.blockSignals(True)
            self.engine_choice.clear()
            self.engine_choice.addItem("All engines", None)
            for k in want:
                self.engine_choice.addItem(k, k)
            self.engine_choice.setCurrentIndex(max(self.engine_choice.findData(chosen), 0))
            self.engine_choice.blockSignals(False)

    @property
    def engine_filter(self) -> str | None:
        """The engine whose events are shown: the page's own choice (the switcher's by default)."""
        return self.engine_choice.currentData()

    def note_new_events(self, now: bool = False) -> None:
        """The history changed behind the page (events read back after a gap, a crash report):
        re-read soon (`now`: at once) if shown, else when next shown. (Live events need none:
        they are added.)"""
        self._dirty = True
        if not self.isVisible():
            return
        if now:
            self._stored.stop()
            self.refresh()
        elif not self._stored.isActive():
            self._stored.start()

    def _on_stored_timeout(self) -> None:
        if self.isVisible():
            self.refresh()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._split_state == "start":
            self._share_split(None)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._split_state == "start":
            self._share_split(None)
        if self._dirty:
            self.refresh()
        if self._pending is not None:
            m, self._pending = self._pending, None
            self.moment.show_moment(m)

    # -- live events ------------------------------------------------------------------------------
    def _on_live_appended(self, _event) -> None:
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush_live(self) -> None:
        if self._querying:
            return  # the read under way adds them when it is done
        new = self.live.since(self._shown_seq)
        self._shown_seq = self.live.seq
        if not new or not (self._at_newest or self.model.sort):
            return
        f = self.current_filter()
        shown = [e for e in new if matches(f, e)]
        if not shown:
            return
        if self.model.sort:
            added = self.model.insert_sorted(shown, self._sorted_complete)
        else:
            added = self.model.insert_newest(shown)
        if added:
            self._trim()
            self._show_status()

    def _trim(self) -> None:
        # A page open for days: the last rows go (a narrower filter finds them).
        self.model.trim(2 * PAGE_ROWS)

    # -- querying --------------------------------------------------------------------------------
    def current_filter(self) -> TimelineFilter:
        secs = self.range.currentData()
        since = time.time_ns() - int(secs * 1e9) if isinstance(secs, int) else None
        until = None
        if secs == CUSTOM and self.custom.span_ns() is not None:
            since, until = self.custom.span_ns()
        kind = self.kind.currentData()
        return TimelineFilter(engine=self.engine_filter, container=self.container.currentText().strip() or None,
                              project=self.project.currentText().strip() or None,
                              types=(kind,) if kind else (), text=self.search.text(), since=since,
                              until=until, limit=PAGE_ROWS)

    def refresh(self) -> None:
        if self.range.currentData() == CUSTOM and self.custom.span_ns() is None:
            return  # the message beside the fields says why; the rows stay as they were
        self._dirty = False
        if self._query_task is not None and not self._query_task.done():
            self._query_task.cancel()
        self._querying = True
        self._query_task = self.tasks.spawn(self._query(self.current_filter(), self._around, self.live.seq))

    async def _query(self, f: TimelineFilter, around: float | None, seq: int) -> None:
        try:
            await self._read(f, around, seq)
        finally:
            if asyncio.current_task() is self._query_task:
                self._querying = False

    async def _read(self, f: TimelineFilter, around: float | None, seq: int) -> None:
        t_ns = int(around * 1e9) if around is not None else None
        sort = self._sort if t_ns is None else None
        reports = found_gaps = sort_keys = None
        if self.store is not None and not self.store.broken:
            try:
                await asyncio.wrap_future(self.store.flush())
                t0 = time.perf_counter()
                searching = bool(f.text or f.container or f.project or f.types)
                complete = False  # the first screen held every match
                if sort is None and searching:
                    # A search shows its first screen at once; the rest of the page follows.
                    first = replace(f, limit=FIRST_SCREEN)
                    if t_ns is not None:
                        rows, at_newest = await self.store.read(query_around, first, t_ns, FIRST_SCREEN // 2)
                        complete = len(rows) < FIRST_SCREEN // 2
                    else:
                        rows, at_newest = await self.store.read(query_events, first), f.until is None
                        complete = len(rows) < FIRST_SCREEN
                    self.last_query_seconds = time.perf_counter() - t0
                    self._show_rows(f, rows, at_newest, None, around, seq, None)
                if complete:
                    pass
                elif sort is not None:
                    self.status.setText("Sorting…")
                    rows, window_complete, sort_keys = await self.store.read(query_sorted, f, *sort)
                    at_newest = window_complete  # (sorted: whether the rows hold every match)
                elif t_ns is not None:
                    rows, at_newest = await self.store.read(query_around, f, t_ns, PAGE_ROWS // 2)
                else:
                    rows, at_newest = await self.store.read(query_events, f), f.until is None
                if not searching or sort is not None:
                    self.last_query_seconds = time.perf_counter() - t0
                if sort is None and not searching:
                    lo = min((r.time_nano for r in rows), default=None) if (t_ns is not None or len(rows) >= f.limit) \
                        else f.since
                    hi = None if at_newest else (f.until or max((r.time_nano for r in rows), default=None))
                    found_gaps = await self.store.read(gaps, lo, hi, f.engine)
                reports = await self.store.read(list_reports, 200)
                if time.monotonic() - self._choices_at > CHOICES_SECONDS:  # a scan of the name index
                    self._choices_at = time.monotonic()
                    self._fill_choices(self.container, await self.store.read(distinct_values, "name"))
                    self._fill_choices(self.project, await self.store.read(distinct_values, "project"))
            except asyncio.CancelledError:
                raise
            except HistoryUpdating as exc:  # not an error: the file is busy for a while, and says so
                self.message.show_info(str(exc))
                rows, at_newest = self._session_rows(f, t_ns, sort)
                sort_keys = None
            except Exception as exc:  # noqa: BLE001 - the history is unavailable: say so, show the session
                self.message.show_error(f"The history cannot be read ({exc}); this session's events are shown.")
                rows, at_newest = self._session_rows(f, t_ns, sort)
                sort_keys = None
        else:
            rows, at_newest = self._session_rows(f, t_ns, sort)
        self._show_rows(f, rows, at_newest, found_gaps, around, seq, sort, reports, sort_keys)
        self.refreshed.emit(len(rows))

    def _show_rows(self, f: TimelineFilter, rows: list, at_newest: bool, found_gaps, around: float | None, seq: int,
                   sort: tuple[str, bool] | None, reports=None, sort_keys=None) -> None:
        merged: list = list(rows)
        if found_gaps:
            merged += found_gaps
            merged.sort(key=row_time, reverse=True)
        selected = self._selected_row()
        self.model.set_rows(merged, sort, sort_keys)
        # Sorted, at_newest says whether the window held every match.
        self._sorted_complete = sort is not None and at_newest and len(rows) < f.limit
        self._fit_columns()
        self._at_newest = at_newest
        new = [e for e in self.live.since(seq) if matches(f, e)]  # what came while reading (shown once)
        if sort is not None:
            self.model.insert_sorted(new, self._sorted_complete)
        elif at_newest:
            self.model.insert_newest(new)
        self._shown_seq = self.live.seq
        if reports is not None:
            self.reports_model.set_reports(reports)
        self._events_found = len(rows)
        self._show_status()
        if around is not None:
            self._select_row(self.model.nearest_row(around))
        elif selected is not None:
            self._select_row(self.model.row_of_key(row_key(selected)))

    def _session_rows(self, f: TimelineFilter, t_ns: int | None, sort=None) -> tuple[list, bool]:
        self.last_query_seconds = 0.0
        if t_ns is not None:
            return rows_around(self.live.query, f, t_ns, PAGE_ROWS // 2)
        if sort is not None:
            # (On this thread, without a history: the newest page's worth, not a whole session's.)
            window = self.live.query(replace(f, limit=PAGE_ROWS))
            return sorted(window, key=lambda e: SortKey(e, *sort))[:f.limit], len(window) < PAGE_ROWS
        return self.live.query(f), f.until is None

    def _show_status(self) -> None:
        n = self.model.rowCount()
        if self.store is None:
            self.status.setText(f"{n:,} events this session (no history is kept)")
            return
        where = f"around {time.strftime('%H:%M:%S', time.localtime(self._around))}" if self._around else ""
        more = " (the newest; narrow the filter for older ones)" if self._events_found >= PAGE_ROWS and not where else ""
        if self.model.sort:
            column, descending = self.model.sort
            title = COLUMNS[next(c for c, name in SORT_OF_COLUMN.items() if name == column)]
            first = f" (the first, of the newest {SORT_WINDOW:,} matches; narrow the filter for the rest)" \
                if not self._sorted_complete else ""
            more = (f"{first}, sorted by {title.lower()} ({'Z to A' if descending else 'A to Z'}); not-watching gaps"
                    " are not shown while sorted: click Time for the timeline")
        self.status.setText(f"{n:,} events{more} {where}· found in {self.last_query_seconds * 1000:.0f} ms"
                            f" · {self.reports_model.rowCount()} crash report(s)")

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

    # -- the time cursor ------------------------------------------------------------------------
    def _selected_row(self):
        idx = self.view.selectionModel().currentIndex()
        return self.model.rows[idx.row()] if idx.isValid() and idx.row() < len(self.model.rows) else None

    def _select_row(self, row: int) -> None:
        if row < 0:
            return
        self._selecting = True
        try:
            idx = self.model.index(row, 0)
            self.view.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.view.scrollTo(idx, QAbstractItemView.ScrollHint.PositionAtCenter)
        finally:
            self._selecting = False

    def _fit_columns(self) -> None:
        for col, widest in WIDEST.items():
            self.view.setColumnWidth(col, min(widest, max(self.view.sizeHintForColumn(col),
                                                          self.view.horizontalHeader().sectionSizeHint(col))))

    def _share_split(self, moment: float | None) -> None:
        """The moment pane's share of the splitter (None: just its caption, before any moment)."""
        total = sum(self.split.sizes()) or self.split.height()
        if total <= 0:
            return
        pane = self.moment.sizeHint().height() if moment is None else int(total * moment)
        self.split.setSizes([max(total - pane, 0), pane])

    def _on_split_moved(self, *_a) -> None:
        self._split_state = "user"  # the user's own sizes stay

    def _on_view_current_row_changed(self, current: QModelIndex, _previous) -> None:
        if self._selecting or not current.isValid():
            return
        r = current.data(RowRole)
        if isinstance(r, Gap):
            self.cursor.point(r.start / 1e9, engine=r.engine, source=self)
        elif r is not None:
            cid = r.actor if r.type == "container" else None
            self.cursor.point(r.time_nano / 1e9, engine=r.engine, container=cid, name=r.name, source=self)

    def _on_moment_point_requested(self, t: float) -> None:
        m = self.cursor.moment
        self.cursor.point(t, engine=m.engine if m else self.engine_filter, container=m.container if m else None,
                          name=m.name if m else "", source=self.moment)

    def _on_cursor_moved(self, m: Moment) -> None:
        self.model.set_near(m.t)
        if self._split_state == "start":
            self._split_state = "moment"
            self._share_split(MOMENT_SHARE)
        if self.isVisible():
            self.moment.show_moment(m)
        else:
            self._pending = m
        if m.source is not self:
            self.go_to(m.t)

    def go_to(self, t: float) -> None:
        """Scroll the timeline to a moment: the rows around it, the nearest selected (in time
        order: a moment has no place in a column's order)."""
        was_sorted = self._sort is not None
        if was_sorted:
            self.set_sort(None)
        # Live events still waiting for the next flush belong among the rows the nearest is
        # picked from (a crash report's exit is often one of them).
        self._flush_timer.stop()
        self._flush_live()
        rows = self.model.rows
        span = self.range.currentData()
        # Already among the rows shown (the newest ones, back to the oldest row of the range).
        if not was_sorted and not self._querying and rows and self._around is None and self._at_newest and \
                row_time(rows[-1]) <= t * 1e9 and \
                (not isinstance(span, int) or t >= time.time() - span):
            self._select_row(self.model.nearest_row(t))
            return
        self._around = t
        label = f"Around {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(t))}"
        self.range.blockSignals(True)
        i = self.range.findData(AROUND)
        if i < 0:
            self.range.addItem(label, AROUND)
            i = self.range.count() - 1
        self.range.setItemText(i, label)
        self.range.setCurrentIndex(i)
        self.range.blockSignals(False)
        self.refresh()

    def set_sort(self, sort: tuple[str, bool] | None) -> None:
        """Sort by a column ((timeline_sort column, descending)), or None for time order."""
        hh = self.view.horizontalHeader()
        col = COL_TIME if sort is None else next(c for c, name in SORT_OF_COLUMN.items() if name == sort[0])
        order = Qt.SortOrder.DescendingOrder if sort is None or sort[1] else Qt.SortOrder.AscendingOrder
        hh.blockSignals(True)
        hh.setSortIndicator(col, order)
        hh.blockSignals(False)
        if sort != self._sort:
            self._sort = sort
            self.refresh()

    def _on_header_sort_indicator_changed(self, section: int, order: Qt.SortOrder) -> None:
        column = SORT_OF_COLUMN.get(section)
        self.set_sort(None if column is None else (column, order == Qt.SortOrder.DescendingOrder))

    def _on_range_changed(self, _index: int) -> None:
        self.custom.setVisible(self.range.currentData() == CUSTOM)
        if self.range.currentData() == CUSTOM and not self._custom_set:
            self._custom_set = True  # first time: the last hour up to now; later, as the user left it
            now = time.time()
            self.custom.blockSignals(True)
            self.custom.set_span(now - 3600, now)
            self.custom.blockSignals(False)
        if self.range.currentData() != AROUND:
            self._around = None
            i = self.range.findData(AROUND)
            if i >= 0:
                self.range.blockSignals(True)
                self.range.removeItem(i)
                self.range.blockSignals(False)
        self.refresh()

    # -- the rest -----------------------------------------------------------------------------------
    def show_notice(self, sentence: str) -> None:
        self.message.show_error(sentence)

    def on_history_updated(self) -> None:
        """The file's format is up to date: what the page said about it is over, read it again."""
        self.message.hide()
        self.refresh()

    def _on_reports_double_clicked(self, index: QModelIndex) -> None:
        r = self.reports_model.report_at(index.row())
        if r is not None:
            self.report_opened.emit(r)

    async def aclose(self) -> None:
        self.events.disconnect(self.live.on_event)
        self.cursor.moved.disconnect(self._on_cursor_moved)
        for t in (self._debounce, self._stored, self._flush_timer):
            t.stop()
        await self.moment.aclose()
        await self.tasks.cancel_all()


def _no_engine(key):
    raise LookupError(key)

