"""The Containers feature: the table of every engine's containers, and their detail pages."""

from __future__ import annotations

from desktop.engine.records import Container
from desktop.ui.containers.containers_page import ContainersPage
from desktop.ui.containers.detail.host import ContainerDetailHost
from desktop.ui.features.wing import Shared


class ContainersWing:
    """The Containers page (made first: the window opens on it). `page.action_started` announces
    container actions the user confirmed; `add_menu_entries` lets other features extend the menu."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        merged = shared.containers
        self.page = ContainersPage(shared.engines.client_for, merged, engine_label=shared.engines.label_for,
                                   owner_of=merged.owner)
        shared.window.add_page("containers", "Containers", "containers", self.page)
        self.page.set_engine_available(shared.status.is_connected)

    def add_menu_entries(self, extend) -> None:
        """`extend(menu, containers)` adds entries to the table's context menu."""
        self.page.context_menu_extenders.append(extend)

    def show_engine(self, key: str | None) -> None:
        self.page.proxy.set_engine(key)

    def set_engine_count(self, n: int) -> None:
        self.page.set_multi_engine(n > 1)

    async def aclose(self) -> None:
        self.page.model.detach()
        self.page.tally.detach()
        await self.page.tasks.cancel_all()


class ContainerDetailsWing(ContainerDetailHost):
    """A container's (or a Compose project's) page, opened from the table; other features add
    tabs with `tab_providers`. `reveal(cid)` brings a container up from elsewhere (a notification,
    a Run), opening its page once the table has its row."""

    def __init__(self, shared: Shared, containers: ContainersWing) -> None:
        super().__init__(shared.window, shared.engines.client_for, shared.containers, containers.page)
        self.shared = shared

    def open_logs(self, cid: str) -> None:
        """The container's page (its logs first), if the container is still known."""
        self.shared.window.show_page("containers")
        c = self.shared.containers.get(cid)
        if c is not None:
            self.containers_page.activate(c)

    def reveal(self, cid: str) -> None:
        """Show the Containers page with `cid` selected and its detail page open (now, or when the
        store learns of the container from its event a moment later)."""
        window, page, merged = self.shared.window, self.containers_page, self.shared.containers
        window.show_page("containers")

        def shown() -> bool:
            idx = page.proxy_index_of(cid)
            c: Container | None = merged.get(cid)
            if not idx.isValid() or c is None:
                return False
            page.view.setCurrentIndex(idx)
            page.view.scrollTo(idx)
            self.open_container(c)
            return True

        if shown():
            return

        def on_upserted(items) -> None:
            if any(c.id == cid for c in items) and shown():
                merged.upserted.disconnect(on_upserted)

        merged.upserted.connect(on_upserted)

    def show_engine(self, key: str | None) -> None:
        pass  # a detail page belongs to its container's engine, whatever the switcher shows

    def set_engine_count(self, n: int) -> None:
        pass
