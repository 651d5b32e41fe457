"""Widgets' style sheets, set again when the theme changes.

Qt resolves a sheet against the palette when the widget is polished: `palette(...)` colours, and
the text colour a sheet that sets only a font leaves to the palette. After a new application
palette each sheet must be set again, so every sheet goes through `set_sheet` and the widgets
are kept here, instead of walking every widget of the application: that walk wrapped each of Qt's own internal widgets (scroll bars,
popups, the parts of dialogs) in a Python object every time, and the full test run once died
of a segmentation fault inside it (most likely a stale wrapper for a reused address).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QWidget

_sheeted: list[QWidget] = []  # widgets given a sheet here, each once


def set_sheet(widget: QWidget, sheet: str) -> None:
    """`widget.setStyleSheet(sheet)`, set again by `repolish()` after a palette change."""
    widget.setStyleSheet(sheet)
    _sheeted[:] = [w for w in _sheeted if shiboken6.isValid(w) and w is not widget]
    if sheet:
        _sheeted.append(widget)


def repolish() -> None:
    """Set each live widget's sheet again, so its palette(...) colours follow the new palette."""
    live = [w for w in _sheeted if shiboken6.isValid(w)]
    _sheeted[:] = live
    for w in live:
        sheet = w.styleSheet()
        w.setStyleSheet("")
        w.setStyleSheet(sheet)
