"""The Swarm page: for a manager, tabs of nodes, services, stacks, secrets and configs (and a
service's own page); for a worker or a non-swarm engine, what it needs, with "Initialise a swarm"."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QPushButton, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from desktop.engine.endpoints import Endpoint
from desktop.engine.errors import EngineError
from desktop.engine.swarm_records import SwarmInfo
from desktop.engine.swarm_specs import parse_advertise_addr
from desktop.state.swarm import SwarmState
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.accessible_names import name_inner_controls
from desktop.ui.widgets.dialogs import confirm
from desktop.ui.widgets.form_dialog import Field, FormDialog
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.swarm.service_page import ServicePage
from desktop.ui.swarm.stacks_tab import StacksTab
from desktop.ui.swarm.tabs import NodesTab, SecretsTab, ServicesTab
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet


class ManagerView(QStackedWidget):
    """One manager's swarm: the tabs, and a service's page over them."""

    def __init__(self, state: SwarmState, endpoint: Callable[[], Endpoint], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("swarmManagerView")
        self.state = state
        self.tabs = QTabWidget()
        self.tabs.setObjectName("swarmTabs")
        self.nodes = NodesTab(state)
        self.services = ServicesTab(state)
        self.stacks = StacksTab(state, endpoint)
        self.secrets = SecretsTab(state, "secret")
        self.configs = SecretsTab(state, "config")
        for w, title in ((self.nodes, "Nodes"), (self.services, "Services"), (self.stacks, "Stacks"),
                         (self.secrets, "Secrets"), (self.configs, "Configs")):
            self.tabs.addTab(w, title)
        self.service_page = ServicePage(state)
        self.addWidget(self.tabs)
        self.addWidget(self.service_page)
        self.services.service_opened.connect(self.open_service)
        self.service_page.back_requested.connect(lambda: self.setCurrentWidget(self.tabs))

    def open_service(self, service) -> None:
        self.service_page.show_service(service)
        self.setCurrentWidget(self.service_page)

    async def aclose(self) -> None:
        self.nodes.release()
        self.services.release()
        await self.service_page.aclose()
        await self.stacks.aclose()
        for t in (self.nodes, self.services, self.secrets, self.configs):
            await t.tasks.cancel_all()


class ExplainView(QWidget):
    """What a worker or a non-swarm engine needs before it can show a swarm."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("swarmExplain")
        self.heading = QLabel()
        self.heading.setObjectName("swarmExplainHeading")
        set_sheet(self.heading, "font-size: 15pt; font-weight: 600;")
        self.text = plain_label()
        self.text.setObjectName("swarmExplainText")
        self.text.setWordWrap(True)
        self.init_button = QPushButton("Initialise a swarm…")
        self.init_button.setObjectName("initSwarmButton")
        self.message = MessageBar(self)
        lay = QVBoxLayout(self)
        lay.addWidget(self.heading)
        lay.addWidget(self.text)
        lay.addWidget(self.init_button)
        lay.addWidget(self.message)
        lay.addStretch(1)

    def show_info(self, info: SwarmInfo | None, engine: str) -> None:
        self.init_button.hide()
        if info is None:
            self.heading.setText("Swarm")
            self.text.setText(f"Reading {engine}'s swarm state…")
        elif info.is_worker:
            managers = ", ".join(a for a in info.manager_addrs if a) or "one of its managers"
            self.heading.setText("This engine is a swarm worker")
            self.text.setText(f"{engine} is a swarm worker; connect to a manager to manage the swarm "
                              f"(its managers: {managers}). Add that manager's engine with “+ Add engine”.")
        elif info.state in ("pending",):
            self.heading.setText("Joining a swarm")
            self.text.setText(f"{engine} is joining a swarm; this page follows once it has joined.")
        elif info.state == "locked":
            self.heading.setText("The swarm is locked")
            self.text.setText(f"{engine}'s swarm is locked after a restart: unlock it with "
                              "`docker swarm unlock` and its unlock key.")
        elif info.state == "error":
            self.heading.setText("Swarm error")
            self.text.setText(f"{engine}'s swarm reports an error: {info.error}")
        else:
            self.heading.setText("Not part of a swarm")
            self.text.setText(f"{engine} is not part of a swarm. Initialise one to make it the first manager "
                              "(other machines can then join it), or add an engine that is a swarm manager.")
            self.init_button.show()


