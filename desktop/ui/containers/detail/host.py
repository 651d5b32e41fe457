"""Opens detail pages in the main window's page stack and closes them (stopping their streams)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication

from desktop.engine.client import EngineClient
from desktop.engine.records import Container
from desktop.state.containers import ContainerStore
from desktop.ui.async_tasks import TaskSet
from desktop.ui.containers.detail.detail_page import ContainerDetailPage
from desktop.ui.containers.container_model import KindRole, MembersRole


class ContainerDetailHost:
    """One detail page at a time, shown in place of the containers list."""

    def __init__(self, window, client: "EngineClient | Callable[[Container], EngineClient]", store: ContainerStore,
                 containers_page) -> None:
        # One engine (a client) or several (container → its engine's client).
        self.client_for = (lambda c: client) if isinstance(client, EngineClient) else client
        self.window, self.store, self.containers_page = window, store, containers_page
        # Other features add tabs to a container's page: callables (page, container) -> None.
        self.tab_providers: list[Callable[[ContainerDetailPage, Container], None]] = []
        # ... and to a Compose project's page: callables (page, project name, members) -> None.
        self.project_tab_providers: list[Callable[[ContainerDetailPage, str, list[Container]], None]] = []
        self.page: ContainerDetailPage | None = None
        self.tasks = TaskSet()
        containers_page.container_activated.connect(self.open_container)
        containers_page.view.activated.connect(self._on_view_activated)
        containers_page.view.doubleClicked.connect(self._on_view_activated)
        window.sidebar.currentRowChanged.connect(lambda _: self.close())

    def _on_view_activated(self, index: QModelIndex) -> None:
        idx = index.siblingAtColumn(0)
        if idx.data(KindRole) == "project":
            members = idx.data(MembersRole) or []
            if members:
                self.open_project(members[0].compose_project, list(members))

    def _show(self, page: ContainerDetailPage) -> ContainerDetailPage:
        self.close()
        self.page = page
        page.back_requested.connect(self.close)
        self.window.pages.addWidget(page)
        self.window.pages.setCurrentWidget(page)
        # Keyboard users land on the page they opened (its tabs), not wherever Qt moves the focus
        # away from the hidden table.
        page.tabs.tabBar().setFocus(Qt.FocusReason.OtherFocusReason)
        page.start()
        return page

    def open_container(self, c: Container) -> ContainerDetailPage:
        page = ContainerDetailPage(self.client_for(c), self.store, container=c)
        for provide in self.tab_providers:
            provide(page, c)
        return self._show(page)

    def open_project(self, name: str, members: list[Container]) -> ContainerDetailPage:
        page = ContainerDetailPage(self.client_for(members[0]), self.store, project=name, members=members)
        for provide in self.project_tab_providers:
            provide(page, name, members)
        return self._show(page)

    def close(self) -> None:
        page, self.page = self.page, None
        if page is None:
            return
        if self.window.pages.currentWidget() is page:
            had_focus = page.isAncestorOf(QApplication.focusWidget())
            self.window.pages.setCurrentWidget(self.containers_page)
            if had_focus:  # back to the row it was opened from
                self.containers_page.view.setFocus(Qt.FocusReason.OtherFocusReason)
        self.window.pages.removeWidget(page)
        page.hide()

        async def finish() -> None:
            await page.aclose()
            page.deleteLater()

        self.tasks.spawn(finish())

    async def aclose(self) -> None:
        page, self.page = self.page, None
        if page is not None:
            await page.aclose()
        await self.tasks.cancel_all()
