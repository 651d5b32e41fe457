"""The seeing-inside wing: a Debug tab (a shell beside any container, even one without a shell)
and "Debug…" in the Containers page's menu; a Changes tab (the filesystem diff); the Logs page
(merged logs of any set of containers, across engines); a Compose project's Graph tab; debug leftovers of a dead app removed whenever an
engine (re)connects."""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer

from desktop.engine.debug_helper import clean_leftovers
from desktop.engine.errors import EngineError
from desktop.ui.async_tasks import TaskSet

log = logging.getLogger(__name__)

class InsideWing:
    """`show_engine(key|None)`, `set_engine_count(n)`, `aclose()`, as every wing."""

    def __init__(self, shared, containers, details, compose=None) -> None:
        """`containers`: the Containers wing, whose page's menu gets "Debug…"; `compose`: the
        Compose wing, whose page gets a Graph view of the selected project."""
        from desktop.ui.inside.logs_page import LogsPage

        window, engines, settings = shared.window, shared.engines, shared.settings
        containers_page, containers = containers.page, shared.containers

        self.window, self.engines, self.details, self.settings = window, engines, details, settings
        self.tasks = TaskSet()
        # every engine's containers, each reached through its own engine
        self.logs_page = LogsPage(containers, engines.client_for, engines.label_for, lambda: len(engines.sessions))
        window.add_page("logs", "Logs", "search", self.logs_page)
        self._followed: set[str] = set()
        details.tab_providers.append(self._add_tabs)
        details.project_tab_providers.append(self._add_project_tabs)
        self.containers = containers
        containers_page.context_menu_extenders.append(self._extend_menu)
        self.compose = compose
        self.compose_graph = None
        if compose is not None:
            self._add_compose_graph(compose.page)
        for session in engines.sessions:
            self._follow(session)
        engines.added.connect(self._follow)

    def _follow(self, session) -> None:
        if session.key in self._followed:
            return
        self._followed.add(session.key)

        async def clean() -> None:
            try:
                await clean_leftovers(session.client)
            except EngineError as exc:
                # Best effort: the engine went away meanwhile, and the next resync cleans up.
                log.debug("debug leftovers on %s not cleaned yet: %s", session.key, exc)

        session.sync.add_resync_hook(clean)
        if session.status.is_connected:  # made after the first resync: clean now
            self.tasks.spawn(clean())

    def _add_tabs(self, page, c) -> None:
        from desktop.ui.inside.debug_tab import DebugTab

        from desktop.ui.inside.changes_tab import ChangesTab

        page.add_tab("Debug", DebugTab(page.client, c, self.settings))
        page.add_tab("Changes", ChangesTab(page.client, c))

    def compose_files(self, engine_id: str, project: str) -> tuple[str, ...]:
        """A project's Compose files when they are regular files readable here (as last read)."""
        if self.compose is None:
            return ()
        p = self.compose.projects.get(f"{engine_id}|{project}" if engine_id else project)
        return p.config_files if p is not None and p.files_present else ()

    def _add_compose_graph(self, compose_page) -> None:
        from desktop.ui.inside.compose_graph import ComposeGraphTab

        graph = self.compose_graph = ComposeGraphTab(self.engines.client_for, self.containers, None, None,
                                                     files_for=self.compose_files)
        graph.service_clicked.connect(lambda c: QTimer.singleShot(0, lambda: self.details.open_container(c)))
        compose_page.add_view("Graph", graph)
        compose_page.project_shown.connect(
            lambda p: graph.show_project(p.engine if p is not None else None, p.name if p is not None else None))

        def on_view_changed(_i: int) -> None:
            if compose_page.views.currentWidget() is graph:
                graph.activate()
            else:
                graph.deactivate()

        compose_page.views.currentChanged.connect(on_view_changed)

    def _add_project_tabs(self, page, project: str, members) -> None:
        from desktop.ui.inside.compose_graph import ComposeGraphTab

        graph = ComposeGraphTab(self.engines.client_for, self.containers, members[0].engine_id, project,
                                files_for=self.compose_files)
        # after the click's own event: opening the container closes (and deletes) this page
        graph.service_clicked.connect(lambda c: QTimer.singleShot(0, lambda: self.details.open_container(c)))
        page.add_tab("Graph", graph)

    def _extend_menu(self, menu, containers) -> None:
        if len(containers) == 1:
            c = containers[0]
            menu.addAction("Debug…").triggered.connect(lambda _=False, c=c: self.debug(c))

    def debug(self, c):
        """Open the container's page on its Debug tab and start the shell."""
        page = self.details.open_container(c)
        page.show_tab("Debug").request_start()
        return page

    def show_engine(self, key: str | None) -> None:
        # The tabs belong to containers, which carry their engine; the Logs page follows the switcher.
        session = self.engines.get(key) if key else None
        self.logs_page.set_engine(session.engine_id if session is not None else None)

    def set_engine_count(self, n: int) -> None:
        pass

    async def aclose(self) -> None:
        if self.compose_graph is not None:
            await self.compose_graph.aclose()
        await self.logs_page.aclose()
        await self.tasks.cancel_all()