class SwarmPage(QWidget):
    """The sidebar page: follows one engine (the switcher's, else the primary)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("swarmPage")
        self.tasks = TaskSet()
        self.caption = QLabel()
        self.caption.setObjectName("swarmEngineCaption")
        self.caption.hide()
        self.stack = QStackedWidget()
        self.explain = ExplainView()
        self.explain.init_button.clicked.connect(self._on_init_clicked)
        self.stack.addWidget(self.explain)
        self.views: dict[str, ManagerView] = {}
        self.engine: str | None = None
        self.state: SwarmState | None = None
        self._endpoint: Callable[[], Endpoint] | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.caption)
        lay.addWidget(self.stack, 1)

    @property
    def view(self) -> ManagerView | None:
        return self.views.get(self.engine) if self.engine else None

    @property
    def model(self):
        """The table on screen (a manager's current tab), for the screenshot's row count."""
        view = self.view
        if view is None or not self.state or not self.state.is_manager:
            return None
        return getattr(view.tabs.currentWidget(), "model", None)

    @property
    def ready(self) -> bool:
        """The page shows what it will show (a screenshot waits for this)."""
        st = self.state
        if st is None or st.info is None:
            return False
        if not st.is_manager:
            return True
        return all(s.loaded for s in st.stores) and (not st.tasks.watched or st.tasks.loaded)

    def show_engine(self, key: str, state: SwarmState, endpoint: Callable[[], Endpoint], caption: str = "") -> None:
        if self.state is not None and self.state is not state:
            self.state.info_changed.disconnect(self._on_info_changed)
        if self.state is not state:
            state.info_changed.connect(self._on_info_changed)
        self.engine, self.state, self._endpoint = key, state, endpoint
        self.caption.setText(caption)
        self.caption.setVisible(bool(caption))
        if self.isVisible():
            state.want()
        self._render()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.state is not None:
            self.state.want()

    def _on_info_changed(self, _info) -> None:
        self._render()

    def _render(self) -> None:
        st = self.state
        if st is None:
            return
        if st.is_manager:
            view = self.views.get(self.engine)
            if view is None:
                view = self.views[self.engine] = ManagerView(st, self._endpoint)
                self.stack.addWidget(view)
                name_inner_controls(view)  # made after the window named the page's own
            self.stack.setCurrentWidget(view)
        else:
            self.explain.show_info(st.info, self.engine or "This engine")
            self.stack.setCurrentWidget(self.explain)

    # -- initialise a swarm ---------------------------------------------------------------------
    def _on_init_clicked(self) -> None:
        st = self.state
        if st is None:
            return
        fields = [Field("addr", "Advertise address", placeholder="192.168.1.10",
                        help="The address other machines reach this engine at (an IP, IP:port or an interface name)")]

        async def submit(values: dict):
            from desktop.engine.run_request import FormErrors
            from desktop.engine.specs import SpecError

            try:
                addr = parse_advertise_addr(str(values.get("addr") or ""))
            except SpecError as err:
                raise FormErrors({"addr": str(err)}) from None
            return addr

        dlg = FormDialog(self, "Initialise a swarm", fields, "Continue", submit, object_name="initSwarmDialog")
        dlg.live_check("addr", parse_advertise_addr)
        self.init_dialog = dlg
        self.tasks.spawn(self._init(st, dlg))

    async def _init(self, st: SwarmState, dlg) -> None:
        addr = await dlg.ask()
        if not addr:
            return
        ok, _ = await confirm(self, "Initialise a swarm",
                              f"Make {self.engine} the first manager of a new swarm, advertised at {addr}?",
                              "Initialise", destructive=False,
                              details="It listens for other nodes on port 2377; leaving the swarm later removes "
                                      "its services.")
        if not ok:
            return
        try:
            await st.swarm.init(addr)
            await st.refresh_info()
        except EngineError as err:
            self.explain.message.show_error(str(err))

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
        for v in self.views.values():
            await v.aclose()
