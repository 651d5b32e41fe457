"""The system tray icon: engine state, the VM, running containers with stop/restart, open, quit.

Given the engine registry, it lists the running containers of every connected engine (each tagged
with its engine when there are several) and sends stop/restart to the container's own engine.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError
from desktop.state.connection import CONNECTED, ConnectionStatus
from desktop.state.containers import ContainerStore
from desktop.ui.async_tasks import TaskSet
from desktop.ui.resources import app_icon, icon

MAX_CONTAINERS = 25  # beyond this the menu is a wall; the window has the full list


class VMControl(Protocol):
    """What the tray needs from the VM backend (desktop.vm.machine.VMManager)."""

    async def start(self) -> object: ...
    async def stop(self) -> object: ...
    def status(self) -> object: ...


class Tray(QObject):
    """Owns the tray icon and its menu; the menu is rebuilt each time it is about to show."""

    open_requested = Signal()
    quit_requested = Signal()
    action_failed = Signal(str)  # a sentence for a notification
    container_action_done = Signal(str, str)  # action, container name
    # action, Container: sent before the engine is asked, so a stop is known as the user's own
    # (crash notifications stay quiet) before its exit event can arrive
    container_action_requested = Signal(str, object)

    def __init__(self, client: EngineClient, store: ContainerStore, status: ConnectionStatus,
                 vm: VMControl | None = None, parent=None, notify_enabled=lambda: True, engines=None) -> None:
        super().__init__(parent)
        self._client, self.store, self.status, self.vm = client, store, status, vm
        self.engines = engines  # an EngineRegistry: `store` and `status` then cover every engine
        if engines is not None:
            engines.primary_changed.connect(self._on_engines_primary_changed)
        self.notify_enabled = notify_enabled
        self.shown = False  # the icon is in the desktop's tray (closing the window may keep us there)
        self.tasks = TaskSet()
        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        self.menu.aboutToShow.connect(self.rebuild)
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.icon.setToolTip("Pilothouse")
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_icon_activated)
        status.changed.connect(lambda s: self._update_tooltip())
        self.rebuild()

    @property
    def client(self) -> EngineClient:
        """The primary engine's client: it follows "Make primary" (the given one without a registry)."""
        if self.engines is not None and self.engines.primary is not None:
            return self.engines.primary.client
        return self._client

    def _on_engines_primary_changed(self, _session) -> None:
        self.rebuild()  # the engine lines mark the new primary

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> bool:
        """Show the icon when the desktop has a tray; False when it has none."""
        if not self.available():
            return False
        self.icon.show()
        self.shown = True
        return True

    def notify(self, text: str) -> None:
        """A desktop notification through the tray, when the user wants them."""
        if self.shown and self.notify_enabled():
            self.icon.showMessage("Pilothouse", text, QSystemTrayIcon.MessageIcon.Warning)

    @property
    def several(self) -> bool:
        return self.engines is not None and len(self.engines.sessions) > 1

    def _reachable(self, c) -> bool:
        """Is the container's engine connected (a lost engine's containers cannot be stopped)?"""
        if self.engines is None:
            return self.status.current.state == CONNECTED
        session = self.engines.by_engine_id(c.engine_id)
        return session is not None and session.status.current.state == CONNECTED

    def _client_of(self, c) -> EngineClient:
        return self.engines.client_for(c) if self.engines is not None else self.client

    def _update_tooltip(self) -> None:
        s = self.status.current
        running = sum(1 for c in self.store.all() if c.state == "running" and self._reachable(c))
        state = f"engine {s.state}" + (f", {running} running" if s.state == CONNECTED else "")
        self.icon.setToolTip(f"Pilothouse: {state}")

    def _on_icon_activated(self, reason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()

    def rebuild(self) -> None:
        m = self.menu
        m.clear()
        s = self.status.current
        if self.several:
            primary = self.engines.primary
            for session in self.engines.sessions:
                mark = " (primary)" if session is primary else ""
                line = m.addAction(f"Engine {session.key}{mark}: {session.status.current.state}")
                line.setObjectName(f"trayEngineState_{session.key}")
                line.setEnabled(False)
        else:
            head = m.addAction(f"Engine: {s.state}" + (f" ({s.info.name} {s.info.version})" if s.info else ""))
            head.setObjectName("trayEngineState")
            head.setEnabled(False)
        if self.vm is not None:
            vm_state = str(self.vm.status())
            v = m.addAction(f"VM: {vm_state}")
            v.setEnabled(False)
            start = m.addAction(icon("start"), "Start the VM", lambda: self.tasks.spawn(self._vm("start")))
            start.setObjectName("trayVmStart")
            stop = m.addAction(icon("stop"), "Stop the VM", lambda: self.tasks.spawn(self._vm("stop")))
            stop.setObjectName("trayVmStop")
            if hasattr(self.vm, "shutdown"):
                off = m.addAction("Shut down the VM (next start boots from scratch)",
                                  lambda: self.tasks.spawn(self._vm("shutdown")))
                off.setObjectName("trayVmShutdown")
            if vm_state == "sleeping":
                wake = m.addAction(icon("start"), "Wake the VM", lambda: self.tasks.spawn(self._vm("wake")))
                wake.setObjectName("trayVmWake")
        m.addSeparator()
        running = sorted((c for c in self.store.all()
                          if c.state in ("running", "restarting", "paused") and self._reachable(c)),
                         key=lambda c: (c.name, c.engine_id))
        if not running:
            none = m.addAction("No running containers")
            none.setEnabled(False)
        for c in running[:MAX_CONTAINERS]:
            title = self.title_of(c)
            sub = m.addMenu(icon("containers"), title)
            sub.setObjectName(f"trayContainer_{title}")
            a = sub.addAction(icon("stop"), "Stop", lambda c=c: self.tasks.spawn(self._container("stop", c)))
            a.setObjectName("trayStop")
            r = sub.addAction(icon("restart"), "Restart", lambda c=c: self.tasks.spawn(self._container("restart", c)))
            r.setObjectName("trayRestart")
        if len(running) > MAX_CONTAINERS:
            more = m.addAction(f"… and {len(running) - MAX_CONTAINERS} more", self.open_requested.emit)
            more.setToolTip("Open the window to see them all")
        m.addSeparator()
        m.addAction(app_icon(), "Open Pilothouse", self.open_requested.emit).setObjectName("trayOpen")
        m.addAction("Quit", self.quit_requested.emit).setObjectName("trayQuit")
        self._update_tooltip()

    def title_of(self, c) -> str:
        """A container's entry: its name, tagged with its engine when there are several."""
        return f"{c.name} ({self.engines.label_for(c.engine_id)})" if self.several else c.name

    def container_menu(self, name: str) -> QMenu | None:
        return self.menu.findChild(QMenu, f"trayContainer_{name}")

    def container_names(self) -> list[str]:
        return [a.menu().title() for a in self.menu.actions() if a.menu() is not None]

    def action_in(self, menu: QMenu, object_name: str) -> QAction | None:
        return next((a for a in menu.actions() if a.objectName() == object_name), None)

    async def _container(self, action: str, c) -> None:
        self.container_action_requested.emit(action, c)
        try:
            await getattr(self._client_of(c), action)(c.id, c.name)
        except EngineError as err:
            self.action_failed.emit(str(err))
            self.notify(str(err))
            return
        self.container_action_done.emit(action, c.name)

    async def _vm(self, action: str) -> None:
        try:
            await getattr(self.vm, action)()
        except Exception as exc:  # noqa: BLE001 - the VM backend's errors are sentences too
            self.action_failed.emit(f"The VM could not {action}: {exc}")
            self.notify(f"The VM could not {action}: {exc}")

    async def aclose(self) -> None:
        if self.engines is not None:
            self.engines.primary_changed.disconnect(self._on_engines_primary_changed)
        await self.tasks.cancel_all()
        if self.shown:
            self.icon.hide()
            self.shown = False
