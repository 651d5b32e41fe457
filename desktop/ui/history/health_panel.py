"""The container page's Health tab: the check, the failing streak, the last probes and what their
pattern means. It reads the container's inspect (off the UI thread) and again at each health change."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QFormLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from desktop.engine.crash_evidence import inspect_raw
from desktop.engine.errors import EngineError
from desktop.state.history.health import HealthReport, health_report
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet


class HealthPanel(QWidget):
    """`loaded(HealthReport | None)` after every read (tests wait on it)."""

    loaded = Signal(object)

    def __init__(self, client, container_id: str, events=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("healthPanel")
        self.client = client
        self.cid = container_id
        self._events = events
        self.tasks = TaskSet()
        self.report: HealthReport | None = None
        self.verdict = plain_label("Reading the health check…")
        self.verdict.setObjectName("healthVerdict")
        self.verdict.setWordWrap(True)
        set_sheet(self.verdict, "font-size: 11pt; font-weight: 600;")
        self.form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for key in ("Command", "Interval", "Timeout", "Retries", "Start period", "Status", "Failing streak"):
            lab = plain_label()
            lab.setWordWrap(True)
            self.fields[key] = lab
            self.form.addRow(key + ":", lab)
        self.probes = QTableWidget(0, 4)
        self.probes.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.probes.setHorizontalHeaderLabels(("Started", "Duration", "Exit code", "Output"))
        self.probes.verticalHeader().hide()
        self.probes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.probes.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.probes.horizontalHeader().setStretchLastSection(True)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        lay = QVBoxLayout(self)
        lay.addWidget(self.verdict)
        lay.addLayout(self.form)
        lay.addWidget(QLabel("Last probes (the engine keeps five):"))
        lay.addWidget(self.probes, 1)
        lay.addWidget(refresh, 0, Qt.AlignmentFlag.AlignRight)
        if events is not None:
            events.connect(self._on_event)
        self.refresh()

    def _on_event(self, ev) -> None:
        if ev.id == self.cid and ev.action.startswith("health_status"):
            self.refresh()

    def refresh(self) -> None:
        self.tasks.spawn(self._load())

    async def _load(self) -> None:
        try:
            raw = await inspect_raw(self.client, self.cid)
        except EngineError as err:
            self.verdict.setText(f"The health check cannot be read: {err}")
            self.loaded.emit(None)
            return
        self.show_report(health_report(raw))

    def show_report(self, r: HealthReport | None) -> None:
        self.report = r
        if r is None:
            self.verdict.setText("This container has no health check.")
            self.loaded.emit(None)
            return
        c = r.check
        self.verdict.setText(r.verdict)
        for key, value in (("Command", c.command), ("Interval", f"{c.interval:g} s"), ("Timeout", f"{c.timeout:g} s"),
                           ("Retries", str(c.retries)), ("Start period", f"{c.start_period:g} s"),
                           ("Status", r.status), ("Failing streak", str(r.failing_streak))):
            self.fields[key].setText(value)
        self.probes.setRowCount(len(r.probes))
        for i, p in enumerate(reversed(r.probes)):
            when = time.strftime("%H:%M:%S", time.localtime(p.start)) if p.start else "?"
            for j, text in enumerate((when, f"{p.duration:.2f} s", str(p.exit_code), p.output)):
                self.probes.setItem(i, j, QTableWidgetItem(text))
        self.loaded.emit(r)

    async def aclose(self) -> None:
        if self._events is not None:
            try:
                self._events.disconnect(self._on_event)
            except ValueError:
                pass
            self._events = None
        await self.tasks.cancel_all()
