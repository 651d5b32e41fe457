"""Painted cells: state with a coloured dot, ports as links, one-click action buttons.

Buttons are painted, not widgets, so a thousand rows cost nothing until they are on screen.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QCursor, QFontMetrics, QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QToolTip

from desktop.presentation import containers as pres
from desktop.ui.containers.container_model import ContainerRole, KindRole, MembersRole, StateKeyRole
from desktop.ui.resources import icon

BUTTON = 22
GAP = 4


def row_actions(index: QModelIndex) -> list[tuple[str, str] | None]:
    """(action, tooltip) buttons for a row in fixed slots (None: an empty slot)."""
    kind = index.data(KindRole)
    if kind in ("project", "service"):
        members = index.data(MembersRole) or []
        any_running = any(c.state in ("running", "restarting", "paused") for c in members)
        first = ("stop", f"Stop all containers of this {kind} (Space)") if any_running else (
            "start", f"Start all containers of this {kind} (Space)")
        return [first, None, ("restart", f"Restart the {kind}'s containers (Ctrl+R)"),
                ("delete", f"Remove the {kind}'s containers (Delete)")]
    c = index.data(ContainerRole)
    if c is None:
        return []
    running = c.state in ("running", "restarting", "paused")
    out = [("stop", "Stop (Space)") if running else ("start", "Start (Space)")]
    if c.state == "paused":
        out.append(("unpause", "Resume (P)"))
    elif c.state == "running":
        out.append(("pause", "Pause (P)"))
    else:
        out.append(None)  # keep the buttons in fixed columns
    out += [("restart", "Restart (Ctrl+R)"), ("delete", "Remove (Delete)")]
    return out


class StateDelegate(QStyledItemDelegate):
    """A coloured dot before the state text."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        # The cell's panel (selection) straight from the style, with the option the view gives:
        # the text is drawn here, so the seven roles of initStyleOption are not asked for.
        widget = option.widget
        if widget is not None:
            widget.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        colour = QColor(pres.STATE_COLOURS.get(index.data(StateKeyRole) or "", "#7a7f87"))
        text = index.data() or ""
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = option.rect
        d = 9
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(r.left() + 6, r.center().y() - d // 2, d, d)
        selected = option.state & QStyle.StateFlag.State_Selected
        painter.setPen(option.palette.highlightedText().color() if selected else colour)
        painter.drawText(r.adjusted(6 + d + 6, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        painter.restore()


class PortsDelegate(QStyledItemDelegate):
    """Published ports drawn as links; a click on one calls `open_url(url)`."""

    def __init__(self, open_url: Callable[[str], None], parent=None) -> None:
        super().__init__(parent)
        self._open_url = open_url

    def _layout(self, option: QStyleOptionViewItem, index: QModelIndex) -> list[tuple[QRect, str, str | None]]:
        c = index.data(ContainerRole)
        if c is None:
            return []
        fm = QFontMetrics(option.font)
        x = option.rect.left() + 4
        out = []
        for label, url in pres.port_links(c):
            w = fm.horizontalAdvance(label)
            rect = QRect(x, option.rect.top(), w, option.rect.height())
            if rect.right() > option.rect.right():
                break
            out.append((rect, label, url))
            x += w + fm.horizontalAdvance(", ")
        return out

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        widget = option.widget
        if widget is not None:  # the panel only (as the state cell: no roles asked for)
            widget.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        links = self._layout(option, index)
        if not links:
            return
        painter.save()
        font = option.font
        for rect, label, url in links:
            font.setUnderline(url is not None)
            painter.setFont(font)
            painter.setPen(option.palette.link().color() if url else option.palette.text().color())
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)
        painter.restore()

    def editorEvent(self, event, model, option, index) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            for rect, _label, url in self._layout(option, index):
                if url and rect.contains(pos):
                    self._open_url(url)
                    return True
        return False


class ActionsDelegate(QStyledItemDelegate):
    """Icon buttons per row; a click calls `trigger(action, index)`."""

    def __init__(self, trigger: Callable[[str, QModelIndex], None], parent=None) -> None:
        super().__init__(parent)
        self._trigger = trigger
        self.enabled = True
        self._strips: dict[tuple, QPixmap] = {}

    @staticmethod
    def button_rects(rect: QRect, n: int) -> list[QRect]:
        y = rect.center().y() - BUTTON // 2
        return [QRect(rect.left() + 4 + i * (BUTTON + GAP), y, BUTTON, BUTTON) for i in range(n)]

    def sizeHint(self, option, index) -> QSize:
        return QSize(4 + 4 * (BUTTON + GAP), BUTTON + 6)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        # Every visible row paints this cell: the cell's panel (selection) straight from the
        # style, and the row's buttons as one pixmap made once per set of buttons, ink and
        # density (four icon paints through Python per row cost a third of the table's paint).
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        names = tuple(a[0] if a is not None else None for a in row_actions(index))
        if not names:
            return
        rects = self.button_rects(option.rect, len(names))
        if self.enabled and widget is not None:
            cursor = widget.mapFromGlobal(QCursor.pos())
            for rect, name in zip(rects, names):
                if name is not None and rect.contains(cursor):
                    painter.save()
                    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.setBrush(option.palette.midlight())
                    painter.drawRoundedRect(rect, 4, 4)
                    painter.restore()
        dev = painter.device()
        dpr = dev.devicePixelRatioF() if dev is not None else 1.0
        painter.drawPixmap(rects[0].topLeft(), self._strip(names, dpr))

    def _strip(self, names: tuple, dpr: float) -> QPixmap:
        mode = QIcon.Mode.Normal if self.enabled else QIcon.Mode.Disabled
        key = (names, mode, dpr, QGuiApplication.palette().cacheKey())
        pm = self._strips.get(key)
        if pm is None:
            if len(self._strips) > 32:  # an old palette's or density's
                self._strips.clear()
            w = len(names) * (BUTTON + GAP) - GAP
            pm = QPixmap(max(1, round(w * dpr)), max(1, round(BUTTON * dpr)))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            for i, name in enumerate(names):
                if name is not None:
                    rect = QRect(i * (BUTTON + GAP) + 4, 4, BUTTON - 8, BUTTON - 8)
                    icon(name).paint(p, rect, Qt.AlignmentFlag.AlignCenter, mode)
            p.end()
            self._strips[key] = pm
        return pm

    def action_at(self, option: QStyleOptionViewItem, index: QModelIndex, pos: QPoint) -> tuple[str, str] | None:
        actions = row_actions(index)
        for rect, act in zip(self.button_rects(option.rect, len(actions)), actions):
            if act is not None and rect.contains(pos):
                return act
        return None

    def editorEvent(self, event, model, option, index) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            act = self.action_at(option, index, event.position().toPoint())
            if act and self.enabled:
                self._trigger(act[0], index)
                return True
        return False

    def helpEvent(self, event, view, option, index) -> bool:
        act = self.action_at(option, index, event.pos())
        if act:
            QToolTip.showText(event.globalPos(), act[1] if self.enabled else f"{act[1]} — unavailable while the engine is away", view)
            return True
        return super().helpEvent(event, view, option, index)
