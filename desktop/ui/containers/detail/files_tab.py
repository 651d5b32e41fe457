"""The Files tab: browse a container's filesystem (running or stopped), download and upload."""

from __future__ import annotations

import datetime
import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QHeaderView, QLineEdit, QPushButton, QToolButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from desktop.engine.archive import LIST_BYTE_LIMIT, ContainerFiles, FileEntry
from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError
from desktop.engine.records import Container
from desktop.engine.tar_safety import printable
from desktop.presentation.sizes import binary_size
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.dialogs import open_file_dialog

EntryRole = Qt.ItemDataRole.UserRole + 1


class FilesTab(QWidget):
    """Signals: listed(path) after a folder is shown; transferred(str) after a download/upload."""

    listed = Signal(str)
    transferred = Signal(str)

    def __init__(self, client: EngineClient, container: Container, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("filesTab")
        self.files = ContainerFiles(client, container.id)
        self.container = container
        self.tasks = TaskSet()
        self.path = "/"
        self.byte_limit = LIST_BYTE_LIMIT  # a folder's archive is read this far, no further
        self._listing = None

        self.up = QToolButton()
        self.up.setText("↑")
        self.up.setObjectName("filesUp")
        self.up.setToolTip("Parent folder")
        self.up.clicked.connect(lambda: self.open(os.path.dirname(self.path.rstrip("/")) or "/"))
        self.path_edit = QLineEdit("/")
        self.path_edit.setObjectName("filesPath")
        self.path_edit.setAccessibleName("Folder in the container")
        self.path_edit.returnPressed.connect(lambda: self.open(self.path_edit.text().strip() or "/"))
        self.refresh = QPushButton("Refresh")
        self.refresh.clicked.connect(lambda: self.open(self.path))
        self.download_button = QPushButton("Download…")
        self.download_button.setObjectName("filesDownload")
        self.download_button.setToolTip("Copy the selected file or folder to this computer")
        self.download_button.clicked.connect(self._on_download_clicked)
        self.upload_button = QPushButton("Upload…")
        self.upload_button.setObjectName("filesUpload")
        self.upload_button.setToolTip("Copy files from this computer into this folder")
        self.upload_button.clicked.connect(self._on_upload_clicked)
        top = QHBoxLayout()
        top.addWidget(self.up)
        top.addWidget(self.path_edit, 1)
        top.addWidget(self.refresh)
        top.addWidget(self.download_button)
        top.addWidget(self.upload_button)

        self.message = MessageBar(self)
        self.message.setObjectName("filesMessage")
        self.tree = QTreeWidget()
        self.tree.setObjectName("filesList")
        self.tree.setAccessibleName("Files")
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setHeaderLabels(["Name", "Size", "Mode", "Modified", "Link target"])
        self.tree.setSortingEnabled(False)
        h = self.tree.header()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        h.resizeSection(0, 260)
        h.resizeSection(1, 90)
        h.resizeSection(2, 100)
        h.resizeSection(3, 150)
        self.tree.itemActivated.connect(self._on_item_activated)
        self.tree.itemDoubleClicked.connect(self._on_item_activated)
        self.status = plain_label("")
        self.status.setObjectName("filesStatus")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.message)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.status)

    def activate(self) -> None:
        self.open("/")

    # -- listing --------------------------------------------------------------------------------
    def open(self, path: str):
        if not path.startswith("/"):
            self.message.show_error("Type a folder path that starts with /, such as /etc.")
            return None
        if self._listing is not None and not self._listing.done():
            self._listing.cancel()
        self._listing = self.tasks.spawn(self._open(os.path.normpath(path)))
        return self._listing

    async def _open(self, path: str) -> None:
        self.status.setText(f"Reading {path}…")
        self.tree.clear()
        count = [0]

        def partial(entries: list[FileEntry]) -> None:
            count[0] += len(entries)
            self.status.setText(f"Reading {path}… {count[0]:,} entries so far")

        try:
            entries = await self.files.list_dir(path, partial, byte_limit=self.byte_limit)
        except EngineError as err:
            self.status.setText("")
            self.message.show_error(str(err))
            self.path_edit.setText(self.path)
            return
        self.message.hide()
        self.path = path
        self.path_edit.setText(printable(path))
        for e in entries:
            self.tree.addTopLevelItem(self._item(e))
        if getattr(entries, "complete", True):
            self.status.setText(f"{len(entries):,} items in {printable(path)}")
        else:
            self.status.setText(f"Showing the {len(entries):,} items read from {printable(path)}: the folder holds "
                                f"more than {binary_size(self.byte_limit)}, so reading stopped there. Open a subfolder "
                                "to see the rest.")
        self.listed.emit(path)

    def _item(self, e: FileEntry) -> QTreeWidgetItem:
        try:  # the archive's header says when: any number at all
            when = datetime.datetime.fromtimestamp(e.mtime).strftime("%Y-%m-%d %H:%M") if e.mtime else ""
        except (OverflowError, OSError, ValueError):
            when = "?"
        # Names come from the container: undecodable bytes and control characters shown escaped.
        it = QTreeWidgetItem([printable(e.name) + ("/" if e.is_dir else ""), "" if e.is_dir else binary_size(e.size),
                              e.mode_text, when, printable(e.link_target)])
        it.setData(0, EntryRole, e)
        it.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return it

    def entries(self) -> list[FileEntry]:
        return [self.tree.topLevelItem(i).data(0, EntryRole) for i in range(self.tree.topLevelItemCount())]

    def _on_item_activated(self, item: QTreeWidgetItem, column: int = 0) -> None:
        e: FileEntry = item.data(0, EntryRole)
        if e.is_dir or (e.kind == "symlink" and not os.path.splitext(e.link_target)[1]):
            self.open(e.path)

    # -- transfers ------------------------------------------------------------------------------
    def selected_entry(self) -> FileEntry | None:
        it = self.tree.currentItem()
        return it.data(0, EntryRole) if it else None

    def _on_download_clicked(self) -> None:
        e = self.selected_entry()
        if e is None:
            self.message.show_error("Select a file or folder to download.")
            return
        dlg = QFileDialog(self, f"Download {e.name}")
        if e.is_dir:
            dlg.setFileMode(QFileDialog.FileMode.Directory)
        else:
            dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dlg.selectFile(printable(e.name))
        dlg.fileSelected.connect(lambda dest: self.tasks.spawn(self.download(e.path, dest)))
        open_file_dialog(dlg)

    def _on_upload_clicked(self) -> None:
        dlg = QFileDialog(self, f"Upload into {self.path}")
        dlg.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dlg.filesSelected.connect(lambda paths: self.tasks.spawn(self.upload(list(paths))))
        open_file_dialog(dlg)

    async def download(self, path: str, dest: str) -> bool:
        text = await download_reporting(self.files, self.message, path, dest)
        if text:
            self.transferred.emit(text)
        return text is not None

    async def upload(self, host_paths: list[str], folder: str | None = None) -> bool:
        folder = folder or self.path
        names = ", ".join(os.path.basename(p) for p in host_paths)
        self.message.show_info(f"Uploading {names} into {folder}…")
        try:
            await self.files.upload(host_paths, folder)
        except EngineError as err:
            self.message.show_error(str(err))
            return False
        text = f"Uploaded {names} into {folder}."
        self.message.show_info(text)
        self.transferred.emit(text)
        if folder == self.path:
            self.open(folder)
        return True

    async def aclose(self) -> None:
        await self.tasks.cancel_all()


async def download_reporting(files, message, path: str, dest: str) -> str | None:
    """Download a container path to dest, saying so in the message bar; the sentence shown, or
    None when the engine refused (its reason is shown)."""
    message.show_info(f"Downloading {printable(path)}…")
    try:
        n = await files.download(path, dest)
    except EngineError as err:
        message.show_error(str(err))
        return None
    text = f"Downloaded {printable(path)} to {dest} ({binary_size(n)})."
    message.show_info(text)
    return text
