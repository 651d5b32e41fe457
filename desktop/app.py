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
        self._init_objects()  # images, volumes, networks, disk usage (issue 4)
        self.containers_page.set_engine_available(self.status.is_connected)
        self.window.retry_requested.connect(self.sync.retry_now)

    def start(self) -> None:
        self.sync.start()

    # -- images, volumes, networks, disk usage (issue 4) -------------------------------------------
    def _init_objects(self) -> None:
        from desktop.state.objects_state import ObjectsState
        from desktop.ui.disk_usage_page import DiskUsagePage
        from desktop.ui.images_page import ImagesPage
        from desktop.ui.networks_page import NetworksPage
        from desktop.ui.volumes_page import VolumesPage

        self.objects = ObjectsState(self.client)
        self.objects.attach(self.sync)
        self.images_page = ImagesPage(self.client, self.objects)
        self.volumes_page = VolumesPage(self.client, self.objects)
        self.networks_page = NetworksPage(self.client, self.objects)
        self.disk_page = DiskUsagePage(self.objects.objects)
        self.object_pages = (self.images_page, self.volumes_page, self.networks_page, self.disk_page)
        for key, title, page in (("images", "Images", self.images_page), ("volumes", "Volumes", self.volumes_page),
                                 ("networks", "Networks", self.networks_page), ("disk", "Disk usage", self.disk_page)):
            self.window.add_page(key, title, key if key != "disk" else "disk", page)
            page.set_engine_available(self.status.is_connected)
        # Run → the new container is shown on the Containers page (its detail page, once it exists).
        self.images_page.container_created.connect(self._on_images_container_created)
        self.containers_page.context_menu_extenders.append(self._extend_container_menu)

    def _extend_container_menu(self, menu, containers) -> None:
        """Commit / export entries in the Containers page's context menu (one container)."""
        if len(containers) != 1:
            return
        c = containers[0]
        menu.addSeparator()
        menu.addAction("Commit to image…").triggered.connect(lambda: self.images_page.commit_container(c.id, c.name))
        menu.addAction("Export filesystem…").triggered.connect(lambda: self.images_page.export_container(c.id, c.name))

    def _on_images_container_created(self, cid: str) -> None:
        """After Run: show the new container (its detail page when that feature is present)."""
        self.window.show_page("containers")

        def select() -> bool:
            idx = self.containers_page.proxy_index_of(cid)
            if not idx.isValid():
                return False
            self.containers_page.view.setCurrentIndex(idx)
            self.containers_page.view.scrollTo(idx)
            details = getattr(self, "details", None)  # the container detail pages (issue 3)
            if details is not None and self.containers.get(cid) is not None:
                details.open_container(self.containers.get(cid))
            return True

        if not select():
            # The store learns of the container from its event a moment later.
            def on_upserted(items) -> None:
                if any(c.id == cid for c in items) and select():
                    self.containers.upserted.disconnect(on_upserted)
            self.containers.upserted.connect(on_upserted)

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
        await self.sync.aclose()
        await self.containers_page.tasks.cancel_all()
        for page in self.object_pages:  # images, volumes, networks, disk usage (issue 4)
            await page.tasks.cancel_all()
        await self.objects.aclose()
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
