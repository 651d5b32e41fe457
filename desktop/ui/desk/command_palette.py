"""The command palette (Ctrl+K, Cmd+K on macOS): jump to anything or run an action by fuzzy name.

Items come from providers: callables returning PaletteItem(label, kind, callback). Pages built
elsewhere (images, volumes, networks) register their own provider with `add_provider`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import NamedTuple

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.fuzzy_match import rank
from desktop.ui.widgets.palette_sheet import set_sheet

log = logging.getLogger(__name__)
MAX_SHOWN = 200


class PaletteItem(NamedTuple):
    label: str
    kind: str  # "container", "page", "action", "image", ... shown beside the label
    callback: Callable[[], object]


Provider = Callable[[], Iterable[PaletteItem]]


class CommandPalette(QDialog):
    """A popup with a search field over every provider's items; Enter runs the highlighted one."""

    item_triggered = Signal(str, str)  # label, kind

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("commandPalette")
        self.setAccessibleName("Command palette")
        self.providers: list[Provider] = []
        self._items: list[PaletteItem] = []
        self._shown: list[PaletteItem] = []

        self.query = QLineEdit()
        self.query.setObjectName("paletteQuery")
        self.query.setPlaceholderText("Jump to a container, page or action…")
        self.query.setAccessibleName("Search everything")
        self.query.textChanged.connect(self._refresh)
        self.query.installEventFilter(self)
        self.results = QListWidget()
        self.results.setObjectName("paletteResults")
        self.results.setAccessibleName("Matches")
        self.results.itemActivated.connect(lambda _it: self.trigger_current())
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows go through the query field
        hint = QLabel("↑↓ to choose · Enter to run · Esc to close")
        set_sheet(hint, "color: palette(placeholder-text); font-size: 9pt;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(self.query)
        lay.addWidget(self.results, 1)
        lay.addWidget(hint)
        set_sheet(self, "#commandPalette { border: 1px solid palette(mid); border-radius: 6px; }"
                        " QLineEdit#paletteQuery { font-size: 12pt; padding: 4px; }")
        self.resize(560, 380)

        # Ctrl+K becomes Cmd+K on macOS through Qt's key mapping.
        self.shortcut = QShortcut(QKeySequence("Ctrl+K"), parent)
        self.shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.shortcut.activated.connect(self.open_palette)

    def add_provider(self, provider: Provider) -> None:
        self.providers.append(provider)

    def collect(self) -> list[PaletteItem]:
        items: list[PaletteItem] = []
        for p in self.providers:
            try:
                items.extend(p())
            except Exception:  # noqa: BLE001 - one broken provider must not empty the palette
                log.exception("palette provider failed")
        return items

    def open_palette(self) -> None:
        self._items = self.collect()
        self.query.clear()
        self._refresh("")
        parent = self.parentWidget()
        if parent is not None:
            geo = parent.geometry()
            self.move(geo.x() + (geo.width() - self.width()) // 2, geo.y() + 80)
        self.show()
        self.raise_()
        self.activateWindow()
        self.query.setFocus()

    def _refresh(self, text: str) -> None:
        self._shown = rank(text, self._items, key=lambda it: it.label, limit=MAX_SHOWN)
        self.results.clear()
        for it in self._shown:
            row = QListWidgetItem(f"{it.label}    · {it.kind}")
            row.setToolTip(it.kind)
            self.results.addItem(row)
        if self._shown:
            self.results.setCurrentRow(0)

    def shown_labels(self) -> list[str]:
        return [it.label for it in self._shown]

    def trigger_current(self) -> None:
        row = self.results.currentRow()
        if not 0 <= row < len(self._shown):
            return
        item = self._shown[row]
        self.hide()
        self.item_triggered.emit(item.label, item.kind)
        item.callback()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.query and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 10, Qt.Key.Key_PageUp: -10}[key]
                n = self.results.count()
                if n:
                    self.results.setCurrentRow(max(0, min(n - 1, self.results.currentRow() + step)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.trigger_current()
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
        return super().eventFilter(obj, event)


# -- the providers shipped here -------------------------------------------------------------------
def pages_provider(window) -> Provider:
    """Every sidebar page of the main window."""

    def items() -> list[PaletteItem]:
        out = []
        for row in range(window.sidebar.count()):
            it = window.sidebar.item(row)
            key = it.data(Qt.ItemDataRole.UserRole)
            out.append(PaletteItem(f"Go to {it.text()}", "page", lambda k=key: window.show_page(k)))
        return out

    return items


def containers_provider(store, page, window) -> Provider:
    """Each container: jump to it, and start/stop/restart it."""

    def jump(c) -> None:
        window.show_page("containers")
        idx = page.proxy_index_of(c.id)
        if idx.isValid():
            page.view.setCurrentIndex(idx)
            page.view.scrollTo(idx)
            page.view.setFocus()

    def items() -> list[PaletteItem]:
        out = []
        for c in sorted(store.all(), key=lambda c: c.name):
            out.append(PaletteItem(c.name, "container", lambda c=c: jump(c)))
            if c.state in ("running", "restarting", "paused"):
                out.append(PaletteItem(f"Stop {c.name}", "container action", lambda c=c: page.trigger("stop", [c])))
                out.append(PaletteItem(f"Restart {c.name}", "container action",
                                       lambda c=c: page.trigger("restart", [c])))
            else:
                out.append(PaletteItem(f"Start {c.name}", "container action", lambda c=c: page.trigger("start", [c])))
        return out

    return items


def actions_provider(actions: Iterable[tuple[str, Callable[[], object]]]) -> Provider:
    """Fixed application actions: (label, callback)."""
    fixed = list(actions)
    return lambda: [PaletteItem(label, "action", cb) for label, cb in fixed]


def compose_provider(projects, page, window) -> Provider:
    """Each Compose project: jump to it on the Compose page."""

    def jump(name: str) -> None:
        window.show_page("compose")
        page.select_project(name)
        page.project_list.setFocus()

    return lambda: [PaletteItem(f"Compose project {p.name}", "compose", lambda n=p.key: jump(n))
                    for p in projects.all()]
