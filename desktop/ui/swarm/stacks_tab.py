"""Stacks: services grouped by their stack label; deploy a Compose file or remove a stack through
the docker CLI, its output streamed into the tab, with Cancel."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from desktop.engine.endpoints import Endpoint
from desktop.engine.specs import SpecError
from desktop.engine.swarm_stacks import group_stacks, parse_stack_name, start_deploy, start_remove
from desktop.state.swarm import SwarmState
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.dialogs import confirm
from desktop.ui.widgets.form_dialog import Field, FormDialog
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.palette_sheet import set_sheet


class StacksTab(QWidget):
    def __init__(self, state: SwarmState, endpoint: Callable[[], Endpoint], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("swarmStacks")
        self.state = state
        self._endpoint = endpoint
        self.tasks = TaskSet()
        self.run = None
        self.stacks = []
        heading = QLabel("Stacks")
        set_sheet(heading, "font-size: 16pt; font-weight: 600;")
        self.deploy_button = QPushButton("Deploy…")
        self.deploy_button.setObjectName("deployStackButton")
        self.deploy_button.setToolTip("Deploy a Compose file as a stack (docker stack deploy)")
        self.deploy_button.clicked.connect(self._on_deploy_clicked)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("removeStackButton")
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelStackButton")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        bar = QHBoxLayout()
        bar.addWidget(heading)
        bar.addSpacing(12)
        for b in (self.deploy_button, self.remove_button, self.cancel_button):
            bar.addWidget(b)
        bar.addStretch(1)
        self.message = MessageBar(self)
        self.table = QTableWidget(0, 4)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.table.setObjectName("swarmStacksTable")
        self.table.setAccessibleName("Stacks")
        self.table.setHorizontalHeaderLabels(["Name", "Services", "Secrets", "Configs"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.output = QPlainTextEdit()
        self.output.setObjectName("stackOutput")
        self.output.setAccessibleName("Output of docker stack")
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(5000)
        self.output.setPlaceholderText("The output of docker stack deploy / rm appears here.")
        self.output.setMaximumHeight(180)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.message)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.output)
        # Grouping is cheap, but a burst of service events arrives one by one: regroup once per burst.
        self._regroup = QTimer(self)
        self._regroup.setSingleShot(True)
        self._regroup.setInterval(0)
        self._regroup.timeout.connect(self._rebuild)
        for store in (state.services, state.secrets, state.configs):
            for sig in (store.reset, store.upserted, store.removed):
                sig.connect(self._on_store_changed)
        self.destroyed.connect(lambda *_: self._disconnect())
        self._rebuild()

    def _disconnect(self) -> None:
        for store in (self.state.services, self.state.secrets, self.state.configs):
            for sig in (store.reset, store.upserted, store.removed):
                try:
                    sig.disconnect(self._on_store_changed)
                except ValueError:
                    pass

    def _on_store_changed(self, *_a) -> None:
        self._regroup.start()

    def _rebuild(self) -> None:
        objs = self.state.secrets.all() + self.state.configs.all()
        self.stacks = group_stacks(self.state.services.all(), objs, self.state.swarm.tag)
        selected = self.selected_name()
        self.table.setRowCount(len(self.stacks))
        for r, st in enumerate(self.stacks):
            for c, text in enumerate((st.name, ", ".join(st.services), str(st.secrets), str(st.configs))):
                self.table.setItem(r, c, QTableWidgetItem(text))
            if st.name == selected:
                self.table.selectRow(r)

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item else None

    def select(self, name: str) -> bool:
        for r, st in enumerate(self.stacks):
            if st.name == name:
                self.table.selectRow(r)
                return True
        return False

    # -- deploy / remove ----------------------------------------------------------------------
    def _on_deploy_clicked(self) -> None:
        fields = [Field("file", "Compose file", kind="open_file"),
                  Field("name", "Stack name", placeholder="shop"),
                  Field("resolve", "Resolve image digests", kind="choice", choices=("always", "changed", "never"),
                        default="always", help="'never' uses the tags as they are (images not in a registry)"),
                  Field("prune", "Remove services no longer in the file", kind="check", default=False)]

        async def submit(values: dict):
            from desktop.engine.run_request import FormErrors

            errors = {}
            path = str(values.get("file") or "").strip()
            if not path:
                errors["file"] = "Choose the Compose file to deploy."
            try:
                name = parse_stack_name(str(values.get("name") or ""))
            except SpecError as err:
                errors["name"] = str(err)
            if errors:
                raise FormErrors(errors)
            return path, name, str(values.get("resolve") or "always"), bool(values.get("prune"))

        dlg = FormDialog(self, "Deploy a stack", fields, "Deploy", submit, object_name="deployStackDialog")
        self.deploy_dialog = dlg

        async def ask() -> None:
            got = await dlg.ask()
            if got:
                self.deploy(*got)

        self.tasks.spawn(ask())

    def deploy(self, compose_file: str, name: str, resolve_image: str = "always", prune: bool = False) -> None:
        try:
            run = start_deploy(self._endpoint(), name, compose_file, self._on_line, resolve_image=resolve_image,
                               prune=prune)
        except (SpecError, FileNotFoundError) as err:
            self.message.show_error(str(err))
            return
        self._start(run, f"Deploying stack {name}…", f"Stack {name} was deployed.",
                    f"Deploying stack {name} failed; its output is below.")

    def _on_remove_clicked(self) -> None:
        name = self.selected_name()
        if name:
            self.tasks.spawn(self._remove(name))

    async def _remove(self, name: str) -> None:
        st = next((s for s in self.stacks if s.name == name), None)
        what = ", ".join(st.services) if st and st.services else "its services"
        ok, _ = await confirm(self, "Remove stack", f"Remove stack {name}?", "Remove",
                              details=f"This removes {what}, and the stack's networks, secrets and configs.")
        if not ok:
            return
        try:
            run = start_remove(self._endpoint(), name, self._on_line)
        except (SpecError, FileNotFoundError) as err:
            self.message.show_error(str(err))
            return
        self._start(run, f"Removing stack {name}…", f"Stack {name} was removed.", f"Removing stack {name} failed.")

    def _start(self, run, doing: str, done: str, failed: str) -> None:
        if self.run is not None and self.run.running:
            self.message.show_error("A stack command is still running; wait for it or cancel it.")
            run.cancel()
            return
        self.run = run
        self.output.clear()
        self.message.show_info(doing)
        self.cancel_button.setEnabled(True)
        self.deploy_button.setEnabled(False)
        self.remove_button.setEnabled(False)
        self.tasks.spawn(self._wait(run, done, failed))

    async def _wait(self, run, done: str, failed: str) -> None:
        try:
            code = await run.wait()
        finally:
            self.cancel_button.setEnabled(False)
            self.deploy_button.setEnabled(True)
            self.remove_button.setEnabled(True)
        if run.cancelled:
            self.message.show_error("Cancelled. What the CLI had already created stays; deploy again or remove the stack.")
        elif code == 0:
            self.message.show_info(done)
        else:
            self.message.show_error(failed)

    def _on_line(self, line: str) -> None:
        self.output.appendPlainText(line)

    def _on_cancel_clicked(self) -> None:
        if self.run is not None:
            self.run.cancel()

    async def aclose(self) -> None:
        if self.run is not None and self.run.running:
            self.run.cancel()
            await self.run.wait()
        await self.tasks.cancel_all()
