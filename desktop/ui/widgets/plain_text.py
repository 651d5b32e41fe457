"""Engine and container text shown as text, never as markup.

Qt renders a label's or tooltip's text as HTML when it merely looks like markup, so a
container command such as `<img src=file:///…>` or an engine error with `<b>` would be
interpreted. Labels showing such text get Qt.PlainText; tooltips (which have no format
setting) get the text escaped inside a paragraph that keeps its line breaks.
"""

from __future__ import annotations

import html

from PySide6.QtGui import Qt
from PySide6.QtWidgets import QLabel


def plain_tooltip(text: str | None) -> str | None:
    """`text` as a tooltip that shows exactly these characters."""
    if not text or not Qt.mightBeRichText(text):
        return text
    return "<p style='white-space:pre-wrap'>" + html.escape(text) + "</p>"


def plain_label(text: str = "") -> QLabel:
    """A label for engine or container text: shows exactly these characters."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
