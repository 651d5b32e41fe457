"""The common frame of the object pages: title, search, toolbar, table, message bar, count."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu, QPushButton,
                               QTableView, QVBoxLayout, QWidget)

from desktop.engine.errors import EngineError
from desktop.engine.specs import SpecError
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.flow_layout import FlowLayout
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.objects.object_model import ItemRole, ObjectFilterProxy, ObjectTableModel
from desktop.ui.resources import icon
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet


class ObjectPage(QWidget):
    """Subclasses give the model and add buttons with `add_button`; actions run through `spawn`."""

    def __init__(self, title: str, object_name: str, model: ObjectTableModel, noun: str, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.tasks = TaskSet()
        self._engine_available = False
        self._noun = noun
        self.model = model
        self.proxy = ObjectFilterProxy(self)
        self.proxy.setSourceModel(model)

        heading = QLabel(title)
        heading.setObjectName("pageTitle")
        set_sheet(heading, "font-size: 16pt; font-weight: 600;")
        self.search = QLineEdit()
        self.search.setObjectName(f"{object_name}Search")
        self.search.setPlaceholderText(f"Filter {noun}s (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName(f"Filter {noun}s")
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(self._on_search_text_changed)

        self.top = QHBoxLayout()
        self.top.addWidget(heading)
        self.top.addSpacing(12)
        self.top.addWidget(self.search, 1)
        self.toolbar = FlowLayout(spacing=6)  # wraps on a narrow window rather than widening the page
        self.message = MessageBar(self)
        self.message.setObjectName("pageMessage")

        self.view = QTableView()
        self.view.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.view.setObjectName(f"{object_name}Table")
        self.view.setAccessibleName(title)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(26)
        self.view.horizontalHeader().setHighlightSections(False)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        # Several engines: an Engine column (the pages put it last) and a line naming unreachable engines.
        self._engine_col = next((i for i, c in enumerate(model.columns) if c.title == "Engine"), None)
        if self._engine_col is not None:
            self.view.setColumnHidden(self._engine_col, True)
        self.engine_notice = plain_label()
        self.engine_notice.setObjectName(f"{object_name}EngineNotice")
        self.engine_notice.setWordWrap(True)
        set_sheet(self.engine_notice, "color: #b54708;")
        self.engine_notice.hide()
        self.count_label = QLabel()
        self.count_label.setObjectName(f"{object_name}Count")
        for sig in (model.rowsInserted, model.rowsRemoved, model.modelReset, self.proxy.layoutChanged):
            sig.connect(self._update_count)

        layout = QVBoxLayout(self)
        layout.addLayout(self.top)
        layout.addLayout(self.toolbar)
        layout.addWidget(self.message)
        layout.addWidget(self.engine_notice)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)
        self.buttons: dict[str, tuple[QPushButton, bool]] = {}
        self._update_count()

    # -- building blocks ------------------------------------------------------------------------
    def add_button(self, key: str, text: str, slot, *, needs_selection: bool = False, tip: str = "") -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(f"{key}Button")
        b.setToolTip(tip or text)
        b.clicked.connect(lambda _=False: slot())
        self.toolbar.addWidget(b)
        self.buttons[key] = (b, needs_selection)
        self._update_buttons()
        return b

    def keep(self, attr: str, dlg):
        """Remember the open dialog under `attr` (tests reach it there); the previous one is freed."""
        old = getattr(self, attr, None)
        if old is not None and old is not dlg and not old.isVisible():
            old.deleteLater()
        setattr(self, attr, dlg)
        return dlg

    def listen(self, listeners, callback) -> None:
        """Subscribe to a store's Listeners until this page is destroyed."""
        listeners.connect(callback)

        def drop(*_args) -> None:
            try:
                listeners.disconnect(callback)
            except ValueError:
                pass

        self.destroyed.connect(drop)

    def finish_toolbar(self) -> None:
        self.toolbar.addStretch(1)

    def selected(self) -> list:
        rows = self.view.selectionModel().selectedRows(0)
        return [r.data(ItemRole) for r in rows if r.data(ItemRole) is not None]

    def select_key(self, key: str) -> bool:
        r = self.model.row_of(key)
        if r < 0:
            return False
        idx = self.proxy.mapFromSource(self.model.index(r, 0))
        if not idx.isValid():
            return False
        self.view.selectRow(idx.row())
        self.view.scrollTo(idx)
        return True

    async def engine_users(self, items, users_of) -> list[tuple[str, list[str]]] | None:
        """(name, users) of the items the engine says are in use, asked now: a container removed a
        moment ago from the CLI may still be in the usage the page knows. `users_of(calls, item)`
        is the engine call. None (the page says why) when the engine cannot be asked."""
        busy = []
        for item in items:
            try:
                users = await users_of(self.stores.state_for(item).calls, item)
            except Exception as err:  # noqa: BLE001 - the engine is away: say so, remove nothing
                self.message.show_error(str(err))
                return None
            if users:
                busy.append((item.name, users))
        return busy

    def spawn(self, coro):
        """Run an action; EngineError/SpecError become the message bar's sentence."""
        async def guarded():
            try:
                return await coro
            except (EngineError, SpecError) as err:
                self.message.show_error(str(err))
        if not self._engine_available:
            coro.close()
            self.message.show_error("The engine is not connected; actions are unavailable until it is back.")
            return None
        return self.tasks.spawn(guarded())

    def context_actions(self, items: list) -> list[tuple[str, object]]:
        """(label, slot) pairs for the context menu; subclasses override."""
        return []

    def set_engine_available(self, available: bool) -> None:
        self._engine_available = available
        self._update_buttons()

    def set_multi_engine(self, several: bool) -> None:
        """Show the Engine column when more than one engine is followed."""
        if self._engine_col is not None:
            self.view.setColumnHidden(self._engine_col, not several)

    def set_engine(self, engine: str | None) -> None:
        """Show one engine's rows (None: all engines')."""
        self.proxy.set_engine(engine)
        self._update_count()

    def show_unreachable(self, engines: list[str]) -> None:
        """Say which engines' rows are missing because they are not answering."""
        if engines:
            names = ", ".join(engines)
            self.engine_notice.setText(f"Engine {names} {'is' if len(engines) == 1 else 'are'} unreachable: "
                                       f"{'its' if len(engines) == 1 else 'their'} {self._noun}s are not shown "
                                       f"until {'it answers' if len(engines) == 1 else 'they answer'} again.")
        self.engine_notice.setVisible(bool(engines))

    # -- slots ----------------------------------------------------------------------------------
    def _on_search_text_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._update_count()

    def _on_view_context_menu(self, pos) -> None:
        idx = self.view.indexAt(pos)
        if idx.isValid() and not self.view.selectionModel().isRowSelected(idx.row(), idx.parent()):
            self.view.selectRow(idx.row())
        actions = self.context_actions(self.selected())
        if not actions:
            return
        menu = QMenu(self)
        menu.setObjectName(f"{self.objectName()}ContextMenu")
        for label, slot in actions:
            if label == "-":
                menu.addSeparator()
                continue
            a = menu.addAction(label)
            a.triggered.connect(lambda _=False, s=slot: s())
            a.setEnabled(self._engine_available)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _update_buttons(self, *args) -> None:
        has = self.view.selectionModel().hasSelection() if self.view.selectionModel() else False
        for b, needs in self.buttons.values():
            b.setEnabled(self._engine_available and (has or not needs))

    def _update_count(self, *args) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        s = "" if total == 1 else "s"
        self.count_label.setText(f"{total} {self._noun}{s}" if shown == total else f"{shown} of {total} {self._noun}{s}")
