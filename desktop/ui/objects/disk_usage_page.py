"""Disk usage (system df): images, containers, volumes, build cache with reclaimable space; each
prune first lists exactly what it would remove and the space it frees. Plugins listed below."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from desktop.engine.errors import EngineError
from desktop.engine.object_records import DiskUsage, UsageRow
from desktop.engine.objects import ObjectsClient
from desktop.presentation.sizes import human_size
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.dialogs import confirm
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.palette_sheet import set_sheet

KINDS = (("image", "Images", "dangling images no container uses"), ("container", "Containers", "stopped containers"),
         ("volume", "Volumes", "volumes no container uses"), ("build-cache", "Build cache", "unused build cache"))
PREVIEW_MAX = 15


class DiskUsagePage(QWidget):
    """Sidebar page `disk`: one engine's usage at a time (disk space belongs to one machine). With
    several engines an Engine list picks which; the window's engine switcher sets it too."""

    def __init__(self, objects: ObjectsClient, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("diskUsagePage")
        self.objects = objects
        self.tasks = TaskSet()
        self.usage: DiskUsage | None = None
        self._engine_available = False
        title = QLabel("Disk usage")
        set_sheet(title, "font-size: 16pt; font-weight: 600;")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("refreshButton")
        self.refresh_button.clicked.connect(lambda: self.refresh())
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        self._objects_of = None
        self.engine_label = QLabel("Engine:")
        self.engine_combo = QComboBox()
        self.engine_combo.setObjectName("diskEngine")
        self.engine_combo.setAccessibleName("Engine")
        self.engine_combo.setMinimumContentsLength(12)
        self.engine_combo.currentIndexChanged.connect(self._on_engine_combo_changed)
        for w in (self.engine_label, self.engine_combo):
            w.hide()
            top.addWidget(w)
        top.addWidget(self.refresh_button)
        self.message = MessageBar(self)
        self.message.setObjectName("pageMessage")
        self.table = QTableWidget(len(KINDS), 5)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.table.setObjectName("diskUsageTable")
        self.table.setAccessibleName("Disk usage by kind")
        self.table.setHorizontalHeaderLabels(["Kind", "Count", "Size", "Reclaimable", ""])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.prune_buttons: dict[str, QPushButton] = {}
        for r, (kind, label, _) in enumerate(KINDS):
            self.table.setItem(r, 0, QTableWidgetItem(label))
            b = QPushButton("Prune…")
            b.setObjectName(f"prune_{kind.replace('-', '_')}")
            b.clicked.connect(lambda _=False, k=kind: self.prune(k))
            self.prune_buttons[kind] = b
            self.table.setCellWidget(r, 4, b)
        self.table.setFixedHeight(34 * len(KINDS) + self.table.horizontalHeader().sizeHint().height() + 4)
        plugins_title = QLabel("Engine plugins")
        set_sheet(plugins_title, "font-size: 12pt; font-weight: 600;")
        self.plugins = QTableWidget(0, 3)
        self.plugins.setTabKeyNavigation(False)
        self.plugins.setObjectName("pluginsTable")
        self.plugins.setAccessibleName("Engine plugins")
        self.plugins.setHorizontalHeaderLabels(["Name", "Enabled", "Description"])
        self.plugins.verticalHeader().hide()
        self.plugins.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.plugins.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.plugins_empty = QLabel("No plugins are installed.")
        self.plugins_empty.setObjectName("pluginsEmpty")
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.message)
        lay.addWidget(self.table)
        lay.addSpacing(12)
        lay.addWidget(plugins_title)
        lay.addWidget(self.plugins_empty)
        lay.addWidget(self.plugins)
        lay.addStretch(1)

    def set_engines(self, keys: list[str], objects_of) -> None:
        """The engines to choose from (the first is shown by default); `objects_of(key)`: its ObjectsClient."""
        self._objects_of = objects_of
        current = self.engine_combo.currentText()
        self.engine_combo.blockSignals(True)
        self.engine_combo.clear()
        self.engine_combo.addItems(keys)
        self.engine_combo.setCurrentIndex(max(0, self.engine_combo.findText(current)))
        self.engine_combo.blockSignals(False)
        for w in (self.engine_label, self.engine_combo):
            w.setVisible(len(keys) > 1)
        if keys and self.engine_combo.currentText() != current:
            self._on_engine_combo_changed()

    def show_engine(self, key: str) -> None:
        """Show this engine's usage (the window's switcher selected it)."""
        idx = self.engine_combo.findText(key)
        if idx >= 0:
            self.engine_combo.setCurrentIndex(idx)

    @property
    def engine(self) -> str:
        return self.engine_combo.currentText()

    def _on_engine_combo_changed(self, *_args) -> None:
        if self._objects_of is None or not self.engine_combo.currentText():
            return
        self.objects = self._objects_of(self.engine_combo.currentText())
        self.usage = None
        for r in range(len(KINDS)):
            for c in (1, 2, 3):
                self.table.setItem(r, c, QTableWidgetItem(""))
        if self._engine_available and self.isVisible():
            self.refresh()

    def set_engine_available(self, available: bool) -> None:
        was, self._engine_available = self._engine_available, available
        self.refresh_button.setEnabled(available)
        for b in self.prune_buttons.values():
            b.setEnabled(available)
        if available and not was and self.isVisible():  # hidden: showEvent measures when looked at
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - measured when looked at (df is costly)
        super().showEvent(event)
        if self._engine_available:
            self.refresh()

    def refresh(self):
        return self.tasks.spawn(self._refresh())

    async def _refresh(self) -> None:
        objects = self.objects
        try:
            usage = await objects.disk_usage()
            plugins = await objects.plugins()
        except EngineError as err:
            if objects is self.objects:
                self.message.show_error(str(err))
            return
        if objects is not self.objects:
            return  # another engine was chosen meanwhile: its own refresh fills the table
        self.usage = usage
        for r, (kind, _, _) in enumerate(KINDS):
            rows = self.usage.of(kind)
            for c, text in ((1, str(len(rows))), (2, human_size(self.usage.total(kind))),
                            (3, human_size(self.usage.reclaimable(kind)))):
                self.table.setItem(r, c, QTableWidgetItem(text))
            self.prune_buttons[kind].setEnabled(self._engine_available and any(x.reclaimable for x in rows))
        self.plugins.setRowCount(len(plugins))
        for r, p in enumerate(plugins):
            for c, text in enumerate((p.name, "yes" if p.enabled else "no", p.description)):
                self.plugins.setItem(r, c, QTableWidgetItem(text))
        self.plugins_empty.setVisible(not plugins)
        self.plugins.setVisible(bool(plugins))

    def prune(self, kind: str):
        return self.tasks.spawn(self._prune(kind))

    async def _prune(self, kind: str) -> None:
        objects = self.objects
        await self._refresh()  # the preview must show what is true now
        if self.usage is None or objects is not self.objects:
            return
        rows: list[UsageRow] = [r for r in self.usage.of(kind) if r.reclaimable]
        label, what = next((lbl, w) for k, lbl, w in KINDS if k == kind)
        if not rows:
            self.message.show_info(f"Nothing to prune: there are no {what}.")
            return
        size = sum(r.size for r in rows)
        listing = "\n".join(f"{r.name}  ({human_size(r.size)})" for r in rows[:PREVIEW_MAX])
        if len(rows) > PREVIEW_MAX:
            listing += f"\n… and {len(rows) - PREVIEW_MAX} more"
        ok, _ = await confirm(self, f"Prune {label.lower()}",
                              f"Remove {len(rows)} {what}, reclaiming {human_size(size)}?", "Remove",
                              details=listing)
        if not ok or objects is not self.objects:
            return
        reclaimed, errors = await objects.remove_unused(rows)
        await self._refresh()
        if errors:
            self.message.show_error(" ".join(errors))
        else:
            self.message.show_info(f"Removed {len(rows)} {what}; reclaimed {human_size(reclaimed)}.")
