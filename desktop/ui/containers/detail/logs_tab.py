"""The Logs tab: options, search/filter, save/copy/clear around a LogView fed by a LogSession."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QToolButton, QVBoxLayout, QWidget)

from desktop.engine.client import EngineClient
from desktop.engine.compose_logs import MergedLogSession
from desktop.engine.errors import EngineError
from desktop.engine.logs import LogOptions, LogSession, parse_since, parse_tail
from desktop.engine.fresh_file import fresh_file
from desktop.engine.log_records import LogBatch
from desktop.state.log_buffer import LogBuffer, iter_log_bytes
from desktop.state.memory import release_free_memory
from desktop.ui.async_tasks import TaskSet
from desktop.ui.containers.detail.log_search_bar import LogSearchBar
from desktop.ui.containers.detail.log_view import LogView
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.dialogs import open_file_dialog
from desktop.ui.widgets.palette_sheet import set_sheet

log = logging.getLogger(__name__)

TAIL_CHOICES = (("All lines", None), ("Last 100", 100), ("Last 1,000", 1000), ("Last 10,000", 10000), ("Last 100,000", 100000))
SINCE_CHOICES = (("Any time", None), ("Last 5 minutes", 300), ("Last hour", 3600), ("Last 24 hours", 86400))


def write_log(path: str, chunks, lines) -> None:
    with fresh_file(path) as f:
        for piece in iter_log_bytes(chunks, lines):
            f.write(piece)


class LogsTab(QWidget):
    """Signals: loaded() when the tail and all older lines are in (search_done: see LogSearchBar)."""

    loaded = Signal()

    def __init__(self, client: EngineClient, containers: Sequence[tuple[str, str]], *, merged: bool = False,
                 parent=None, client_of=None) -> None:
        super().__init__(parent)
        self.setObjectName("logsTab")
        self.client = client
        self.containers = list(containers)  # (id, name or service)
        self.merged = merged
        self.client_of = client_of  # merged containers of several engines: container id -> its client
        self.tasks = TaskSet()
        self.buffer = LogBuffer()
        if merged:
            self.buffer.sources = [name for _, name in self.containers]
        self.session: LogSession | MergedLogSession | None = None
        self._gen = 0
        self._backfill_wanted = True
        self.is_loaded = False
        self.ended_reason: str | None = None

        self.view = LogView(self.buffer, client.foreground)
        self.view.following_changed.connect(self._on_view_following_changed)

        # -- options row
        self.tail = QComboBox()
        self.tail.setObjectName("logTail")
        self.tail.setAccessibleName("Lines to show")
        for label, n in TAIL_CHOICES:
            self.tail.addItem(label, n)
        self.since = QComboBox()
        self.since.setObjectName("logSince")
        self.since.setAccessibleName("Show lines since")
        for label, s in SINCE_CHOICES:
            self.since.addItem(label, s)
        # Both also take typed values: "5000" lines; "15m", "2h", "3d" or "2026-11-28 10:00" since.
        for combo, tip in ((self.tail, "Pick, or type a number of lines and press Enter"),
                           (self.since, "Pick, or type 15m, 2h, 3d or a date and time such as 2026-11-28 10:00, then Enter")):
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.setToolTip(tip)
            combo.activated.connect(lambda _: self._apply_range())
            combo.lineEdit().returnPressed.connect(self._apply_range)
        self._range = (None, None)
        self.range_error = plain_label("")
        self.range_error.setObjectName("logRangeError")
        set_sheet(self.range_error, "color: #b3261e;")
        self.range_error.hide()
        self.timestamps = QCheckBox("Timestamps")
        self.timestamps.setObjectName("logTimestamps")
        self.timestamps.toggled.connect(lambda on: self.view.set_options(timestamps=on))
        self.wrap = QCheckBox("Wrap")
        self.wrap.setObjectName("logWrap")
        self.wrap.toggled.connect(lambda on: self.view.set_options(wrap=on))
        self.raw = QCheckBox("Raw")
        self.raw.setObjectName("logRaw")
        self.raw.setToolTip("Show escape sequences instead of colours")
        self.raw.toggled.connect(self._on_raw_toggled)
        self.jump = QPushButton("Jump to end")
        self.jump.setObjectName("logJumpToEnd")
        self.jump.setToolTip("Scroll to the newest line and follow (Ctrl+End)")
        self.jump.clicked.connect(self.view.jump_to_end)
        self.jump.setVisible(False)
        self.copy = QToolButton()
        self.copy.setText("Copy")
        self.copy.setObjectName("logCopy")
        self.copy.setToolTip("Copy the selected text (Ctrl+C)")
        self.copy.clicked.connect(self.view.copy_selection)
        self.save = QToolButton()
        self.save.setText("Save…")
        self.save.setObjectName("logSave")
        self.save.setToolTip("Save the whole log, or the matching lines in filter mode, to a file")
        self.save.clicked.connect(self._on_save_clicked)
        self.clear = QToolButton()
        self.clear.setText("Clear")
        self.clear.setObjectName("logClear")
        self.clear.setToolTip("Clear the view; new lines keep coming")
        self.clear.clicked.connect(self.clear_view)
        opts = QHBoxLayout()
        opts.addWidget(QLabel("Show"))
        opts.addWidget(self.tail)
        opts.addWidget(self.since)
        opts.addSpacing(8)
        opts.addWidget(self.timestamps)
        opts.addWidget(self.wrap)
        opts.addWidget(self.raw)
        opts.addStretch(1)
        opts.addWidget(self.jump)
        opts.addWidget(self.copy)
        opts.addWidget(self.save)
        opts.addWidget(self.clear)

        # -- search row (and aliases kept for callers and tests)
        self.search_bar = LogSearchBar(self.buffer, self.view, self.raw.isChecked)
        bar = self.search_bar
        bar.still_loading = lambda: self.session is not None and not self.is_loaded
        self.query, self.regex, self.case, self.filter = bar.query, bar.regex, bar.case, bar.filter
        self.count, self.search_error = bar.count, bar.search_error
        self.run_search, self.next_match, self.previous_match = bar.run_search, bar.next_match, bar.previous_match

        self.message = MessageBar(self)
        self.status = plain_label("")
        self.status.setObjectName("logStatus")
        self.progress = QProgressBar()
        self.progress.setObjectName("logProgress")
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.progress.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.progress)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addLayout(opts)
        lay.addWidget(self.range_error)
        lay.addWidget(self.search_bar)
        lay.addWidget(self.message)
        lay.addWidget(self.view, 1)
        lay.addLayout(bottom)

        # Ctrl+F is Edit > Find in the menu bar (it focuses `query`): a second owner would make it ambiguous.
        for seq, slot in (("F3", self.next_match), ("Shift+F3", self.previous_match)):
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(250)
        self._status_timer.timeout.connect(self._update_status)
        self._status_timer.start()

    # -- session ----------------------------------------------------------------------------------
    def _apply_range(self) -> None:
        """Validate what the two boxes say; restart the stream when it changed."""
        try:
            tail = parse_tail(self.tail.currentText(), TAIL_CHOICES)
            since = parse_since(self.since.currentText(), SINCE_CHOICES)
        except ValueError as err:
            self.range_error.setText(str(err))
            self.range_error.show()
            return
        self.range_error.hide()
        if (tail, since) != self._range:
            self._range = (tail, since)
            self.restart()

    def options(self) -> LogOptions:
        tail, since = self._range
        if since is not None and since < 10**6:  # a duration: counted back from now, at each (re)start
            since = time.time() - since
        return LogOptions(tail=tail, since=since)

    def start(self) -> asyncio.Task:
        """Open the stream (called when the page opens)."""
        return self.tasks.spawn(self._start())

    def restart(self) -> asyncio.Task:
        return self.tasks.spawn(self._restart())

    async def _restart(self) -> None:
        await self._stop_session()
        self.buffer.clear()
        self.search_bar.reset_results()
        await self._start()

    async def _start(self) -> None:
        self._gen += 1
        gen = self._gen
        self.is_loaded = False
        self.ended_reason = None
        self._backfill_wanted = True
        self._load_started = time.perf_counter()

        def lines(b: LogBatch) -> None:
            if gen == self._gen:
                self.buffer.append(b)

        def backfill(b: LogBatch) -> None:
            if gen == self._gen and self._backfill_wanted:
                self.buffer.backfill(b)

        def progress(f: float | None) -> None:
            if gen != self._gen:
                return
            if f is None:
                self.progress.hide()
                self._mark_loaded()
            else:
                self.progress.show()
                self.progress.setValue(int(f * 1000))

        def ended(reason: str) -> None:
            if gen == self._gen:
                self.ended_reason = reason
                self._update_status()

        kw = dict(on_lines=lines, on_backfill=backfill, on_progress=progress, on_ended=ended)
        opts = self.options()
        if self.merged:
            self.buffer.sources = [name for _, name in self.containers]
            self.session = MergedLogSession(self.client, self.containers, opts, client_of=self.client_of,
                                            on_source_added=self.buffer.sources.append, **kw)
        else:
            self.session = LogSession(self.client, self.containers[0][0], opts, **kw)
        try:
            await self.session.start()
        except EngineError as err:
            if gen == self._gen:
                self.message.show_error(str(err))
        self._update_status()

    def _mark_loaded(self) -> None:
        if not self.is_loaded:
            self.is_loaded = True
            # malloc_trim walks the whole heap (slow for a big log); ctypes drops the GIL meanwhile
            asyncio.get_running_loop().run_in_executor(None, release_free_memory)
            self.load_seconds = time.perf_counter() - self._load_started
            self._update_status()
            self.search_bar.refresh_count()
            self.loaded.emit()

    async def _stop_session(self) -> None:
        s, self.session = self.session, None
        self._gen += 1
        if s is not None:
            await s.aclose()

    def resume(self, cid: str | None = None) -> None:
        """The container (or, merged, container `cid`) (re)started: continue the stream."""
        if self.session is not None:
            self.ended_reason = None
            self.session.resume(cid) if isinstance(self.session, MergedLogSession) else self.session.resume()
            self._update_status()

    def shows(self, cid: str) -> bool:
        return any(c == cid for c, _ in self.containers)

    def add_container(self, cid: str, name: str) -> "asyncio.Task | None":
        """Merged view: bring in a container that appeared while it is open (None: not added)."""
        s = self.session
        if not isinstance(s, MergedLogSession) or s.has(cid) or self.shows(cid):
            return None
        self.containers.append((cid, name))
        return self.tasks.spawn(s.add(cid, name))

    async def aclose(self) -> None:
        try:
            self._status_timer.stop()
        except RuntimeError:  # the widget is already gone (window closed first): streams still stop
            pass
        await self._stop_session()
        await self.search_bar.aclose()
        await self.tasks.cancel_all()
        self.buffer.close()  # the spill file goes with the view

    # -- view ---------------------------------------------------------------------------------------
    def _on_view_following_changed(self, on: bool) -> None:
        self.jump.setVisible(not on)

    def _on_raw_toggled(self, on: bool) -> None:
        self.view.set_options(raw=on)
        if self.search is not None:
            self.run_search()  # raw mode searches the escape codes too

    @property
    def search(self):
        return self.search_bar.search

    @property
    def search_done(self):
        return self.search_bar.search_done

    def _update_status(self) -> None:
        n = len(self.buffer)
        parts = [f"{n:,} lines"]
        disk = self.buffer.disk_bytes()
        if disk:
            parts.append(f"{disk / 1e6:,.0f} MB of them on disk")
        if self.session is not None and not self.is_loaded:
            parts.append("loading older lines…")
        if self.ended_reason:
            parts.append(self.ended_reason)
        elif self.ended_reason == "":
            parts.append("the container is not running; the log continues when it starts")
        elif self.view.following:
            parts.append("following")
        else:
            parts.append("paused: scroll to the end or press Jump to end to follow")
        self.status.setText(" · ".join(parts))

    def clear_view(self) -> None:
        self._backfill_wanted = False
        self.progress.hide()
        self.buffer.clear()
        self.search_bar.reset_results()
        self._mark_loaded()
        self._update_status()

    # -- save ---------------------------------------------------------------------------------------
    def _on_save_clicked(self) -> None:
        dlg = QFileDialog(self, "Save log")
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.setObjectName("saveLogDialog")
        name = self.containers[0][1] if len(self.containers) == 1 else "project"
        dlg.selectFile(f"{name}.log")
        dlg.fileSelected.connect(lambda path: self.tasks.spawn(self.save_to(path)))
        open_file_dialog(dlg)

    async def save_to(self, path: str, filtered: bool | None = None) -> int:
        """Write the log (or, in filter mode, only the matching lines) to a file; returns lines written."""
        if filtered is None:
            filtered = self.search_bar.filtering
        lines = self.view.filter_rows if filtered else None  # what the filters show
        chunks = self.buffer.chunks()
        n = len(lines) if lines is not None else len(self.buffer)
        self.message.show_info(f"Saving {n:,} lines to {path}…")
        try:
            await asyncio.get_running_loop().run_in_executor(None, write_log, path, chunks, lines)
        except OSError as err:
            self.message.show_error(f"Could not save the log to {path}: {err.strerror or err}.")
            raise
        self.message.show_info(f"Saved {n:,} lines to {path}.")
        return n
