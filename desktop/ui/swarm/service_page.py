"""One service: its rolling-update progress, tasks with their history, merged logs, inspect.

While the page is on screen it holds a lease on the service's tasks (desktop/state/swarm_tasks.py);
it releases it when hidden, so nothing is listed for a service nobody looks at.
"""

from __future__ import annotations

import asyncio
import json
import threading

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit,
                               QProgressBar, QPushButton, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from desktop.engine.errors import EngineError
from desktop.engine.swarm import task_problem
from desktop.engine.swarm_records import SwarmService
from desktop.state.swarm import SwarmState
from desktop.presentation.swarm import (pause_blocker, pause_hint, ports_text, replicas_text, task_rows,
                                        update_progress, update_text)
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.dialogs import confirm
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet

TASK_COLUMNS = ("Task", "Node", "Image", "Desired", "State", "Problem", "Updated")


class ServicePage(QWidget):
    back_requested = Signal()

    def __init__(self, state: SwarmState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("swarmServicePage")
        self.state = state
        self.service_id: str | None = None
        self.tasks = TaskSet()
        self._lease = None
        self._log_stream = None
        self._hold_busy = False
        back = QPushButton("← Services")
        back.setObjectName("serviceBackButton")
        back.clicked.connect(self.back_requested)
        self.title = plain_label()
        self.title.setObjectName("serviceTitle")
        set_sheet(self.title, "font-size: 15pt; font-weight: 600;")
        self.summary = plain_label()
        self.summary.setObjectName("serviceSummary")
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(back)
        top.addWidget(self.title, 1)
        self.message = MessageBar(self)

        # -- rolling update progress
        self.progress_box = QWidget()
        self.progress_box.setObjectName("updateProgress")
        pb = QVBoxLayout(self.progress_box)
        pb.setContentsMargins(0, 0, 0, 0)
        self.progress_label = plain_label()
        self.progress_label.setObjectName("updateProgressLabel")
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("updateProgressBar")
        self.slots_label = plain_label()
        self.slots_label.setObjectName("updateSlots")
        self.slots_label.setWordWrap(True)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pauseUpdateButton")
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.resume_button = QPushButton("Resume update")
        self.resume_button.setObjectName("resumeUpdateButton")
        self.resume_button.clicked.connect(self._on_resume_clicked)
        # What Pause and Resume really do (the swarm has no pause call), in words under the bar.
        self.hold_hint = plain_label()
        self.hold_hint.setObjectName("updateHoldHint")
        self.hold_hint.setWordWrap(True)
        self.rollback_button = QPushButton("Roll back")
        self.rollback_button.setObjectName("serviceRollbackButton")
        self.rollback_button.clicked.connect(self._on_rollback_clicked)
        prow = QHBoxLayout()
        prow.addWidget(self.progress_bar, 1)
        prow.addWidget(self.pause_button)
        prow.addWidget(self.resume_button)
        prow.addWidget(self.rollback_button)
        pb.addWidget(self.progress_label)
        pb.addLayout(prow)
        pb.addWidget(self.hold_hint)
        pb.addWidget(self.slots_label)

        # -- tabs: tasks, logs, inspect
        self.tabs = QTabWidget()
        self.tabs.setObjectName("serviceTabs")
        self.task_table = QTableWidget(0, len(TASK_COLUMNS))
        self.task_table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.task_table.setObjectName("serviceTasks")
        self.task_table.setAccessibleName("Tasks")
        self.task_table.setHorizontalHeaderLabels(TASK_COLUMNS)
        self.task_table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.task_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.task_table.verticalHeader().hide()
        self.task_table.setWordWrap(False)
        for c in (0, 1, 2, 3, 4, 6):
            self.task_table.horizontalHeader().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.history = QCheckBox("Show history (shut down and failed tasks)")
        self.history.setObjectName("taskHistory")
        self.history.setChecked(True)
        self.history.toggled.connect(lambda _c: self._render_tasks())
        tw = QWidget()
        tl = QVBoxLayout(tw)
        tl.addWidget(self.history)
        tl.addWidget(self.task_table)
        self.tabs.addTab(tw, "Tasks")
        self.logs = QPlainTextEdit()
        self.logs.setObjectName("serviceLogs")
        self.logs.setAccessibleName("Service logs")
        self.logs.setReadOnly(True)
        self.logs.setMaximumBlockCount(20000)
        self.follow = QCheckBox("Follow")
        self.follow.setObjectName("followLogs")
        self.follow.setChecked(True)  # like a container's logs: new lines arrive as they are written
        self.follow.toggled.connect(lambda _c: self._reload_logs())
        reload_ = QPushButton("Reload")
        reload_.setObjectName("reloadLogsButton")
        reload_.clicked.connect(self._reload_logs)
        lw = QWidget()
        ll = QVBoxLayout(lw)
        lrow = QHBoxLayout()
        lrow.addWidget(QLabel("Every task's output, across nodes (docker service logs)"), 1)
        lrow.addWidget(self.follow)
        lrow.addWidget(reload_)
        ll.addLayout(lrow)
        ll.addWidget(self.logs)
        self.tabs.addTab(lw, "Logs")
        self.inspect = QPlainTextEdit()
        self.inspect.setObjectName("serviceInspect")
        self.inspect.setAccessibleName("Service as JSON (docker service inspect)")
        self.inspect.setReadOnly(True)
        self.tabs.addTab(self.inspect, "Inspect")
        self.tabs.currentChanged.connect(self._on_tab_changed)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(self.message)
        lay.addWidget(self.progress_box)
        lay.addWidget(self.tabs, 1)
        for sig in (state.services.upserted, state.services.removed, state.services.reset):
            sig.connect(self._on_services_changed)
        state.tasks.refreshed.connect(self._on_tasks_refreshed)
        self.destroyed.connect(lambda *_: self._disconnect())

    def _disconnect(self) -> None:
        for sig in (self.state.services.upserted, self.state.services.removed, self.state.services.reset):
            try:
                sig.disconnect(self._on_services_changed)
            except ValueError:
                pass
        try:
            self.state.tasks.refreshed.disconnect(self._on_tasks_refreshed)
        except ValueError:
            pass

    # -- which service ------------------------------------------------------------------------
    def show_service(self, service: SwarmService) -> None:
        self._stop_logs()
        self.service_id = service.id
        self.logs.clear()
        self.inspect.clear()
        self.message.hide()
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        if self.isVisible():
            self._lease = self.state.tasks.watch(service.id)
        self._render()
        self._on_tab_changed(self.tabs.currentIndex())

    @property
    def service(self) -> SwarmService | None:
        return self.state.services.get(self.service_id) if self.service_id else None

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._lease is None and self.service_id:
            self._lease = self.state.tasks.watch(self.service_id)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        self._stop_logs()

    # -- rendering ----------------------------------------------------------------------------
    def _on_services_changed(self, *_a) -> None:
        if self.service_id:
            self._render()

    def _on_tasks_refreshed(self) -> None:
        if self.service_id and self.isVisible():
            self._render()

    def _node_names(self) -> dict[str, str]:
        return {n.id: n.hostname for n in self.state.nodes.all()}

    def _render(self) -> None:
        s = self.service
        if s is None:
            self.title.setText("Service removed")
            self.summary.setText("This service no longer exists.")
            self.progress_box.hide()
            return
        tasks = self.state.tasks.of_service(s.id)
        running = sum(1 for t in tasks if t.running and t.desired_state == "running")
        self.title.setText(s.name)
        bits = [f"{s.mode}, {replicas_text(s, running)} running", s.image]
        if s.ports:
            bits.append(f"ports {ports_text(s)}")
        if s.stack:
            bits.append(f"stack {s.stack}")
        self.summary.setText(" · ".join(bits))
        self._render_progress(s, tasks)
        self._render_tasks()

    def _render_progress(self, s: SwarmService, tasks) -> None:
        p = update_progress(s, tasks, self._node_names())
        if p is None or not s.update_state:
            self.progress_box.hide()
            return
        self.progress_box.show()
        verb = "Rolling back to" if s.update_state.startswith("rollback") else "Updating to"
        self.progress_label.setText(f"{verb} {p.target_image}: {p.updated} of {p.total} tasks "
                                    f"({update_text(s)})" + (f" — {p.message}" if p.message else ""))
        self.progress_bar.setRange(0, max(p.total, 1))
        self.progress_bar.setValue(p.updated)
        self.slots_label.setText("  ".join(f"{'✔' if sl.updated else '…'} {sl.slot}: {sl.state}" for sl in p.slots))
        blocker = pause_blocker(p)
        self.pause_button.setVisible(p.state == "updating" and not p.held)
        self.pause_button.setEnabled(not blocker and not self._hold_busy)
        self.pause_button.setToolTip(blocker or "Hold the update (what it does is written under the bar)")
        self.resume_button.setVisible(p.paused or p.held)
        self.resume_button.setEnabled(not self._hold_busy)
        self.resume_button.setToolTip("Let the update go on with the tasks still on the old version")
        hint = pause_hint(p)
        self.hold_hint.setText(hint)
        self.hold_hint.setVisible(bool(hint))
        self.rollback_button.setEnabled(s.can_roll_back and not s.update_state.startswith("rollback"))

    def _render_tasks(self) -> None:
        s = self.service
        if s is None:
            return
        names = self._node_names()
        rows = task_rows(self.state.tasks.of_service(s.id))
        if not self.history.isChecked():
            rows = [t for t in rows if t.current]
        self.task_table.setRowCount(len(rows))
        for r, t in enumerate(rows):
            name = f"{s.name}.{t.slot}" if t.slot is not None else f"{s.name}.{names.get(t.node_id, t.node_id[:12])}"
            vals = (name, names.get(t.node_id, t.node_id[:12]), t.image, t.desired_state, t.state,
                    task_problem(t, names.get(t.node_id, "")), t.updated[:19].replace("T", " "))
            for c, v in enumerate(vals):
                item = QTableWidgetItem(v)
                if c == 5 and t.error:
                    item.setToolTip(t.error)
                self.task_table.setItem(r, c, item)

    # -- actions ------------------------------------------------------------------------------
    def _on_rollback_clicked(self) -> None:
        s = self.service
        if s is not None:
            self.tasks.spawn(self._rollback(s))

    async def _rollback(self, s: SwarmService) -> None:
        ok, _ = await confirm(self, "Roll back", f"Stop the update and roll {s.name} back to its previous version?",
                              "Roll back", destructive=False)
        if not ok:
            return
        try:
            await self.state.swarm.rollback(s)
        except EngineError as err:
            self.message.show_error(str(err))

    def _on_pause_clicked(self) -> None:
        s = self.service
        if s is not None:
            self.tasks.spawn(self._hold_call(self.state.swarm.hold_update(s),
                                             f"The update of {s.name} holds after the swarm's next batch."))

    def _on_resume_clicked(self) -> None:
        s = self.service
        if s is not None:
            self.tasks.spawn(self._hold_call(self.state.swarm.resume_update(s),
                                             f"The update of {s.name} goes on."))

    async def _hold_call(self, coro, done: str) -> None:
        self._hold_busy = True
        self.pause_button.setEnabled(False)
        self.resume_button.setEnabled(False)
        try:
            await coro
            self.message.show_info(done)
        except EngineError as err:
            self.message.show_error(str(err))
        finally:
            self._hold_busy = False
            self._render()

    # -- logs and inspect ---------------------------------------------------------------------
    def _on_tab_changed(self, index: int) -> None:
        if not self.service_id:
            return
        if index == 1 and not self.logs.toPlainText():
            self._reload_logs()
        elif index == 2:
            self.tasks.spawn(self._load_inspect(self.service_id))

    async def _load_inspect(self, sid: str) -> None:
        try:
            raw = await self.state.swarm.inspect_service(sid)
        except EngineError as err:
            self.message.show_error(str(err))
            return
        if sid == self.service_id:
            self.inspect.setPlainText(json.dumps(raw, indent=2, sort_keys=True))

    def _reload_logs(self) -> None:
        if not self.service_id:
            return
        self._stop_logs()
        self.logs.clear()
        stream = self.state.swarm.service_logs(self.service_id, tail=500, follow=self.follow.isChecked())
        self._log_stream = stream
        self.tasks.spawn(self._pump_logs(stream))

    async def _pump_logs(self, stream) -> None:
        loop = asyncio.get_running_loop()
        names = self._node_names()
        s = self.service
        svc = s.name if s else ""
        done = loop.create_future()

        def deliver(batch) -> None:
            if stream is not self._log_stream:
                return
            text = "\n".join(f"{svc}@{names.get(ln.node_id, ln.node_id[:12])} {ln.task_id[:8]} | {ln.text}"
                             for ln in batch)
            self.logs.appendPlainText(text)

        def work() -> None:
            err = None
            try:
                stream.iterate(lambda b: loop.call_soon_threadsafe(deliver, b))
            except Exception as exc:  # noqa: BLE001 - reported on the page
                err = exc
            if not loop.is_closed():
                loop.call_soon_threadsafe(lambda: done.done() or done.set_result(err))

        threading.Thread(target=work, name="service-logs", daemon=True).start()
        err = await done
        if err is not None and stream is self._log_stream:
            from desktop.engine.swarm import translate_swarm

            self.message.show_error(str(translate_swarm(err, "read the logs of", f"service {svc}")))

    def _stop_logs(self) -> None:
        stream, self._log_stream = self._log_stream, None
        if stream is not None:
            stream.close()

    async def aclose(self) -> None:
        self._stop_logs()
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        await self.tasks.cancel_all()
