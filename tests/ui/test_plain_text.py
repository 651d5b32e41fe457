"""Engine and container text is shown as the characters it is, never interpreted as markup."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6 import QtGui
from PySide6.QtGui import QTextDocument

from desktop.presentation.container_columns import COL_NAME
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.plain_text import plain_tooltip

MARKUP = "echo <b>bold</b> <img src=file:///etc/passwd> & done"


def shown_as(tooltip: str) -> str:
    """What Qt displays for a tooltip string (it renders it as HTML when it looks like markup)."""
    if not QtGui.Qt.mightBeRichText(tooltip):
        return tooltip
    doc = QTextDocument()
    doc.setHtml(tooltip)
    return doc.toPlainText()


def test_tooltips_show_markup_literally(qapp):
    assert shown_as(plain_tooltip(MARKUP)) == MARKUP
    assert shown_as(plain_tooltip("line one\nline <i>two</i>")) == "line one\nline <i>two</i>"
    assert plain_tooltip("no markup here") == "no markup here"


def test_container_command_in_the_row_tooltip_and_errors_in_the_message_bar(ph, qtbot, make_container):
    cid = make_container(command=("sh", "-c", MARKUP))
    qtbot.waitUntil(lambda: ph.containers.page.model.index_of(cid, COL_NAME).isValid(), timeout=20000)
    tip = ph.containers.page.model.index_of(cid, COL_NAME).data(Qt.ItemDataRole.ToolTipRole)
    assert MARKUP in shown_as(tip)
    bar = MessageBar()
    bar.show_error("The engine said: <b>no</b>")
    assert bar.label.textFormat() == Qt.TextFormat.PlainText and bar.text() == "The engine said: <b>no</b>"
    bar.deleteLater()
