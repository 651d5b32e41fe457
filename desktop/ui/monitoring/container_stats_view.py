"""The Stats tab of a container: live CPU, memory, network and block I/O graphs, CSV export.

Standalone so the container detail page can hold it as a tab:
`tabs.addTab(ContainerStatsView(hub, container_id), "Stats")`. It streams only while shown.
"""

from __future__ import annotations

import asyncio
import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from desktop.presentation import stats as stats_text
from desktop.presentation.sizes import binary_size
from desktop.metrics.ring_buffer import write_csv
from desktop.metrics.stats_hub import StatsHub, Subscription
from desktop.ui.widgets.live_graph import LiveGraph
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.dialogs import open_file_dialog


class ContainerStatsView(QWidget):
    """Live graphs of one container's stats, 1 s resolution, the last 15 minutes."""

    exported = Signal(str, int)  # path, rows written
    export_failed = Signal(str)  # a sentence

    def __init__(self, hub: StatsHub, container_id: str, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("containerStatsView")
        self.hub, self.container_id = hub, container_id
        self._sub: Subscription | None = None
        self._export_task: asyncio.Task | None = None

        self.status = plain_label()
        self.status.setObjectName("statsStatus")
        self.status.setWordWrap(True)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("exportStatsButton")
        self.export_button.setToolTip("Save the last 15 minutes of figures as a CSV file")
        self.export_button.clicked.connect(self._on_export_clicked)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.export_button)

        self.cpu = LiveGraph("CPU", ("CPU",), stats_text.percent, y_min_range=5)
        self.memory = LiveGraph("Memory", ("used",), binary_size, y_min_range=1024 ** 2, binary=True)
        self.network = LiveGraph("Network", ("received", "sent"), stats_text.rate, y_min_range=1024, binary=True)
        self.block = LiveGraph("Block I/O", ("read", "written"), stats_text.rate, y_min_range=1024, binary=True)
        self.graphs = (self.cpu, self.memory, self.network, self.block)
        grid = QGridLayout()
        grid.setSpacing(12)
        for i, g in enumerate(self.graphs):
            grid.addWidget(g, i // 2, i % 2)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(grid, 1)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(50)
        self._redraw_timer.timeout.connect(self._redraw)
        self._redraw()

    # -- streaming only while shown ---------------------------------------------------------------
    def showEvent(self, event) -> None:
        if self._sub is None:
            self._sub = self.hub.subscribe(self.container_id, self._on_sample)
        self._redraw()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self.release()
        super().hideEvent(event)

    def release(self) -> None:
        """Give the stream back (also call before deleting the widget)."""
        if self._sub is not None:
            self._sub.close()
            self._sub = None

    def closeEvent(self, event) -> None:
        self.release()
        super().closeEvent(event)

    def _on_sample(self, sample) -> None:
        # Samples come once a second but may bunch up (a busy loop): redraw once per burst.
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _redraw(self) -> None:
        ring = self.hub.history(self.container_id)
        c = self.hub.store.get(self.container_id)
        if c is None:
            self.status.setText("This container no longer exists.")
        elif c.state != "running":
            self.status.setText(f"The container is {c.state}: no live figures. Start it to see its stats."
                                if ring is None or not len(ring) else
                                f"The container is {c.state}; showing its figures up to then.")
        elif ring is None or not len(ring):
            self.status.setText("Waiting for the first figures…")
        if ring is None or not len(ring):
            empty = {}
            for g in self.graphs:
                g.set_series(self._empty(), empty, now=time.time())
            self.export_button.setEnabled(False)
            return
        rows = ring.rows()
        t = rows[:, 0]
        col = {name: rows[:, i] for i, name in enumerate(ring.fields)}
        last = self.hub.latest(self.container_id)
        if last is not None and c is not None and c.state == "running":
            self.status.setText(f"{stats_text.percent(last.cpu_percent)} CPU · {stats_text.memory_tooltip(last)} · "
                                f"network ↓{stats_text.rate(last.net_rx_rate)} ↑{stats_text.rate(last.net_tx_rate)}")
        now = t[-1] if c is not None and c.state != "running" else None
        self.cpu.set_series(t, {"CPU": col["cpu_percent"]}, now)
        self.memory.set_series(t, {"used": col["mem_used"]}, now)
        self.network.set_series(t, {"received": col["net_rx_rate"], "sent": col["net_tx_rate"]}, now)
        self.block.set_series(t, {"read": col["blk_read_rate"], "written": col["blk_write_rate"]}, now)
        self.export_button.setEnabled(True)

    @staticmethod
    def _empty():
        import numpy as np

        return np.zeros(0)

    # -- export -------------------------------------------------------------------------------------
    def _on_export_clicked(self) -> None:
        c = self.hub.store.get(self.container_id)
        name = c.name if c else self.container_id[:12]
        dlg = QFileDialog(self, "Export stats history", f"{name}-stats.csv", "CSV files (*.csv)")
        dlg.setObjectName("exportStatsDialog")
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.setDefaultSuffix("csv")
        dlg.fileSelected.connect(self.export_csv)
        open_file_dialog(dlg)  # not exec(): the app keeps running while the dialog is up

    def export_csv(self, path: str) -> asyncio.Task | None:
        """Write the history to `path` off the UI thread; emits `exported` or `export_failed`."""
        ring = self.hub.history(self.container_id)
        if ring is None or not len(ring):
            self.export_failed.emit("There are no figures to export yet.")
            return None
        snapshot = _Snapshot(ring.fields, ring.rows())

        async def write() -> None:
            try:
                n = await asyncio.get_running_loop().run_in_executor(None, snapshot.write, path)
            except OSError as err:
                self.export_failed.emit(f"Could not write {path}: {err.strerror or err}.")
                return
            self.exported.emit(path, n)

        self._export_task = asyncio.ensure_future(write())
        return self._export_task


class _Snapshot:
    """Rows copied on the UI thread so the writer thread never sees the ring move."""

    def __init__(self, fields, rows) -> None:
        self.fields, self.rows = fields, rows

    def write(self, path: str) -> int:
        return write_csv(path, self.fields, self.rows)
