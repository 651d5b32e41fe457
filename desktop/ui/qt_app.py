"""The QApplication Pilothouse runs in: its names (settings, the desktop entry) and HiDPI policy."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication


def quicken_pyside_imports() -> None:
    """Make PySide's check of each newly imported module cheaper, with the same answer.

    Once PySide6 is loaded, every later import is followed by a check of whether the module's
    source mentions "PySide6" (for its `__feature__` switches), done with inspect.getsource:
    encoding detection, linecache and a decode of the whole file, ~0.15 ms a module and about
    20 ms for those the window imports before its first paint. Searching the file's bytes gives
    the same answer for a .py file; anything else still goes to PySide's own check. A PySide
    without that function is left alone."""
    feature = sys.modules.get("shibokensupport.feature")
    check = getattr(feature, "_mod_uses_pyside", None)
    if check is None or getattr(check, "quickened", False):
        return

    def uses_pyside(module) -> bool:
        path = getattr(getattr(module, "__spec__", None), "origin", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return check(module)
        try:
            with open(path, "rb") as f:
                return b"PySide6" in f.read()
        except OSError:
            return False

    uses_pyside.quickened = True
    feature._mod_uses_pyside = uses_pyside


def make_qapp() -> QApplication:
    """The running QApplication, or a new one, named for the desktop."""
    if QApplication.instance() is None:  # crisp at fractional HiDPI scales (Qt 6 scales always)
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    qapp = QApplication.instance() or QApplication(sys.argv)
    qapp.setApplicationName("Pilothouse")
    qapp.setOrganizationName("Pilothouse")
    qapp.setDesktopFileName("pilothouse")
    return qapp
