"""A persistent warning while an engine is reached over plain, unencrypted tcp://."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel

from desktop.ui.widgets.palette_sheet import set_sheet


class UnencryptedEngineBanner(QFrame):
    """Stays visible as long as such an engine is configured: there is no dismissing a risk."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("unencryptedEngineBanner")
        set_sheet(self, "#unencryptedEngineBanner { background: #fde2e1; border-bottom: 1px solid #e0a3a0; }"
                        " QLabel { color: #6b1410; }")
        self.label = QLabel()
        self.label.setObjectName("unencryptedEngineText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # engine addresses are not markup
        self.label.setWordWrap(True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.addWidget(self.label, 1)
        self.hide()

    def show_engines(self, names: list[str]) -> None:
        if not names:
            self.hide()
            return
        which = ", ".join(names)
        self.label.setText(
            f"Unencrypted engine: {which} is reached over plain tcp:// without TLS. Anyone on the network "
            "path can read and change this traffic, registry passwords included, and anyone who can reach "
            "the port controls that host. Use TLS (DOCKER_TLS_VERIFY, a context with certificates) or ssh://.")
        self.show()
