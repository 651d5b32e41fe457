"""The Terminal tab: a shell in the container through ExecSession, drawn by TerminalView."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError
from desktop.engine.exec_session import ExecSession
from desktop.engine.records import Container
from desktop.state.terminal_process import TerminalEmulatorProcess
from desktop.ui.async_tasks import TaskSet
from desktop.ui.containers.detail.terminal_view import TerminalView
from desktop.ui.widgets.plain_text import plain_label

SHELLS = (("Default shell (bash, else sh)", ""), ("/bin/sh", "/bin/sh"), ("/bin/bash", "/bin/bash"),
          ("/bin/ash", "/bin/ash"), ("/bin/zsh", "/bin/zsh"))


class TerminalTab(QWidget):
    """Signals: session_started(), session_ended(str)."""

    session_started = Signal()
    session_ended = Signal(str)

    def __init__(self, client: EngineClient, container: Container, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("terminalTab")
        self.client, self.container = client, container
        self.tasks = TaskSet()
        self.session: ExecSession | None = None
        self.state = container.state
        self.screen = TerminalEmulatorProcess()
        self.view = TerminalView(self.screen, client.foreground)
        self.view.typed.connect(self._on_view_typed)
        self.view.resized.connect(self._on_view_resized)
        self.shell = QComboBox()
        self.shell.setObjectName("terminalShell")
        self.shell.setEditable(True)
        self.shell.setAccessibleName("Shell")
        self.shell.setToolTip("The program to run; type another path if you need one")
        for label, value in SHELLS:
            self.shell.addItem(label, value)
        self.connect_button = QPushButton("Connect")
        self.connect_button.setObjectName("terminalConnect")
        self.connect_button.clicked.connect(self.connect_shell)
        self.status = plain_label("")
        self.status.setObjectName("terminalStatus")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Shell"))
        top.addWidget(self.shell)
        top.addWidget(self.connect_button)
        top.addWidget(self.status, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(100)
        self._resize_timer.timeout.connect(self._send_resize)
        self._died_reported = False
        self.view.repainted_check.connect(self._on_view_check)

    def _on_view_check(self) -> None:
        if getattr(self.screen, "died", False) and not self._died_reported:
            self._died_reported = True
            self.status.setText("The terminal emulator stopped unexpectedly; close and reopen this page.")

    def chosen_shell(self) -> str | None:
        text = self.shell.currentText().strip()
        idx = self.shell.findText(text)
        value = self.shell.itemData(idx) if idx >= 0 else text
        return value or None

    def activate(self) -> None:
        """First shown: connect if the container runs."""
        if self.state == "running":
            self.connect_shell()
        else:
            self.status.setText("The container is not running. Start it, then press Connect.")

    def set_container_state(self, state: str) -> None:
        self.state = state

    def connect_shell(self) -> None:
        """Start a shell (not named `connect`: in a subclass PySide would find QObject.connect)."""
        if self.session is not None and self.session.running:
            return
        self.tasks.spawn(self._connect())

    async def _connect(self) -> None:
        old, self.session = self.session, None
        if old is not None:
            await old.aclose()
        self.screen.resize(*self.screen.size)
        self.connect_button.setEnabled(False)
        self.status.setText("Connecting…")
        try:
            session = ExecSession(self.client, await self._exec_target(), shell=self.chosen_shell(),
                                  on_output=self.screen.feed, on_exit=self._on_session_exit)
            self.screen.set_responder(lambda s: session.write(s.encode()))
            cols, rows = self.screen.size
            await session.start(cols, rows)
        except EngineError as err:
            self.status.setText(str(err))
            self.connect_button.setEnabled(True)
            self.connect_button.setText("Connect")
            return
        self.session = session
        self.status.setText(f"Connected: {' '.join(session.command)}")
        self.connect_button.setText("Reconnect")
        self.connect_button.setEnabled(True)
        if self.view.isVisible():  # a tab the user has left must not take the keyboard from another
            self.view.setFocus()
        self.session_started.emit()

    async def _exec_target(self) -> str:
        """The container the shell runs in (a debug shell runs in a helper beside this one)."""
        return self.container.id

    def _on_session_exit(self, message: str) -> None:
        self.status.setText(message + " Press Reconnect for a new session.")
        self.connect_button.setEnabled(True)
        self.session_ended.emit(message)

    def _on_view_typed(self, data: bytes) -> None:
        if self.session is not None and self.session.running:
            self.session.write(data)

    def _on_view_resized(self, cols: int, rows: int) -> None:
        self._resize_timer.start()

    def _send_resize(self) -> None:
        if self.session is not None and self.session.running:
            cols, rows = self.screen.size
            self.tasks.spawn(self.session.resize(cols, rows))

    async def aclose(self) -> None:
        try:
            self.view.stop()
        except RuntimeError:
            pass
        if self.session is not None:
            await self.session.aclose()
        await self.tasks.cancel_all()
        self.screen.close()
