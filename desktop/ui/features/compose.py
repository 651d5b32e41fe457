"""The Compose page: projects of every engine (from labels and opened files), each run against its
own engine. `page.run_started(project, verb)` announces Compose runs."""

from __future__ import annotations

from desktop.state.compose_projects import ComposeProjects
from desktop.ui.compose.compose_page import ComposePage
from desktop.ui.features.wing import Shared


class ComposeWing:
    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        engines, settings = shared.engines, shared.settings
        self.projects = ComposeProjects(shared.containers, default_engine=lambda: (engines.primary or shared.primary).key,
                                        is_local=self._engine_is_local)
        self.page = ComposePage(shared.primary.client, self.projects,
                                confirm_destructive=lambda: settings.current.confirm_destructive,
                                client_of=engines.client_for_key)
        shared.window.add_page("compose", "Compose", "compose", self.page)
        self.page.set_engine_available(shared.window.status.is_connected)

    def _engine_is_local(self, key: str) -> bool:
        """The engine shares this machine's files (a UNIX socket or named pipe, not ssh/tcp)."""
        engines = self.shared.engines
        session = engines.get(key) if key else (engines.primary or self.shared.primary)  # (Make primary moves it)
        if session is None:
            return False
        ep = session.client.endpoint or session.endpoints[0]
        return ep.host.startswith(("unix://", "npipe://"))

    def open_compose_file(self) -> None:
        self.shared.window.show_page("compose")
        self.page.choose_compose_file()

    def show_engine(self, key: str | None) -> None:
        self.projects.set_engine(key)

    def set_engine_count(self, n: int) -> None:
        self.page.set_multi_engine(n > 1)

    async def aclose(self) -> None:
        await self.page.aclose()
