"""The Containers feature: the table of every engine's containers (their detail pages: details.py)."""

from __future__ import annotations

from desktop.ui.containers.containers_page import ContainersPage
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
        self.page.show_engine(key)

    def set_engine_count(self, n: int) -> None:
        self.page.set_multi_engine(n > 1)

    async def aclose(self) -> None:
        self.page.model.detach()
        self.page.tally.detach()
        await self.page.tasks.cancel_all()
