"""Container details: a container's (or a Compose project's) page, opened from the table, with
the tabs other features add. Made after the first paint: its pages import the log and terminal
machinery (numpy, pyte), which the window need not wait for."""

from __future__ import annotations

from desktop.engine.records import Container
from desktop.ui.containers.detail.host import ContainerDetailHost
from desktop.ui.features.containers import ContainersWing
from desktop.ui.features.wing import Shared


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
