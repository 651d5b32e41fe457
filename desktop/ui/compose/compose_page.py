"""The Compose page: projects (from labels and opened files), their services, and Compose actions
run through the installed Compose with streamed, cancellable output."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPlainTextEdit, QPushButton, QSplitter, QTabWidget, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from desktop.engine import compose
from desktop.engine.client import EngineClient
from desktop.presentation.containers import port_links
from desktop.state.compose_projects import ComposeProject, ComposeProjects
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.dialogs import confirm, open_file_dialog
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.resources import icon
from desktop.ui.widgets.focus_order import place_after
from desktop.ui.widgets.plain_text import plain_tooltip
from desktop.ui.widgets.palette_sheet import set_sheet

OUTPUT_MAX_LINES = 5000
REFRESH_MS = 100  # engine changes are gathered this long before the lists are rebuilt
ACTIONS = (("up", "Up", "Create and start the project's services, building images first (Ctrl+U)", "Ctrl+U"),
           ("down", "Down", "Stop and remove the project's containers and networks", None),
           ("restart", "Restart", "Restart the project's services", None),
           ("pull", "Pull", "Pull the images of the project's services", None))


class ComposePage(QWidget):
    """Sidebar page `compose`."""

    project_logs_requested = Signal(str)  # project name: the log viewer's merged Compose view
    run_finished = Signal(str, str, int)  # project, verb, exit code (tests and notifications)
    # ComposeProject, verb: sent before Compose runs, so the exits it causes (down, restart, an up
    # that recreates) are known as the user's own before their events arrive
    run_started = Signal(object, str)
    tool_detected = Signal(object)  # ComposeTool or None
    container_activated = Signal(object)  # Container (Enter / double-click), like the Containers page
    project_shown = Signal(object)  # the selected ComposeProject (or None), after each refresh of its views

    def __init__(self, client: EngineClient, projects: ComposeProjects, parent=None,
                 confirm_destructive=lambda: True, client_of=None) -> None:
        super().__init__(parent)
        self.setObjectName("composePage")
        self.client = client
        self._client_of = client_of  # engine name → EngineClient: a project runs against its own engine
        self._several = False
        self.projects = projects
        self.tasks = TaskSet()
        self.tool: compose.ComposeTool | None = None
        self.tool_known = False
        self.current_run: compose.ComposeRun | None = None
        self._engine_available = False
        self._confirm_destructive = confirm_destructive
        self.follow_logs_here = True

        title = QLabel("Compose")
        title.setObjectName("pageTitle")
        set_sheet(title, "font-size: 16pt; font-weight: 600;")
        self.tool_label = QLabel("Looking for Compose…")
        self.tool_label.setObjectName("composeTool")
        set_sheet(self.tool_label, "color: palette(placeholder-text);")
        self.open_button = QPushButton("Open compose file…")
        self.open_button.setObjectName("composeOpen")
        self.open_button.setToolTip("Add a project from its compose.yaml (Ctrl+O)")
        self.open_button.clicked.connect(self.choose_compose_file)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(self.tool_label, 1, Qt.AlignmentFlag.AlignBottom)
        head.addWidget(self.open_button)

        self.missing = MessageBar(self)
        self.missing.setObjectName("composeMissing")
        self.message = MessageBar(self)
        self.message.setObjectName("composeMessage")

        self.project_list = QListWidget()
        self.project_list.setObjectName("composeProjects")
        self.project_list.setAccessibleName("Compose projects")
        # A long project name is cut in the middle (its tooltip holds it whole), never scrolled to.
        self.project_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.project_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.project_list.currentItemChanged.connect(lambda *_: self._show_selected())

        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        for verb, label, tip, key in ACTIONS:
            b = QPushButton(label)
            b.setObjectName(f"compose_{verb}")
            b.setToolTip(tip)
            b.clicked.connect(lambda _=False, v=verb: self.tasks.spawn(self.run_action(v)))
            if key:
                QShortcut(QKeySequence(key), self, lambda v=verb: self.tasks.spawn(self.run_action(v)))
            self.buttons[verb] = b
            bar.addWidget(b)
        self.with_volumes = QCheckBox("Down removes volumes")
        self.with_volumes.setObjectName("composeDownVolumes")
        self.with_volumes.setToolTip("Also remove the project's named volumes on Down (their data is lost)")
        bar.addWidget(self.with_volumes)
        bar.addStretch(1)
        self.logs_button = QPushButton("Logs")
        self.logs_button.setObjectName("compose_logs")
        self.logs_button.setToolTip("Follow the merged logs of every service")
        self.logs_button.clicked.connect(self._on_logs_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("composeCancel")
        self.cancel_button.setToolTip("Stop the running Compose command (Esc)")
        self.cancel_button.clicked.connect(self.cancel_run)
        QShortcut(QKeySequence("Esc"), self, self.cancel_run)
        bar.addWidget(self.logs_button)
        bar.addWidget(self.cancel_button)

        self.services = QTreeWidget()
        self.services.setObjectName("composeServices")
        self.services.setAccessibleName("Services")
        self.services.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # replicas differ at the end: -1, -2
        self.services.setHeaderLabels(["Service / container", "State", "Ports", "Health"])
        self.services.setColumnWidth(0, 240)
        self.services.setColumnWidth(1, 180)
        self.services.setColumnWidth(2, 180)
        self.services.header().setStretchLastSection(True)
        self.services.itemActivated.connect(self._on_services_item_activated)

        self.output = QPlainTextEdit()
        self.output.setObjectName("composeOutput")
        self.output.setAccessibleName("Compose output")
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(OUTPUT_MAX_LINES)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.output.setFont(mono)
        self.output.setPlaceholderText("Output of Compose commands appears here.")

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(bar)
        split_v = QSplitter(Qt.Orientation.Vertical)
        # Other features add views of the selected project beside its services (add_view).
        self.views = QTabWidget()
        self.views.setObjectName("composeViews")
        self.views.setDocumentMode(True)
        self.views.addTab(self.services, "Services")
        split_v.addWidget(self.views)
        split_v.addWidget(self.output)
        split_v.setSizes([300, 220])
        rl.addWidget(split_v, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.project_list)
        split.addWidget(right)
        split.setSizes([240, 760])

        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.missing)
        lay.addWidget(self.message)
        lay.addWidget(split, 1)

        # Every container change on the engine announces `changed`: rebuilding the lists for
        # each one made a burst of 200 changes cost the UI thread ~150 ms for a page nobody
        # was looking at. Changes are gathered, and a hidden page catches up when shown.
        self._stale = False
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self._refresh_if_stale)
        projects.changed.connect(self._schedule_refresh)
        self._on_projects_changed()
        self._update_buttons()
        self.tasks.spawn(self._detect_tool())

    # -- Compose availability ----------------------------------------------------------------
    async def _detect_tool(self) -> None:
        loop = asyncio.get_running_loop()
        tool = await loop.run_in_executor(None, compose.find_compose)
        self.tool, self.tool_known = tool, True
        if tool is None:
            self.tool_label.setText("Compose not found")
            self.missing.show_error(compose.INSTALL_HINT)
        else:
            self.tool_label.setText(f"using {tool.label}")
            self.missing.hide()
        self._update_buttons()
        self.tool_detected.emit(tool)

    def set_engine_available(self, available: bool) -> None:
        self._engine_available = available
        self._update_buttons()

    def _update_buttons(self) -> None:
        p = self.selected_project()
        busy = self.current_run is not None and self.current_run.running
        can = self._engine_available and self.tool is not None and p is not None and not busy
        tips = {verb: tip for verb, _label, tip, _key in ACTIONS}
        for verb, b in self.buttons.items():
            needs_files = verb in ("up", "pull", "restart") or (self.tool is not None and self.tool.is_v1)
            missing = p is not None and needs_files and not p.files_present
            b.setEnabled(can and not missing)
            b.setToolTip(tips[verb] + (" (needs the project's compose file, which is not on this machine:"
                                       " open it with “Open compose file…”)" if missing else ""))
        self.logs_button.setEnabled(self._engine_available and p is not None)
        self.cancel_button.setEnabled(busy)

    # -- the project list ----------------------------------------------------------------------
    def selected_project(self) -> ComposeProject | None:
        item = self.project_list.currentItem()
        return self.projects.get(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _schedule_refresh(self) -> None:
        self._stale = True
        if self.isVisible() and not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _refresh_if_stale(self) -> None:
        if self._stale:
            self._on_projects_changed()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._refresh_if_stale()

    def select_project(self, name: str) -> bool:
        """Select a project by key ("engine|name") or by name (the first with that name)."""
        self._refresh_if_stale()
        for i in range(self.project_list.count()):
            it = self.project_list.item(i)
            if name in (it.data(Qt.ItemDataRole.UserRole), it.data(Qt.ItemDataRole.UserRole + 1)):
                self.project_list.setCurrentRow(i)
                return True
        return False

    def set_multi_engine(self, several: bool) -> None:
        """Tag each project with its engine when more than one engine is followed."""
        if several != self._several:
            self._several = several
            self._on_projects_changed()

    def client_for(self, p: ComposeProject) -> EngineClient:
        return self._client_of(p.engine) if self._client_of is not None and p.engine else self.client

    def _on_projects_changed(self) -> None:
        self._stale = False
        current = self.project_list.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        items = self.projects.all()
        self.project_list.blockSignals(True)
        self.project_list.clear()
        for p in items:
            tag = f"  ({p.engine})" if self._several and p.engine else ""
            it = QListWidgetItem(icon("project"), f"{p.name}{tag}\n{p.summary}")
            it.setData(Qt.ItemDataRole.UserRole, p.key)
            it.setData(Qt.ItemDataRole.UserRole + 1, p.name)
            it.setToolTip(plain_tooltip(p.name + "\n" + ("\n".join(p.config_files) or "compose file unknown")))
            self.project_list.addItem(it)
        self.project_list.blockSignals(False)
        if keep is None or not self.select_project(keep):
            if self.project_list.count():
                self.project_list.setCurrentRow(0)
        self._show_selected()

    def _show_selected(self) -> None:
        p = self.selected_project()
        # Rebuilt on every change; keep the keyboard user's place (current row, scroll).
        cur = self.services.currentItem()
        keep = cur.text(0) if cur is not None else None
        scroll = self.services.verticalScrollBar().value()
        self.services.clear()
        restore = None
        if p is not None:
            for service, members in p.services.items():
                running = sum(1 for c in members if c.state == "running")
                top = QTreeWidgetItem([service, f"{running}/{len(members)} running" if members else "not created",
                                       "", ""])
                top.setIcon(0, icon("containers"))
                top.setData(0, Qt.ItemDataRole.UserRole, service)
                restore = top if top.text(0) == keep else restore
                for c in members:
                    row = QTreeWidgetItem(top, [c.name, c.status or c.state,
                                                ", ".join(label for label, _ in port_links(c)), c.health or ""])
                    row.setData(0, Qt.ItemDataRole.UserRole + 1, c)
                    n = c.compose_number
                    row.setToolTip(0, plain_tooltip(f"{c.name}: replica {n} of {service}" if n is not None and len(members) > 1
                                                    else c.name))
                    restore = row if c.name == keep else restore
                self.services.addTopLevelItem(top)
            self.services.expandAll()
        if restore is not None:
            self.services.setCurrentItem(restore)
        self.services.verticalScrollBar().setValue(scroll)
        self._update_buttons()
        self.project_shown.emit(p)

    def add_view(self, title: str, widget: QWidget) -> None:
        """Another view of the selected project, in a tab beside its services (it follows
        `project_shown`)."""
        self.views.addTab(widget, title)
        place_after(self.services, widget)  # Tab: the views, then the output under them

    def _on_services_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        c = item.data(0, Qt.ItemDataRole.UserRole + 1)
        if c is not None:
            self.container_activated.emit(c)

    def service_rows(self) -> dict[str, list[tuple[str, str, str, str]]]:
        """What the services view shows: service → [(container, state, ports, health)]."""
        out = {}
        for i in range(self.services.topLevelItemCount()):
            top = self.services.topLevelItem(i)
            out[top.text(0)] = [tuple(top.child(j).text(k) for k in range(4)) for j in range(top.childCount())]
        return out

    # -- actions ----------------------------------------------------------------------------------
    def choose_compose_file(self) -> None:
        dlg = QFileDialog(self, "Open compose file")
        dlg.setObjectName("composeFileDialog")
        dlg.setNameFilters(["Compose files (*.yml *.yaml)", "All files (*)"])
        dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
        dlg.fileSelected.connect(self.open_project_file)
        open_file_dialog(dlg)  # not exec(): the event loop (and the engine sync) keep running

    def open_project_file(self, path: str) -> ComposeProject | None:
        try:
            p = self.projects.open_file(path)
        except OSError as exc:
            self.message.show_error(str(exc))
            return None
        self._on_projects_changed()
        self.select_project(p.key)
        return p

    async def run_action(self, verb: str) -> int | None:
        """Run one Compose action on the selected project, streaming into the output pane."""
        p = self.selected_project()
        if p is None or self.tool is None or (self.current_run is not None and self.current_run.running):
            return None
        volumes = verb == "down" and self.with_volumes.isChecked()
        if verb == "down" and (volumes or self._confirm_destructive()):
            lost = "Their containers and networks are removed"
            lost += "; the named volumes and ALL THEIR DATA are deleted." if volumes else "; volumes are kept."
            ok, _ = await confirm(self, "Take the project down?", f"Stop and remove “{p.name}”?",
                                  "Down and delete volumes" if volumes else "Down", details=lost)
            if not ok:
                return None
        return await self._run(p, verb, compose.verb_args(verb, volumes=volumes))

    async def _run(self, p: ComposeProject, verb: str, sub: list[str]) -> int | None:
        try:
            endpoint = self.client_for(p).endpoint
        except LookupError:
            endpoint = None
        if endpoint is None:
            self.message.show_error("Not connected to an engine.")
            return None
        self.output.appendPlainText(f"$ {' '.join(self.tool.argv[1:] or self.tool.argv[:1])} "
                                    f"{' '.join(p.target.args() + sub)}")
        self.message.show_info(f"Running {verb} on {p.name}…")
        self.run_started.emit(p, verb)
        run = compose.start(self.tool, endpoint, p.target, sub, self._append_line)
        self.current_run = run
        self._update_buttons()
        try:
            code = await run.wait()
        except asyncio.CancelledError:
            run.cancel()  # the page is closing: no widget updates
            raise
        self._update_buttons()
        if run.cancelled:
            self.message.show_info(f"{verb.capitalize()} on {p.name} was cancelled.")
        elif code == 0:
            self.message.show_info(f"{verb.capitalize()} on {p.name} finished.")
        else:
            self.message.show_error(f"{verb.capitalize()} on {p.name} failed (Compose exit code {code}); "
                                    "see the output below.")
        self.output.appendPlainText(f"[exit {code}]")
        self.run_finished.emit(p.name, verb, code)
        return code

    def _append_line(self, line: str) -> None:
        self.output.appendPlainText(line)

    def cancel_run(self) -> None:
        if self.current_run is not None and self.current_run.running:
            self.current_run.cancel()

    def _on_logs_clicked(self) -> None:
        p = self.selected_project()
        if p is None:
            return
        self.project_logs_requested.emit(p.name)
        # Until the log viewer's merged Compose view is wired to the signal (and sets
        # follow_logs_here = False), follow `compose logs` in the output pane.
        if self.follow_logs_here and self.tool is not None:
            if self.current_run is None or not self.current_run.running:
                self.tasks.spawn(self._run(p, "logs", compose.verb_args("logs")))

    async def aclose(self) -> None:
        self.cancel_run()
        await self.tasks.cancel_all()
