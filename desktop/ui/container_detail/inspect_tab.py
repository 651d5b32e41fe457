"""Placeholder."""
from PySide6.QtWidgets import QWidget


class InspectTab(QWidget):
    def __init__(self, client, container, parent=None) -> None:
        super().__init__(parent)
