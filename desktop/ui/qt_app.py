"""The QApplication Pilothouse runs in: its names (settings, the desktop entry) and HiDPI policy."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication


def make_qapp() -> QApplication:
    """The running QApplication, or a new one, named for the desktop."""
    if QApplication.instance() is None:  # crisp at fractional HiDPI scales (Qt 6 scales always)
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    qapp = QApplication.instance() or QApplication(sys.argv)
    qapp.setApplicationName("Pilothouse")
    qapp.setOrganizationName("Pilothouse")
    qapp.setDesktopFileName("pilothouse")
    return qapp
