"""Icons are inked for their theme and state: the selected sidebar item keeps a visible icon
(white on the highlight), the others are drawn in the window's text colour, light and dark."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from desktop.state.connection import ConnectionStatus
from desktop.ui.desk.theme import ThemeManager
from desktop.ui.main_window import MainWindow
from desktop.ui.resources import icon


def _distance(a: QColor, b: QColor) -> int:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())


def ink_pixels(image, rect: QRect, colour: QColor) -> int:
    """Pixels in rect within a small distance of colour (the icon's strokes)."""
    n = 0
    for x in range(rect.left(), rect.right() + 1):
        for y in range(rect.top(), rect.bottom() + 1):
            if _distance(image.pixelColor(x, y), colour) < 60:
                n += 1
    return n


@pytest.fixture
def theme(qapp):
    saved_palette, saved_style = QApplication.palette(), qapp.style().name()
    tm = ThemeManager(qapp, "light")
    yield tm
    tm.close()
    qapp.setStyle(saved_style)
    qapp.setPalette(saved_palette)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_selected_sidebar_item_keeps_its_icon(qtbot, theme, scheme):
    theme.apply(scheme)
    window = MainWindow(ConnectionStatus())
    qtbot.addWidget(window)
    for key in ("containers", "images", "settings"):
        window.add_page(key, key.capitalize(), key, QLabel(key))
    window.resize(1024, 640)
    window.show()
    qtbot.waitExposed(window)
    window.show_page("images")
    sidebar = window.sidebar
    image = sidebar.viewport().grab().toImage()
    pal = sidebar.palette()
    size = sidebar.iconSize()

    def icon_rect(row: int) -> QRect:
        r = sidebar.visualRect(sidebar.model().index(row, 0))
        return QRect(r.left(), r.top(), size.width() + 16, r.height())

    selected_ink = pal.color(QPalette.ColorRole.HighlightedText)
    normal_ink = pal.color(QPalette.ColorRole.WindowText)
    # the selected row: the icon is drawn in the highlighted text colour, plainly visible
    assert ink_pixels(image, icon_rect(1), selected_ink) > 25
    row = sidebar.visualRect(sidebar.model().index(1, 0))
    assert _distance(image.pixelColor(row.right() - 4, row.center().y()), pal.color(QPalette.ColorRole.Highlight)) < 30
    # the other rows: drawn in the text colour (the files' grey vanished on dark)
    assert ink_pixels(image, icon_rect(0), normal_ink) > 25
    assert ink_pixels(image, icon_rect(2), normal_ink) > 25


def test_icons_are_crisp_at_twice_the_density(qapp):
    pm = icon("containers").pixmap(QSize(20, 20), 2.0)
    assert (pm.width(), pm.height(), pm.devicePixelRatio()) == (40, 40, 2.0)
    assert icon("no-such-icon").isNull()
    assert not icon("stop").pixmap(QSize(16, 16), 1.0, QIcon.Mode.Disabled).isNull()
