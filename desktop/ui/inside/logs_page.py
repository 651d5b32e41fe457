"""The Logs page: the merged, time-ordered logs of any set of containers — every running one,
all, one Compose project, or a hand-picked set, across engines — each line tagged with its
container (colour) and stream ("|" stdout, "!" stderr), followed live, with the Logs tab's
search, only-matching, range and save, plus level (error/warn/info/other) and time filters."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QListView, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from desktop.engine.log_records import MAX_SOURCES
from desktop.engine.logs import parse_since
from desktop.presentation.containers import is_debug_helper
from desktop.state.log_levels import LEVELS, LevelIndex, time_rows
from desktop.ui.async_tasks import TaskSet
from desktop.ui.containers.detail.logs_tab import LogsTab
from desktop.ui.inside.container_picker import ContainerPickerModel
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet

RUNNING, ALL, CHOSEN = "running", "all", "chosen"
LEVEL_LABELS = {"error": "Errors", "warn": "Warnings", "info": "Info", "other": "No level"}


def project_key(engine_id: str, project: str) -> str:
    """A Compose project's entry in the scope list (combo data compares as plain strings)."""
    return f"project\x1f{engine_id}\x1f{project}"


def parse_time(text: str) -> float | None:
    """A time bound: "15m" (ago), a date and time, or empty (none). Raises ValueError."""
    s = parse_since(text, ())
    if s is not None and s < 10**6:  # a duration: counted back from now
        return time.time() - s
    return s


