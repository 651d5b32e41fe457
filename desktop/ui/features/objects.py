"""The engine's objects beyond containers: the Images, Volumes, Networks and Disk usage pages."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication

from desktop.state.engine_objects import EngineObjects
from desktop.ui.async_tasks import TaskSet
from desktop.ui.features.wing import Shared
from desktop.ui.objects.disk_usage_page import DiskUsagePage
from desktop.ui.objects.images_page import ImagesPage
from desktop.ui.objects.networks_page import NetworksPage
from desktop.ui.objects.volumes_page import VolumesPage

# Coming back to the window re-reads the "used by" references at most this often (seconds).
USAGE_RECHECK_INTERVAL = 5.0

PAGES = (("images", "Images"), ("volumes", "Volumes"), ("networks", "Networks"), ("disk", "Disk usage"))


class ObjectsWing(QObject):
    """Each engine's image, volume and network stores (merged for "All engines"), listed when one
    of their pages is first shown. Announces `container_created(cid)` after Run."""

    container_created = Signal(str)

    def __init__(self, shared: Shared) -> None:
        super().__init__(shared.window)
        self.shared = shared
        self.tasks = TaskSet()
        self.stores = EngineObjects(shared.engines, shared.primary.key)
        self.images_page = ImagesPage(self.stores)
        self.volumes_page = VolumesPage(self.stores)
        self.networks_page = NetworksPage(self.stores)
        self.disk_page = DiskUsagePage(self.stores.state(shared.primary.key).calls)
        self.pages = (self.images_page, self.volumes_page, self.networks_page, self.disk_page)
        window = shared.window
        for (key, title), page in zip(PAGES, self.pages):
            window.add_page(key, title, key, page)
            page.set_engine_available(window.status.is_connected)
        self.stores.reachability_changed.connect(self._follow_engines)
        shared.engines.primary_changed.connect(self._on_engines_primary_changed)
        self._follow_engines()
        window.pages.currentChanged.connect(self._on_window_page_changed)
        self._usage_checked = time.monotonic()
        # The window may already be on one of them: it reopens on the page it was closed on, and
        # shows it the moment the page is added (above), before this wing could hear of it.
        if window.pages.currentWidget() in self.pages:
            self.stores.want()
        QApplication.instance().applicationStateChanged.connect(self._on_application_state)
        self.images_page.container_created.connect(self.container_created)
        if shared.primary.status.is_connected:  # made after the first resync: list now
            self.tasks.spawn(self.stores.on_resync())

    def _on_window_page_changed(self, index: int) -> None:
        if self.shared.window.pages.widget(index) in self.pages:
            self.stores.want()
            self.recheck_usage()

    def _on_application_state(self, state) -> None:
        if state == Qt.ApplicationState.ApplicationActive:
            self.recheck_usage()

    def recheck_usage(self) -> None:
        """The user comes back (to the window, or to an object page): re-read which containers use
        what. A network connected to a stopped container by the CLI sends no event, and this is
        the moment the user would look for it; the list is one call per engine, so at most every
        few seconds."""
        now = time.monotonic()
        if now - self._usage_checked < USAGE_RECHECK_INTERVAL:
            return
        self._usage_checked = now
        self.tasks.spawn(self.stores.recheck_usage())

    def _follow_engines(self) -> None:
        """Engine column and unreachable-engine notice of the object pages, Disk usage's engine list."""
        stores = self.stores
        selected = stores.selected
        missing = [k for k in stores.unreachable() if selected in (None, k)]
        for page in self.pages[:3]:
            page.set_multi_engine(stores.several and selected is None)
            page.show_unreachable(missing if stores.several else [])
        keys = sorted((s.key for s in self.shared.engines.sessions), key=lambda k: k != stores.primary)
        self.disk_page.set_engines(keys, lambda k: stores.state(k).calls)

    def _on_engines_primary_changed(self, session) -> None:
        self._follow_engines()  # the Disk page lists the new primary first
        if self.stores.selected is None and session is not None:
            self.disk_page.show_engine(session.key)  # under "All engines" it shows the primary

    def add_container_menu_entries(self, menu, containers) -> None:
        """Commit / export entries in the Containers page's context menu (one container)."""
        if len(containers) != 1:
            return
        c = containers[0]
        menu.addSeparator()
        engine = c.engine_id or None  # the container's own engine
        menu.addAction("Commit to image…").triggered.connect(
            lambda: self.images_page.commit_container(c.id, c.name, engine))
        menu.addAction("Export filesystem…").triggered.connect(
            lambda: self.images_page.export_container(c.id, c.name, engine))

    def show_engine(self, key: str | None) -> None:
        self.stores.selected = key
        for page in self.pages[:3]:
            page.set_engine(key)
        if key is not None:
            self.disk_page.show_engine(key)
        self._follow_engines()

    def set_engine_count(self, n: int) -> None:
        pass  # followed through the stores' reachability_changed

    async def aclose(self) -> None:
        QApplication.instance().applicationStateChanged.disconnect(self._on_application_state)
        self.shared.engines.primary_changed.disconnect(self._on_engines_primary_changed)
        await self.tasks.cancel_all()
        for page in self.pages:
            await page.tasks.cancel_all()
        await self.stores.aclose()
