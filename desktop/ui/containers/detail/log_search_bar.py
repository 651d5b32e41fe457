"""The Logs tab's search row: plain or regex, case, highlight, count, next/previous, filter mode."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QToolButton, QVBoxLayout, QWidget

from desktop.state.log_buffer import LogBuffer
from desktop.state.log_search import LogSearch, SearchError
from desktop.ui.async_tasks import TaskSet
from desktop.ui.containers.detail.log_view import LogView
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet

SYNC_SEARCH_LINES = 50_000  # above this a new search scans in a worker thread (~3 MB: 5-30 ms)
SYNC_UPDATE_LINES = 20_000  # above this, lines that arrived are scanned in a worker thread


class LogSearchBar(QWidget):
    """Signals: search_done() after each search (or after a query was rejected)."""

    search_done = Signal()

    def __init__(self, buffer: LogBuffer, view: LogView, raw: Callable[[], bool], parent=None) -> None:
        super().__init__(parent)
        self.buffer, self.view, self._raw = buffer, view, raw
        self.tasks = TaskSet()
        self.search: LogSearch | None = None
        self._search_gen = 0
        self._searching = False
        self._updating = False  # new lines are being scanned in a worker
        # Another filter's rows (sorted line indexes, or None for all), intersected with the search's
        self.row_filter: Callable[[], np.ndarray | None] | None = None
        # Whether older lines are still coming (the view's backfill): results then say "so far"
        self.still_loading: Callable[[], bool] = lambda: False

        self.query = QLineEdit()
        self.query.setObjectName("logSearch")
        self.query.setPlaceholderText("Search the log (Ctrl+F; Enter/F3 next, Shift+F3 previous)")
        self.query.setClearButtonEnabled(True)
        self.query.setAccessibleName("Search the log")
        self.regex = QCheckBox("Regex")
        self.regex.setObjectName("logRegex")
        self.case = QCheckBox("Match case")
        self.case.setObjectName("logCase")
        self.filter = QCheckBox("Only matching lines")
        self.filter.setObjectName("logFilter")
        self.count = QLabel("")
        self.count.setObjectName("logMatchCount")
        self.prev = QToolButton()
        self.prev.setText("▲")
        self.prev.setObjectName("logPrev")
        self.prev.setToolTip("Previous match (Shift+F3)")
        self.next = QToolButton()
        self.next.setText("▼")
        self.next.setObjectName("logNext")
        self.next.setToolTip("Next match (F3, Enter)")
        self.search_error = plain_label("")
        self.search_error.setObjectName("logSearchError")
        set_sheet(self.search_error, "color: #b3261e;")
        self.search_error.hide()
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.run_search)
        self.query.textChanged.connect(lambda _: self._search_timer.start())
        self.query.returnPressed.connect(self.next_match)
        self.regex.toggled.connect(lambda _: self.run_search())
        self.case.toggled.connect(lambda _: self.run_search())
        self.filter.toggled.connect(lambda _: self._apply_filter())
        self.prev.clicked.connect(self.previous_match)
        self.next.clicked.connect(self.next_match)
        self._search_update = QTimer(self)
        self._search_update.setSingleShot(True)
        self._search_update.setInterval(100)
        self._search_update.timeout.connect(self._update_search)
        buffer.changed.connect(self._on_buffer_changed)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.query, 1)
        row.addWidget(self.regex)
        row.addWidget(self.case)
        row.addWidget(self.filter)
        row.addWidget(self.count)
        row.addWidget(self.prev)
        row.addWidget(self.next)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(row)
        lay.addWidget(self.search_error)

    def _on_buffer_changed(self, older: int, newer: int) -> None:
        if self.search is not None and not self._searching and not self._updating and not self._search_update.isActive():
            self._search_update.start()

    def reset_results(self) -> None:
        """The buffer was cleared or reloaded: same query, no results yet."""
        if self.search is not None:
            self.search = LogSearch(self.search.query, regex=self.search.regex, case_sensitive=self.case.isChecked(),
                                    strip_ansi=not self._raw())
            self.view.search = self.search
        self.view.current_match = -1
        self._apply_filter()
        self._update_count()

    def run_search(self) -> asyncio.Task | None:
        """Search for the query now (the text box debounces typing)."""
        self._search_timer.stop()
        self._search_gen += 1
        self._searching = False  # a scan still running for an older query is ignored when done
        text = self.query.text()
        self.view.current_match = -1
        if not text:
            self.search = self.view.search = None
            self.search_error.hide()
            self._apply_filter()
            self._update_count()
            self.search_done.emit()
            return None
        try:
            s = LogSearch(text, regex=self.regex.isChecked(), case_sensitive=self.case.isChecked(),
                          strip_ansi=not self._raw())
        except SearchError as err:
            self.search = self.view.search = None
            self.search_error.setText(str(err))
            self.search_error.show()
            self._apply_filter()
            self.count.setText("")
            self.search_done.emit()
            return None
        self.search_error.hide()
        self.search = s
        return self.tasks.spawn(self._scan(s, self._search_gen))

    async def _scan(self, s: LogSearch, gen: int) -> None:
        if len(self.buffer) > SYNC_SEARCH_LINES:
            self._searching = True
            self._update_count()
            snap = s.snapshot(self.buffer)
            loop = asyncio.get_running_loop()

            def part(result) -> None:  # in the worker: what was found so far, shown as it comes
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self._on_scan_part, s, gen, result)

            try:
                result = await loop.run_in_executor(None, s.scan_snapshot, snap, part)
            except OSError:
                return  # the view was closed or cleared meanwhile (its spill file went with it)
            finally:
                if gen == self._search_gen:
                    self._searching = False
            if gen != self._search_gen:
                return
            s.adopt(result, self.buffer)
            while s.pending(self.buffer) > SYNC_UPDATE_LINES:  # what arrived meanwhile, if much
                plan = s.plan_update(self.buffer)
                try:
                    found = await asyncio.get_running_loop().run_in_executor(None, s.scan_update, plan)
                except OSError:
                    return
                if gen != self._search_gen:
                    return
                s.apply_update(found)
        s.update(self.buffer)
        self.view.search = s
        self._apply_filter()
        self._update_count()
        self.search_done.emit()

    def _on_scan_part(self, s: LogSearch, gen: int, result) -> None:
        if gen != self._search_gen or self.search is not s or not self._searching:
            return
        s.adopt(result, self.buffer)
        self.view.search = s
        self._apply_filter()
        self._update_count()
        self.view.schedule_repaint()

    @property
    def partial(self) -> bool:
        """The results do not cover the whole log yet: still searching, or older lines still loading."""
        s = self.search
        return s is not None and (self._searching or self.still_loading() or not s.scanned(self.buffer))

    def _update_search(self) -> None:
        s = self.search
        if self._searching or self._updating:
            return  # a scan in a worker will take in these lines when it is done
        if s is not None and s.pending(self.buffer) > SYNC_UPDATE_LINES:
            # a backfilled piece of megabytes: scanned in a worker, not on the UI thread
            self._updating = True
            self.tasks.spawn(self._update_in_worker(s, self._search_gen))
            return
        if s is not None and s.update(self.buffer):
            self._apply_filter()
        self._update_count()
        self.view.schedule_repaint()

    async def _update_in_worker(self, s: LogSearch, gen: int) -> None:
        try:
            plan = s.plan_update(self.buffer)
            try:
                found = await asyncio.get_running_loop().run_in_executor(None, s.scan_update, plan)
            except OSError:
                return  # the view was closed or cleared meanwhile
            if gen != self._search_gen or self.search is not s:
                return
            if s.apply_update(found):
                self._apply_filter()
            self._update_count()
            self.view.schedule_repaint()
        finally:
            self._updating = False
        if self.search is s and s.pending(self.buffer):
            self._search_update.start()  # more came meanwhile

    def _apply_filter(self) -> None:
        on = self.filter.isChecked() and self.search is not None
        rows = self.search.lines() if on else None
        extra = self.row_filter() if self.row_filter is not None else None
        if extra is not None:  # another filter (levels, time range) narrows the rows too
            rows = extra if rows is None else np.intersect1d(rows, extra, assume_unique=True)
        self.view.set_filter_rows(rows)

    def refilter(self) -> None:
        """`row_filter`'s answer changed: show the rows it keeps now."""
        self._apply_filter()

    def _update_count(self) -> None:
        s = self.search
        if s is None:
            self.count.setText("")
            self.count.setToolTip("")
            return
        n, lines = s.match_count(), len(s.lines())
        if self._searching:
            self.count.setText(f"searching… {n:,} matches so far")
            self.count.setToolTip("The search goes on through the rest of the log; results show as they are found")
            return
        if not n:
            text = "No matches"
        else:
            cur = f"{self.view.current_match + 1} of " if self.view.current_match >= 0 else ""
            text = f"{cur}{n:,} matches in {lines:,} lines"
        if self.still_loading():
            text += " so far (older lines still loading)"
            self.count.setToolTip("Older lines are still being read from the engine; they are searched as they arrive")
        else:
            self.count.setToolTip("")
        self.count.setText(text)

    def refresh_count(self) -> None:
        """The log finished loading (or started again): say so beside the results."""
        self._update_count()

    def _go(self, backwards: bool) -> None:
        s = self.search
        if s is None or not s.match_count():
            return
        if self.view.current_match >= 0:
            k = (self.view.current_match + (-1 if backwards else 1)) % s.match_count()
        else:
            k = s.first_match_from(self.view._anchor, backwards=backwards)
        self.view.current_match = k
        self.view.scroll_to_line(s.match_at(k)[0])
        self._update_count()

    def next_match(self) -> None:
        if self._search_timer.isActive() or (self.search is None and self.query.text()):
            self.run_search()
        self._go(False)

    def previous_match(self) -> None:
        self._go(True)

    @property
    def filtering(self) -> bool:
        return self.view.filter_rows is not None

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
