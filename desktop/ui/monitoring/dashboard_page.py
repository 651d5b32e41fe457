"""The Dashboard page: the engine (identity, counts, live totals, top 5) and the host (psutil).

Everything live here costs something, so it runs only while the page is shown: the hub
streams every running container, the host monitor samples every second. Hidden, it stops.
"""

from __future__ import annotations

import html

import numpy as np

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget, QAbstractItemView, QHeaderView)

from desktop.presentation import stats as stats_text
from desktop.presentation.sizes import binary_size
from desktop.metrics.engine_overview import EngineOverview
from desktop.metrics.host import HostMonitor, HostSample, HostWatch
from desktop.state.connection import ConnectionStatus
from desktop.ui.widgets.live_graph import LiveGraph
from desktop.ui.widgets.palette_sheet import set_sheet


def _card(title: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName("dashCard")
    set_sheet(frame, "#dashCard { background: palette(base); border: 1px solid #d8dde3; border-radius: 6px; }")
    lay = QVBoxLayout(frame)
    lay.setContentsMargins(12, 10, 12, 10)
    head = QLabel(title)
    set_sheet(head, "font-weight: 600; font-size: 11pt; border: none;")
    lay.addWidget(head)
    return frame, lay


class TopTable(QTableWidget):
    """Top containers by one figure: name and value, five rows."""

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(5, 2, parent)
        self.setHorizontalHeaderLabels(["Container", title])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setFixedHeight(self.horizontalHeader().sizeHint().height() + 5 * self.verticalHeader().defaultSectionSize() + 4)
        self.setAccessibleName(f"Top containers by {title}")

    def show_rows(self, rows: list[tuple[str, str]]) -> None:
        for r in range(5):
            name, value = rows[r] if r < len(rows) else ("", "")
            for col, text in ((0, name), (1, value)):
                item = self.item(r, col)
                if item is None:
                    item = QTableWidgetItem()
                    if col == 1:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.setItem(r, col, item)
                if item.text() != text:
                    item.setText(text)

    def rows(self) -> list[tuple[str, str]]:
        return [(self.item(r, 0).text(), self.item(r, 1).text()) for r in range(5)
                if self.item(r, 0) is not None and self.item(r, 0).text()]


class DashboardPage(QWidget):
    """Sidebar page `dashboard`."""

    def __init__(self, overview: EngineOverview, host: HostMonitor, status: ConnectionStatus, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardPage")
        self.overview, self.host, self.status = overview, host, status
        self._host_watch: HostWatch | None = None

        title = QLabel("Dashboard")
        set_sheet(title, "font-size: 16pt; font-weight: 600;")
        # Several engines: which engine the figures are of (see set_source).
        self.source_label = QLabel()
        self.source_label.setObjectName("dashboardSource")
        set_sheet(self.source_label, "color: palette(placeholder-text);")
        self.source_label.hide()

        engine_card, el = _card("Engine")
        self.engine_label = QLabel()
        self.engine_label.setObjectName("engineFacts")
        self.engine_label.setTextFormat(Qt.TextFormat.RichText)
        set_sheet(self.engine_label, "border: none;")
        el.addWidget(self.engine_label)
        el.addStretch(1)
        counts_card, cl = _card("Objects")
        self.counts_label = QLabel()
        self.counts_label.setObjectName("engineCounts")
        self.counts_label.setTextFormat(Qt.TextFormat.RichText)
        set_sheet(self.counts_label, "border: none;")
        cl.addWidget(self.counts_label)
        cl.addStretch(1)
        top_row = QHBoxLayout()
        top_row.addWidget(engine_card, 3)
        top_row.addWidget(counts_card, 2)

        live_card, ll = _card("Running containers, live")
        self.totals_label = QLabel("Waiting for the first figures…")
        self.totals_label.setObjectName("containerTotals")
        set_sheet(self.totals_label, "border: none;")
        ll.addWidget(self.totals_label)
        self.total_cpu = LiveGraph("CPU, all containers", ("CPU",), stats_text.percent, y_min_range=5)
        self.total_mem = LiveGraph("Memory, all containers", ("used",), binary_size, y_min_range=1024 ** 2, binary=True)
        self.top_cpu = TopTable("CPU")
        self.top_mem = TopTable("Memory")
        g = QGridLayout()
        g.addWidget(self.total_cpu, 0, 0)
        g.addWidget(self.total_mem, 0, 1)
        g.addWidget(self.top_cpu, 1, 0)
        g.addWidget(self.top_mem, 1, 1)
        ll.addLayout(g)

        host_card, hl = _card("This computer")
        self.host_label = QLabel()
        self.host_label.setObjectName("hostFacts")
        set_sheet(self.host_label, "border: none;")
        hl.addWidget(self.host_label)
        self.host_cpu = LiveGraph("CPU", ("total",), stats_text.percent, y_min_range=5)
        self.host_cores = LiveGraph("CPU per core", (), stats_text.percent, y_min_range=5)
        self.host_mem = LiveGraph("Memory", ("memory", "swap"), binary_size, y_min_range=1024 ** 2, binary=True)
        self.host_disk = LiveGraph("Disk I/O", ("read", "written"), stats_text.rate, y_min_range=1024, binary=True)
        self.host_net = LiveGraph("Network", ("received", "sent"), stats_text.rate, y_min_range=1024, binary=True)
        hg = QGridLayout()
        for i, w in enumerate((self.host_cpu, self.host_cores, self.host_mem, self.host_disk, self.host_net)):
            hg.addWidget(w, i // 2, i % 2)
        hl.addLayout(hg)
        self.graphs = (self.total_cpu, self.total_mem, self.host_cpu, self.host_cores, self.host_mem,
                       self.host_disk, self.host_net)
        for gr in self.graphs:
            gr.setMinimumHeight(170)

        body = QWidget()
        bl = QVBoxLayout(body)
        bl.addWidget(title)
        bl.addWidget(self.source_label)
        bl.addLayout(top_row)
        bl.addWidget(live_card)
        bl.addWidget(host_card)
        bl.addStretch(1)
        self._body_layout = bl
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(scroll)

        self._connect_source()
        self._show_facts()

    def add_card(self, widget: QWidget) -> None:
        """A card another feature contributes (the history's ranges), below the live ones."""
        self._body_layout.insertWidget(self._body_layout.count() - 1, widget)

    # -- which engine -------------------------------------------------------------------------------
    def _connect_source(self) -> None:
        self.overview.changed.connect(self._show_facts)
        self.overview.totals_changed.connect(self._on_overview_totals_changed)
        self.status.changed.connect(self._on_status_changed)

    def _on_status_changed(self, _state) -> None:
        self._show_facts()

    def set_source(self, overview: EngineOverview, status, caption: str = "") -> None:
        """Show another engine's figures (the engine switcher); `caption` says which engine it is."""
        self.source_label.setText(caption)
        self.source_label.setVisible(bool(caption))
        if overview is self.overview and status is self.status:
            return
        self.overview.changed.disconnect(self._show_facts)
        self.overview.totals_changed.disconnect(self._on_overview_totals_changed)
        self.status.changed.disconnect(self._on_status_changed)
        watching = self.overview.watching
        if watching:
            self.overview.unwatch()
        self.overview, self.status = overview, status
        self._connect_source()
        self.totals_label.setText("Waiting for the first figures…")
        self.top_cpu.show_rows([])
        self.top_mem.show_rows([])
        if watching or self.isVisible():
            overview.watch()
        if len(overview.totals):
            self._on_overview_totals_changed()
        else:  # no figures of this engine yet: no curves of the previous one
            empty = np.empty(0)
            self.total_cpu.set_series(empty, {})
            self.total_mem.set_series(empty, {})
        self._show_facts()

    # -- live only while shown ----------------------------------------------------------------------
    def showEvent(self, event) -> None:
        self.overview.watch()
        if self._host_watch is None:
            self._host_watch = self.host.subscribe(self._on_host_sample, detailed=True)
        self._show_facts()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self.release()
        super().hideEvent(event)

    def release(self) -> None:
        self.overview.unwatch()
        if self._host_watch is not None:
            self._host_watch.close()
            self._host_watch = None

    def set_engine_available(self, available: bool) -> None:
        self._show_facts()

    # -- engine -------------------------------------------------------------------------------------
    def _show_facts(self) -> None:
        info = self.status.current.info
        if info is None:
            self.engine_label.setText("Not connected to an engine.")
        else:
            rows = (("Version", f"{info.version} (API {info.api_version})"), ("OS", f"{info.os} ({info.os_type}/{info.arch})"),
                    ("Kernel", info.kernel), ("Storage driver", info.storage_driver),
                    ("CPUs", str(info.ncpu)), ("Memory", binary_size(info.mem_total)), ("Endpoint", info.endpoint))
            self.engine_label.setText("<table>" + "".join(
                f"<tr><td style='color:#6b7280; padding-right:12px'>{k}</td><td>{html.escape(v)}</td></tr>"
                for k, v in rows) + "</table>")
        c = self.overview.counts()

        def n(v):
            return "…" if v is None else str(v)
        self.counts_label.setText(
            "<table>"
            f"<tr><td style='color:#6b7280; padding-right:12px'>Running</td><td>{c.running}</td></tr>"
            f"<tr><td style='color:#6b7280'>Paused</td><td>{c.paused}</td></tr>"
            f"<tr><td style='color:#6b7280'>Stopped</td><td>{c.stopped}</td></tr>"
            f"<tr><td style='color:#6b7280'>Images</td><td>{n(c.images)}</td></tr>"
            f"<tr><td style='color:#6b7280'>Volumes</td><td>{n(c.volumes)}</td></tr></table>")

    def _on_overview_totals_changed(self) -> None:
        if not self.isVisible():
            return
        ring = self.overview.totals
        rows = ring.rows()
        t = rows[:, 0]
        self.total_cpu.set_series(t, {"CPU": rows[:, 1]})
        self.total_mem.set_series(t, {"used": rows[:, 2]})
        last = rows[-1]
        info = self.status.current.info
        cap = f" of {info.ncpu * 100}% ({info.ncpu} CPUs)" if info and info.ncpu else ""
        mem_cap = f" of {binary_size(info.mem_total)}" if info and info.mem_total else ""
        self.totals_label.setText(f"{int(last[3])} running containers: CPU {stats_text.percent(last[1])}{cap}, "
                                  f"memory {binary_size(last[2])}{mem_cap}")
        self.top_cpu.show_rows([(name, stats_text.percent(s.cpu_percent)) for name, s in self.overview.top(5, "cpu_percent")])
        self.top_mem.show_rows([(name, binary_size(s.mem_used)) for name, s in self.overview.top(5, "mem_used")])

    # -- host ---------------------------------------------------------------------------------------
    def _on_host_sample(self, s: HostSample) -> None:
        h = self.host.history
        if not len(h):
            return
        rows = h.rows()
        t = rows[:, 0]
        col = {name: rows[:, i] for i, name in enumerate(h.fields)}
        self.host_cpu.set_series(t, {"total": col["cpu_percent"]})
        pc = self.host.per_cpu_history
        if pc is not None:
            names = pc.fields[1:]
            if self.host_cores.names != names:
                self.host_cores.set_names(tuple(names))
            prow = pc.rows()
            self.host_cores.set_series(prow[:, 0], {n: prow[:, i + 1] for i, n in enumerate(names)})
        self.host_mem.set_series(t, {"memory": col["mem_used"], "swap": col["swap_used"]})
        self.host_disk.set_series(t, {"read": col["disk_read_rate"], "written": col["disk_write_rate"]})
        self.host_net.set_series(t, {"received": col["net_rx_rate"], "sent": col["net_tx_rate"]})
        disk = f", disk {binary_size(s.disk_used)} of {binary_size(s.disk_total)} used" if s.disk_total else ""
        swap = f", swap {binary_size(s.swap_used)} of {binary_size(s.swap_total)}" if s.swap_total else ""
        self.host_label.setText(f"{len(s.per_cpu)} CPUs at {stats_text.percent(s.cpu_percent)}, memory "
                                f"{binary_size(s.mem_used)} of {binary_size(s.mem_total)}{swap}{disk}")

