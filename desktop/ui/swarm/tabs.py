"""The Swarm section's tables: nodes, services, secrets/configs and stacks of one manager."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHeaderView

from desktop.engine.specs import SpecError
from desktop.engine.swarm_records import SwarmNode, SwarmSecret, SwarmService
from desktop.engine.swarm_specs import (check_secret_data, parse_constraint, parse_cpus, parse_memory, parse_replicas,
                                        parse_secret_name, parse_service_form, parse_service_name)
from desktop.state.swarm import SwarmState
from desktop.presentation.swarm import (drain_summary, node_role_text, node_status_text, node_tasks_text, ports_text,
                                        replicas_text, update_text)
from desktop.ui.swarm.join_tokens import JoinTokensPanel
from desktop.ui.widgets.dialogs import confirm
from desktop.ui.widgets.form_dialog import Field, FormDialog
from desktop.ui.objects.object_model import Column, ObjectTableModel
from desktop.ui.objects.object_page import ObjectPage
from desktop.ui.widgets.plain_text import plain_label


class _LeasingPage(ObjectPage):
    """A table that needs current tasks while it is on screen (by default every service's)."""

    def __init__(self, state: SwarmState, *args) -> None:
        super().__init__(*args)
        self.state = state
        self._lease = None
        self.set_engine_available(True)
        self.listen(state.tasks.refreshed, self.model.usage_changed)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._lease is None:
            self._lease = self.state.tasks.watch_all()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    def release(self) -> None:
        if self._lease is not None:
            self._lease.release()
            self._lease = None


class NodesTab(_LeasingPage):
    def __init__(self, state: SwarmState, parent=None) -> None:
        tasks = state.tasks
        cols = [
            Column("Hostname", lambda n: n.hostname),
            Column("Role", node_role_text),
            Column("Availability", lambda n: n.availability),
            Column("Status", node_status_text),
            Column("Engine version", lambda n: n.engine_version),
            Column("Address", lambda n: n.addr),
            Column("Labels", lambda n: n.labels_text),
            Column("Tasks", lambda n: str(tasks.node_counts().get(n.id, 0)), sort=lambda n: tasks.node_counts().get(n.id, 0),
                   align_right=True, usage=True),
        ]
        model = ObjectTableModel(state.nodes, cols, key=lambda n: n.id)
        super().__init__(state, "Nodes", "swarmNodes", model, "node", parent)
        self.add_button("promote", "Promote", lambda: self._role("manager"), needs_selection=True,
                        tip="Make the selected worker a manager")
        self.add_button("demote", "Demote", lambda: self._role("worker"), needs_selection=True,
                        tip="Make the selected manager a worker")
        self.add_button("activate", "Activate", lambda: self._availability("active"), needs_selection=True)
        self.add_button("pause", "Pause", lambda: self._availability("pause"), needs_selection=True,
                        tip="No new tasks on the node; its running tasks stay")
        self.add_button("drain", "Drain…", lambda: self._availability("drain"), needs_selection=True,
                        tip="Move the node's tasks elsewhere (asks first)")
        self.add_button("removeNode", "Remove…", self._remove, needs_selection=True,
                        tip="Remove a node that is down from the swarm")
        self.add_button("joinTokens", "Join tokens…", self._show_tokens)
        self.finish_toolbar()
        # A swarm has a handful of nodes: every column can fit its text.
        for i in range(1, len(cols)):
            self.view.horizontalHeader().setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        self.tokens_panel = JoinTokensPanel(self)
        self.layout().insertWidget(3, self.tokens_panel)
        self.tokens_panel.hide()
        # The selected node's tasks (the tab's lease keeps every current task listed).
        self.node_tasks = plain_label()
        self.node_tasks.setObjectName("nodeTasks")
        self.node_tasks.setWordWrap(True)
        self.layout().addWidget(self.node_tasks)
        self.node_tasks.hide()
        self.view.selectionModel().selectionChanged.connect(lambda *_a: self._render_node_tasks())
        self.listen(state.tasks.refreshed, self._render_node_tasks)

    def _one(self) -> SwarmNode | None:
        sel = self.selected()
        return sel[0] if sel else None

    def _render_node_tasks(self) -> None:
        n = self._one()
        if n is None:
            self.node_tasks.hide()
            return
        names = {s.id: s.name for s in self.state.services.all()}
        self.node_tasks.setText(node_tasks_text(n, self.state.tasks.of_node(n.id), names))
        self.node_tasks.show()

    def _role(self, role: str) -> None:
        n = self._one()
        if n is not None:
            self.spawn(self._set_role(n, role))

    async def _set_role(self, n: SwarmNode, role: str) -> None:
        await self.state.swarm.set_role(n, role)
        self.message.show_info(f"{n.hostname} is now a {role}" + ("; joining the managers…" if role == "manager" else "."))
        await self.state.settle_node(n.id)
        node = self.state.nodes.get(n.id)
        if role == "manager" and node is not None and node.reachability == "reachable":
            self.message.show_info(f"{n.hostname} is now a manager.")

    def _availability(self, availability: str) -> None:
        n = self._one()
        if n is not None:
            self.spawn(self._set_availability(n, availability))

    async def _set_availability(self, n: SwarmNode, availability: str) -> None:
        if availability == "drain":
            services = {s.id: s.name for s in self.state.services.all()}
            # The confirmation names the tasks that will move: list this node's tasks now.
            tasks = await self.state.swarm.tasks(node=n.id)
            ok, _ = await confirm(self, "Drain node", drain_summary(n, tasks, services), "Drain")
            if not ok:
                return
        word = {"active": "active", "pause": "paused", "drain": "drained"}[availability]
        await self._run(self.state.swarm.set_availability(n, availability), f"{n.hostname} is now {word}.")

    async def _run(self, coro, done: str) -> None:
        await coro
        self.message.show_info(done)

    def _remove(self) -> None:
        n = self._one()
        if n is not None:
            self.spawn(self._remove_node(n))

    async def _remove_node(self, n: SwarmNode) -> None:
        if n.state != "down":
            self.message.show_error(f"{n.hostname} is {n.state}: only a node that is down can be removed. "
                                    "Make it leave the swarm first (`docker swarm leave` on it).")
            return
        ok, _ = await confirm(self, "Remove node", f"Remove {n.hostname} from the swarm?",
                              "Remove", details="Its tasks are already running elsewhere; to come back it must join again.")
        if ok:
            await self._run(self.state.swarm.remove_node(n), f"{n.hostname} was removed from the swarm.")

    def _show_tokens(self) -> None:
        self.spawn(self._load_tokens())

    async def _load_tokens(self) -> None:
        self.tokens_panel.set_tokens(await self.state.swarm.join_tokens())
        self.tokens_panel.show()


class ServicesTab(_LeasingPage):
    """Services; the running counts come from the current tasks of the rows on screen only (a
    lease that follows scrolling), so 200 services cost one small task list, not all their tasks."""

    service_opened = Signal(object)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        ObjectPage.showEvent(self, event)
        if self._lease is None:
            self._lease = self.state.tasks.watch_current(self.visible_ids())
            self._visible_timer.start()

    def visible_ids(self) -> list[str]:
        view = self.view
        rows = self.proxy.rowCount()
        if not rows:
            return []
        first = max(view.rowAt(0), 0)
        last = view.rowAt(view.viewport().height() - 1)
        last = rows - 1 if last < 0 else last
        out = []
        for r in range(first, last + 1):
            it = self.model.item(self.proxy.mapToSource(self.proxy.index(r, 0)).row())
            if it is not None:
                out.append(it.id)
        return out

    def _follow_visible_rows(self) -> None:
        if self._lease is not None:
            self._lease.update(self.visible_ids())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        timer = getattr(self, "_visible_timer", None)
        if timer is not None:
            timer.start()

    def __init__(self, state: SwarmState, parent=None) -> None:
        counts = state.tasks.running_counts
        self._counts_cache = None
        cols = [
            Column("Name", lambda s: s.name),
            Column("Mode", lambda s: s.mode),
            Column("Replicas", lambda s: replicas_text(s, counts().get(s.id, 0)), usage=True),
            Column("Image", lambda s: s.image),
            Column("Ports", ports_text),
            Column("Update", update_text, tooltip=lambda s: s.update_message),
            Column("Stack", lambda s: s.stack),
        ]
        model = ObjectTableModel(state.services, cols, key=lambda s: s.id)
        super().__init__(state, "Services", "swarmServices", model, "service", parent)
        self.add_button("createService", "Create…", self._create)
        self.add_button("openService", "Open", self._open, needs_selection=True)
        self.add_button("scale", "Scale…", self._scale, needs_selection=True)
        self.add_button("updateImage", "Update image…", self._update_image, needs_selection=True)
        self.add_button("rollback", "Roll back", self._rollback, needs_selection=True)
        self.add_button("removeService", "Remove…", self._remove, needs_selection=True)
        self.finish_toolbar()
        self.view.doubleClicked.connect(lambda _i: self._open())
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 220)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)  # image references are long
        # Which rows are on screen changes with scrolling, sorting, filtering and new rows: follow
        # it once per burst of those.
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(0)
        self._visible_timer.timeout.connect(self._follow_visible_rows)
        self.view.verticalScrollBar().valueChanged.connect(lambda _v: self._visible_timer.start())
        for sig in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset, self.proxy.layoutChanged):
            sig.connect(lambda *_a: self._visible_timer.start())

    def _one(self) -> SwarmService | None:
        sel = self.selected()
        return sel[0] if sel else None

    def _open(self) -> None:
        s = self._one()
        if s is not None:
            self.service_opened.emit(s)

    def _create(self) -> None:
        fields = [
            Field("name", "Name", placeholder="web"),
            Field("image", "Image", placeholder="nginx:1.27"),
            Field("mode", "Mode", kind="choice", choices=("replicated", "global"), default="replicated"),
            Field("replicas", "Replicas", default="1"),
            Field("ports", "Published ports", kind="text", placeholder="8080:80\n53:53/udp",
                  help="published:target[/udp], one a line; add ' host' to publish on each node only"),
            Field("env", "Environment", kind="text", placeholder="KEY=value"),
            Field("mounts", "Mounts", kind="text", placeholder="data:/var/lib/data\n/srv/conf:/etc/app:ro"),
            Field("constraints", "Constraints", kind="text", placeholder="node.role==worker"),
            Field("cpus", "CPU limit", placeholder="0.5"),
            Field("memory", "Memory limit", placeholder="256m"),
            Field("command", "Command", placeholder="(the image's default)"),
            Field("stop_signal", "Stop signal", placeholder="(the image's default, usually SIGTERM)"),
        ]

        async def submit(values: dict):
            req = parse_service_form(values)
            return await self.state.swarm.create_service(req)

        dlg = self.keep("create_dialog", FormDialog(self, "Create a service", fields, "Create", submit,
                                                    object_name="createServiceDialog"))
        dlg.live_check("name", parse_service_name)
        dlg.live_check("replicas", parse_replicas)
        dlg.live_check("memory", parse_memory)
        dlg.live_check("cpus", parse_cpus)
        dlg.live_check("constraints", lambda s: [parse_constraint(x) for x in s.splitlines() if x.strip()])

        async def run() -> None:
            sid = await dlg.ask()
            if sid:
                self.message.show_info(f"Service {dlg.values().get('name', '').strip()} was created.")

        self.tasks.spawn(run())

    def _scale(self) -> None:
        s = self._one()
        if s is None:
            return
        if s.mode != "replicated":
            self.message.show_error(f"{s.name} runs one task per node ({s.mode}); it cannot be scaled.")
            return
        fields = [Field("replicas", "Replicas", default=str(s.replicas))]

        async def submit(values: dict):
            n = parse_replicas(str(values.get("replicas", "")))
            await self.state.swarm.scale(s, n)
            return n

        dlg = self.keep("scale_dialog", FormDialog(self, f"Scale {s.name}", fields, "Scale", submit,
                                                   object_name="scaleDialog"))
        dlg.live_check("replicas", parse_replicas)
        self.tasks.spawn(self._after(dlg, lambda n: f"{s.name} now wants {n} replicas."))

    async def _after(self, dlg, done: Callable) -> None:
        result = await dlg.ask()
        if result is not None:
            self.message.show_info(done(result))

    def _update_image(self) -> None:
        s = self._one()
        if s is None:
            return
        fields = [Field("image", "Image", default=s.image),
                  Field("parallelism", "Tasks at a time", default=str(s.update_parallelism)),
                  Field("delay", "Seconds between batches", default="0"),
                  Field("monitor", "Watch each new task for (s)", default="5",
                        help="A task that fails within this time counts as a failed update")]

        async def submit(values: dict):
            from desktop.engine.specs import parse_image_ref

            ref = str(parse_image_ref(str(values.get("image", ""))))
            try:
                par = parse_replicas(str(values.get("parallelism") or "1"))
                delay = float(str(values.get("delay") or "0"))
                monitor = float(str(values.get("monitor") or "5"))
            except ValueError:
                raise SpecError("The seconds are numbers, like 0 or 5.") from None
            if delay < 0 or monitor < 0:
                raise SpecError("The seconds cannot be negative.")
            await self.state.swarm.update_image(s, ref, parallelism=par, delay_s=delay, monitor_s=monitor)
            return ref

        dlg = self.keep("update_dialog", FormDialog(self, f"Update {s.name}", fields, "Start rolling update", submit,
                                                    object_name="updateImageDialog"))

        async def run() -> None:
            ref = await dlg.ask()
            if ref:
                self.service_opened.emit(self.state.services.get(s.id) or s)

        self.tasks.spawn(run())

    def _rollback(self) -> None:
        s = self._one()
        if s is not None:
            self.spawn(self._do_rollback(s))

    async def _do_rollback(self, s: SwarmService) -> None:
        ok, _ = await confirm(self, "Roll back", f"Roll {s.name} back to its previous version?", "Roll back",
                              destructive=False)
        if ok:
            await self.state.swarm.rollback(s)
            self.message.show_info(f"{s.name} is rolling back.")

    def _remove(self) -> None:
        s = self._one()
        if s is not None:
            self.spawn(self._do_remove(s))

    async def _do_remove(self, s: SwarmService) -> None:
        ok, _ = await confirm(self, "Remove service", f"Remove service {s.name}?", "Remove",
                              details="Its tasks are stopped on every node.")
        if ok:
            await self.state.swarm.remove_service(s)
            self.message.show_info(f"Service {s.name} was removed.")


