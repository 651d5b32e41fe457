"""Progress of pulls, pushes, builds and file transfers, repainted at most 30 times a second.

Engine progress arrives far faster than anyone can read (hundreds of messages a second on a
big pull): the folding into LayerProgress/BuildProgress happens per message (cheap, pure), the
widgets are refreshed by a timer only when something changed.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QHeaderView, QLabel, QPlainTextEdit, QProgressBar, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from desktop.engine.progress import BuildProgress, LayerProgress
from desktop.presentation.sizes import human_size
from desktop.ui.widgets.palette_sheet import set_sheet

REPAINT_MS = 34  # ≤ 30 repaints per second


class ProgressPanel(QWidget):
    """Shows one of: layers (pull/push), a build log with steps, or bytes transferred."""

    def __init__(self, mode: str = "layers", parent=None) -> None:
        super().__init__(parent)
        self.mode = mode
        self.layers = LayerProgress()
        self.build = BuildProgress()
        self.bytes_done = 0
        self.bytes_total = 0
        self.repaints = 0
        self._dirty = False
        self._pending_lines: list[str] = []
        self.caption = QLabel()
        self.caption.setObjectName("progressCaption")
        self.caption.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setObjectName("overallProgress")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setFormat("%p%")
        self.table = QTableWidget(0, 3)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.table.setObjectName("layerTable")
        self.table.setHorizontalHeaderLabels(["Layer", "Status", "Progress"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(140)
        self.log = QPlainTextEdit()
        self.log.setObjectName("buildLog")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setMinimumHeight(200)
        set_sheet(self.log, "font-family: monospace;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.caption)
        lay.addWidget(self.bar)
        lay.addWidget(self.table)
        lay.addWidget(self.log)
        self.table.setVisible(mode == "layers")
        self.log.setVisible(mode == "build")
        self._timer = QTimer(self)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self._repaint)
        self.hide()

    def start(self, caption: str) -> None:
        """Begin a (new) transfer: earlier attempts' state is dropped."""
        self.layers, self.build = LayerProgress(), BuildProgress()
        self.bytes_done, self._pending_lines, self._dirty = 0, [], False
        self.table.setRowCount(0)
        self.caption.setText(caption)
        self.show()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._repaint()

    def show_failed_step(self, step_line: str) -> None:
        """Select the failing step's line in the build log and scroll to it."""
        from PySide6.QtGui import QTextCursor, QTextDocument

        doc = self.log.document()
        found = doc.find(step_line, 0, QTextDocument.FindFlag(0))
        if not found.isNull():
            found.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
            self.log.setTextCursor(found)
            self.log.centerCursor()

    # -- feeding (cheap; called per message) ----------------------------------------------------------
    def feed_layers(self, item: dict) -> None:
        self.layers.feed(item)
        self._dirty = True

    def feed_build(self, item: dict) -> None:
        self._pending_lines.extend(self.build.feed(item))
        self._dirty = True

    def feed_bytes(self, item) -> None:
        if isinstance(item, int):
            self.bytes_done = item
            self._dirty = True

    # -- painting (timer) ---------------------------------------------------------------------------
    def _repaint(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self.repaints += 1
        if self.mode == "layers":
            self.bar.setValue(int(self.layers.fraction * 1000))
            layers = list(self.layers.layers.values())
            if self.table.rowCount() != len(layers):
                self.table.setRowCount(len(layers))
            for r, layer in enumerate(layers):
                prog = (f"{human_size(layer.current)} / {human_size(layer.total)}" if layer.total else "")
                for c, text in enumerate((layer.id, layer.status, prog)):
                    it = self.table.item(r, c)
                    if it is None:
                        self.table.setItem(r, c, QTableWidgetItem(text))
                    elif it.text() != text:
                        it.setText(text)
            if self.layers.status:
                self.caption.setText(self.layers.status)
        elif self.mode == "build":
            self.bar.setValue(int(self.build.fraction * 1000))
            if self.build.steps:
                self.bar.setFormat(f"Step {self.build.step}/{self.build.steps}")
            if self._pending_lines:
                self.log.appendPlainText("\n".join(self._pending_lines))
                self._pending_lines = []
        else:
            if self.bytes_total:
                self.bar.setValue(int(min(self.bytes_done / self.bytes_total, 1.0) * 1000))
            else:
                self.bar.setRange(0, 0)  # busy indicator: total unknown
            self.bar.setFormat(human_size(self.bytes_done))
            self.caption.setText(f"{human_size(self.bytes_done)} transferred")
