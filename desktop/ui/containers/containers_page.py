"""The Containers page: filterable tree of containers grouped by Compose project, one-click actions."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QMenu, QToolButton, QTreeView, QVBoxLayout, QWidget)

from desktop.engine.client import EngineClient
from desktop.engine.records import Container
from desktop.presentation.containers import is_debug_helper
from desktop.state.container_counts import StateTally
from desktop.state.containers import ContainerStore
from desktop.ui.async_tasks import TaskSet
from desktop.ui.containers.container_actions import ContainerActions, resolve
from desktop.ui.containers.container_delegates import ActionsDelegate, PortsDelegate, StateDelegate
from desktop.presentation.container_columns import (COL_ACTIONS, COL_CREATED, COL_ENGINE, COL_IMAGE, COL_NAME, COL_PORTS,
                                                    COL_STATE)
from desktop.ui.containers.container_model import ContainerRole, ContainerTreeModel, KindRole, containers_at
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.resources import icon
from desktop.ui.widgets.palette_sheet import set_sheet

# (action, label, shortcut, tooltip)
BULK_ACTIONS = (
    ("start", "Start", None, "Start the selected containers"),
    ("stop", "Stop", None, "Stop the selected containers"),
    ("toggle", "Start/stop", "Space", "Start or stop the selected containers (Space)"),
    ("restart", "Restart", "Ctrl+R", "Restart the selected containers (Ctrl+R)"),
    ("pause_toggle", "Pause/resume", "P", "Pause or resume the selected containers (P)"),
    ("kill", "Kill", "Ctrl+Shift+K", "Kill the selected containers with SIGKILL (Ctrl+Shift+K)"),
    ("delete", "Remove", "Delete", "Remove the selected containers (Delete)"),
)
# In menus (the Container menu, the context menu): the & letter opens the entry from the keyboard.
MENU_LABELS = {"start": "&Start", "stop": "S&top", "toggle": "Start/stop", "restart": "&Restart",
               "pause_toggle": "&Pause/resume", "kill": "&Kill", "delete": "Remo&ve"}
TOOLBAR_ICONS = {"start": "start", "stop": "stop", "restart": "restart", "pause_toggle": "pause",
                 "kill": "kill", "delete": "delete"}


def python_made_viewport() -> QWidget:
    """A viewport like the one Qt makes for a scroll area, but made here: the first time PySide
    wraps a QWidget that C++ made, it works out its most derived class by creating all 68 of
    QtWidgets' widget classes and their Python enums (15-45 ms), and the table's viewport was the
    first such widget on the way to the first paint."""
    w = QWidget()
    w.setObjectName("qt_scrollarea_viewport")
    w.setBackgroundRole(QPalette.ColorRole.Base)
    w.setAutoFillBackground(True)
    return w


class ContainersPage(QWidget):
    """Sidebar page `containers`."""

    container_activated = Signal(object)  # Container: open its detail page
    port_link_activated = Signal(str)  # URL opened in the browser
    action_started = Signal(str, object)  # concrete action ("stop", ...), the containers it acts on

    def __init__(self, client: "EngineClient | Callable[[Container], EngineClient]", store: ContainerStore,
                 parent=None, engine_label: Callable[[str], str] | None = None,
                 owner_of: Callable[[str], str | None] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("containersPage")
        # One engine (a client) or several (a function from container to its engine's client).
        self.client_for = (lambda c: client) if isinstance(client, EngineClient) else client
        self.store = store
        self.tasks = TaskSet()
        self._engine_available = False

        # The model filters and sorts itself (no proxy: see container_model.py).
        self.model = ContainerTreeModel(store, self, engine_label, owner_of)

        title = QLabel("Containers")
        title.setObjectName("pageTitle")
        set_sheet(title, "font-size: 16pt; font-weight: 600;")
        self.search = QLineEdit()
        self.search.setObjectName("containerSearch")
        self.search.setPlaceholderText("Search by name, image, ID, label or project (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search containers")
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.running_only = QCheckBox("Running only")
        self.running_only.setObjectName("runningOnly")
        self.running_only.setToolTip("Show only running, paused and restarting containers")
        self.running_only.setAccessibleName("Show running containers only")
        self.running_only.toggled.connect(self._on_running_only_toggled)
        self.model.filter_applied.connect(self._on_model_reset)
        self.count_label = QLabel()
        self.count_label.setObjectName("containerCount")

        self.message = MessageBar(self)
        self.message.setObjectName("pageMessage")

        self.view = QTreeView()
        self.view.setViewport(python_made_viewport())
        self.view.setObjectName("containersTable")
        self.view.setAccessibleName("Containers")
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.header().setSortIndicatorShown(True)
        self.view.header().setSectionsClickable(True)
        self.view.header().setSortIndicator(COL_NAME, Qt.SortOrder.AscendingOrder)
        self.view.header().sortIndicatorChanged.connect(self.model.sort)
        self.view.setAlternatingRowColors(True)
        self.view.setMouseTracking(True)
        self.view.setExpandsOnDoubleClick(False)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)
        self.view.activated.connect(self._on_view_activated)
        self.view.doubleClicked.connect(self._on_view_activated)
        self.state_delegate = StateDelegate(self.view)
        self.ports_delegate = PortsDelegate(self._open_url, self.view)
        self.actions_delegate = ActionsDelegate(self._on_row_action, self.view)
        # Names (and images) cut in the middle: both ends say something (a replica's number is
        # at the end, an image's tag too). Set on the view, not by a delegate of the column: a
        # Python delegate costs each visible row a call and a copy of its style option.
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setItemDelegateForColumn(COL_STATE, self.state_delegate)
        self.view.setItemDelegateForColumn(COL_PORTS, self.ports_delegate)
        self.view.setItemDelegateForColumn(COL_ACTIONS, self.actions_delegate)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_IMAGE, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(COL_NAME, 200)
        header.resizeSection(COL_ENGINE, 100)
        self.view.setColumnHidden(COL_ENGINE, True)  # shown when several engines are followed
        header.resizeSection(COL_STATE, 140)
        header.resizeSection(COL_PORTS, 120)
        header.resizeSection(COL_CREATED, 105)
        from desktop.presentation.container_columns import STATS_COLUMNS

        for col, width in zip(STATS_COLUMNS, (64, 84)):  # CPU %, Memory: short numbers
            header.resizeSection(col, width)
        header.resizeSection(COL_ACTIONS, self.actions_delegate.sizeHint(None, None).width() + 8)
        header.setSectionResizeMode(COL_ACTIONS, QHeaderView.ResizeMode.Fixed)
        self.model.rowsInserted.connect(self._on_model_rows_inserted)
        self.model.modelReset.connect(self._on_model_reset)
        self.model.rowsRemoved.connect(self._update_count)
        # The count follows the store in the same call as the rows (state changes included).
        self.tally = StateTally(store, self._update_count, counts=lambda c: not is_debug_helper(c))
        self.model.layoutChanged.connect(self._update_count)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._selected_ids: set[str] = set()

        self.actions = ContainerActions(self.client_for, self, self._report, self.model.set_pending,
                                        self.action_started.emit)
        self.bulk_buttons: dict[str, QToolButton] = {}
        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.running_only)
        for action, label, shortcut, tip in BULK_ACTIONS:
            if action in ("start", "stop"):
                continue  # the row buttons and Space cover these; the toolbar stays short
            b = QToolButton()
            b.setObjectName(f"bulk_{action}")
            b.setIcon(icon(TOOLBAR_ICONS.get(action, "start")))
            b.setToolTip(tip)
            b.setAccessibleName(label)
            b.setAutoRaise(True)
            b.clicked.connect(lambda _=False, a=action: self.trigger(a))
            self.bulk_buttons[action] = b
            if action != "toggle":
                bar.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)
        # Tab goes from the search box straight to the rows it filtered, then to the other controls.
        chain = [self.search, self.view, self.running_only, *(b for a, b in self.bulk_buttons.items() if a != "toggle")]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)
        self.view.installEventFilter(self)

        self.context_menu_extenders: list = []  # callables(menu, containers) adding entries (other features)
        self.context_actions: dict[str, QAction] = {}
        for action, label, shortcut, tip in BULK_ACTIONS:
            a = QAction(MENU_LABELS[action], self)
            a.setObjectName(f"action_{action}")
            a.setToolTip(tip)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
                a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.view.addAction(a)
            a.triggered.connect(lambda _=False, act=action: self.trigger(act))
            self.context_actions[action] = a
        # "5 minutes ago" ages by itself: repaint the visible cells now and then (no engine call).
        self._age_timer = QTimer(self)
        self._age_timer.setInterval(30_000)
        self._age_timer.timeout.connect(self.view.viewport().update)
        self._age_timer.start()
        store.upserted.connect(self._on_store_upserted)  # a selected container's state decides its actions
        self._update_buttons()
        self._update_count()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        # Reached by the keyboard, the table selects the row it highlights: the actions (menu,
        # Delete, Space) act on the selection, and a highlighted row that is not selected would
        # leave them all off.
        if (obj is self.view and event.type() == QEvent.Type.FocusIn
                and event.reason() != Qt.FocusReason.MouseFocusReason
                and not self.view.selectionModel().hasSelection()):
            current = self.view.currentIndex()
            if not current.isValid():
                current = self.model.index(0, 0)
            if current.isValid():
                self.view.setCurrentIndex(current.siblingAtColumn(0))
        return False

    # -- helpers -----------------------------------------------------------------------------------
    def _open_url(self, url: str) -> None:
        self.port_link_activated.emit(url)
        QDesktopServices.openUrl(QUrl(url))

    def _report(self, text: str, is_error: bool) -> None:
        if is_error:
            self.message.show_error(text)
        else:
            self.message.show_info(text)

    def activate(self, c: Container) -> None:
        """Open a container as Enter on its row would (its detail page)."""
        self.container_activated.emit(c)

    def selected_containers(self) -> list[Container]:
        return containers_at(self.view.selectionModel().selectedRows(0))

    def row_index_of(self, cid: str, column: int = 0) -> QModelIndex:
        """A container's row in the table (invalid: not shown, e.g. filtered out)."""
        return self.model.index_of(cid, column)

    proxy_index_of = row_index_of  # the name from when a filter proxy stood between model and view

    def show_engine(self, key: str | None) -> None:
        """Show one engine's containers (its session key; None: all engines)."""
        self.model.set_filter(engine_key=key)

    def trigger(self, action: str, containers: list[Container] | None = None):
        """Run an action on the given containers (default: the selection)."""
        if not self._engine_available:
            self.message.show_error("The engine is not connected; actions are unavailable until it is back.")
            return None
        cs = self.selected_containers() if containers is None else containers
        if not cs:
            return None
        return self.tasks.spawn(self.actions.run(action, cs))

    def set_multi_engine(self, several: bool) -> None:
        """Tag every row with its engine when more than one engine is followed."""
        self.view.setColumnHidden(COL_ENGINE, not several)

    def set_engine_available(self, available: bool) -> None:
        self._engine_available = available
        self.actions_delegate.enabled = available
        self._update_buttons()
        self._update_count()
        self.view.viewport().update()

    # -- slots -------------------------------------------------------------------------------------
    def _on_search_text_changed(self, text: str) -> None:
        self.model.set_filter(text=text)

    def _on_running_only_toggled(self, on: bool) -> None:
        self.model.set_filter(running_only=on)

    def _on_row_action(self, action: str, index: QModelIndex) -> None:
        self.trigger(action, containers_at([index]))

    def _on_view_activated(self, index: QModelIndex) -> None:
        idx = index.siblingAtColumn(0)
        c = idx.data(ContainerRole)
        if c is not None:
            self.container_activated.emit(c)
        elif idx.data(KindRole) == "service":  # (a project opens its page; a service just its replicas)
            self.view.setExpanded(idx, not self.view.isExpanded(idx))

    def _on_view_context_menu(self, pos) -> None:
        idx = self.view.indexAt(pos)
        if not idx.isValid():
            return
        if not self.view.selectionModel().isRowSelected(idx.row(), idx.parent()):
            self.view.setCurrentIndex(idx)
        menu = QMenu(self)
        menu.setObjectName("containerContextMenu")
        cs = self.selected_containers()
        for action in ("start", "stop", "restart", "pause_toggle", "kill", "delete"):
            menu.addAction(self.context_actions[action])
        menu.addSeparator()
        if len(cs) == 1:
            c = cs[0]
            copy = menu.addAction("Copy ID")
            copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(c.id))
            for p in c.published_ports:
                if p.protocol == "tcp":
                    url = f"http://localhost:{p.public_port}"
                    menu.addAction(f"Open {url}").triggered.connect(lambda _=False, u=url: self._open_url(u))
        for extend in self.context_menu_extenders:
            extend(menu, cs)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _on_model_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            top = self.model.tree.top
            for r in range(first, last + 1):  # only projects have children to show
                if not isinstance(top[r], str):
                    self._expand_group(self.model.index(r, 0))
        else:
            if self.model.node_at(parent) is not None:  # a new service: open it like its siblings
                for r in range(first, last + 1):
                    self.view.expand(self.model.index(r, 0, parent))
            self.view.expand(parent)
            if parent.parent().isValid():
                self.view.expand(parent.parent())
        self._update_count()

    def _expand_group(self, project: QModelIndex) -> None:
        """A project row and its services, opened (their containers on screen)."""
        self.view.expand(project)
        for r in range(self.model.rowCount(project)):
            self.view.expand(self.model.index(r, 0, project))

    def _on_model_reset(self) -> None:
        self._expand_projects()
        self._update_count()
        # One paint per reset, not three: laid out at once (not on the view's delayed-layout
        # timer), the scroll bar a long list needs is there before the first paint, and the
        # repaint Qt schedules when that bar narrows the stretched Image column (a timer of the
        # view's own) falls while the viewport's updates are off; turning them on again after
        # that timer paints every row once.
        viewport = self.view.viewport()
        if not viewport.updatesEnabled():
            self.view.doItemsLayout()
            return
        viewport.setUpdatesEnabled(False)
        self.view.doItemsLayout()
        # The bar's arrival is a posted layout request: handled now, the viewport narrows and the
        # column's repaint timer starts here, before the timer below (which then fires after it).
        QCoreApplication.sendPostedEvents(self.view, QEvent.Type.LayoutRequest)
        QTimer.singleShot(0, viewport, lambda: viewport.setUpdatesEnabled(True))

    def _expand_projects(self) -> None:
        # Only projects and services have children: expandAll() would visit all 1,000 rows through Python.
        for idx in self.model.project_indexes():
            self.view.expand(idx)

    def _on_store_upserted(self, items) -> None:
        if self._selected_ids and any(c.id in self._selected_ids for c in items):
            self._update_buttons()

    def _update_buttons(self, *args) -> None:
        has = bool(self.view.selectionModel().hasSelection())
        for b in self.bulk_buttons.values():
            b.setEnabled(has and self._engine_available)
        # An action is offered only when it applies to some of the selection in its state.
        cs = self.selected_containers() if has else []
        self._selected_ids = {c.id for c in cs}
        for action, a in getattr(self, "context_actions", {}).items():
            a.setEnabled(self._engine_available and bool(resolve(action, cs)[1]))

    def _update_count(self, *args) -> None:
        tally = getattr(self, "tally", None)
        if tally is None:
            return  # still being built
        text = f"{tally.total} containers, {tally.running} running"
        if not self._engine_available and tally.total:
            text += " (last known: the engine is not connected)"
        self.count_label.setText(text)
