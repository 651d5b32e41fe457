"""The menu bar: File, Edit, View, Engine, Container and Help, by the platform's conventions
(standard keys, macOS application-menu roles), filled with the actions the other features offer.

It owns no behaviour of its own beyond routing Copy and Find to the focused widget or page: every
entry calls a feature's public action, and the Container menu holds the Containers page's own
QActions (so their state follows the selection in one place).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QLineEdit, QMenu, QWidget

from desktop.ui.async_tasks import TaskSet
from desktop.ui.features.wing import Shared

Role = QAction.MenuRole
# The Containers page's actions, in the order the Container menu lists them.
CONTAINER_ACTIONS = ("start", "stop", "toggle", "restart", "pause_toggle", "kill", "delete")
SEARCH_FIELDS = ("search", "query", "filter")  # what pages call their search box


def keys(*seqs) -> list[QKeySequence]:
    """Standard keys first (Cmd on macOS, none where a platform has none), then fallbacks; no duplicates."""
    out: list[QKeySequence] = []
    for s in seqs:
        for k in (QKeySequence.keyBindings(s) if isinstance(s, QKeySequence.StandardKey) else [QKeySequence(s)]):
            if not k.isEmpty() and k not in out:
                out.append(k)
    return out


def focus_into(page: QWidget) -> None:
    """Give the focus to the page's first control in Tab order, unless it already is inside."""
    focused = QApplication.focusWidget()
    if focused is not None and page.isAncestorOf(focused):
        return
    w = page.nextInFocusChain()
    while w is not None and w is not page:
        if (page.isAncestorOf(w) and w.isVisibleTo(page) and w.isEnabled()
                and w.focusPolicy() & Qt.FocusPolicy.TabFocus):
            w.setFocus(Qt.FocusReason.TabFocusReason)
            return
        w = w.nextInFocusChain()


def search_field_of(widget: QWidget | None) -> QLineEdit | None:
    """The search box a page (or tab) offers, as `search`, `query` or `filter`, when it is shown."""
    for name in SEARCH_FIELDS:
        field = getattr(widget, name, None)
        if isinstance(field, QLineEdit) and field.isVisible():
            return field
    return None


def copy_from(widget: QWidget | None) -> bool:
    """Copy what `widget` has selected (text, or the selected rows' first column); False: nothing."""
    if widget is None:
        return False
    if callable(getattr(widget, "copy_selection", None)):  # the log and terminal views
        widget.copy_selection()
        return True
    if isinstance(widget, QAbstractItemView) and widget.selectionModel() is not None:
        rows = widget.selectionModel().selectedRows(0) or (
            [widget.currentIndex()] if widget.currentIndex().isValid() else [])
        texts = [str(i.data()) for i in rows if i.data() is not None]
        if texts:
            QGuiApplication.clipboard().setText("\n".join(texts))
        return bool(texts)
    if isinstance(widget, QLabel):
        if widget.selectedText():
            QGuiApplication.clipboard().setText(widget.selectedText())
        return bool(widget.selectedText())
    if callable(getattr(widget, "copy", None)):  # line and text edits
        widget.copy()
        return True
    return False


