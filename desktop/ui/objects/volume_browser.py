"""Browse a volume's files: folders open on double-click, download and upload one file at a time."""

from __future__ import annotations

import posixpath
import time

from PySide6.QtWidgets import (QDialog, QHBoxLayout, QHeaderView, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)

from desktop.engine.errors import EngineError
from desktop.engine.specs import SpecError
from desktop.engine.volume_files import LIST_BYTE_LIMIT, VolumeEntry, VolumeFiles
from desktop.presentation.sizes import human_size
from desktop.presentation.containers import age
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.message_bar import MessageBar
from desktop.engine.tar_safety import printable
from desktop.ui.widgets.dialogs import choose_path
from desktop.ui.widgets.plain_text import plain_label


class VolumeBrowser(QDialog):
    def __init__(self, parent, files: VolumeFiles, volume: str) -> None:
        super().__init__(parent)
        self.setObjectName("volumeBrowser")
        self.setWindowTitle(f"Files in {volume}")
        self.resize(720, 460)
        self.files, self.volume = files, volume
        self.path = "/"
        self.entries: list[VolumeEntry] = []
        self.tasks = TaskSet()
        self.where = plain_label("/")
        self.where.setObjectName("volumePath")
        up = QPushButton("Up")
        up.setObjectName("upButton")
        up.clicked.connect(lambda: self.tasks.spawn(self.load(posixpath.dirname(self.path.rstrip("/")) or "/")))
        self.download_button = QPushButton("Download…")
        self.download_button.setObjectName("downloadButton")
        self.download_button.clicked.connect(lambda: self.download())
        self.upload_button = QPushButton("Upload…")
        self.upload_button.setObjectName("uploadButton")
        self.upload_button.clicked.connect(lambda: self.upload())
        self.table = QTableWidget(0, 3)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.table.setObjectName("volumeFiles")
        self.table.setHorizontalHeaderLabels(["Name", "Size", "Modified"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.cellDoubleClicked.connect(self._on_table_double_clicked)
        self.message = MessageBar(self)
        bar = QHBoxLayout()
        bar.addWidget(up)
        bar.addWidget(self.where, 1)
        bar.addWidget(self.download_button)
        bar.addWidget(self.upload_button)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.message)
        lay.addWidget(self.table, 1)

    async def _guard(self, coro):
        try:
            return await coro
        except (EngineError, SpecError) as err:
            self.message.show_error(str(err))
            return None

    async def load(self, path: str) -> None:
        entries = await self._guard(self.files.list_dir(self.volume, path))
        if entries is None:
            return
        self.path, self.entries = path, entries
        self.where.setText(f"{self.volume}:{path}")
        if not entries.complete:
            self.message.show_info(f"Only part of this folder is listed: it holds more than "
                                   f"{human_size(LIST_BYTE_LIMIT)}. Export the volume to get everything.")
        else:
            self.message.hide()
        self.table.setRowCount(len(entries))
        now = time.time()
        for r, e in enumerate(entries):
            for c, text in enumerate((printable(e.name) + ("/" if e.is_dir else ""), "" if e.is_dir else human_size(e.size),
                                      age(e.mtime, now))):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def _on_table_double_clicked(self, row: int, _col: int) -> None:
        e = self.entries[row]
        if e.is_dir:
            self.tasks.spawn(self.load(e.path))

    def selected_entry(self) -> VolumeEntry | None:
        r = self.table.currentRow()
        return self.entries[r] if 0 <= r < len(self.entries) else None

    def download(self, dest: str | None = None):
        e = self.selected_entry()
        if e is None or e.is_dir:
            self.message.show_error("Choose a file to download (export the volume to get a whole folder).")
            return None
        if dest is None:
            choose_path(self, f"Download {printable(e.name)}", "save", self.download, suggested=printable(e.name))
            return None  # downloaded once a path is chosen
        if not dest:
            return None

        async def go():
            out = await self._guard(self.files.download(self.volume, e.path, dest))
            if out:
                self.message.show_info(f"Downloaded {printable(e.name)} to {out}.")
        return self.tasks.spawn(go())

    def upload(self, src: str | None = None):
        if src is None:
            choose_path(self, f"Upload into {self.path}", "open", self.upload)
            return None  # uploaded once a file is chosen
        if not src:
            return None

        async def go():
            where = await self._guard(self.files.upload(self.volume, self.path, src))
            if where:
                self.message.show_info(f"Uploaded to {where}.")
                await self.load(self.path)
        return self.tasks.spawn(go())
