"""A container's detail page (Logs, Terminal, Inspect, Files), or a Compose project's merged logs.

Other features add tabs with `add_tab(title, widget)`; a tab widget may define `activate()`
(called the first time it is shown), `set_container_state(state)` and `async aclose()`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QTabWidget, QToolButton, QVBoxLayout, QWidget

from desktop.engine.client import EngineClient
from desktop.engine.records import Container
from desktop.state.containers import ContainerStore
from desktop.ui.async_tasks import TaskSet
from desktop.ui.containers.detail.logs_tab import LogsTab
from desktop.ui.widgets.accessible_names import name_inner_controls
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet


class ContainerDetailPage(QWidget):
    back_requested = Signal()

    def __init__(self, client: EngineClient, store: ContainerStore, *, container: Container | None = None,
                 project: str | None = None, members: list[Container] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("containerDetailPage")
        self.client, self.store = client, store
        self.container = container
        self.project = project
        self.members = sorted(members or [], key=lambda c: (c.compose_service or c.name))
        self.tasks = TaskSet()
        self._activated: set[int] = set()
        self._tab_widgets: list[QWidget] = []  # Python refs: aclose works even after Qt deleted the page

        back = QToolButton()
        back.setObjectName("detailBack")
        back.setText("← Containers")
        back.setToolTip("Back to the containers list (Alt+Left)")
        back.setAutoRaise(True)
        back.clicked.connect(self.back_requested)
        back.setShortcut("Alt+Left")  # not Esc: vi in the Terminal tab needs it
        self.title = plain_label()
        self.title.setObjectName("detailTitle")
        set_sheet(self.title, "font-size: 15pt; font-weight: 600;")
        self.subtitle = plain_label()
        self.subtitle.setObjectName("detailSubtitle")
        set_sheet(self.subtitle, "color: #5f6673;")
        head = QHBoxLayout()
        head.addWidget(back)
        head.addSpacing(6)
        head.addWidget(self.title)
        head.addSpacing(10)
        head.addWidget(self.subtitle, 1)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("detailTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.tabs, 1)

        if container is not None:
            self.title.setText(container.name)
            self.logs = LogsTab(client, [(container.id, container.name)])
            self.add_tab("Logs", self.logs)
            self._add_container_tabs(container)
        else:
            self.title.setText(project or "")
            self.logs = LogsTab(client, [(c.id, c.compose_service or c.name) for c in self.members], merged=True)
            self.add_tab("Logs", self.logs)
        self._show_state()
        store.upserted.connect(self._on_store_upserted)
        store.removed.connect(self._on_store_removed)

    def _add_container_tabs(self, c: Container) -> None:
        from desktop.ui.containers.detail.files_tab import FilesTab
        from desktop.ui.containers.detail.inspect_tab import InspectTab
        from desktop.ui.containers.detail.terminal_tab import TerminalTab

        self.terminal = TerminalTab(self.client, c)
        self.add_tab("Terminal", self.terminal)
        self.inspect = InspectTab(self.client, c)
        self.add_tab("Inspect", self.inspect)
        self.files = FilesTab(self.client, c)
        self.add_tab("Files", self.files)

    def add_tab(self, title: str, widget: QWidget) -> int:
        """Add a tab (e.g. Stats); returns its index."""
        i = self.tabs.addTab(widget, title)
        self._tab_widgets.append(widget)
        if self.tabs.count() == 1:
            self._on_tabs_current_changed(0)
        return i

    def tab(self, title: str) -> QWidget | None:
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                return self.tabs.widget(i)
        return None

    def show_tab(self, title: str) -> QWidget | None:
        w = self.tab(title)
        if w is not None:
            self.tabs.setCurrentWidget(w)
        return w

    def start(self) -> None:
        self.logs.start()

    def _on_tabs_current_changed(self, index: int) -> None:
        w = self.tabs.widget(index)
        if w is None or id(w) in self._activated:
            return
        self._activated.add(id(w))
        if hasattr(w, "activate"):
            w.activate()
        name_inner_controls(w)  # a tab builds some of its controls when first shown

    def _states(self) -> list[Container]:
        ids = [self.container.id] if self.container else [c.id for c in self.members]
        return [c for c in (self.store.get(i) for i in ids) if c is not None]

    def _show_state(self) -> None:
        cs = self._states()
        if self.container is not None:
            c = cs[0] if cs else self.container
            self.subtitle.setText(f"{c.image} · {c.short_id} · {c.status or c.state}")
        else:
            running = sum(1 for c in cs if c.state == "running")
            self.subtitle.setText(f"Compose project · {len(self.members)} containers, {running} running · merged logs")

    def _on_store_upserted(self, changed: list[Container]) -> None:
        mine = {c.id for c in ([self.container] if self.container else self.members)}
        hits = [c for c in changed if c.id in mine]
        if not hits:
            return
        self._show_state()
        if any(c.state == "running" for c in hits):
            self.logs.resume()
        for w in self._tab_widgets:
            if hasattr(w, "set_container_state"):
                for c in hits:
                    w.set_container_state(c.state)

    def _on_store_removed(self, ids: list[str]) -> None:
        if self.container is not None and self.container.id in ids:
            self.subtitle.setText(f"{self.container.image} · {self.container.short_id} · removed: what is shown "
                                  "here is what it had")

    async def aclose(self) -> None:
        for signal, slot in ((self.store.upserted, self._on_store_upserted), (self.store.removed, self._on_store_removed)):
            try:
                signal.disconnect(slot)
            except ValueError:
                pass
        for w in self._tab_widgets:
            if hasattr(w, "aclose"):
                await w.aclose()
        await self.tasks.cancel_all()
