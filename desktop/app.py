"""Composition root: the engines, the feature wings in order (desktop/ui/features/), what one wing
announces connected to what another offers, the walk on engine switch and at shutdown. The
process around it (event loop, settings, history file, window life) is desktop/gui.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from desktop.engine.endpoints import Endpoint
from desktop.engine.prefetch import Prefetch
from desktop.state import startup
from desktop.state.connection import ConnectionState
from desktop.state.engines import EngineRegistry, MergedContainerStore, MergedStatus
from desktop.state.settings import SettingsStore


class Pilothouse:
    """The window, the engines it follows (the first is the primary) and the wings: Containers first,
    so the window opens on data; the others right after the first paint (`install_secondary`)."""

    def __init__(self, endpoints: Sequence[Endpoint],
                 extra_engines: Sequence[tuple[str, Sequence[Endpoint]]] = (), settings=None, vm=None,
                 defer_secondary: bool = False, vm_factory=None, history=None) -> None:
        from desktop.ui.features.containers import ContainersWing
        from desktop.ui.features.engines import EnginesWing
        from desktop.ui.features.window_memory import WindowMemory
        from desktop.ui.features.wing import Shared
        from desktop.ui.main_window import MainWindow

        self.engines = EngineRegistry()
        self.history_store = history  # the persistent history (a HistoryStore), or None to keep none
        self.primary = self.engines.add(startup.engine_name(endpoints), endpoints)
        for name, eps in extra_engines:
            if self.engines.get(name) is None:
                self.engines.add(name, eps)
        self.settings = settings if settings is not None else SettingsStore()
        self.all_containers = MergedContainerStore(self.engines)
        self.all_status = MergedStatus(self.engines)
        self.window = MainWindow(self.all_status)
        self.shared = Shared(self.window, self.engines, self.primary, self.all_containers, self.all_status,
                             self.settings)
        self.wings: list = []  # walked in this order; closed in the reverse one
        self.containers = self._wing(ContainersWing(self.shared))
        self.connections = self._wing(EnginesWing(self.shared))
        self.memory = self._wing(WindowMemory(self.shared))  # before the window shows: it opens where it was
        self._selected: str | None = None
        self.window.engine_selected.connect(self._on_window_engine_selected)
        self.engines.added.connect(self._on_engines_added)
        self.engines.removed.connect(self._walk_engine_count)
        self.engines.primary_changed.connect(self._walk_engine_count)  # the switcher marks the primary
        for session in self.engines.sessions:
            session.status.changed.connect(self._walk_engine_count)
        self._walk_engine_count()
        self.sessions = startup.SessionStarter(self.engines, self.primary)
        # `vm_factory`: make the VM manager with the other wings (its module imports the SDK and
        # cryptography, ~170 ms that must not come before the first table paint).
        self._vm = (vm, vm_factory)
        self.secondary_installed = False
        if not defer_secondary:
            self.install_secondary()

    def install_secondary(self) -> None:
        """Every wing beyond Containers, in the order they depend on each other."""
        for _ in self._secondary_steps():
            pass

    async def install_secondary_gradually(self) -> None:
        """`install_secondary`, one wing per turn of the event loop: the window paints and answers
        between them instead of freezing once for all of them (over a second at 20,000
        containers). The wings announce to each other only once all are in.

        Their modules are imported first, in a worker thread: importing them is most of what
        making the wings costs (~0.7 of ~0.85 s), and there it takes the UI thread's turn only in
        the interpreter's short switch intervals. The UI thread may import meanwhile too (the
        engine session): the import system's per-module locks keep the two apart, and only an
        import cycle could deadlock them, which desktop's modules do not have (tests/unit/test_layers.py)."""
        if not self.secondary_installed:
            await asyncio.get_running_loop().run_in_executor(None, _import_wing_modules)
        for _ in self._secondary_steps():
            await asyncio.sleep(0)

    def _secondary_steps(self):
        if self.secondary_installed:
            return
        self.secondary_installed = True
        from desktop.ui.features import compose, desk, details, history, inside, menus, monitoring, objects, swarm, vm

        yield
        # Its first PNG loads Qt's image reader (~12 ms): after the first paint, which needs none.
        from desktop.ui.resources import app_icon

        self.window.setWindowIcon(app_icon())
        shared, wing = self.shared, self._wing
        self.objects = wing(objects.ObjectsWing(shared))
        yield
        mon = self.monitoring = wing(monitoring.MonitoringWing(shared, self.containers.page, self.history_store))
        yield
        self.compose = wing(compose.ComposeWing(shared))
        yield
        self.vm = wing(vm.VMWing(shared, *self._vm))
        yield
        self.desk = wing(desk.DeskWing(shared, self.containers, self.compose, self.vm.control))
        yield
        self.details = wing(details.ContainerDetailsWing(shared, self.containers))
        self.details.tab_providers.append(self.monitoring.add_stats_tab)
        yield
        self.swarm = wing(swarm.SwarmWing(self.window, self.engines, self.primary.key))  # nodes, services, stacks
        yield
        self.history = wing(history.HistoryWing(shared, mon, self.details, self.desk, self.history_store))
        yield
        self.inside = wing(inside.InsideWing(shared, self.containers, self.details, self.compose))  # debug, logs
        yield
        self.menus = wing(menus.MenuBarWing(shared, containers=self.containers, details=self.details,
                                            engines=self.connections, objects=self.objects, compose=self.compose,
                                            desk=self.desk, vm=self.vm))  # last: every page is in

        # What one wing announces, another acts on.
        self.containers.add_menu_entries(self.objects.add_container_menu_entries)
        self.objects.container_created.connect(self.details.reveal)
        self.containers.page.action_started.connect(mon.expect_exits)
        self.desk.tray.container_action_requested.connect(mon.expect_exit)
        self.compose.page.run_started.connect(mon.expect_compose_exits)
        mon.notifier.open_logs_requested.connect(self._on_notifier_open_logs_requested)
        if self.vm.sleep_watch is not None:
            self.vm.sleep_watch.engine_noted.connect(mon.note_engine)
        self._walk_engine_count()
        self._on_window_engine_selected(self._selected)

    # -- walking the wings ---------------------------------------------------------------------------
    def _wing(self, wing):
        self.wings.append(wing)
        return wing

    def _walk_engine_count(self, *_changed) -> None:
        sessions = self.engines.sessions
        primary = self.engines.primary
        self.window.set_engines([(s.key, s.status.current.state) for s in sessions], primary.key if primary else None)
        for wing in self.wings:
            wing.set_engine_count(len(sessions))

    def _on_engines_added(self, session) -> None:
        session.status.changed.connect(self._walk_engine_count)
        self._walk_engine_count()

    def _on_window_engine_selected(self, key: "str | None") -> None:
        self._selected = key
        session = self.engines.get(key) if key else None
        self.window.set_status_source(session.status if session else self.all_status)
        for wing in self.wings:
            wing.show_engine(key)

    def _on_notifier_open_logs_requested(self, cid: str) -> None:
        self.desk.show_window()
        self.details.open_logs(cid)

    # -- start-up --------------------------------------------------------------------------------------
    def start(self, prefetch: "Prefetch | None" = None, sessions_after_paint: bool = False) -> None:
        """Follow the engines (see SessionStarter.start)."""
        self.sessions.start(prefetch, sessions_after_paint)

    def start_sessions(self) -> None:
        self.sessions.start_sessions()

    async def first_load(self, timeout: float | None = None) -> ConnectionState:
        """Wait until the first full list is on screen, or the first 'no engine' verdict."""
        return await startup.first_load(self.all_status, timeout)

    async def aclose(self) -> None:
        self.sessions.cancel()
        for session in self.engines.sessions:  # no event reaches a wing that is closing
            await session.sync.aclose()
        for wing in reversed(self.wings):  # detail pages' log/exec streams first
            await wing.aclose()
        await self.engines.aclose()


# What the wings beyond Containers import, before or while they are made.
WING_MODULES = tuple(f"desktop.ui.features.{m}" for m in (
    "compose", "desk", "details", "history", "inside", "menus", "monitoring", "objects", "swarm", "vm")) + (
    "desktop.ui.inside.logs_page", "desktop.ui.inside.compose_graph", "desktop.ui.desk.engines_table")


def _import_wing_modules() -> None:
    import importlib

    for name in WING_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the UI thread imports it again and reports the failure
            pass
