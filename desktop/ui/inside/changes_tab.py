"""The Changes tab: what the container changed on disk next to its image (the Engine API's diff)
as a tree with counts and sizes, a filter, download of a changed file, and Commit to image."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QHeaderView, QLineEdit, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from desktop.engine.archive import ContainerFiles
from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError
from desktop.engine.fs_diff import SizeReader, container_diff
from desktop.engine.records import Container
from desktop.engine.tar_safety import printable
from desktop.presentation.sizes import binary_size
from desktop.state.fs_changes import KINDS, ChangeNode, ChangeTree
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.containers.detail.files_tab import download_reporting
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.dialogs import open_file_dialog

PathRole = Qt.ItemDataRole.UserRole + 1
COLOURS = {"added": "#2e7d32", "changed": "#b26a00", "deleted": "#b3261e"}
MARKS = {"added": "A", "changed": "C", "deleted": "D"}


def counts_text(counts: dict[str, int]) -> str:
    return " · ".join(f"{counts[k]} {k}" for k in KINDS if counts[k])


class ChangesTab(QWidget):
    """Signals: loaded() after a diff is shown, sizes_done() when every size is in."""

    loaded = Signal()
    sizes_done = Signal()

    def __init__(self, client: EngineClient, container: Container, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("changesTab")
        self.client, self.container = client, container
        self.files = ContainerFiles(client, container.id)
        self.tasks = TaskSet()
        self.tree_data: ChangeTree | None = None
        self.items: dict[str, QTreeWidgetItem] = {}
        self._sizes_task = None

        self.summary = plain_label("")
        self.summary.setObjectName("changesSummary")
        self.filter = QLineEdit()
        self.filter.setObjectName("changesFilter")
        self.filter.setPlaceholderText("Filter paths")
        self.filter.setAccessibleName("Filter changed paths")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.kind_boxes: dict[str, QCheckBox] = {}
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        for k in KINDS:
            box = QCheckBox(k.capitalize())
            box.setObjectName(f"changesShow_{k}")
            box.setChecked(True)
            box.toggled.connect(self._apply_filter)
            self.kind_boxes[k] = box
            top.addWidget(box)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("changesRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.download_button = QPushButton("Download…")
        self.download_button.setObjectName("changesDownload")
        self.download_button.setToolTip("Save the selected added or changed file on this computer")
        self.download_button.clicked.connect(self._on_download_clicked)
        self.commit_button = QPushButton("Commit to image…")
        self.commit_button.setObjectName("changesCommit")
        self.commit_button.setToolTip("A new image: the container's image with these changes")
        self.commit_button.clicked.connect(self.open_commit_dialog)
        for b in (self.refresh_button, self.download_button, self.commit_button):
            top.addWidget(b)

        self.tree = QTreeWidget()
        self.tree.setObjectName("changesTree")
        self.tree.setAccessibleName("Changed paths")
        self.tree.setHeaderLabels(["Path", "Change", "Size", "Below"])
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.message = MessageBar(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(self.message)
        lay.addWidget(self.tree, 1)
        self.commit_dialog = None
        self._update_buttons()

    def activate(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.tasks.spawn(self.load())

    async def load(self) -> bool:
        if self._sizes_task is not None:
            self._sizes_task.cancel()
        self.summary.setText("Reading the changes…")
        try:
            diff = await container_diff(self.client, self.container.id)
        except EngineError as err:
            self.summary.setText("")
            self.message.show_error(str(err))
            return False
        self.message.hide()
        self.tree_data = tree = ChangeTree(diff)
        self._fill(tree)
        self._show_summary()
        self.loaded.emit()
        reader = SizeReader(self.client, self.container.id, tree.sizable(), self._on_sizes)
        if reader.skipped:
            self.message.show_info(f"Sizes are shown for the first {len(reader.paths)} files only.")
        self._sizes_task = self.tasks.spawn(self._read_sizes(reader))
        return True

    async def _read_sizes(self, reader: SizeReader) -> None:
        try:
            await reader.run()
        except EngineError as err:
            self.message.show_error(f"Sizes could not be read: {err}")
        except Exception as exc:  # noqa: BLE001 - sizes are extra; the tree stays useful
            self.message.show_error(f"Sizes could not be read: {exc}")
        self.sizes_done.emit()

    # -- the tree ------------------------------------------------------------------------------------
    def _fill(self, tree: ChangeTree) -> None:
        self.tree.clear()
        self.items = {}

        def add(node: ChangeNode, parent) -> None:
            for name in sorted(node.children):
                child = node.children[name]
                item = QTreeWidgetItem(parent, [printable(child.name)])
                item.setData(0, PathRole, child.path)
                if child.kind:
                    item.setText(1, child.kind)
                    item.setForeground(1, QBrush(QColor(COLOURS[child.kind])))
                    item.setToolTip(0, f"{printable(child.path)} ({child.kind})")
                self.items[child.path] = item
                self._show_figures(child)
                add(child, item)

        add(tree.root, self.tree)
        # a few changes: open everything; many: the top levels
        if len(self.items) <= 200:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(1)
        self._apply_filter()

    def _show_figures(self, node: ChangeNode) -> None:
        item = self.items.get(node.path)
        if item is None:
            return
        if node.size is not None and not node.is_dir:
            item.setText(2, binary_size(node.size))
        if node.children:
            below = counts_text(node.counts)
            if node.total_size:
                below += f" · {binary_size(node.total_size)}"
            item.setText(3, below)

    def _on_sizes(self, batch: list[tuple[str, int, bool]]) -> None:
        tree = self.tree_data
        if tree is None:
            return
        touched: dict[str, ChangeNode] = {}
        for path, size, is_dir in batch:
            for n in tree.set_size(path, size, is_dir):
                touched[n.path] = n
        for n in touched.values():
            self._show_figures(n)
        self._show_summary()

    def _show_summary(self) -> None:
        tree = self.tree_data
        if tree is None:
            return
        if not any(tree.counts.values()):
            self.summary.setText("No changes: the container's filesystem is as its image made it.")
            return
        size = tree.root.total_size
        self.summary.setText(counts_text(tree.counts) + (f" · {binary_size(size)} in added or changed files"
                                                          if size else ""))

    def _apply_filter(self, *_args) -> None:
        tree = self.tree_data
        if tree is None:
            return
        kinds = [k for k, box in self.kind_boxes.items() if box.isChecked()]
        text = self.filter.text()
        shown = tree.visible(text, kinds)
        for path, item in self.items.items():
            item.setHidden(path not in shown)
        if text.strip():
            for path in shown:
                item = self.items.get(path)
                if item is not None and item.childCount():
                    item.setExpanded(True)

    def visible_paths(self) -> list[str]:
        return [p for p, item in self.items.items() if not item.isHidden()]

    # -- actions ---------------------------------------------------------------------------------------
    def selected_node(self) -> ChangeNode | None:
        item = self.tree.currentItem()
        if item is None or self.tree_data is None:
            return None
        return self.tree_data.nodes.get(item.data(0, PathRole))

    def select(self, path: str) -> None:
        item = self.items.get(path)
        if item is not None:
            self.tree.setCurrentItem(item)

    def _update_buttons(self) -> None:
        n = self.selected_node()
        self.download_button.setEnabled(n is not None and n.kind in ("added", "changed") and not n.is_dir)

    def _on_download_clicked(self) -> None:
        n = self.selected_node()
        if n is None or n.kind == "deleted" or n.is_dir:
            self.message.show_error("Select an added or changed file to download.")
            return
        dlg = QFileDialog(self, f"Download {printable(n.name)}")
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.selectFile(printable(n.name))
        dlg.fileSelected.connect(lambda dest, p=n.path: self.tasks.spawn(self.download(p, dest)))
        open_file_dialog(dlg)

    async def download(self, path: str, dest: str) -> bool:
        return await download_reporting(self.files, self.message, path, dest) is not None

    def open_commit_dialog(self):
        """The commit form (a validated image name), as the Containers page's menu opens it."""
        from desktop.engine.objects import ObjectsClient
        from desktop.ui.objects.object_forms import commit_dialog

        dlg = commit_dialog(self.window(), ObjectsClient(self.client), self.container.id, self.container.name)
        self.commit_dialog = dlg
        dlg.accepted.connect(lambda: self.message.show_info("Committed: the new image is on the Images page."))
        open_file_dialog(dlg)
        return dlg

    async def aclose(self) -> None:
        if self.commit_dialog is not None:
            try:
                self.commit_dialog.close()
            except RuntimeError:
                pass
        await self.tasks.cancel_all()
