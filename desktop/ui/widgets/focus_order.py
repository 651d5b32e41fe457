"""Keeping Tab in reading order when a part of a page is added after the page was built (Qt puts
a widget's controls at the far end of the window's focus chain when it is added)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget


def focus_children(widget: QWidget) -> list[QWidget]:
    """`widget` and the widgets under it that take Tab, in their focus-chain order."""
    out = [widget] if widget.focusPolicy() & Qt.FocusPolicy.TabFocus else []
    w = widget.nextInFocusChain()
    seen = 0
    while w is not widget and seen < 10_000:
        if widget.isAncestorOf(w) and w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.focusProxy() is None:
            out.append(w)
        w = w.nextInFocusChain()
        seen += 1
    return out


def place_after(anchor: QWidget, widget: QWidget) -> None:
    """Tab reaches `widget`'s controls right after `anchor` (in the same window)."""
    prev = anchor
    for w in focus_children(widget):
        QWidget.setTabOrder(prev, w)
        prev = w
