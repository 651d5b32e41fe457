"""How the engine connection shows: status-bar label, lost-connection banner, no-engine page."""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from desktop.state.connection import CONNECTED, CONNECTING, RECONNECTING, UNREACHABLE, ConnectionState
from desktop.ui.widgets.plain_text import plain_tooltip
from desktop.ui.widgets.palette_sheet import set_sheet

DOT = {CONNECTED: "#2e9d4f", CONNECTING: "#c48a00", RECONNECTING: "#c48a00", UNREACHABLE: "#c8372d"}


def status_text(s: ConnectionState) -> str:
    if s.state == CONNECTED and s.info:
        i = s.info
        return f"Engine {i.version} ({i.os_type}/{i.arch}, {i.ncpu} CPUs) at {s.endpoint} — connected"
    if s.state == CONNECTING:
        return "Connecting to the engine…"
    if s.state == RECONNECTING:
        return f"Engine at {s.endpoint} lost — reconnecting…"
    return "No engine — retrying…"


class EngineStatusLabel(QLabel):
    """The status bar's engine line. On a narrow window it is cut short rather than widening the
    window; its tooltip always holds the whole sentence."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("engineStatus")
        self.setAccessibleName("Engine status")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()  # rich text: each ask lays the sentence out
        return QSize(min(hint.width(), 160), hint.height())

    def show_state(self, s: ConnectionState) -> None:
        self.setText(f"<span style='color:{DOT[s.state]}'>●</span> {html.escape(status_text(s))}")
        self.setToolTip(plain_tooltip(s.message or status_text(s)))


class EngineLostBanner(QFrame):
    """Shown while a once-connected engine is away; the data below is stale and greyed."""

    retry_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("engineLostBanner")
        set_sheet(self, "#engineLostBanner { background: #fff4d6; border-bottom: 1px solid #e6c86e; }"
                        " QLabel { color: #5c4400; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # holds the engine's own error text
        retry = QPushButton("Retry now")
        retry.setObjectName("retryButton")
        retry.setToolTip("Try to reach the engine again now")
        retry.clicked.connect(self.retry_requested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(retry)
        self.hide()

    def show_state(self, s: ConnectionState) -> None:
        if s.state == CONNECTED and s.lost:
            names = ", ".join(s.lost)
            self.label.setText(f"Engine{'s' if len(s.lost) > 1 else ''} {names} not reachable; "
                               "the others are live. Retrying on its own.")
            self.show()
        elif s.state == RECONNECTING:
            self.label.setText(
                f"Lost the connection to the engine at {s.endpoint}. {s.message} "
                "Showing the last known state; actions are disabled until it is back. Reconnecting…")
            self.show()
        elif s.state == CONNECTED and not s.loaded and self.isVisibleTo(self.parentWidget()):
            # Back, but the rows below are still the old ones until the fresh list arrives.
            self.label.setText(f"Reconnected to the engine at {s.endpoint}; bringing the list up to date…")
        else:
            self.hide()


class NoEnginePage(QWidget):
    """Shown when no engine has answered since the app started."""

    retry_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("noEnginePage")
        head = QLabel("No container engine is running")
        set_sheet(head, "font-size: 18pt; font-weight: 600;")
        self.body = QLabel()
        self.body.setObjectName("noEngineDetails")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        retry = QPushButton("Retry now")
        retry.setObjectName("retryButton")
        retry.setToolTip("Try every endpoint again now")
        retry.clicked.connect(self.retry_requested)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(48, 48, 48, 48)
        lay.addWidget(head)
        # The bundled VM's one-click start goes here, above the details, when the app has one.
        self._offer_slot = QVBoxLayout()
        lay.addLayout(self._offer_slot)
        lay.addWidget(self.body)
        buttons = QHBoxLayout()
        buttons.addWidget(retry)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        lay.addStretch(1)
        self.vm_offer: QWidget | None = None

    def set_vm_offer(self, widget: QWidget) -> None:
        """Show the bundled VM's start (its button becomes this page's main action)."""
        self.vm_offer = widget
        self._offer_slot.addWidget(widget)

    def show_state(self, s: ConnectionState) -> None:
        tried = "".join(f"<li><code>{html.escape(t)}</code></li>" for t in s.tried) or "<li>(none yet)</li>"
        self.body.setText(
            "<p>Pilothouse could not reach a Docker engine at any of these endpoints:</p>"
            f"<ul>{tried}</ul>"
            f"<p style='color:#8a1f14'>{html.escape(s.message)}</p>"
            "<p><b>How to fix it</b></p><ul>"
            "<li>Start Docker: <code>sudo systemctl start docker</code> on Linux, or open Docker Desktop, "
            "Colima (<code>colima start</code>), OrbStack or Podman (<code>podman machine start</code>).</li>"
            "<li>Point Pilothouse at an engine: set <code>DOCKER_HOST</code> "
            "(for example <code>unix:///run/user/1000/docker.sock</code>), choose a docker context "
            "(<code>docker context use NAME</code>), or run <code>pilothouse --host URL</code>.</li>"
            "<li>On macOS and Windows, start the bundled Linux VM: <code>pilothouse vm start</code>.</li>"
            "</ul><p>Pilothouse keeps retrying on its own and connects as soon as an engine answers.</p>")
