"""Style sheets that name palette colours (`palette(window)`), set again when the theme changes.

Qt resolves `palette(...)` when a widget is polished, so after a new application palette such
a sheet must be set again. The widgets that have one are kept here, instead of walking every
widget of the application: that walk wrapped each of Qt's own internal widgets (scroll bars,
popups, the parts of dialogs) in a Python object every time, and the full test run once died
of a segmentation fault inside it (most likely a stale wrapper for a reused address).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QWidget

_sheeted: list[QWidget] = []


def set_palette_sheet(widget: QWidget, sheet: str) -> None:
    """`widget.setStyleSheet(sheet)`, set again by `repolish()` after a palette change."""
    widget.setStyleSheet(sheet)
    _sheeted[:] = [w for w in _sheeted if shiboken6.isValid(w)]
    _sheeted.append(widget)


def repolish() -> None:
    """Set each live widget's sheet again, so its palette(...) colours follow the new palette."""
    live = [w for w in _sheeted if shiboken6.isValid(w)]
    _sheeted[:] = live
    for w in live:
        sheet = w.styleSheet()
        w.setStyleSheet("")
        w.setStyleSheet(sheet)