class SecretsTab(ObjectPage):
    """Secrets or configs: names and dates only; a value is sent once at creation, never shown."""

    def __init__(self, state: SwarmState, kind: str, parent=None) -> None:
        self.state = state
        self.kind = kind
        store = state.secrets if kind == "secret" else state.configs
        cols = [Column("Name", lambda s: s.name), Column("Created", lambda s: s.created[:19].replace("T", " ")),
                Column("Updated", lambda s: s.updated[:19].replace("T", " ")),
                Column("Labels", lambda s: ", ".join(f"{k}={v}" for k, v in sorted(s.labels.items()))),
                Column("Stack", lambda s: s.stack)]
        model = ObjectTableModel(store, cols, key=lambda s: s.id)
        title = "Secrets" if kind == "secret" else "Configs"
        super().__init__(title, f"swarm{title}", model, kind, parent)
        self.set_engine_available(True)
        self.add_button(f"create{title}", "Create…", self._create)
        self.add_button(f"remove{title}", "Remove…", self._remove, needs_selection=True)
        self.finish_toolbar()

    def _create(self) -> None:
        fields = [Field("name", "Name"),
                  Field("text", "Value" if self.kind == "secret" else "Content",
                        kind="password" if self.kind == "secret" else "text",
                        help="Or choose a file below."),
                  Field("file", "From file", kind="open_file")]

        async def submit(values: dict):
            errors = {}
            try:
                name = parse_secret_name(str(values.get("name", "")), self.kind)
            except SpecError as err:
                errors["name"] = str(err)
            text, path = str(values.get("text") or ""), str(values.get("file") or "").strip()
            if text and path:
                errors["file"] = "Give the value as text or as a file, not both."
            data = b""
            if path and not errors:
                try:
                    data = await asyncio.to_thread(_read_small, path)
                except OSError as exc:
                    errors["file"] = f"Could not read {path}: {exc.strerror or exc}."
            elif text:
                data = text.encode()
            try:
                if not errors:
                    check_secret_data(data, self.kind)
            except SpecError as err:
                errors["file" if path else "text"] = str(err)  # under the field the value came from
            if errors:
                from desktop.engine.run_request import FormErrors

                raise FormErrors(errors)
            await self.state.swarm.create_secret(name, data, kind=self.kind)
            return name

        dlg = self.keep("create_dialog", FormDialog(self, f"Create a {self.kind}", fields, "Create", submit,
                                                    object_name=f"create{self.kind.title()}Dialog"))

        async def run() -> None:
            name = await dlg.ask()
            # The value leaves the form now: nothing keeps it.
            for key in ("text",):
                w = dlg.inputs.get(key)
                if hasattr(w, "clear"):
                    w.clear()
            if name:
                self.message.show_info(f"The {self.kind} {name} was created; its value is not shown again.")

        self.tasks.spawn(run())

    def _remove(self) -> None:
        sel = self.selected()
        if sel:
            self.spawn(self._do_remove(sel[0]))

    async def _do_remove(self, s: SwarmSecret) -> None:
        ok, _ = await confirm(self, f"Remove {self.kind}", f"Remove the {self.kind} {s.name}?", "Remove")
        if ok:
            await self.state.swarm.remove_secret(s)
            self.message.show_info(f"The {self.kind} {s.name} was removed.")


def _read_small(path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read(600 * 1024)
    return data
