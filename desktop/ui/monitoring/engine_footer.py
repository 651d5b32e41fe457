"""Status-bar summary like Docker Desktop's footer: engine state, engine CPU and memory.

For a local engine (UNIX socket or named pipe) the engine's host is this computer, so its
CPU and memory come from a light psutil sample every few seconds. For a remote engine the
only honest figures are the containers' own, known while the dashboard streams them.

With several engines the footer follows the engine switcher, like the dashboard (the primary
engine under "All engines"), and names the engine it describes; its tooltip lists every
engine's state. One engine's CPU and memory is what Docker Desktop's footer shows, and a row
of per-engine figures would not fit a status bar.
"""

from __future__ import annotations

import html

from collections.abc import Callable

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel

from desktop.presentation import stats as stats_text
from desktop.presentation.sizes import binary_size
from desktop.metrics.engine_overview import EngineOverview
from desktop.metrics.host import HostMonitor, HostSample, HostWatch
from desktop.state.connection import CONNECTED, ConnectionState, ConnectionStatus
from desktop.ui.engines.engine_status import DOT

NOTE_DOT = "#8a8a8a"  # an engine another feature says is resting (a sleeping VM)
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
        self.engine_name = ""  # set with several engines: the footer says which one it describes
        self._engine_states: Callable[[], list[tuple[str, str]]] | None = None
        self._tip = ""
        self._notes: dict[int, str] = {}  # id(ConnectionStatus) -> a feature's word on it ("sleeping")
        self._watch: HostWatch | None = None
        status.changed.connect(self._on_status_changed)
        overview.totals_changed.connect(self.refresh)
        self.refresh()

    def set_source(self, status: ConnectionStatus, overview: EngineOverview, engine_name: str = "",
                   engine_states: "Callable[[], list[tuple[str, str]]] | None" = None) -> None:
        """Describe another engine. `engine_name`: shown when several engines are followed;
        `engine_states()`: (name, state) of every engine, for the tooltip."""
        if status is not self.status:
            self.status.changed.disconnect(self._on_status_changed)
            self.status = status
            status.changed.connect(self._on_status_changed)
            self.release()  # another engine may live on another host
        if overview is not self.overview:
            self.overview.totals_changed.disconnect(self.refresh)
            self.overview = overview
            overview.totals_changed.connect(self.refresh)
        self.engine_name, self._engine_states = engine_name, engine_states
        self._follow_host()
        self.refresh()

    def set_note(self, status: ConnectionStatus, note: str) -> None:
        """Show `note` instead of "running" while `status`'s engine is connected ("" clears it)."""
        if note:
            self._notes[id(status)] = note
        else:
            self._notes.pop(id(status), None)
        self.refresh()

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:  # every engine's state, as of now
            self.setToolTip(self._tooltip())
        return super().event(event)

    def _tooltip(self) -> str:
        tip = self._tip
        states = self._engine_states() if self._engine_states is not None else []
        if len(states) > 1:
            tip += "\n\nEngines:\n" + "\n".join(f"{name}: {STATE_WORDS.get(st, st).lower()}" for name, st in states)
        return tip

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
        words = STATE_WORDS.get(s.state, s.state)
        note = self._notes.get(id(self.status)) if s.state == CONNECTED else None
        if note:
            words = f"Engine {note}"
        if self.engine_name:
            words = f"{html.escape(self.engine_name)}: {words}"
        parts = [f"<span style='color:{NOTE_DOT if note else DOT[s.state]}'>●</span> {words}"]
        tip = "The engine's host is this computer: its CPU and memory."
        if note == "sleeping":
            tip = ("The VM is asleep: its CPUs are stopped and its free memory is back with this computer. "
                   "The next engine request wakes it (or Wake on the Virtual machine page).")
        if s.state == CONNECTED:
            h = self.host.latest if self._watch is not None else None
            if h is not None:
                parts.append(f"CPU {stats_text.percent(h.cpu_percent)}")
                parts.append(f"RAM {binary_size(h.mem_used)} / {binary_size(h.mem_total)}")
            elif self.overview.watching and len(self.overview.totals):
                last = self.overview.totals.last()
                parts.append(f"containers CPU {stats_text.percent(last[1])}")
                parts.append(f"RAM {binary_size(last[2])}")
                tip = "Remote engine: the running containers' total, while the dashboard is open."
        text = "&nbsp;&nbsp;·&nbsp;&nbsp;".join(parts)
        self._tip = tip
        if text != self.text():  # an unchanged label must not cost a status-bar repaint
            self.setText(text)
            self.setToolTip(self._tooltip())
