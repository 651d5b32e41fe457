"""Composition root: QApplication + qasync loop, wires engine → state → UI, clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint, discover
from desktop.engine.prefetch import Prefetch
from desktop.state.connection import CONNECTED, UNREACHABLE, ConnectionState, ConnectionStatus
from desktop.state.containers import ContainerStore
from desktop.state.sync import EngineSync

log = logging.getLogger(__name__)


class Pilothouse:
    """One window against one engine (candidate endpoints in order)."""

    def __init__(self, endpoints: Sequence[Endpoint], settings=None, vm=None) -> None:
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
        self._init_desk(settings, vm)  # desk: settings, compose, palette, theme, tray

    def start(self, prefetch: "Prefetch | None" = None) -> None:
        self.sync.start()
        if prefetch is not None:
            self._prefetch_task = asyncio.ensure_future(self._apply_prefetch(prefetch))

    async def _apply_prefetch(self, prefetch: "Prefetch") -> None:
        """Show the prefetched list at once; the sync's own resync follows and corrects it."""
        if not prefetch.done() and not await self.client.run(prefetch.wait, 10):
            return
        if prefetch.result is None:
            return
        engine, rows = prefetch.result
        if self.status.is_connected or self.containers.all():
            # the real connection won the race; its list is fresher
            return
        self.containers.replace_all(rows)
        self.status.connected(engine)
        self.status.loaded()

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

    async def aclose(self) -> None:
        task = getattr(self, "_prefetch_task", None)
        if task is not None and not task.done():
            task.cancel()
        await self.sync.aclose()
        await self.containers_page.tasks.cancel_all()
        await self._aclose_desk()  # desk
        await self.client.aclose()

    # ---- desk (issue 7: settings, Compose, palette, theme, tray) -------------------------------
    def _init_desk(self, settings, vm) -> None:
        """Settings page, Compose page, command palette, theme and tray, wired to the window."""
        from PySide6.QtCore import QEvent, QObject
        from PySide6.QtGui import QKeySequence, QShortcut
        from PySide6.QtWidgets import QApplication

        from desktop.state.compose_projects import ComposeProjects
        from desktop.state.settings import SettingsStore
        from desktop.ui.command_palette import (CommandPalette, actions_provider, compose_provider,
                                                containers_provider, pages_provider)
        from desktop.ui.compose_page import ComposePage
        from desktop.ui.settings_page import SettingsPage
        from desktop.ui.theme import ThemeManager
        from desktop.ui.tray import Tray

        self.settings = settings if settings is not None else SettingsStore()
        self.compose_projects = ComposeProjects(self.containers)
        self.compose_page = ComposePage(self.client, self.compose_projects,
                                        confirm_destructive=lambda: self.settings.current.confirm_destructive)
        self.window.add_page("compose", "Compose", "compose", self.compose_page)
        self.compose_page.set_engine_available(self.status.is_connected)
        self.settings_page = SettingsPage(self.settings)
        self.window.add_page("settings", "Settings", "settings", self.settings_page)
        QShortcut(QKeySequence("Ctrl+,"), self.window, lambda: self.window.show_page("settings"))

        self.theme = ThemeManager(QApplication.instance(), self.settings.current.theme)
        self.settings.changed.connect(self.theme.on_settings_changed)

        self.palette = CommandPalette(self.window)
        self.palette.add_provider(pages_provider(self.window))
        self.palette.add_provider(containers_provider(self.containers, self.containers_page, self.window))
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

        self.tray = Tray(self.client, self.containers, self.status, vm,
                         notify_enabled=lambda: self.settings.current.notifications)
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
    # ---- end desk ---------------------------------------------------------------------------------


def run_gui(host: str | None = None, screenshot: str | None = None, page: str = "containers",
            endpoints: Sequence[Endpoint] | None = None, prefetch: Prefetch | None = None,
            on_loaded=None) -> int:
    """Run the app until the window closes (or, with `screenshot`, until the PNG is written)."""
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if QApplication.instance() is None:  # desk: crisp at fractional HiDPI scales (Qt 6 scales always)
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    qapp = QApplication.instance() or QApplication(sys.argv)
    qapp.setApplicationName("Pilothouse")
    qapp.setOrganizationName("Pilothouse")
    qapp.setDesktopFileName("pilothouse")
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    ph = Pilothouse(endpoints or discover(host))
    result = 0

    async def main() -> None:
        nonlocal result
        ph.start(prefetch)
        # desk: tray and start-minimised (a screenshot always shows the window)
        tray_shown = ph.tray.show()
        if screenshot or on_loaded is not None or not ph.settings.current.start_minimised:
            ph.window.show()
        elif not tray_shown:
            ph.window.showMinimized()
        if on_loaded is not None:  # benchmarks: the real start-up path, reported at first load
            await ph.first_load(timeout=120)
            ph.window.repaint()
            on_loaded(ph)
            return
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
        ph.quit_callbacks.append(lambda: closed.done() or closed.set_result(None))  # desk: tray Quit
        await closed

    try:
        with loop:
            loop.run_until_complete(main())
            loop.run_until_complete(ph.aclose())
    finally:
        asyncio.set_event_loop(None)
    return result
