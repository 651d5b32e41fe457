"""An inline message strip: progress and outcomes in sentences, errors in red, dismissable."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QToolButton

from desktop.ui.widgets.palette_sheet import set_sheet


class MessageBar(QFrame):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setObjectName("messageText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # engine errors are text, not markup
        self.label.setTextInteractionFlags(self.label.textInteractionFlags() | self.label.textInteractionFlags().TextSelectableByMouse)
        # Error or not is said by an icon and the name a screen reader reads, not by colour alone.
        self.kind_icon = QLabel()
        self.kind_icon.setObjectName("messageKind")
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss message")
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(self.kind_icon, 0, Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.is_error = False
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def _show_kind(self, error: bool) -> None:
        self.is_error = error
        pixmap = QStyle.StandardPixmap.SP_MessageBoxCritical if error else QStyle.StandardPixmap.SP_MessageBoxInformation
        size = self.label.fontMetrics().height()
        self.kind_icon.setPixmap(self.style().standardIcon(pixmap).pixmap(size, size))
        self.kind_icon.setAccessibleName("Error" if error else "Information")
        self.setAccessibleName("Error message" if error else "Message")

    def show_info(self, text: str) -> None:
        self._show_kind(False)
        set_sheet(self, "MessageBar { background: #e8f0fa; border: 1px solid #b8cde6; border-radius: 4px; }"
                        " QLabel { color: #1d3b5c; }")
        self.label.setText(text)
        self.show()

    def show_error(self, text: str) -> None:
        self._show_kind(True)
        set_sheet(self, "MessageBar { background: #fdecea; border: 1px solid #f1b5ae; border-radius: 4px; }"
                        " QLabel { color: #8a1f14; }")
        self.label.setText(text)
        self.show()
