"""Status-bar summary like Docker Desktop's footer: engine state, engine CPU and memory.

For a local engine (UNIX socket or named pipe) the engine's host is this computer, so its
CPU and memory come from a light psutil sample every few seconds. For a remote engine the
only honest figures are the containers' own, known while the dashboard streams them.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from desktop.metrics import units
from desktop.metrics.engine_overview import EngineOverview
from desktop.metrics.host import HostMonitor, HostSample, HostWatch
from desktop.state.connection import CONNECTED, ConnectionState, ConnectionStatus
from desktop.ui.engine_status import DOT

STATE_WORDS = {"connected": "Engine running", "connecting": "Engine starting", "reconnecting": "Engine lost",
               "unreachable": "No engine"}


def is_local(endpoint: str) -> bool:
    return endpoint.startswith(("unix://", "npipe://")) or endpoint.startswith("/")


class EngineFooter(QLabel):
    """Permanent status-bar widget; samples the host only while it is shown."""

    def __init__(self, status: ConnectionStatus, host: HostMonitor, overview: EngineOverview, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("engineFooter")
        self.setAccessibleName("Engine resources")
        self.status, self.host, self.overview = status, host, overview
        self._watch: HostWatch | None = None
        status.changed.connect(self._on_status_changed)
        overview.totals_changed.connect(self.refresh)
        self.refresh()

    def showEvent(self, event) -> None:
        self._follow_host()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self.release()
        super().hideEvent(event)

    def release(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def _follow_host(self) -> None:
        s = self.status.current
        want = self.isVisible() and s.state == CONNECTED and is_local(s.endpoint)
        if want and self._watch is None:
            self._watch = self.host.subscribe(self._on_host_sample, detailed=False)
        elif not want:
            self.release()

    def _on_status_changed(self, s: ConnectionState) -> None:
        self._follow_host()
        self.refresh()

    def _on_host_sample(self, sample: HostSample) -> None:
        self.refresh()

    def refresh(self) -> None:
        s = self.status.current
        parts = [f"<span style='color:{DOT[s.state]}'>●</span> {STATE_WORDS.get(s.state, s.state)}"]
        tip = "The engine's host is this computer: its CPU and memory."
        if s.state == CONNECTED:
            h = self.host.latest if self._watch is not None else None
            if h is not None:
                parts.append(f"CPU {units.percent(h.cpu_percent)}")
                parts.append(f"RAM {units.size(h.mem_used)} / {units.size(h.mem_total)}")
            elif self.overview.watching and len(self.overview.totals):
                last = self.overview.totals.last()
                parts.append(f"containers CPU {units.percent(last[1])}")
                parts.append(f"RAM {units.size(last[2])}")
                tip = "Remote engine: the running containers' total, while the dashboard is open."
        text = "&nbsp;&nbsp;·&nbsp;&nbsp;".join(parts)
        if text != self.text():  # an unchanged label must not cost a status-bar repaint
            self.setText(text)
            self.setToolTip(tip)
