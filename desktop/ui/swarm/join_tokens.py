"""The Swarm join lines on the Nodes tab: masked until the user asks (a token lets a machine into
the swarm), each in a read-only field that a keyboard reaches, selects and copies from."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QPushButton

from desktop.presentation.swarm import mask_token
from desktop.ui.widgets.plain_text import plain_tooltip

ROLES = ("worker", "manager")


class JoinTokensPanel(QFrame):
    """Per role: the `docker swarm join` line, Show token (Hide token once shown) and Copy (the exact
    line, whether or not it is shown)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("joinTokens")
        self.setAccessibleName("Join tokens")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._tokens = None
        self.revealed: set[str] = set()
        self.fields: dict[str, QLineEdit] = {}
        self.show_buttons: dict[str, QPushButton] = {}
        self.copy_buttons: dict[str, QPushButton] = {}
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        grid = QGridLayout(self)
        # Made in reading order, so Tab goes field, Show, Copy, then the next role's.
        for i, role in enumerate(ROLES):
            title = QLabel(f"Add a {role}: run this on that machine")
            field = QLineEdit()
            field.setObjectName(f"joinLine_{role}")
            field.setReadOnly(True)
            field.setFont(mono)
            field.setAccessibleName(f"Command that adds a {role}")
            title.setBuddy(field)
            show = QPushButton("Show token")
            show.setObjectName(f"showToken_{role}")
            show.setAccessibleName(f"Show the {role} token")
            show.clicked.connect(lambda _=False, r=role: self.toggle(r))
            copy = QPushButton("Copy")
            copy.setObjectName(f"copyJoin_{role}")
            copy.setAccessibleName(f"Copy the command that adds a {role}")
            copy.setToolTip("Copy the exact command, token included, to the clipboard")
            copy.clicked.connect(lambda _=False, r=role: self.copy(r))
            grid.addWidget(title, 2 * i, 0, 1, 3)
            grid.addWidget(field, 2 * i + 1, 0)
            grid.addWidget(show, 2 * i + 1, 1)
            grid.addWidget(copy, 2 * i + 1, 2)
            self.fields[role], self.show_buttons[role], self.copy_buttons[role] = field, show, copy
        grid.setColumnStretch(0, 1)

    def set_tokens(self, tokens) -> None:
        self._tokens = tokens
        self.revealed = set()
        self._render()

    def line(self, role: str) -> str:
        """What is on screen for `role` (the exact command once revealed)."""
        t = self._tokens
        if t is None:
            return ""
        if role in self.revealed:
            return t.join_command(role)
        token = t.manager if role == "manager" else t.worker
        return f"docker swarm join --token {mask_token(token)} {t.manager_addr}"

    def text(self) -> str:
        """Every line on screen."""
        return "\n".join(self.fields[r].text() for r in ROLES)

    def reveal(self, role: str) -> None:
        self.revealed.add(role)
        self._render()

    def toggle(self, role: str) -> None:
        self.revealed ^= {role}
        self._render()

    def copy(self, role: str) -> None:
        if self._tokens is not None:
            QGuiApplication.clipboard().setText(self._tokens.join_command(role))

    def _render(self) -> None:
        for role in ROLES:
            field, shown = self.fields[role], role in self.revealed
            field.setText(self.line(role))
            field.setCursorPosition(0)  # the command's start; the field scrolls to its end
            field.setToolTip(plain_tooltip(field.text()))
            self.show_buttons[role].setText("Hide token" if shown else "Show token")
            self.show_buttons[role].setAccessibleName(f"{'Hide' if shown else 'Show'} the {role} token")
