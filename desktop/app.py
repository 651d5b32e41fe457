"""Composition root: QApplication + qasync loop, wires engine → state → UI, clean shutdown."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from collections.abc import Sequence

from desktop.engine.endpoint_input import format_engine_line, parse_engine_line
from desktop.engine.endpoints import Endpoint, discover, list_contexts
from desktop.engine.transport import unencrypted_engines
from desktop.engine.errors import InvalidInputError
from desktop.engine.prefetch import Prefetch
from desktop.state.connection import CONNECTED, UNREACHABLE, ConnectionState
from desktop.state.engines import AggregateStatus, CombinedContainerStore, EngineRegistry
from desktop.state.observable import Listeners
from desktop.state.settings import SettingsStore

log = logging.getLogger(__name__)


def engine_name(endpoints: Sequence[Endpoint]) -> str:
    """The switcher's name for an engine found by discovery."""
    ep = endpoints[0]
    if ep.source.startswith("context"):
        return ep.name
    return {"default": "local", "--host": "host"}.get(ep.source, ep.source)


def extra_engines(endpoints: Sequence[Endpoint], saved: Sequence[str]) -> list[tuple[str, list[Endpoint]]]:
    """Engines followed beside the primary one: those saved in Settings, then docker contexts."""
    seen = {e.host for e in endpoints}
    out: list[tuple[str, list[Endpoint]]] = []
    for line in saved:
        try:
            ep = parse_engine_line(line)
        except InvalidInputError:
            continue  # the settings page reports it
        if ep.host not in seen:
            seen.add(ep.host)
            out.append((ep.name, [ep]))
    for ep in list_contexts():
        if ep.host not in seen:
            seen.add(ep.host)
            out.append((ep.name, [ep]))
    return out


