"""Composition root: QApplication + qasync loop, wires engine → state → UI, clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint, discover
from desktop.state.connection import CONNECTED, UNREACHABLE, ConnectionState, ConnectionStatus
from desktop.state.containers import ContainerStore
from desktop.state.sync import EngineSync

log = logging.getLogger(__name__)


class Pilothouse:
    """One window against one engine (candidate endpoints in order)."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        from desktop.ui.containers_page import ContainersPage
        from desktop.ui.main_window import MainWindow

        self.client = EngineClient(endpoints)
        self.containers = ContainerStore()
        self.status = ConnectionStatus()
        self.sync = EngineSync(self.client, self.containers, self.status)
        self.window = MainWindow(self.status)
        self.containers_page = ContainersPage(self.client, self.containers)
        self.window.add_page("containers", "Containers", "containers", self.containers_page)
        self.containers_page.set_engine_available(self.status.is_connected)
        self.window.retry_requested.connect(self.sync.retry_now)
        self._init_monitoring()

    def start(self) -> None:
        self.sync.start()

    async def first_load(self, timeout: float | None = None) -> ConnectionState:
        """Wait until the first full list is on screen, or the first 'no engine' verdict."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()

        def check(s: ConnectionState) -> None:
            if not fut.done() and ((s.state == CONNECTED and s.loaded) or s.state == UNREACHABLE):
                fut.set_result(s)

        self.status.changed.connect(check)
        check(self.status.current)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self.status.changed.disconnect(check)

    # -- live stats, dashboard, notifications, activity (issue 5) --------------------------------
    def _init_monitoring(self) -> None:
        from desktop.metrics.engine_overview import EngineOverview
        from desktop.metrics.host import HostMonitor
        from desktop.metrics.stats_hub import StatsHub
        from desktop.ui.container_stats_columns import VisibleStatsFeeder
        from desktop.ui.dashboard_page import DashboardPage
        from desktop.ui.engine_footer import EngineFooter

        self.stats_hub = StatsHub(self.client, self.containers)
        self.stats_columns = VisibleStatsFeeder(self.containers_page.view, self.containers_page.model,
                                                self.stats_hub)
        self.host_monitor = HostMonitor()
        self.overview = EngineOverview(self.client, self.stats_hub, self.sync.events)
        self.sync.add_resync_hook(self.overview.on_resync)
        self.dashboard_page = DashboardPage(self.overview, self.host_monitor, self.status)
        self.window.add_page("dashboard", "Dashboard", "dashboard", self.dashboard_page)
        self.engine_footer = EngineFooter(self.status, self.host_monitor, self.overview)
        self.window.statusBar().addPermanentWidget(self.engine_footer)

        from desktop.state.activity import ActivityLog
        from desktop.state.crash_watch import CrashWatch
        from desktop.ui.activity_page import ActivityPage
        from desktop.ui.tray_notifier import TrayNotifier

        self.crash_watch = CrashWatch()
        self.activity = ActivityLog()
        self.sync.events.connect(self.crash_watch.on_event)
        self.sync.events.connect(self.activity.on_event)
        self.notifier = TrayNotifier(self.crash_watch)
        self.notifier.open_logs_requested.connect(self._on_notifier_open_logs_requested)
        self.activity_page = ActivityPage(self.activity, self.notifier)
        self.window.add_page("activity", "Activity", "activity", self.activity_page)
        self._note_user_exits(self.containers_page.actions)

    def _note_user_exits(self, actions) -> None:
        """Exits the user asks for in Pilothouse are not crashes: tell the CrashWatch first."""
        from desktop.ui.container_actions import resolve

        run = actions.run

        async def run_noting_intent(action, containers, _run=run):
            concrete, targets = resolve(action, containers)
            if concrete in ("stop", "kill", "restart", "delete"):
                for c in targets:
                    self.crash_watch.expect_exit(c.id)
            return await _run(action, containers)

        actions.run = run_noting_intent

    def _on_notifier_open_logs_requested(self, cid: str) -> None:
        # The container's page (with its logs) opens from the Containers page's activation.
        self.window.show_page("containers")
        self.window.showNormal()
        self.window.activateWindow()
        c = self.containers.get(cid)
        if c is not None:
            self.containers_page.container_activated.emit(c)

    async def _aclose_monitoring(self) -> None:
        self.notifier.close()
        self.activity_page.model.detach()
        self.stats_columns.close()
        self.overview.close()
        self.stats_hub.close()
        await self.host_monitor.aclose()

    async def aclose(self) -> None:
        await self._aclose_monitoring()
        await self.sync.aclose()
        await self.containers_page.tasks.cancel_all()
        await self.client.aclose()


def run_gui(host: str | None = None, screenshot: str | None = None, page: str = "containers") -> int:
    """Run the app until the window closes (or, with `screenshot`, until the PNG is written)."""
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    qapp = QApplication.instance() or QApplication(sys.argv)
    qapp.setApplicationName("Pilothouse")
    qapp.setOrganizationName("Pilothouse")
    qapp.setDesktopFileName("pilothouse")
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    ph = Pilothouse(discover(host))
    result = 0

    async def main() -> None:
        nonlocal result
        ph.start()
        ph.window.show()
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
            # Let the view lay out and paint the rows it just received.
            done = asyncio.get_running_loop().create_future()
            QTimer.singleShot(50, lambda: done.done() or done.set_result(None))
            await done
            if not ph.window.grab().save(screenshot):
                print(f"pilothouse: could not write {screenshot}", file=sys.stderr)
                result = 1
            return
        closed = asyncio.get_running_loop().create_future()
        qapp.lastWindowClosed.connect(lambda: closed.done() or closed.set_result(None))
        await closed

    try:
        with loop:
            loop.run_until_complete(main())
            loop.run_until_complete(ph.aclose())
    finally:
        asyncio.set_event_loop(None)
    return result