class MenuBarWing(QObject):
    """Fills the window's menus. `actions` maps a stable name to each entry (tests, the palette)."""

    def __init__(self, shared: Shared, *, containers, details, engines, objects, compose, desk, vm=None,
                 log_dir: Callable[[], object] | None = None) -> None:
        super().__init__(shared.window)
        self.shared = shared
        self.window = window = shared.window
        self.containers, self.details, self.desk, self.vm = containers, details, desk, vm
        self.tasks = TaskSet()
        if log_dir is None:
            from desktop.app_log import log_dir
        self._log_dir = log_dir
        self.actions: dict[str, QAction] = {}
        menus = window.menus

        # -- File ----------------------------------------------------------------------------------
        m = menus["file"]
        self._add(m, "new_container", "&New container from image…", lambda: objects.images_page.run_image(None),
                  keys(QKeySequence.StandardKey.New), tip="Run a container from an image (the Run dialog)")
        self._add(m, "open_compose", "&Open Compose file…", compose.open_compose_file,
                  keys(QKeySequence.StandardKey.Open), tip="Add a Compose project from its compose.yaml")
        m.addSeparator()
        self._add(m, "settings", "Se&ttings…", lambda: self.show_page("settings"),
                  keys(QKeySequence.StandardKey.Preferences, "Ctrl+,"), role=Role.PreferencesRole)
        m.addSeparator()
        self._add(m, "quit", "&Quit Pilothouse", desk.quit, keys(QKeySequence.StandardKey.Quit, "Ctrl+Q"),
                  role=Role.QuitRole, tip="Quit for real (closing the window may keep Pilothouse in the tray)")

        # -- Edit ----------------------------------------------------------------------------------
        m = menus["edit"]
        self._add(m, "copy", "&Copy", self.copy, keys(QKeySequence.StandardKey.Copy),
                  tip="Copy the selected text, or the selected rows' names")
        self._add(m, "find", "&Find", self.find, keys(QKeySequence.StandardKey.Find),
                  tip="Go to this page's search box")

        # -- View ----------------------------------------------------------------------------------
        m = menus["view"]
        self._pages_group = QActionGroup(self)
        self._pages_end = m.addSeparator()  # page entries go above it, in sidebar order
        for key, title in window.page_entries():
            self._on_window_page_added(key, title)
        window.page_added.connect(lambda key: self._on_window_page_added(key, dict(window.page_entries())[key]))
        window.sidebar.currentRowChanged.connect(self._on_sidebar_row_changed)
        self._on_sidebar_row_changed()
        palette = desk.palette
        palette.shortcut.setEnabled(False)  # View > Command palette owns Ctrl+K from now on
        pal = self._add(m, "palette", "Command &palette…", palette.open_palette, keys("Ctrl+K"),
                        tip="Jump to any page, container or project; run an action")
        pal.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        theme = m.addMenu("&Theme")
        theme.setObjectName("themeMenu")
        group = QActionGroup(self)
        for name, label in (("system", "&System"), ("light", "&Light"), ("dark", "&Dark")):
            a = self._add(theme, f"theme_{name}", label, lambda _=False, n=name: shared.settings.update(theme=n))
            a.setCheckable(True)
            group.addAction(a)
        self._show_theme(shared.settings.current.theme)
        shared.settings.changed.connect(lambda s, names: "theme" in names and self._show_theme(s.theme))
        m.addSeparator()
        side = self._add(m, "sidebar", "Show &sidebar", self._on_sidebar_toggled, keys("Ctrl+B"))
        side.setCheckable(True)
        side.setChecked(not window.side_panel.isHidden())
        full = self._add(m, "full_screen", "&Full screen", self._on_full_screen_toggled,
                         keys(QKeySequence.StandardKey.FullScreen, "F11"))
        full.setCheckable(True)

        # -- Engine --------------------------------------------------------------------------------
        m = menus["engine"]
        self.engine_menu = m.addMenu("&Show engine")
        self.engine_menu.setObjectName("showEngineMenu")
        self._engine_group = QActionGroup(self)
        self.engine_menu.aboutToShow.connect(self.rebuild_engines)
        self._add(m, "add_engine", "&Add engine…", engines.open_add_engine_dialog,
                  tip="Follow another engine: a local socket, ssh:// or tcp:// with TLS")
        self._add(m, "retry", "&Retry connection", engines.retry_all, tip="Try every engine again now")
        if vm is not None and vm.control is not None:
            m.addSeparator()
            self._add(m, "vm_start", "Start the &VM", lambda: self._vm("start"), tip="Boot the bundled VM")
            self._add(m, "vm_stop", "St&op the VM", lambda: self._vm("stop"), tip="Shut the bundled VM down")
            m.aboutToShow.connect(self._update_vm)
        self.rebuild_engines()

        # -- Container -----------------------------------------------------------------------------
        m = menus["container"]
        page = containers.page
        self._add(m, "container_open", "&Open", lambda: self._one(page.activate),
                  tip="The container's page: logs, terminal, inspect, files")
        self._add(m, "container_logs", "Show &logs", lambda: self._one(lambda c: details.open_logs(c.id)))
        m.addSeparator()
        for name in CONTAINER_ACTIONS:
            m.addAction(page.context_actions[name])
            self.actions[f"container_{name}"] = page.context_actions[name]
        m.addSeparator()
        self._add(m, "container_copy_id", "Copy &ID",
                  lambda: self._one(lambda c: QGuiApplication.clipboard().setText(c.id)))
        page.view.selectionModel().selectionChanged.connect(self._update_container)
        m.aboutToShow.connect(self._update_container)
        self._update_container()

        # -- Help ----------------------------------------------------------------------------------
        m = menus["help"]
        self._add(m, "shortcuts", "&Keyboard shortcuts", window.show_shortcuts,
                  keys(QKeySequence.StandardKey.HelpContents))
        self._add(m, "log_folder", "Open the &log folder", self.open_log_folder,
                  tip="Pilothouse's own log files, in your file manager")
        m.addSeparator()
        self._add(m, "about", "&About Pilothouse", window.show_about, role=Role.AboutRole)

    # -- building ----------------------------------------------------------------------------------
    def _add(self, menu: QMenu, name: str, text: str, slot, shortcuts=(), *, role=Role.NoRole,
             tip: str = "") -> QAction:
        a = QAction(text, self.window)
        a.setObjectName(f"menu_{name}")
        # Explicit roles: Qt's text heuristics would move "About"/"Settings"-like entries on macOS.
        a.setMenuRole(role)
        if shortcuts:
            a.setShortcuts(list(shortcuts))
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        a.triggered.connect(lambda *_: slot())
        menu.addAction(a)
        self.window.addAction(a)  # its shortcut works while the menu bar is hidden or closed
        self.actions[name] = a
        return a

    def _on_window_page_added(self, key: str, title: str) -> None:
        n = len(self._pages_group.actions()) + 1
        a = QAction(title.replace("&", "&&"), self.window)
        a.setObjectName(f"menu_page_{key}")
        a.setMenuRole(Role.NoRole)
        a.setCheckable(True)
        if n <= 9:
            a.setShortcut(QKeySequence(f"Ctrl+{n}"))
        a.triggered.connect(lambda *_: self.show_page(key))
        self._pages_group.addAction(a)
        self.window.menus["view"].insertAction(self._pages_end, a)
        self.window.addAction(a)
        self.actions[f"page_{key}"] = a

    # -- actions -----------------------------------------------------------------------------------
    def show_page(self, key: str) -> None:
        """Show a page and put the keyboard in it (its first control)."""
        window = self.window
        if window.show_page(key):
            page = window.page(key)
            if page is not None:
                focus_into(page)

    def copy(self) -> None:
        copy_from(QApplication.focusWidget())

    def find(self) -> None:
        """The search box nearest the focus (a tab's, then its page's), else the current page's."""
        w = QApplication.focusWidget()
        while w is not None:
            field = search_field_of(w)
            if field is not None:
                field.setFocus(Qt.FocusReason.ShortcutFocusReason)
                field.selectAll()
                return
            w = w.parentWidget()
        current = self.window.pages.currentWidget()
        if current is None:
            return
        for w in [current, *current.findChildren(QWidget)]:
            field = search_field_of(w)
            if field is not None:
                field.setFocus(Qt.FocusReason.ShortcutFocusReason)
                field.selectAll()
                return

    def open_log_folder(self) -> None:
        async def go() -> None:
            path = self._log_dir()
            await asyncio.to_thread(lambda: path.mkdir(mode=0o700, parents=True, exist_ok=True))
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

        self.tasks.spawn(go())

    def _one(self, act) -> None:
        cs = self.containers.page.selected_containers()
        if len(cs) == 1:
            act(cs[0])

    def _vm(self, action: str) -> None:
        self.show_page("vm")
        self.vm.panel.run(action)

    def _on_sidebar_toggled(self) -> None:
        self.window.side_panel.setVisible(self.actions["sidebar"].isChecked())

    def _on_full_screen_toggled(self) -> None:
        w = self.window
        w.setWindowState(w.windowState() ^ Qt.WindowState.WindowFullScreen)

    # -- following state ---------------------------------------------------------------------------
    def _on_sidebar_row_changed(self, *_row) -> None:
        a = self.actions.get(f"page_{self.window.current_page_key()}")
        if a is not None:
            a.setChecked(True)

    def _show_theme(self, theme: str) -> None:
        a = self.actions.get(f"theme_{theme}")
        if a is not None:
            a.setChecked(True)

    def _update_container(self, *_args) -> None:
        one = len(self.containers.page.selected_containers()) == 1
        for name in ("container_open", "container_logs", "container_copy_id"):
            self.actions[name].setEnabled(one)

    def _update_vm(self) -> None:
        control = self.vm.control
        state = None if control.busy else control.status()  # busy: a start or stop is under way
        self.actions["vm_start"].setEnabled(state in ("stopped", "crashed"))
        self.actions["vm_stop"].setEnabled(state == "running")

    def rebuild_engines(self) -> None:
        """Show engine ▸ All engines, then each engine with its state (the switcher's choices)."""
        m, sw = self.engine_menu, self.window.engine_switcher
        for a in self._engine_group.actions():
            self._engine_group.removeAction(a)
            m.removeAction(a)
            a.deleteLater()
        for i in range(sw.count()):
            key = sw.itemData(i)
            label = sw.itemText(i) if key is None else f"{key} ({self._engine_state(key)})"
            a = QAction((f"&{i} " if i <= 9 else "") + label.replace("&", "&&"), m)
            a.setObjectName(f"menu_engine_{key or 'all'}")
            a.setMenuRole(Role.NoRole)
            a.setCheckable(True)
            a.setChecked(i == sw.currentIndex())
            a.triggered.connect(lambda *_, k=key: self.window.select_engine(k))
            self._engine_group.addAction(a)
            m.addAction(a)
        m.setEnabled(sw.count() > 2)  # "All engines" and two or more engines

    def _engine_state(self, key: str) -> str:
        session = self.shared.engines.get(key)
        return session.status.current.state if session is not None else "gone"

    # -- the Wing protocol -------------------------------------------------------------------------
    def show_engine(self, key: str | None) -> None:
        self.rebuild_engines()

    def set_engine_count(self, n: int) -> None:
        self.rebuild_engines()

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
