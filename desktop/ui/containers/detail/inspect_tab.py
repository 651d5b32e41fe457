"""The Inspect tab: the container's inspect document as a searchable tree and as raw JSON.

Environment values are secrets more often than not, so they are masked in both views until
the user reveals one (click it) or all (the checkbox).
"""

from __future__ import annotations

import json
import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu,
                               QPlainTextEdit, QPushButton, QStackedWidget, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError
from desktop.engine.records import Container
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.palette_sheet import set_sheet

MASK = "••••••••"
PathRole = Qt.ItemDataRole.UserRole + 1  # the JSON path of an item
ValueRole = Qt.ItemDataRole.UserRole + 2  # the item's real value as text
SecretRole = Qt.ItemDataRole.UserRole + 3  # True for a masked environment value
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def child_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if _IDENT.match(key) else f"{parent}[{json.dumps(key)}]"


def scalar_text(v: Any) -> str:
    return json.dumps(v) if not isinstance(v, str) else v


def masked_document(doc: dict) -> dict:
    """A copy with every Config.Env value replaced by the mask."""
    out = json.loads(json.dumps(doc))
    env = (out.get("Config") or {}).get("Env")
    if isinstance(env, list):
        out["Config"]["Env"] = [e.split("=", 1)[0] + "=" + MASK if "=" in e else e for e in env]
    return out


