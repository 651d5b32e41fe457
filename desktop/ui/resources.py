"""Icons from resources/ (SVG: crisp at any scale); see desktop.resource_paths for where it is.

The icons are drawn in one ink colour. They are re-inked from the application palette when
painted: the ink the files carry is a mid grey that vanishes on a dark window and on the
selection highlight (a selected sidebar item lost its icon in both themes).
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QByteArray, QRect, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from desktop.resource_paths import resources_dir

__all__ = ["resources_dir", "icon", "app_icon", "icon_colour"]

INK = "#4a5563"  # the colour the SVG files are drawn in (replaced when painted)


def icon_colour(mode: QIcon.Mode, palette: QPalette | None = None) -> QColor:
    """The ink for an icon in `mode`: the text colour of what it sits on."""
    pal = palette or QGuiApplication.palette()
    if mode == QIcon.Mode.Selected:
        return pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText)
    if mode == QIcon.Mode.Disabled:
        return pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    return pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)


class InkedSvgIconEngine(QIconEngine):
    """Renders one SVG with its ink swapped for the palette's colour for the mode; pixmaps are
    cached per (size, colour) since a table paints the same few icons on every visible row."""

    def __init__(self, svg: bytes) -> None:
        super().__init__()
        self._svg = svg
        self._cache: dict[tuple[int, int, int], QPixmap] = {}

    def clone(self) -> "InkedSvgIconEngine":
        return InkedSvgIconEngine(self._svg)

    def _render(self, w: int, h: int, colour: QColor) -> QPixmap:
        key = (w, h, colour.rgba())
        pm = self._cache.get(key)
        if pm is None:
            data = self._svg.replace(INK.encode(), colour.name().encode())
            pm = QPixmap(max(w, 1), max(h, 1))
            pm.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pm)
            QSvgRenderer(QByteArray(data)).render(painter)
            painter.end()
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = pm
        return pm

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self._render(size.width(), size.height(), icon_colour(mode))

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:  # noqa: N802
        # `size` is in logical pixels here: render at the screen's density
        pm = QPixmap(self._render(round(size.width() * scale), round(size.height() * scale), icon_colour(mode)))
        pm.setDevicePixelRatio(scale)
        return pm

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        side = min(rect.width(), rect.height())
        px = max(1, round(side * dpr))
        pm = QPixmap(self._render(px, px, icon_colour(mode)))
        pm.setDevicePixelRatio(dpr)
        x = rect.x() + (rect.width() - side) // 2
        y = rect.y() + (rect.height() - side) // 2
        painter.drawPixmap(QRect(x, y, side, side), pm)

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:  # noqa: N802
        side = min(size.width(), size.height())
        return QSize(side, side)

    def isNull(self) -> bool:  # noqa: N802
        return not self._svg


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """An SVG icon from resources/icons, inked for its theme and mode (crisp at any scale)."""
    path = resources_dir() / "icons" / f"{name}.svg"
    try:
        svg = path.read_bytes()
    except OSError:
        return QIcon()
    return QIcon(InkedSvgIconEngine(svg))


def app_icon() -> QIcon:
    """The application icon: the SVG, plus the rendered PNGs where present (hand-picked small sizes)."""
    ic = QIcon(str(resources_dir() / "pilothouse.svg"))
    app_dir = resources_dir() / "icons" / "app"
    for png in sorted(app_dir.glob("pilothouse-*.png")) if app_dir.is_dir() else ():
        ic.addFile(str(png))
    return ic
