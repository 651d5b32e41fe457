"""The main window: a sidebar of pages, the lost-engine banner and the engine status bar."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QToolButton, QListWidget, QListWidgetItem, QMainWindow,
                               QStackedWidget, QStatusBar, QVBoxLayout, QWidget)

from desktop.state.connection import CONNECTED, UNREACHABLE, ConnectionState, ConnectionStatus
from desktop.ui.engines.engine_status import EngineLostBanner, EngineStatusLabel, NoEnginePage
from desktop.ui.engines.unencrypted_banner import UnencryptedEngineBanner
from desktop.ui.resources import app_icon, icon
from desktop.ui.widgets.accessible_names import name_inner_controls
from desktop.ui.widgets.dialogs import inform
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet

SHORTCUTS_HELP = """<table>
<tr><td><b>Space</b></td><td>Start or stop the selected containers</td></tr>
<tr><td><b>Ctrl+R</b></td><td>Restart</td></tr>
<tr><td><b>P</b></td><td>Pause or resume</td></tr>
<tr><td><b>Ctrl+Shift+K</b></td><td>Kill (asks first)</td></tr>
<tr><td><b>Delete</b></td><td>Remove (asks first)</td></tr>
<tr><td><b>Enter</b></td><td>Open the container</td></tr>
<tr><td><b>Ctrl+F</b></td><td>Search</td></tr>
<tr><td><b>Ctrl+1…9</b></td><td>Switch page (View menu)</td></tr>
<tr><td><b>Ctrl+N</b></td><td>New container from an image</td></tr>
<tr><td><b>Ctrl+C</b></td><td>Copy (selected text, or the selected containers' names)</td></tr>
<tr><td><b>Ctrl+B</b></td><td>Show or hide the sidebar</td></tr>
<tr><td><b>F10</b> / <b>Alt</b>+letter</td><td>Open the menus</td></tr>
<tr><td><b>Alt+Left</b></td><td>Back from a container's page</td></tr>
<tr><td><b>Ctrl+Q</b></td><td>Quit</td></tr>
<tr><td><b>Ctrl+K</b> (⌘K)</td><td>Command palette: jump to anything, run an action</td></tr>
<tr><td><b>Ctrl+,</b></td><td>Settings (Ctrl+S saves them)</td></tr>
<tr><td><b>Ctrl+O</b></td><td>Compose: open a compose file</td></tr>
<tr><td><b>Ctrl+U</b></td><td>Compose: up (with build)</td></tr>
<tr><td><b>Esc</b></td><td>Compose: cancel the running command</td></tr>
</table>"""


class MainWindow(QMainWindow):
    """Owns layout only; pages are added by the composition root."""

    retry_requested = Signal()
    engine_selected = Signal(object)  # session key, or None for all engines
    add_engine_requested = Signal()
    page_added = Signal(str)  # page key (the View menu lists the pages)

    def __init__(self, status: ConnectionStatus, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("Pilothouse")
        self.resize(1200, 720)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setAccessibleName("Pages")
        self.engine_switcher = QComboBox()
        self.engine_switcher.setObjectName("engineSwitcher")
        self.engine_switcher.setAccessibleName("Engine")
        self.engine_switcher.setToolTip("Which engine to show: one, or all of them together")
        self.engine_switcher.currentIndexChanged.connect(self._on_switcher_index_changed)
        self.engine_switcher.hide()  # only worth showing with two or more engines
        self.sidebar.setIconSize(QSize(20, 20))
        set_sheet(self.sidebar, "QListWidget#sidebar { border: none; background: palette(window); font-size: 11pt; }"
                                " QListWidget#sidebar::item { padding: 8px 6px; }")
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.sidebar.currentRowChanged.connect(self.pages.setCurrentIndex)

        self.banner = EngineLostBanner()
        self.unencrypted_banner = UnencryptedEngineBanner()
        self.banner.retry_requested.connect(self.retry_requested)
        self.no_engine = NoEnginePage()
        self.no_engine.retry_requested.connect(self.retry_requested)

        self.body = QStackedWidget()
        self.body.setObjectName("body")
        content = QWidget()
        h = QHBoxLayout(content)
        h.setContentsMargins(0, 0, 0, 0)
        side = QWidget()
        side.setObjectName("sidePanel")
        self.side_panel = side
        side.setFixedWidth(200)
        sv = QVBoxLayout(side)
        sv.setContentsMargins(6, 6, 0, 6)
        top = QHBoxLayout()
        top.addWidget(self.engine_switcher, 1)
        add = QToolButton()
        self.add_engine_button = add
        add.setObjectName("addEngineButton")
        add.setText("+ Add engine")
        add.setAutoRaise(True)
        add.setToolTip("Add an engine (local socket, ssh://, tcp:// with TLS)")
        add.setAccessibleName("Add an engine")
        add.clicked.connect(self.add_engine_requested)
        top.addWidget(add)
        top.addStretch(0)
        sv.addLayout(top)
        sv.addWidget(self.sidebar, 1)
        h.addWidget(side)
        h.addWidget(self.pages, 1)
        self.body.addWidget(content)
        self.body.addWidget(self.no_engine)

        central = QWidget()
        v = QVBoxLayout(central)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(0)
        v.addWidget(self.unencrypted_banner)
        v.addWidget(self.banner)
        v.addWidget(self.body, 1)
        self._central_layout = v
        self.setCentralWidget(central)
        # Tab as the side panel reads: the engine switcher and Add engine above the page list,
        # then the page (whose controls follow the list).
        QWidget.setTabOrder(self.engine_switcher, self.add_engine_button)
        QWidget.setTabOrder(self.add_engine_button, self.sidebar)

        self.engine_label = EngineStatusLabel()
        sb = QStatusBar()
        sb.setObjectName("statusBar")
        sb.addWidget(self.engine_label, 1)
        self.engines_label = plain_label()
        self.engines_label.setObjectName("enginesSummary")
        sb.addPermanentWidget(self.engines_label)
        self.setStatusBar(sb)
        # The menu bar's shape is here, so the window does not move when its entries arrive with
        # the other features (features/menus.py fills them).
        self.menus = {name: self.menuBar().addMenu(title) for name, title in (
            ("file", "&File"), ("edit", "&Edit"), ("view", "&View"), ("engine", "E&ngine"),
            ("container", "&Container"), ("help", "&Help"))}
        for name, menu in self.menus.items():
            menu.setObjectName(f"{name}Menu")

        self._page_keys: list[str] = []
        self.status = None
        self.set_status_source(status)

    def set_status_source(self, status) -> None:
        """Follow another ConnectionStatus (the selected engine, or all engines together)."""
        if self.status is not None:
            self.status.changed.disconnect(self._on_status_changed)
        self.status = status
        status.changed.connect(self._on_status_changed)
        self._on_status_changed(status.current)

    def set_engines(self, entries: list[tuple[str, str]], primary: str | None = None) -> None:
        """Switcher entries: (session key, state text), the `primary` one marked. 'All engines' comes first."""
        sw = self.engine_switcher
        current = sw.currentData()
        sw.blockSignals(True)
        sw.clear()
        sw.addItem(f"All engines ({len(entries)})", None)
        dots = {"connected": "🟢", "connecting": "🟡", "reconnecting": "🟡", "unreachable": "🔴"}
        for key, state in entries:
            mark = " (primary)" if key == primary and len(entries) > 1 else ""
            sw.addItem(f"{dots.get(state, '⚪')} {key}{mark} — {state}", key)
        idx = sw.findData(current)
        sw.setCurrentIndex(idx if idx >= 0 else 0)
        sw.blockSignals(False)
        if idx < 0 and current is not None:  # the engine shown went away: all engines are shown now
            self.engine_selected.emit(None)
        sw.setVisible(len(entries) > 1)
        self.add_engine_button.setText("+" if len(entries) > 1 else "+ Add engine")
        if len(entries) > 1:
            counts: dict[str, int] = {}
            for _key, state in entries:
                counts[state] = counts.get(state, 0) + 1
            self.engines_label.setText(f"{len(entries)} engines: " + ", ".join(
                f"{n} {state}" for state, n in sorted(counts.items())))
        self.engines_label.setVisible(len(entries) > 1)

    def select_engine(self, key: str | None) -> None:
        idx = self.engine_switcher.findData(key)
        if idx >= 0:
            self.engine_switcher.setCurrentIndex(idx)

    def _on_switcher_index_changed(self, index: int) -> None:
        self.engine_selected.emit(self.engine_switcher.itemData(index))

    def add_page(self, key: str, title: str, icon_name: str, widget: QWidget) -> None:
        item = QListWidgetItem(icon(icon_name), title)
        item.setData(Qt.ItemDataRole.UserRole, key)
        n = len(self._page_keys) + 1
        item.setToolTip(f"{title} (Ctrl+{n})" if n <= 9 else title)
        self.sidebar.addItem(item)
        self.pages.addWidget(widget)
        name_inner_controls(widget)
        self._page_keys.append(key)
        if self.sidebar.currentRow() < 0:
            self.sidebar.setCurrentRow(0)
        self.page_added.emit(key)

    def page_entries(self) -> list[tuple[str, str]]:
        """(key, title) of every sidebar page, in sidebar order."""
        return [(k, self.sidebar.item(i).text()) for i, k in enumerate(self._page_keys)]

    def current_page_key(self) -> str | None:
        row = self.sidebar.currentRow()
        return self._page_keys[row] if 0 <= row < len(self._page_keys) else None

    def add_notice(self, widget: QWidget) -> None:
        """A strip above the pages (it shows and hides itself), below the lost-engine banner."""
        self._central_layout.insertWidget(1, widget)

    def show_page(self, key: str) -> bool:
        if key in self._page_keys:
            self.sidebar.setCurrentRow(self._page_keys.index(key))
            return True
        return False

    def page(self, key: str) -> QWidget | None:
        return self.pages.widget(self._page_keys.index(key)) if key in self._page_keys else None

    def _on_status_changed(self, s: ConnectionState) -> None:
        self.engine_label.show_state(s)
        self.banner.show_state(s)
        if s.state == UNREACHABLE:
            self.no_engine.show_state(s)
            self.body.setCurrentWidget(self.no_engine)
        elif s.state == CONNECTED:
            self.body.setCurrentIndex(0)
        available = s.state == CONNECTED
        for i in range(self.pages.count()):
            w = self.pages.widget(i)
            if hasattr(w, "set_engine_available"):
                w.set_engine_available(available)

    def show_shortcuts(self):
        return inform(self, "shortcutsDialog", "Keyboard shortcuts", SHORTCUTS_HELP, rich=True)

    def show_about(self):
        from desktop import __version__

        box = inform(self, "aboutDialog", "About Pilothouse",
                     f"Pilothouse {__version__}: a light, honest desktop manager for container engines.")
        box.setIconPixmap(app_icon().pixmap(64, 64))
        return box