class InspectTab(QWidget):
    """Signals: loaded() once the document is shown."""

    loaded = Signal()

    def __init__(self, client: EngineClient, container: Container, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("inspectTab")
        self.client, self.container = client, container
        self.tasks = TaskSet()
        self.document: dict | None = None

        self.search = QLineEdit()
        self.search.setObjectName("inspectSearch")
        self.search.setAccessibleName("Search the inspect data")
        self.search.setPlaceholderText("Filter keys and values")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply_filter)
        self.tree_button = QPushButton("Tree")
        self.raw_button = QPushButton("Raw JSON")
        group = QButtonGroup(self)
        for i, b in enumerate((self.tree_button, self.raw_button)):
            b.setCheckable(True)
            group.addButton(b, i)
        self.tree_button.setChecked(True)
        self.reveal_all = QCheckBox("Show environment values")
        self.reveal_all.setObjectName("inspectRevealAll")
        self.reveal_all.toggled.connect(self._on_reveal_all_toggled)
        self.refresh = QPushButton("Refresh")
        self.refresh.clicked.connect(self.load)
        self.error = QLabel("")
        self.error.setObjectName("inspectError")
        set_sheet(self.error, "color: #b3261e;")
        self.error.setWordWrap(True)
        self.error.hide()

        self.tree = QTreeWidget()
        self.tree.setObjectName("inspectTree")
        self.tree.setAccessibleName("Inspect data")
        self.tree.setHeaderLabels(["Key", "Value"])
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.header().resizeSection(0, 280)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu)
        self.tree.itemClicked.connect(self._on_tree_item_clicked)
        self.raw = QPlainTextEdit()
        self.raw.setObjectName("inspectRaw")
        self.raw.setAccessibleName("Inspect data as JSON")
        self.raw.setReadOnly(True)
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.raw)
        group.idClicked.connect(self.stack.setCurrentIndex)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.tree_button)
        top.addWidget(self.raw_button)
        top.addWidget(self.reveal_all)
        top.addWidget(self.refresh)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.error)
        lay.addWidget(self.stack, 1)

    def activate(self) -> None:
        self.load()

    def load(self) -> None:
        self.tasks.spawn(self._load())

    async def _load(self) -> None:
        try:
            details = await self.client.inspect_container(self.container.id)
        except EngineError as err:
            self.error.setText(str(err))
            self.error.show()
            return
        self.error.hide()
        self.document = json.loads(json.dumps(dict(details.raw)))
        self._fill()
        self.loaded.emit()

    # -- building -----------------------------------------------------------------------------------
    def _fill(self) -> None:
        self.tree.clear()
        doc = self.document or {}
        for key, value in doc.items():
            self.tree.addTopLevelItem(self._item(key, value, child_path("", key)))
        self.tree.expandToDepth(0)
        self._update_raw()
        self._apply_filter(self.search.text())

    def _item(self, key: str | int, value: Any, path: str, secret_env: bool = False) -> QTreeWidgetItem:
        item = QTreeWidgetItem([str(key) if not isinstance(key, int) else f"[{key}]", ""])
        item.setData(0, PathRole, path)
        if isinstance(value, dict):
            item.setText(1, f"{{{len(value)}}}")
            item.setForeground(1, Qt.GlobalColor.gray)
            for k, v in value.items():
                item.addChild(self._item(k, v, child_path(path, k)))
        elif isinstance(value, list):
            item.setText(1, f"[{len(value)}]")
            item.setForeground(1, Qt.GlobalColor.gray)
            env = path == ".Config.Env"
            for i, v in enumerate(value):
                item.addChild(self._item(i, v, child_path(path, i), secret_env=env))
        else:
            text = scalar_text(value)
            item.setData(1, ValueRole, text)
            if secret_env and isinstance(value, str) and "=" in value:
                item.setData(1, SecretRole, True)
                self._show_secret(item, self.reveal_all.isChecked())
            else:
                item.setText(1, text)
        return item

    def _show_secret(self, item: QTreeWidgetItem, revealed: bool) -> None:
        real = item.data(1, ValueRole)
        name = real.split("=", 1)[0]
        item.setText(1, real if revealed else f"{name}={MASK}")
        item.setToolTip(1, "Click to hide the value" if revealed else "Click to show the value")

    def _update_raw(self) -> None:
        doc = self.document or {}
        shown = doc if self.reveal_all.isChecked() else masked_document(doc)
        self.raw.setPlainText(json.dumps(shown, indent=2))

    def _secret_items(self):
        env = self.find_item(".Config.Env")
        if env is None:
            return []
        return [env.child(i) for i in range(env.childCount())]

    # -- reactions ----------------------------------------------------------------------------------
    def _on_reveal_all_toggled(self, on: bool) -> None:
        for it in self._secret_items():
            if it.data(1, SecretRole):
                self._show_secret(it, on)
        self._update_raw()

    def _on_tree_item_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if item.data(1, SecretRole):
            self._show_secret(item, MASK in item.text(1))

    def _on_tree_context_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        menu.addAction("Copy value", lambda: self.copy_value(item))
        menu.addAction("Copy path", lambda: self.copy_path(item))
        if item.data(1, SecretRole):
            menu.addAction("Hide value" if MASK not in item.text(1) else "Show value",
                           lambda: self._on_tree_item_clicked(item, 1))
        menu.addSeparator()
        menu.addAction("Expand all", self.tree.expandAll)
        menu.addAction("Collapse all", self.tree.collapseAll)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def value_of(self, item: QTreeWidgetItem) -> str:
        """What "Copy value" puts on the clipboard: a secret only as far as it is shown."""
        v = item.data(1, ValueRole)
        if v is not None:
            if item.data(1, SecretRole):
                return v.split("=", 1)[1] if MASK not in item.text(1) else MASK
            return v
        node: Any = self.document if self.reveal_all.isChecked() else masked_document(self.document or {})
        for part in re.findall(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]', item.data(0, PathRole)):
            key = part[0] or (int(part[1]) if part[1] else json.loads(part[2]))
            node = node[key]
        return json.dumps(node, indent=2)

    def copy_value(self, item: QTreeWidgetItem) -> None:
        QGuiApplication.clipboard().setText(self.value_of(item))

    def copy_path(self, item: QTreeWidgetItem) -> None:
        QGuiApplication.clipboard().setText(item.data(0, PathRole))

    def find_item(self, path: str) -> QTreeWidgetItem | None:
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            it = stack.pop()
            p = it.data(0, PathRole)
            if p == path:
                return it
            if path.startswith(p):
                stack.extend(it.child(i) for i in range(it.childCount()))
        return None

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()

        def visit(item: QTreeWidgetItem) -> bool:
            # masked values are matched by name only: a filter must not probe a secret
            shown_value = item.text(1).lower()
            own = not needle or needle in item.text(0).lower() or needle in shown_value
            child_hit = False
            for i in range(item.childCount()):
                child_hit |= visit(item.child(i))
            visible = own or child_hit
            item.setHidden(not visible)
            if needle and child_hit:
                item.setExpanded(True)
            return visible

        for i in range(self.tree.topLevelItemCount()):
            visit(self.tree.topLevelItem(i))

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