class Pilothouse:
    """The window and the engines it follows (the first one is the primary engine).

    `client`, `containers`, `status` and `sync` are the primary engine's; the Containers page
    shows every engine through the merged store, each row tagged with its engine.
    """

    def __init__(self, endpoints: Sequence[Endpoint],
                 extra_engines: Sequence[tuple[str, Sequence[Endpoint]]] = (), settings=None, vm=None,
                 defer_secondary: bool = False, vm_factory=None, history=None) -> None:
        from desktop.ui.containers.containers_page import ContainersPage
        from desktop.ui.main_window import MainWindow
        self.engines = EngineRegistry()
        self.history_store = history  # the persistent history (a HistoryStore), or None to keep none
        self.primary = self.engines.add(engine_name(endpoints), endpoints)
        self.client = self.primary.client
        self.containers = self.primary.containers
        self.status = self.primary.status
        self.sync = self.primary.sync
        for name, eps in extra_engines:
            if self.engines.get(name) is None:
                self.engines.add(name, eps)
        self.all_containers = CombinedContainerStore(self.engines)
        self.all_status = AggregateStatus(self.engines)
        self._selected_engine: str | None = None
        self.engine_added_by_user = Listeners()  # (Endpoint): the settings persist it

        self.window = MainWindow(self.all_status)
        self.containers_page = ContainersPage(self.engines.client_for, self.all_containers,
                                              engine_label=self.engines.label_for,
                                              owner_of=self.all_containers.owner)
        self.window.add_page("containers", "Containers", "containers", self.containers_page)
        self.containers_page.set_engine_available(self.all_status.is_connected)
        self.window.retry_requested.connect(self._on_window_retry_requested)
        self.window.engine_selected.connect(self._on_window_engine_selected)
        self.window.add_engine_requested.connect(self.open_add_engine_dialog)
        self.engines.added.connect(self._on_engines_added)
        self.engines.removed.connect(lambda _s: self._refresh_engines())
        for session in self.engines.sessions:
            session.status.changed.connect(lambda _st: self._refresh_engines())
        self._refresh_engines()
        self._started = False
        self._sessions_started = False
        # `vm_factory`: make the VM manager with the other pages (its module imports the SDK and
        # cryptography, ~170 ms that must not come before the first table paint).
        self._secondary_args = (settings, vm, vm_factory)
        self.secondary_installed = False
        if not defer_secondary:
            self.install_secondary()

    def install_secondary(self) -> None:
        """Every page beyond Containers. The real start-up path calls this right after the first
        table is painted, so the window opens on data first."""
        if self.secondary_installed:
            return
        self.secondary_installed = True
        from desktop.ui.objects.wiring import install_objects

        settings, vm, vm_factory = self._secondary_args
        if vm is None and vm_factory is not None:
            vm = vm_factory()
        # Container details: double-click/Enter opens a container's (or a project's) page
        from desktop.ui.containers.detail.host import ContainerDetailHost

        self.details = ContainerDetailHost(self.window, self.engines.client_for, self.all_containers,
                                           self.containers_page)
        install_objects(self)  # images, volumes, networks, disk usage
        self._init_monitoring()  # stats columns, dashboard, notifications, activity
        self.vm = self._make_vm_control(vm)  # the bundled VM; None without one
        self._init_desk(settings, self.vm)  # settings, compose, palette, theme, tray
        self._init_vm_page()
        from desktop.ui.features.swarm import SwarmWing

        self.swarm = SwarmWing(self.window, self.engines, self.primary.key)  # nodes, services, stacks
        self._connect_monitoring_to_details_and_settings()
        self._init_history()
        from desktop.ui.features.inside import SeeingInside

        self.inside = SeeingInside(window=self.window, engines=self.engines, details=self.details,
                                   settings=self.settings, containers_page=self.containers_page)  # debug, changes
        self._init_engine_following()  # the pages follow the engine switcher
        if self.status.is_connected:  # installed after the first resync: list now
            async def late_resync() -> None:
                await self.objects.on_resync()
                await self.overview.on_resync()

            self._objects_task = asyncio.ensure_future(late_resync())

    # -- several engines ---------------------------------------------------------------------------
    def _refresh_engines(self) -> None:
        sessions = self.engines.sessions
        self.window.set_engines([(s.key, s.status.current.state) for s in sessions])
        self.window.unencrypted_banner.show_engines(unencrypted_engines((s.key, s.endpoints) for s in sessions))
        self.containers_page.set_multi_engine(len(sessions) > 1)
        if getattr(self, "secondary_installed", False):
            self._follow_engine_count()

    def _engine_is_local(self, key: str) -> bool:
        """The engine shares this machine's files (a UNIX socket or named pipe, not ssh/tcp)."""
        session = self.engines.get(key) if key else self.primary
        if session is None:
            return False
        ep = session.client.endpoint or session.endpoints[0]
        return ep.host.startswith(("unix://", "npipe://"))

    def _on_engines_added(self, session) -> None:
        session.status.changed.connect(lambda _st: self._refresh_engines())
        self._refresh_engines()
        if self._sessions_started:
            session.start()

    def _on_window_engine_selected(self, key: "str | None") -> None:
        self._selected_engine = key
        session = self.engines.get(key) if key else None
        self.window.set_status_source(session.status if session else self.all_status)
        self.containers_page.proxy.set_engine(key)
        if self.secondary_installed:
            self._follow_selected_engine(key)

    # -- pages beyond Containers follow the engine switcher ---------------------------------
    def _init_engine_following(self) -> None:
        from desktop.metrics.engine_overview import EngineOverviews

        self.overviews = EngineOverviews(self.engines, self.primary.key, self.overview,
                                         hubs=self.stats_hubs)  # one hub per engine, shared
        self._follow_engine_count()
        self._follow_selected_engine(self._selected_engine)

    def _follow_selected_engine(self, key: "str | None") -> None:
        from desktop.ui.objects.wiring import select_engine

        select_engine(self, key)
        self.swarm.show_engine(key)
        self.compose_projects.set_engine(key)
        self._show_dashboard_of(key)

    def _follow_engine_count(self) -> None:
        self.compose_page.set_multi_engine(len(self.engines.sessions) > 1)
        self.swarm.set_engine_count(len(self.engines.sessions))
        self._show_dashboard_of(self._selected_engine)

    def _show_dashboard_of(self, key: "str | None") -> None:
        """The dashboard shows the selected engine; with all engines shown, the primary (it says so)."""
        session = self.engines.get(key) if key else None
        session = session or self.primary
        caption = ""
        if len(self.engines.sessions) > 1:
            caption = f"Engine {session.key}" + ("" if key else
                                                 " (the primary engine: choose another in the engine switcher)")
        self.dashboard_page.set_source(self.overviews.get(session.key) or self.overview, session.status, caption)
        self._follow_engines_in_monitoring(session, key)  # footer and Activity follow too

    def open_add_engine_dialog(self):
        """Settings' "Add engine": validated, pinged, then followed like any other engine."""
        from desktop.ui.engines.add_engine_dialog import AddEngineDialog

        sessions = self.engines.sessions
        dlg = AddEngineDialog({s.key for s in sessions}, self.window,
                              {ep.host: s.key for s in sessions for ep in s.endpoints})
        dlg.engine_added.connect(self.add_engine)
        dlg.open()
        return dlg

    def add_engine(self, endpoint: Endpoint):
        session = self.engines.add(endpoint.name, [endpoint])
        self.engine_added_by_user.emit(endpoint)
        return session

    def _on_window_retry_requested(self) -> None:
        for s in self.engines.sessions:
            s.sync.retry_now()

    def start(self, prefetch: "Prefetch | None" = None, sessions_after_paint: bool = False) -> None:
        """Follow the engines. With a prefetch and `sessions_after_paint`, the engine sessions
        (and the docker SDK they import, ~60 ms) start when the caller has painted the
        prefetched table (`start_sessions()`), or at once if the prefetch has nothing to show."""
        self._started = True
        if prefetch is not None:
            self._prefetch_task = asyncio.ensure_future(self._apply_prefetch(prefetch, sessions_after_paint))
        if prefetch is None or not sessions_after_paint:
            self.start_sessions()

    def start_sessions(self) -> None:
        if self._sessions_started:
            return
        self._sessions_started = True
        for session in self.engines.sessions:
            session.start()

    async def _apply_prefetch(self, prefetch: "Prefetch", sessions_after_paint: bool = False) -> None:
        """Show the prefetched list at once; the sync's own resync follows and corrects it."""
        shown = False
        try:
            if not prefetch.done() and not await self.client.run(prefetch.wait, 10):
                return
            if prefetch.result is None:
                return
            engine, rows = prefetch.result
            if self.client.engine_tag:
                rows = [dataclasses.replace(r, engine_id=self.client.engine_tag) for r in rows]
            if self.status.is_connected or self.containers.all():
                # the real connection won the race; its list is fresher
                return
            self.containers.replace_all(rows)
            self.status.connected(engine)
            self.status.loaded()
            shown = True
        finally:
            if not shown:
                self.start_sessions()  # nothing to paint first: connect now

    async def first_load(self, timeout: float | None = None) -> ConnectionState:
        """Wait until the first full list is on screen, or the first 'no engine' verdict."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()

        def check(s: ConnectionState) -> None:
            if not fut.done() and ((s.state == CONNECTED and s.loaded) or s.state == UNREACHABLE):
                fut.set_result(s)

        status = self.all_status
        status.changed.connect(check)
        check(status.current)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            status.changed.disconnect(check)

    def _init_history(self) -> None:
        """The engine's memory: timeline, crash reports, health explanations, stats history."""
        from desktop.ui.features.history import HistoryFeature

        self.history = HistoryFeature(
            window=self.window, engines=self.engines, events=self.all_events, store=self.history_store,
            crash_reports=self.crash_reports, notifier=self.notifier, stats_hubs=self.stats_hubs,
            details=self.details, settings=self.settings, settings_page=self.settings_page,
            client_for=self.engines.client_for, dashboard=self.dashboard_page)

    # -- live stats, dashboard, notifications, activity, for every engine ------------------------
    def _init_monitoring(self) -> None:
        from desktop.metrics.engine_overview import EngineOverview
        from desktop.metrics.host import HostMonitor
        from desktop.metrics.stats_hub import StatsHub
        from desktop.metrics.stats_hub import StatsHubs
        from desktop.ui.monitoring.container_stats_columns import VisibleStatsFeeder
        from desktop.ui.monitoring.dashboard_page import DashboardPage
        from desktop.ui.monitoring.engine_footer import EngineFooter

        # One hub per engine (the others' made when first looked at); the table's CPU/Memory
        # columns and the Stats tabs reach a container's own engine through the router.
        self.stats_hub = StatsHub(self.client, self.containers)
        self.stats_hubs = StatsHubs(self.engines, self.all_containers.owner, self.primary.key, self.stats_hub)
        self.stats_columns = VisibleStatsFeeder(self.containers_page.view, self.containers_page.model,
                                                self.stats_hubs)
        self.host_monitor = HostMonitor()
        self.overview = EngineOverview(self.client, self.stats_hub, self.sync.events)
        self.sync.add_resync_hook(self.overview.on_resync)
        self.dashboard_page = DashboardPage(self.overview, self.host_monitor, self.status)
        self.window.add_page("dashboard", "Dashboard", "dashboard", self.dashboard_page)
        self.engine_footer = EngineFooter(self.status, self.host_monitor, self.overview)
        self.window.statusBar().addPermanentWidget(self.engine_footer)

        from desktop.state.activity import ActivityLog
        from desktop.state.crash_watch import CrashWatch
        from desktop.state.engines import CombinedEvents
        from desktop.ui.monitoring.activity_page import ActivityPage
        from desktop.ui.monitoring.tray_notifier import TrayNotifier

        async def oom_killed(cid: str, engine_id: str) -> bool:
            # Ask the engine that sent the exit (events carry their session's key as engine tag).
            session = self.engines.by_engine_id(engine_id) or self.engines.get(self.all_containers.owner(cid) or "")
            client = session.client if session is not None else self.client
            return (await client.inspect_container(cid)).oom_killed

        from desktop.state.history.crash_reports import CrashReporter

        self.crash_watch = CrashWatch(oom_check=oom_killed)
        # Crash reports take their evidence at the exit, before the watch's verdict: it sees events first.
        self.crash_reports = CrashReporter(
            self.crash_watch, lambda key: getattr(self.engines.by_engine_id(key), "client", None),
            store=self.history_store, containers=self.all_containers)
        self.activity = ActivityLog()
        self.all_events = CombinedEvents(self.engines)  # every engine's events, tagged
        self.all_events.connect(self.crash_reports.on_event)
        self.all_events.connect(self.crash_watch.on_event)
        self.all_events.connect(self.activity.on_event)
        self.notifier = TrayNotifier(self.crash_reports)  # one notification per crash report
        self.notifier.open_logs_requested.connect(self._on_notifier_open_logs_requested)
        self.activity_page = ActivityPage(self.activity, self.notifier)
        self.window.add_page("activity", "Activity", "activity", self.activity_page)
        self._note_user_exits(self.containers_page.actions)

    def _connect_monitoring_to_details_and_settings(self) -> None:
        """A Stats tab on every container's page (streamed from its own engine), crash notifications
        that follow the Settings switch, and exits asked for from the tray noted as intended."""
        from desktop.ui.monitoring.container_stats_view import ContainerStatsView

        def stats_tab(page, c) -> None:
            page.add_tab("Stats", ContainerStatsView(self.stats_hubs.hub_for(c.id), c.id))

        self.details.tab_providers.append(stats_tab)
        self.notifier.set_enabled(self.settings.current.notifications)
        self.settings.changed.connect(
            lambda settings, names: "notifications" in names and self.notifier.set_enabled(settings.notifications))
        self.tray.container_action_requested.connect(
            lambda action, c: action in ("stop", "kill", "restart") and self.crash_watch.expect_exit(c.id))
        self.compose_page.run_started.connect(self._on_compose_run_started)

    def _on_compose_run_started(self, project, verb: str) -> None:
        # down and restart stop the project's containers; an up may recreate (stop) them
        if verb in ("up", "down", "restart"):
            for c in project.containers:
                self.crash_watch.expect_exit(c.id)

    def _follow_engines_in_monitoring(self, session, key: "str | None") -> None:
        """The footer describes the engine the dashboard shows (`session`: the selected one, the
        primary under "All engines"); Activity shows the selected engine's events, or all, with an
        Engine column and engine-named notifications when there are several engines."""
        several = len(self.engines.sessions) > 1
        overview = self.overviews.get(session.key) or self.overview
        self.engine_footer.set_source(session.status, overview, session.key if several else "",
                                      lambda: [(s.key, s.status.current.state) for s in self.engines.sessions])
        self.activity_page.set_multi_engine(several)
        self.activity_page.set_engine(key if key and self.engines.get(key) else None)
        if getattr(self, "history", None) is not None:
            self.history.set_engine_count(len(self.engines.sessions))
            self.history.show_engine(key if key and self.engines.get(key) else None)
        self.crash_watch.name_engines = several

    def _note_user_exits(self, actions) -> None:
        """Exits the user asks for in Pilothouse are not crashes: tell the CrashWatch first (container
        ids are unique across engines, so one watch serves every engine's rows)."""
        from desktop.ui.containers.container_actions import resolve

        run = actions.run

        async def run_noting_intent(action, containers, _run=run):
            concrete, targets = resolve(action, containers)
            if concrete in ("stop", "kill", "restart", "delete"):
                for c in targets:
                    self.crash_watch.expect_exit(c.id)
            return await _run(action, containers)

        actions.run = run_noting_intent

    def _on_notifier_open_logs_requested(self, cid: str) -> None:
        # The container's page (with its logs) opens from the Containers page's activation; its
        # engine's client comes with the row (the merged store holds every engine's containers).
        self.window.show_page("containers")
        self.window.showNormal()
        self.window.activateWindow()
        c = self.all_containers.get(cid)
        if c is not None:
            self.containers_page.container_activated.emit(c)

    async def _aclose_monitoring(self) -> None:
        await self.history.aclose()
        await self.crash_reports.aclose()
        self.overviews.close()  # other engines' dashboards
        self.notifier.close()
        self.all_events.close()
        self.activity_page.model.detach()
        self.stats_columns.close()
        self.stats_hubs.close()  # other engines' hubs
        self.overview.close()
        self.stats_hub.close()
        await self.host_monitor.aclose()
    # -- end live stats, dashboard, notifications, activity ------------------------------------------

    async def aclose(self) -> None:
        task = getattr(self, "_prefetch_task", None)
        if task is not None and not task.done():
            task.cancel()
        if self.secondary_installed:
            await self.swarm.aclose()
            await self.details.aclose()  # container details: stop log/exec streams first
            await self.inside.aclose()
            await self._aclose_monitoring()  # stats streams, dashboard, notifications
        for session in self.engines.sessions:
            await session.sync.aclose()
        self.containers_page.model.detach()
        self.containers_page.tally.detach()
        await self.containers_page.tasks.cancel_all()
        if self.secondary_installed:
            task = getattr(self, "_objects_task", None)
            if task is not None and not task.done():
                task.cancel()
            await self._aclose_desk()
            if getattr(self, "vm_panel", None) is not None:
                await self.vm_panel.tasks.cancel_all()
                await self.vm_one_click.aclose()
                await self.vm_context_offer.aclose()
            await self.aclose_objects()  # images, volumes, networks, disk usage
        await self.engines.aclose()

    # ---- desktop integration: settings, Compose, palette, theme, tray -------------------------
    def _init_desk(self, settings, vm) -> None:
        """Settings page, Compose page, command palette, theme and tray, wired to the window."""
        from PySide6.QtCore import QEvent, QObject
        from PySide6.QtGui import QKeySequence, QShortcut
        from PySide6.QtWidgets import QApplication

        from desktop.state.compose_projects import ComposeProjects
        from desktop.state.settings import SettingsStore
        from desktop.ui.desk.command_palette import (CommandPalette, actions_provider, compose_provider,
                                                containers_provider, pages_provider)
        from desktop.ui.compose.compose_page import ComposePage
        from desktop.ui.desk.settings_page import SettingsPage
        from desktop.ui.desk.theme import ThemeManager
        from desktop.ui.desk.tray import Tray

        self.settings = settings if settings is not None else SettingsStore()
        self.engine_added_by_user.connect(self._on_engine_added_by_user)
        # Projects of every engine, each run against its own engine
        self.compose_projects = ComposeProjects(self.all_containers, default_engine=lambda: self.primary.key,
                                                is_local=self._engine_is_local)
        self.compose_page = ComposePage(self.client, self.compose_projects,
                                        confirm_destructive=lambda: self.settings.current.confirm_destructive,
                                        client_of=lambda key: self.engines.client_for_key(key))
        self.window.add_page("compose", "Compose", "compose", self.compose_page)
        self.compose_page.set_engine_available(self.window.status.is_connected)
        self.settings_page = SettingsPage(self.settings)
        self.window.add_page("settings", "Settings", "settings", self.settings_page)
        QShortcut(QKeySequence("Ctrl+,"), self.window, lambda: self.window.show_page("settings"))

        self.theme = ThemeManager(QApplication.instance(), self.settings.current.theme)
        self.settings.changed.connect(self.theme.on_settings_changed)

        self.palette = CommandPalette(self.window)
        self.palette.add_provider(pages_provider(self.window))
        self.palette.add_provider(containers_provider(self.all_containers, self.containers_page, self.window))
        self.palette.add_provider(compose_provider(self.compose_projects, self.compose_page, self.window))
        self.palette.add_provider(actions_provider([
            ("Open compose file…", lambda: (self.window.show_page("compose"), self.compose_page._on_open_clicked())),
            ("Settings", lambda: self.window.show_page("settings")),
            ("Keyboard shortcuts", self.window._show_shortcuts),
            ("Theme: system", lambda: self.settings.update(theme="system")),
            ("Theme: light", lambda: self.settings.update(theme="light")),
            ("Theme: dark", lambda: self.settings.update(theme="dark")),
            ("Quit Pilothouse", self.quit),
        ]))

        self.tray = Tray(self.client, self.all_containers, self.all_status, vm,  # every engine's
                         notify_enabled=lambda: self.settings.current.notifications, engines=self.engines)
        self.tray.open_requested.connect(self.show_window)
        self.quit_callbacks: list = []
        self.tray.quit_requested.connect(self.quit)
        ph = self

        class _CloseToTray(QObject):
            # Closing the window keeps Pilothouse in the tray when the user chose so.
            def eventFilter(self, obj, event):
                if (event.type() == QEvent.Type.Close and ph.settings.current.close_to_tray
                        and ph.tray.shown and not getattr(ph, "_quitting", False)):
                    event.ignore()
                    ph.window.hide()
                    ph.hidden_to_tray += 1
                    return True
                return False

        self.hidden_to_tray = 0
        self._close_filter = _CloseToTray(self.window)
        self.window.installEventFilter(self._close_filter)

    # ---- the bundled VM -----------------------------------------------------------------------
    def _make_vm_control(self, manager):
        if manager is None:
            return None
        from desktop.state.vm_engine import VMControl

        def config():
            s = self.settings.current
            return manager.config.with_changes(cpus=s.vm_cpus, memory_mib=s.vm_memory_mib, disk_gib=s.vm_disk_gib)

        async def prepare(progress) -> None:
            # The VM page's Start gets the image like the one click does (cached: one stat).
            import dataclasses

            from desktop.vm.image_source import ensure_image

            choice = await ensure_image(manager.arch, manager.paths.image_dir, lambda p: progress(f"image: {p.text}"))
            if choice.dir != manager.paths.image_dir:
                manager.paths = dataclasses.replace(manager.paths, image_dir=choice.dir)

        return VMControl(manager, self.engines, config, prepare)

    def _init_vm_page(self) -> None:
        if self.vm is None:
            return
        from desktop.ui.vm.vm_panel import VMPanel

        def resources() -> str:
            s = self.settings.current
            return (f"{s.vm_cpus} CPUs, {s.vm_memory_mib} MiB memory, {s.vm_disk_gib} GiB disk "
                    "(change them in Settings; they apply at the next start)")

        self.vm_panel = VMPanel(self.vm, resources)
        self.window.add_page("vm", "Virtual machine", "engine", self.vm_panel)
        self._init_vm_one_click()

    def _init_vm_one_click(self) -> None:
        """The no-engine page's main button: image, boot and engine in one click."""
        from desktop.ui.vm.one_click import ContextOffer, VMOneClick
        from desktop.vm.one_click import start_from_nothing
        from desktop.vm.readiness import check

        manager = self.vm.manager
        self.vm_one_click = VMOneClick(check, lambda report: start_from_nothing(
            manager, self.vm.start, report, follow=self.vm.ensure_session))
        self.window.no_engine.set_vm_offer(self.vm_one_click)
        self.vm_context_offer = ContextOffer(manager.paths.docker_config_dir)
        self.window.add_notice(self.vm_context_offer)
        self.vm_one_click.finished.connect(self._on_vm_one_click_finished)

    def _on_vm_one_click_finished(self, ok: bool) -> None:
        if ok:
            self.window.show_page("containers")
            self.vm_context_offer.offer()

    def _on_engine_added_by_user(self, endpoint: Endpoint) -> None:
        """Remember an engine added with the + button, so it is followed next time too."""
        self.settings.update(engines=tuple(self.settings.current.engines) + (format_engine_line(endpoint),))

    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def quit(self) -> None:
        """Quit for real (tray, palette): close the window even when it would go to the tray."""
        self._quitting = True
        for cb in list(self.quit_callbacks):
            cb()
        self.window.close()

    async def _aclose_desk(self) -> None:
        await self.compose_page.aclose()
        await self.tray.aclose()
        self.theme.close()
    # ---- end desktop integration ---------------------------------------------------------------------------------