class LogsPage(QWidget):
    """Signals: shown(n) after a set of containers' logs opens (n sources); source_added(id) when
    a container that appeared in the open view's scope joined it."""

    shown = Signal(int)
    source_added = Signal(str)

    def __init__(self, store, client_for, engine_label, engine_count, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("logsPage")
        self.store, self.client_for, self.engine_label, self.engine_count = store, client_for, engine_label, engine_count
        self.tasks = TaskSet()
        self.tab: LogsTab | None = None
        self.levels = LevelIndex()
        self.engine_id: str | None = None  # the engine switcher's choice (None: every engine)
        self.view_scope = None  # what the open view shows: a scope that takes in new containers, or CHOSEN
        self._clients: dict = {}  # container id -> its engine's client, for the open view

        title = QLabel("Logs")
        title.setObjectName("pageTitle")
        set_sheet(title, "font-size: 16pt; font-weight: 600;")
        self.scope = QComboBox()
        self.scope.setObjectName("logsScope")
        self.scope.setAccessibleName("Which containers")
        # a long project name must not widen the page: the box keeps a set width, the tooltip the name
        self.scope.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.scope.setMinimumContentsLength(24)
        self.scope.currentTextChanged.connect(self.scope.setToolTip)
        self.scope.activated.connect(lambda _i: self._on_scope_chosen())
        self.show_button = QPushButton("Show logs")
        self.show_button.setObjectName("logsShow")
        self.show_button.clicked.connect(self.show_checked)
        legend = QLabel("Each line: container | stdout, container ! stderr")
        set_sheet(legend, "color: palette(placeholder-text);")
        head = QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(12)
        head.addWidget(QLabel("Containers"))
        head.addWidget(self.scope)
        head.addWidget(self.show_button)
        head.addStretch(1)
        head.addWidget(legend)

        self.picker_model = ContainerPickerModel(self)
        self.picker = QListView()
        self.picker.setModel(self.picker_model)
        self.picker.setUniformItemSizes(True)  # 20,000 rows: laid out without asking each one
        self.picker.setObjectName("logsPicker")
        self.picker.setAccessibleName("Containers whose logs to merge")
        # Names of one project share their start: elided in the middle, each keeps what tells it
        # apart (and the full name is its tooltip).
        self.picker.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.picker.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.picker_model.checked_by_user.connect(self._on_picker_item_changed)

        self.level_boxes: dict[str, QCheckBox] = {}
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Levels"))
        for lv in LEVELS:
            box = QCheckBox(LEVEL_LABELS[lv])
            box.setObjectName(f"logsLevel_{lv}")
            box.setChecked(True)
            box.toggled.connect(lambda _on: self.refilter())
            self.level_boxes[lv] = box
            filters.addWidget(box)
        filters.addSpacing(12)
        self.time_from = QLineEdit()
        self.time_to = QLineEdit()
        for w, name, hint, spoken in ((self.time_from, "logsFrom", "from: 1h, 2026-12-01 10:00", "Logs from"),
                                      (self.time_to, "logsTo", "to: 5m, 2026-12-01 11:00", "Logs until")):
            w.setObjectName(name)
            w.setAccessibleName(spoken)
            w.setPlaceholderText(hint)
            w.setToolTip("How long ago (15m, 2h, 3d) or a date and time; empty: no bound. Enter applies.")
            w.setClearButtonEnabled(True)
            w.returnPressed.connect(self.refilter)
            w.setMaximumWidth(200)
            filters.addWidget(w)
        self.time_error = plain_label("")
        self.time_error.setObjectName("logsTimeError")
        set_sheet(self.time_error, "color: #b3261e;")
        filters.addWidget(self.time_error)
        filters.addStretch(1)
        self._bounds: tuple[int | None, int | None] = (None, None)

        self.message = MessageBar(self)
        self.right = QWidget()
        self.right_lay = QVBoxLayout(self.right)
        self.right_lay.setContentsMargins(0, 0, 0, 0)
        self.right_lay.addLayout(filters)
        self.placeholder = QLabel("Choose containers, then Show logs.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.right_lay.addWidget(self.placeholder, 1)
        split = QSplitter()
        split.addWidget(self.picker)
        split.addWidget(self.right)
        split.setStretchFactor(1, 4)
        split.setSizes([220, 900])
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.message)
        lay.addWidget(split, 1)

        self._refilter_timer = QTimer(self)
        self._refilter_timer.setSingleShot(True)
        self._refilter_timer.setInterval(200)  # levels of lines that keep arriving: at most 5 times a second
        self._refilter_timer.timeout.connect(self._apply_row_filter)
        self._list_timer = QTimer(self)
        self._list_timer.setSingleShot(True)
        self._list_timer.setInterval(300)
        self._list_timer.timeout.connect(self.refresh_list)
        # Building the list of every engine's containers costs tens of ms at a thousand and over a
        # second at 20,000: it is built when the page is first shown (or asked about), and while
        # the page is hidden changes only mark it stale and the page catches up when shown.
        self._list_stale = True
        self._listed_projects: list | None = None
        self._listed: list[tuple[str, str]] = []  # (id, text) of the picker's items, in order
        store.upserted.connect(self._on_store_upserted)
        store.removed.connect(self._on_store_changed)
        store.reset.connect(self._on_store_reset)

    # -- which containers ------------------------------------------------------------------------
    def _label(self, c, several: bool | None = None) -> str:
        """The container's name, after its engine's when several are followed (`several`: known
        already, for a loop over thousands)."""
        if several is None:
            several = self.engine_count() > 1
        return f"{self.engine_label(c.engine_id)}/{c.name}" if several else c.name

    def _containers(self) -> list:
        """The containers the page offers: the selected engine's, or every engine's."""
        return [c for c in self.store.all() if (self.engine_id is None or c.engine_id == self.engine_id)
                and not is_debug_helper(c)]

    def _projects(self) -> list[tuple[str, str]]:
        return sorted({(c.engine_id, c.compose_project) for c in self._containers() if c.compose_project},
                      key=lambda p: (p[1], p[0]))

    def set_engine(self, engine_id: str | None) -> None:
        """Follow the engine switcher: offer that engine's containers; an open view of all (or the
        running) containers reopens over that engine's, a chosen set keeps that engine's part."""
        if engine_id == self.engine_id:
            return
        self.engine_id = engine_id
        self.refresh_list()
        if self.tab is None:
            return
        if self.view_scope in (RUNNING, ALL):
            ids = self.scope_ids(self.view_scope)
        else:
            ids = [cid for cid, _ in self.tab.containers if self._on_engine(self.store.get(cid))]
        if [cid for cid, _ in self.tab.containers] != ids:
            self.tasks.spawn(self.show_containers(ids, scope=self.view_scope))

    def _on_engine(self, c) -> bool:
        return c is not None and (self.engine_id is None or c.engine_id == self.engine_id)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._list_stale:
            self.refresh_list()

    def refresh_list(self) -> None:
        """The picker and the scope list follow the engines' containers (checks are kept)."""
        self._list_stale = False
        self._list_timer.stop()
        several = self.engine_count() > 1
        # Each label made once (20,000 rows: the sort and the list would make it twice each).
        labelled = [(c.state != "running", self._label(c, several), c) for c in self._containers()]
        labelled.sort(key=lambda e: (e[0], e[1]))
        listed = [(c.id, f"{label}  ({c.state})") for _, label, c in labelled]
        projects = (several, self._projects())
        if listed == self._listed and projects == self._listed_projects:
            return  # a change the list does not show (a status text, stats, a label)
        checked = set(self.checked_ids())
        current = self.scope.currentData()
        if projects != self._listed_projects:
            self._listed_projects = projects
            self.scope.clear()
            self.scope.addItem("Running containers", RUNNING)
            self.scope.addItem("All containers", ALL)
            for eid, project in projects[1]:
                where = f" on {self.engine_label(eid)}" if several else ""
                self.scope.addItem(f"Compose project {project}{where}", project_key(eid, project))
            self.scope.addItem("Chosen in the list", CHOSEN)
            i = self.scope.findData(current) if current is not None else 0
            self.scope.setCurrentIndex(max(0, i))
        if [cid for cid, _ in listed] == [cid for cid, _ in self._listed]:
            self.picker_model.set_texts(listed)  # same rows in the same order: states changed
        else:
            self.picker_model.set_rows(listed, checked)
        self._listed = listed
        if current is None:
            self._on_scope_chosen()

    def _on_store_changed(self, _items) -> None:
        if not self.isVisible():
            self._list_stale = True
        elif not self._list_timer.isActive():
            self._list_timer.start()

    def _on_store_reset(self) -> None:
        self._on_store_changed(())
        self._on_store_upserted(self.store.all())

    def _on_store_upserted(self, items) -> None:
        """Containers that appeared in the open view's scope join it; ones that started again
        continue their stream."""
        self._on_store_changed(items)
        tab = self.tab
        if tab is None:
            return
        for c in items:
            if tab.shows(c.id):
                if c.state == "running":
                    tab.resume(c.id)
            elif self.view_scope != CHOSEN and self._in_scope(c, self.view_scope):
                self._clients[c.id] = self.client_for(c)
                task = tab.add_container(c.id, self._label(c))
                if task is not None:
                    task.add_done_callback(lambda t, cid=c.id: self._on_add_done(t, cid))

    def _on_add_done(self, task, cid: str) -> None:
        if not task.cancelled() and task.exception() is None and task.result():
            self.source_added.emit(cid)

    def _in_scope(self, c, scope) -> bool:
        if not self._on_engine(c) or is_debug_helper(c):
            return False
        if scope == RUNNING:
            return c.state == "running"
        if scope == ALL:
            return True
        if isinstance(scope, str) and scope.startswith("project\x1f"):
            _, eid, project = scope.split("\x1f", 2)
            return c.engine_id == eid and c.compose_project == project
        return False

    def scope_ids(self, scope) -> list[str]:
        if scope == CHOSEN or scope is None:
            return self.checked_ids()
        return [c.id for c in self.store.all() if self._in_scope(c, scope)]

    def _catch_up(self) -> None:
        if self._list_stale:
            self.refresh_list()

    def choose_scope(self, scope) -> None:
        """Pick a scope as a user would (its containers get checked): RUNNING, ALL, CHOSEN or
        (engine id, project) for a Compose project."""
        self._catch_up()
        if isinstance(scope, tuple):
            scope = project_key(*scope)
        self.scope.setCurrentIndex(self.scope.findData(scope))
        self._on_scope_chosen()

    def _on_scope_chosen(self) -> None:
        scope = self.scope.currentData()
        if scope == CHOSEN:
            return
        self.set_checked(self.scope_ids(scope))

    def set_checked(self, ids) -> None:
        self._catch_up()
        self.picker_model.set_checked(set(ids))  # (not the user's choice: the scope stays)

    def checked_ids(self) -> list[str]:
        self._catch_up()
        return self.picker_model.checked_ids()

    def _on_picker_item_changed(self) -> None:
        self.scope.setCurrentIndex(self.scope.findData(CHOSEN))

    # -- the merged view -----------------------------------------------------------------------------
    def show_checked(self) -> None:
        self._catch_up()
        scope = self.scope.currentData()
        self.tasks.spawn(self.show_containers(self.checked_ids(), scope=scope))

    async def show_containers(self, ids: list[str], scope=CHOSEN) -> None:
        """Open the merged view of these containers; with a scope other than CHOSEN, containers
        that appear in that scope later join the view."""
        cs = [c for c in (self.store.get(i) for i in ids) if c is not None]
        if not cs:
            self.message.show_error("Choose at least one container.")
            return
        if len(cs) > MAX_SOURCES:
            self.message.show_info(f"Showing the first {MAX_SOURCES:,} of {len(cs):,} containers: one view merges at "
                                   f"most {MAX_SOURCES:,}.")
            cs = cs[:MAX_SOURCES]
        else:
            self.message.hide()
        self.view_scope = scope
        old, self.tab = self.tab, None
        if old is not None:
            old.buffer.changed.disconnect(self._on_buffer_changed)
            old.buffer.cleared.disconnect(self._on_buffer_cleared)
            self.right_lay.removeWidget(old)
            old.hide()
            await old.aclose()
            old.deleteLater()
        self.placeholder.hide()
        self.levels = LevelIndex()
        clients = self._clients = {c.id: self.client_for(c) for c in cs}
        tab = LogsTab(clients[cs[0].id], [(c.id, self._label(c)) for c in cs], merged=True, client_of=clients.__getitem__)
        tab.setObjectName("logsPageView")
        tab.search_bar.row_filter = self._row_filter
        tab.buffer.changed.connect(self._on_buffer_changed)
        tab.buffer.cleared.connect(self._on_buffer_cleared)
        self.tab = tab
        self.right_lay.addWidget(tab, 1)
        tab.start()
        self.shown.emit(len(cs))

    # -- level and time filters ------------------------------------------------------------------
    def wanted_levels(self) -> list[str]:
        return [lv for lv, box in self.level_boxes.items() if box.isChecked()]

    def refilter(self) -> None:
        """The level boxes or time bounds changed: validate, then show the rows they keep."""
        try:
            start = parse_time(self.time_from.text())
            end = parse_time(self.time_to.text())
        except ValueError as err:
            self.time_error.setText(str(err))
            return
        if start is not None and end is not None and start > end:
            self.time_error.setText("The start of the range is after its end.")
            return
        self.time_error.setText("")
        self._bounds = (None if start is None else int(start * 1e9), None if end is None else int(end * 1e9))
        self._apply_row_filter()

    def _filtering(self) -> bool:
        return len(self.wanted_levels()) < len(LEVELS) or self._bounds != (None, None)

    def _row_filter(self) -> np.ndarray | None:
        tab = self.tab
        if tab is None or not self._filtering():
            return None
        rows = self.levels.rows(tab.buffer, self.wanted_levels())
        times = time_rows(tab.buffer, *self._bounds)
        if times is not None:
            rows = times if rows is None else np.intersect1d(rows, times, assume_unique=True)
        return rows

    def _apply_row_filter(self) -> None:
        if self.tab is not None:
            self.tab.search_bar.refilter()

    def _on_buffer_changed(self, _older: int, _newer: int) -> None:
        if self._filtering() and not self._refilter_timer.isActive():
            self._refilter_timer.start()

    def _on_buffer_cleared(self) -> None:
        self.levels = LevelIndex()
        self._apply_row_filter()

    def shown_lines(self) -> list[str]:
        """The text of the rows on view, in order (all of them: for tests and copy)."""
        tab = self.tab
        if tab is None:
            return []
        v = tab.view
        return [v.display_text(v.line_of_row(r))[0] for r in range(v.row_count())]

    async def aclose(self) -> None:
        for signal, slot in ((self.store.upserted, self._on_store_upserted), (self.store.removed, self._on_store_changed),
                             (self.store.reset, self._on_store_reset)):
            try:
                signal.disconnect(slot)
            except ValueError:
                pass
        self._refilter_timer.stop()
        self._list_timer.stop()
        if self.tab is not None:
            await self.tab.aclose()
        await self.tasks.cancel_all()
