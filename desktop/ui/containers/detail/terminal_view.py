"""Draws a TerminalScreen cell by cell and turns key presses into the bytes a terminal sends."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetricsF, QGuiApplication, QKeySequence, QPainter
from PySide6.QtWidgets import QMenu, QWidget

from desktop.engine.foreground import ForegroundGate
from desktop.state.paste_text import paste_bytes
from desktop.state.ansi import BASIC
from desktop.state.terminal_screen import runs_text

NAMES = ("black", "red", "green", "brown", "blue", "magenta", "cyan", "white")
PALETTE = {name: BASIC[i] for i, name in enumerate(NAMES)} | {"bright" + n: BASIC[8 + i] for i, n in enumerate(NAMES)}
PALETTE |= {"yellow": BASIC[3], "brightyellow": BASIC[11]}
DEFAULT_FG, DEFAULT_BG = QColor("#e6e6e6"), QColor("#1e1f22")

KEYS = {
    Qt.Key.Key_Return: b"\r", Qt.Key.Key_Enter: b"\r", Qt.Key.Key_Backspace: b"\x7f", Qt.Key.Key_Tab: b"\t",
    Qt.Key.Key_Backtab: b"\x1b[Z", Qt.Key.Key_Escape: b"\x1b", Qt.Key.Key_Delete: b"\x1b[3~",
    Qt.Key.Key_Insert: b"\x1b[2~", Qt.Key.Key_PageUp: b"\x1b[5~", Qt.Key.Key_PageDown: b"\x1b[6~",
    Qt.Key.Key_F1: b"\x1bOP", Qt.Key.Key_F2: b"\x1bOQ", Qt.Key.Key_F3: b"\x1bOR", Qt.Key.Key_F4: b"\x1bOS",
    Qt.Key.Key_F5: b"\x1b[15~", Qt.Key.Key_F6: b"\x1b[17~", Qt.Key.Key_F7: b"\x1b[18~", Qt.Key.Key_F8: b"\x1b[19~",
    Qt.Key.Key_F9: b"\x1b[20~", Qt.Key.Key_F10: b"\x1b[21~", Qt.Key.Key_F11: b"\x1b[23~", Qt.Key.Key_F12: b"\x1b[24~",
}
CURSOR_KEYS = {Qt.Key.Key_Up: b"A", Qt.Key.Key_Down: b"B", Qt.Key.Key_Right: b"C", Qt.Key.Key_Left: b"D",
               Qt.Key.Key_Home: b"H", Qt.Key.Key_End: b"F"}


def color(name: str, default: QColor) -> QColor:
    if name == "default":
        return default
    rgb = PALETTE.get(name)
    if rgb is not None:
        return QColor(*rgb)
    if len(name) == 6:
        return QColor("#" + name)
    return default


def key_bytes(event, app_cursor: bool) -> bytes:
    """What a terminal sends for a key press ("" when the key sends nothing)."""
    key, mods = event.key(), event.modifiers()
    ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
    if key in CURSOR_KEYS:
        return (b"\x1bO" if app_cursor else b"\x1b[") + CURSOR_KEYS[key]
    if key in KEYS:
        return KEYS[key]
    if ctrl and Qt.Key.Key_A <= key <= Qt.Key.Key_Z:
        return bytes([key - Qt.Key.Key_A + 1])
    if ctrl and key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_Backslash, Qt.Key.Key_BracketRight):
        return bytes([0x1B + (key - Qt.Key.Key_BracketLeft)])
    text = event.text()
    if not text:
        return b""
    data = text.encode("utf-8")
    return b"\x1b" + data if mods & Qt.KeyboardModifier.AltModifier else data


class TerminalView(QWidget):
    """Signals: typed(bytes) for the session; resized(cols, rows) when the grid changes."""

    typed = Signal(bytes)
    resized = Signal(int, int)
    repainted_check = Signal()  # every frame tick: owners look at the emulator's health

    def __init__(self, screen, gate: ForegroundGate | None = None, parent=None) -> None:
        super().__init__(parent)
        self.gate = gate or ForegroundGate()
        self.setObjectName("terminalView")
        self.setAccessibleName("Terminal")
        self.setAccessibleDescription("Keys go to the program in the terminal; Ctrl+Tab moves on, Ctrl+Shift+Tab back")
        self.screen = screen  # TerminalEmulatorProcess (or TerminalScreen): frame, size, resize, history
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
        self.setCursor(Qt.CursorShape.IBeamCursor)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.setFont(font)
        self._bold = QFont(font)
        self._bold.setBold(True)
        fm = QFontMetricsF(font)
        self.cw, self.ch, self.ascent = fm.horizontalAdvance("M"), fm.height(), fm.ascent()
        self.scroll_offset = 0  # rows scrolled back into history
        self._seen = -1
        self._sel: tuple[tuple[int, int], tuple[int, int]] | None = None  # (row, col) in "virtual" rows
        self._timer = QTimer(self)
        self._timer.setInterval(33)  # repaint at most ~30 times a second, whatever the output rate
        self._timer.timeout.connect(self._check)
        self._timer.start()
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)

    def grid_for(self, w: float, h: float) -> tuple[int, int]:
        return max(10, int((w - 8) // self.cw)), max(4, int((h - 8) // self.ch))

    def resizeEvent(self, event) -> None:
        cols, rows = self.grid_for(self.width(), self.height())
        if (cols, rows) != self.screen.size:
            self.screen.resize(cols, rows)
            self.resized.emit(cols, rows)
        super().resizeEvent(event)

    def _check(self) -> None:
        self.repainted_check.emit()
        self.screen.flush()
        if self.screen.generation != self._seen:
            self._seen = self.screen.generation
            self.update()

    def stop(self) -> None:
        self._timer.stop()

    # -- painting ---------------------------------------------------------------------------------
    def _rows(self) -> tuple[list, int, int, bool, int]:
        """Visible rows (tuples of styled runs) and the cursor, from the last published frame."""
        f = self.screen.frame
        off = 0
        hist: list = []
        if self.scroll_offset:
            # Scrollback and screen from one moment of the emulator (the live screen until the
            # first answer arrives; it repaints then).
            got = self.screen.scrollback(self.scroll_offset)
            if got is not None:
                hist, f = got
        rows = list(f.rows)
        if hist:
            off = min(self.scroll_offset, len(hist))
            rows = hist[len(hist) - off:] + rows[:len(rows) - off]
        return rows, f.cursor_x, f.cursor_y + off, f.cursor_hidden or off >= len(f.rows), f.columns

    def paintEvent(self, event) -> None:
        with self.gate.busy():
            self._paint()

    def _paint(self) -> None:
        rows, cx, cy, hidden, cols = self._rows()
        p = QPainter(self)
        p.fillRect(self.rect(), DEFAULT_BG)
        sel = sorted(self._sel) if self._sel else None
        plain = self.font()
        for y, runs in enumerate(rows):
            top = 4 + y * self.ch
            for start, text, fg_name, bg_name, bold, italics, underscore, reverse, strike in runs:
                fg, bg = color(fg_name, DEFAULT_FG), color(bg_name, DEFAULT_BG)
                if reverse:
                    fg, bg = bg, fg
                rect = QRectF(4 + start * self.cw, top, len(text) * self.cw, self.ch)
                if bg != DEFAULT_BG:
                    p.fillRect(rect, bg)
                if italics or underscore or strike:
                    font = QFont(self._bold if bold else plain)
                    font.setItalic(italics)
                    font.setUnderline(underscore)
                    font.setStrikeOut(strike)
                    p.setFont(font)
                else:
                    p.setFont(self._bold if bold else plain)
                p.setPen(fg)
                p.drawText(QPointF(rect.left(), top + self.ascent), text)
            if sel and sel[0][0] <= y <= sel[1][0]:
                c0 = sel[0][1] if y == sel[0][0] else 0
                c1 = sel[1][1] if y == sel[1][0] else cols
                p.fillRect(QRectF(4 + c0 * self.cw, top, (c1 - c0) * self.cw, self.ch), QColor(90, 140, 220, 110))
        if not hidden and 0 <= cy < len(rows):
            r = QRectF(4 + cx * self.cw, 4 + cy * self.ch, self.cw, self.ch)
            if self.hasFocus():
                p.fillRect(r, QColor(230, 230, 230, 170))
            else:
                p.setPen(QColor("#e6e6e6"))
                p.drawRect(r.adjusted(0, 0, -1, -1))
        p.end()

    # -- input ------------------------------------------------------------------------------------
    def event(self, event) -> bool:
        # Every key belongs to the program in the terminal (Esc for vi, Ctrl+letters for the
        # shell), not to the window's shortcuts; Tab and Shift+Tab not to focus navigation.
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                # Ctrl+Tab and Ctrl+Shift+Tab leave the terminal (as in GTK's text views), or a
                # keyboard user could never get out of it.
                self.focusNextPrevChild(event.key() == Qt.Key.Key_Tab
                                        and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                return True
            self.keyPressEvent(event)
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        mods = event.modifiers()
        if mods & Qt.KeyboardModifier.ControlModifier and mods & Qt.KeyboardModifier.ShiftModifier:
            if event.key() == Qt.Key.Key_C:
                self.copy_selection()
                return
            if event.key() == Qt.Key.Key_V:
                self.paste()
                return
        if event.key() == Qt.Key.Key_PageUp and mods & Qt.KeyboardModifier.ShiftModifier:
            self.scroll_by(self.screen.size[1] // 2)
            return
        if event.key() == Qt.Key.Key_PageDown and mods & Qt.KeyboardModifier.ShiftModifier:
            self.scroll_by(-(self.screen.size[1] // 2))
            return
        data = key_bytes(event, self.screen.frame.app_cursor)
        if data:
            self.scroll_offset = 0
            self._sel = None
            self.typed.emit(data)

    def wheelEvent(self, event) -> None:
        self.scroll_by(3 if event.angleDelta().y() > 0 else -3)

    def scroll_by(self, rows: int) -> None:
        n = self.screen.history_size()
        self.scroll_offset = max(0, min(n, self.scroll_offset + rows))
        self.update()

    def _cell(self, pos) -> tuple[int, int]:
        cols, rows = self.screen.size
        return (max(0, min(rows - 1, int((pos.y() - 4) // self.ch))), max(0, min(cols, int((pos.x() - 4) // self.cw))))

    def mousePressEvent(self, event) -> None:
        self.setFocus()
        if event.button() == Qt.MouseButton.LeftButton:
            c = self._cell(event.position())
            self._sel = (c, c)
            self.update()
        elif event.button() == Qt.MouseButton.MiddleButton:
            self.paste(QGuiApplication.clipboard().Mode.Selection)

    def mouseMoveEvent(self, event) -> None:
        if self._sel and event.buttons() & Qt.MouseButton.LeftButton:
            self._sel = (self._sel[0], self._cell(event.position()))
            self.update()

    def selected_text(self) -> str:
        if not self._sel or self._sel[0] == self._sel[1]:
            return ""
        (r0, c0), (r1, c1) = sorted(self._sel)
        rows, *_, cols = self._rows()
        out = []
        for y in range(r0, min(r1, len(rows) - 1) + 1):
            text = runs_text(rows[y], cols)
            out.append(text[(c0 if y == r0 else 0):(c1 if y == r1 else cols)].rstrip())
        return "\n".join(out)

    def copy_selection(self) -> None:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def paste(self, mode=None) -> None:
        cb = QGuiApplication.clipboard()
        text = cb.text(mode) if mode is not None else cb.text()
        if text:
            self.typed.emit(paste_bytes(text, self.screen.frame.bracketed_paste))

    def _on_context_menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction("Copy", self.copy_selection).setShortcut(QKeySequence("Ctrl+Shift+C"))
        menu.addAction("Paste", self.paste).setShortcut(QKeySequence("Ctrl+Shift+V"))
        menu.popup(self.mapToGlobal(pos))