def _vm_manager():
    """The bundled VM's manager (Qt-free, cheap to make; nothing runs until it is started)."""
    try:
        from desktop.vm.config import VMConfig
        from desktop.vm.machine import VMManager
        from desktop.vm.paths import VMPaths

        paths = VMPaths.default()
        if sys.platform == "win32":
            from desktop.vm.wsl_engine import WslEngine, store_wsl_installed

            if store_wsl_installed():  # WSL 2 first, as Docker Desktop and Podman do; else QEMU + WHPX
                return WslEngine(VMConfig.load(paths.config_file), paths)
        return VMManager(VMConfig.load(paths.config_file), paths)
    except Exception as exc:  # noqa: BLE001 - no VM support here is not a reason not to start
        log.info("the bundled VM is unavailable: %s", exc)
        return None


def run_gui(host: str | None = None, screenshot: str | None = None, page: str = "containers",
            endpoints: Sequence[Endpoint] | None = None, prefetch: Prefetch | None = None,
            on_loaded=None) -> int:
    """Run the app until the window closes (or, with `screenshot`, until the PNG is written)."""
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if QApplication.instance() is None:  # crisp at fractional HiDPI scales (Qt 6 scales always)
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    from desktop.state.memory import tune_allocator

    tune_allocator()  # container logs: big parse buffers go back to the OS when freed
    qapp = QApplication.instance() or QApplication(sys.argv)
    qapp.setApplicationName("Pilothouse")
    qapp.setOrganizationName("Pilothouse")
    qapp.setDesktopFileName("pilothouse")
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    endpoints = endpoints or discover(host)
    settings = SettingsStore()
    from desktop.state.history.store import HistoryStore

    history = HistoryStore(cap_bytes=settings.current.history_cap_mb * 1_000_000)
    history.start()  # its writer thread opens the file; nothing here waits for it
    ph = Pilothouse(endpoints, extra_engines(endpoints, settings.current.engines), settings=settings,
                    vm_factory=_vm_manager, defer_secondary=True, history=history)
    result = 0

    async def main() -> None:
        nonlocal result
        ph.start(prefetch, sessions_after_paint=True)
        minimised = not (screenshot or on_loaded is not None) and settings.current.start_minimised
        if not minimised:
            ph.window.show()
            try:  # the window opens on the table; the other pages follow right after
                await ph.first_load(timeout=5)
            except asyncio.TimeoutError:
                pass
            ph.window.repaint()
            if on_loaded is not None:  # benchmarks: the real start-up path, reported at first load
                on_loaded(ph)
                return
        ph.start_sessions()  # the prefetched table is on screen: now the SDK and the live engine
        ph.install_secondary()
        # Tray and start-minimised (a screenshot always shows the window)
        tray_shown = ph.tray.show()
        if minimised and not tray_shown:
            ph.window.showMinimized()
        if screenshot:
            if not ph.window.show_page(page):
                print(f"pilothouse: no page named {page!r}", file=sys.stderr)
                result = 2
                return
            try:
                await ph.first_load(timeout=60)
            except asyncio.TimeoutError:
                print("pilothouse: the first load did not finish within 60 s", file=sys.stderr)
                result = 1
            # Let the view lay out and paint the rows it just received; on the Containers page,
            # give the visible rows' stats streams up to 4 s for their first figures, so the
            # picture shows what a user sees a moment after opening the window.
            from desktop.ui.page_current import page_is_current, shown_rows

            loop = asyncio.get_running_loop()

            async def tick() -> None:
                done = loop.create_future()
                QTimer.singleShot(50, lambda: done.done() or done.set_result(None))
                await done

            # The prefetched table, or a page asked for before the engine answered, is not the
            # engine as it is now: paint once the real lists are in.
            give_up = loop.time() + 60
            while not page_is_current(ph, page) and loop.time() < give_up:
                await tick()
            deadline = loop.time() + (4.0 if page == "containers" else 10.0 if page == "swarm" else 0.0)
            while True:
                await tick()
                feeder = getattr(ph, "stats_columns", None)
                shown = feeder.visible_ids() if feeder is not None else []
                live = [cid for cid in shown if getattr(ph.all_containers.get(cid), "state", "") == "running"]
                if page == "swarm" and not ph.swarm.page.ready and loop.time() < deadline:
                    continue
                if loop.time() >= deadline or all(ph.stats_hubs.latest(cid) is not None for cid in live):
                    break
            if not ph.window.grab().save(screenshot):
                print(f"pilothouse: could not write {screenshot}", file=sys.stderr)
                result = 1
                return
            rows = shown_rows(ph, page)
            print(f"pilothouse: wrote {screenshot}: the {page} page" + (f", {rows} row{'s' if rows != 1 else ''}" if rows is not None else ""))
            return
        closed = asyncio.get_running_loop().create_future()
        qapp.lastWindowClosed.connect(lambda: closed.done() or closed.set_result(None))
        ph.quit_callbacks.append(lambda: closed.done() or closed.set_result(None))  # tray Quit
        await closed

    try:
        with loop:
            loop.run_until_complete(main())
            loop.run_until_complete(ph.aclose())
            loop.run_until_complete(history.aclose())
    finally:
        asyncio.set_event_loop(None)
    return result
