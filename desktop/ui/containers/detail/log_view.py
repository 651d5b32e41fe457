"""A virtualised, painted view over a LogBuffer: only the lines on screen are decoded and laid out.

Scrolling is by line (the scrollbar's unit is a row: a line, or a matching line in filter
mode). While following, the view paints from the bottom up so the newest line is always on
screen, whatever wrapping does to line heights. The anchor is a line index, not a row, so
lines backfilled above the view do not move what the user is reading.
"""

from __future__ import annotations

import datetime
import zlib

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (QColor, QFont, QFontDatabase, QFontMetricsF, QGuiApplication, QKeySequence, QPainter,
                           QTextCharFormat, QTextLayout, QTextOption)
from PySide6.QtWidgets import QAbstractScrollArea

from desktop.engine.foreground import ForegroundGate
from desktop.state.ansi import Style, parse_ansi, show_raw
from desktop.engine.log_records import STDERR
from desktop.state.log_buffer import LogBuffer
from desktop.state.log_search import LogSearch

GUTTER = 8
DISPLAY_LIMIT = 4_000  # characters of one line that are laid out and drawn (laying out 10,000 took ~40 ms)
ELIDED_NOTE = "  … [{:,} more bytes: select the line and copy it to get all of it]"
MATCH_BG = QColor("#fff2a8")
CURRENT_BG = QColor("#ffb54d")
SELECT_BG = QColor("#b4d5fe")
STDERR_MARK = QColor("#d93f2b")


def service_color(name: str) -> QColor:
    """A stable, readable colour per Compose service name."""
    return QColor.fromHsv(zlib.crc32(name.encode()) % 360, 170, 165)


def _fmt(style: Style) -> QTextCharFormat:
    f = QTextCharFormat()
    fg, bg = style.fg, style.bg
    if style.inverse:
        fg, bg = (bg or (255, 255, 255)), (fg or (30, 30, 30))
    if fg:
        f.setForeground(QColor(*fg))
    if bg:
        f.setBackground(QColor(*bg))
    if style.bold:
        f.setFontWeight(QFont.Weight.Bold)
    if style.italic:
        f.setFontItalic(True)
    if style.underline:
        f.setFontUnderline(True)
    if style.strike:
        f.setFontStrikeOut(True)
    if style.dim:
        c = f.foreground().color() if fg else QColor("#1e1e1e")
        c.setAlpha(150)
        f.setForeground(c)
    return f


class LogView(QAbstractScrollArea):
    """Signals: following_changed(bool) when auto-scroll pauses or resumes."""

    following_changed = Signal(bool)
    line_clicked = Signal(int)  # (line index): the user clicked or double-clicked a line

    def __init__(self, buffer: LogBuffer, gate: ForegroundGate | None = None, parent=None) -> None:
        super().__init__(parent)
        self.gate = gate or ForegroundGate()
        self.setObjectName("logView")
        self.setAccessibleName("Log lines")
        self.buffer = buffer
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.viewport().setAutoFillBackground(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.show_timestamps = False
        self.wrap = False
        self.raw = False
        self.search: LogSearch | None = None
        self.filter_rows: np.ndarray | None = None  # filter mode: the line index of each row
        self.current_match = -1
        self.following = True
        self._anchor = 0  # first visible line (top-anchored mode)
        self._max_width = 0.0
        self._painted: list[tuple[int, float, QTextLayout, int]] = []  # (line, y, layout, prefix length)
        self._painted_h: list[float] = []  # the height of each painted line
        self._sel: tuple[tuple[int, int], tuple[int, int]] | None = None  # (anchor, cursor) as (line, char)
        self._fmt_cache: dict[Style, QTextCharFormat] = {}
        self._source_prefix: dict[tuple[int, int], tuple[str, QTextCharFormat]] = {}
        self._source_width: dict[int, int] = {}
        self._text_option: dict[bool, QTextOption] = {}
        self._cuts: dict[int, int] = {}  # line -> where its "more bytes" note starts (long lines)
        self._content_changed = True
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(33)  # new lines repaint at most ~30 times a second; scrolling is immediate
        self._repaint.timeout.connect(lambda: self._refresh(force=False))
        self.verticalScrollBar().valueChanged.connect(self._on_vscroll)
        self.horizontalScrollBar().valueChanged.connect(lambda _: self.viewport().update())
        buffer.changed.connect(self._on_buffer_changed)
        buffer.cleared.connect(self._on_buffer_cleared)
        self._update_metrics()

    # -- geometry ------------------------------------------------------------------------------
    def _update_metrics(self) -> None:
        fm = QFontMetricsF(self.font())
        self.line_height = fm.height()
        self.char_width = fm.horizontalAdvance("M")
        self._metrics = fm
        self._ascent = fm.ascent()
        self._bold_font = QFont(self.font())
        self._bold_font.setWeight(QFont.Weight.Bold)
        self._bold_metrics = QFontMetricsF(self._bold_font)
        self._run_width: dict[tuple[str, bool], float] = {}

    def visible_rows(self) -> int:
        return max(1, int(self.viewport().height() // self.line_height))

    def row_count(self) -> int:
        return len(self.filter_rows) if self.filter_rows is not None else len(self.buffer)

    def line_of_row(self, row: int) -> int:
        return int(self.filter_rows[row]) if self.filter_rows is not None else row

    def row_of_line(self, line: int) -> int:
        if self.filter_rows is None:
            return line
        return int(np.searchsorted(self.filter_rows, line, side="left"))

    def _sync_scrollbar(self) -> None:
        sb = self.verticalScrollBar()
        maximum = max(0, self.row_count() - self.visible_rows())
        sb.blockSignals(True)
        sb.setRange(0, maximum)
        sb.setPageStep(self.visible_rows())
        sb.setSingleStep(3)
        sb.setValue(maximum if self.following else min(maximum, self.row_of_line(self._anchor)))
        sb.blockSignals(False)
        hb = self.horizontalScrollBar()
        hb.setRange(0, 0 if self.wrap else max(0, int(self._max_width + 2 * GUTTER - self.viewport().width())))
        hb.setPageStep(self.viewport().width())
        hb.setSingleStep(int(self.char_width * 4))

    def _set_following(self, on: bool) -> None:
        if on != self.following:
            self.following = on
            self.following_changed.emit(on)

    # -- reactions -----------------------------------------------------------------------------
    def _on_buffer_changed(self, older_added: int, newer_added: int) -> None:
        # Lines backfilled above keep what is on screen where it is: the anchor is a line index.
        self._anchor += older_added
        if older_added:
            self._cuts.clear()  # keyed by line index, which the backfill just moved
            # What is on screen moved down as many lines (clicks and copies until the next paint)
            self._painted = [(line + older_added, y, layout, plen) for line, y, layout, plen in self._painted]
            if self._sel is not None:
                (l0, c0), (l1, c1) = self._sel
                self._sel = ((l0 + older_added, c0), (l1 + older_added, c1))
        if newer_added or self.filter_rows is not None:
            self._content_changed = True
        if len(self.buffer) == older_added + newer_added and not self._painted:
            self._refresh()  # the first lines: shown now, not a coalescing interval later
        elif not self._repaint.isActive():
            self._repaint.start()

    def _on_buffer_cleared(self) -> None:
        self._cuts.clear()
        self._content_changed = True
        self._anchor = 0
        self._sel = None
        self._max_width = 0.0
        self._refresh()

    def _refresh(self, force: bool = True) -> None:
        self._sync_scrollbar()
        if force or self._content_changed or not self.following:
            # following with only older lines added: nothing visible changed, only the scrollbar
            self.viewport().update()
        self._content_changed = False

    def _on_vscroll(self, value: int) -> None:
        self._anchor = self.line_of_row(value) if self.row_count() else 0
        self._set_following(value >= self.verticalScrollBar().maximum())
        self.viewport().update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._sync_scrollbar()

    def set_options(self, *, timestamps: bool | None = None, wrap: bool | None = None, raw: bool | None = None) -> None:
        if timestamps is not None:
            self.show_timestamps = timestamps
        if wrap is not None:
            self.wrap = wrap
        if raw is not None:
            self.raw = raw
        self._max_width = 0.0
        self._refresh()

    def set_filter_rows(self, rows: np.ndarray | None) -> None:
        self.filter_rows = rows
        self._refresh()

    def jump_to_end(self) -> None:
        self._set_following(True)
        self._refresh()

    def scroll_to_line(self, line: int) -> None:
        """Bring a line to about a third of the way down the view (pauses following)."""
        row = max(0, self.row_of_line(line) - self.visible_rows() // 3)
        self._set_following(False)
        self._anchor = self.line_of_row(min(row, max(0, self.row_count() - 1))) if self.row_count() else 0
        maximum = max(0, self.row_count() - self.visible_rows())
        if row >= maximum:
            self._set_following(False)
        self._refresh()

    def schedule_repaint(self) -> None:
        if not self._repaint.isActive():
            self._repaint.start()

    # -- painting ------------------------------------------------------------------------------
    def _prefix(self, ts: int, tag: int) -> tuple[str, list[tuple[int, int, QTextCharFormat]]]:
        parts, fmts = [], []
        n = 0
        if self.show_timestamps:
            t = datetime.datetime.fromtimestamp(ts / 1e9).strftime("%Y-%m-%d %H:%M:%S.") + f"{ts % 1_000_000_000 // 1_000_000:03d} " if ts else " " * 24
            f = QTextCharFormat()
            f.setForeground(QColor("#7a8290"))
            parts.append(t)
            fmts.append((0, len(t), f))
            n += len(t)
        src = tag >> 1
        sources = self.buffer.sources
        if src and src <= len(sources):
            # One per source and stream, made once: a merged view draws thousands of lines a second.
            key = (tag, len(sources))
            made = self._source_prefix.get(key)
            if made is None:
                if len(self._source_prefix) > 4096:
                    self._source_prefix.clear()
                name = sources[src - 1]
                width = self._source_width.get(len(sources))
                if width is None:
                    width = self._source_width[len(sources)] = max(len(s) for s in sources)
                t = name.ljust(width) + (" ! " if tag & 1 else " | ")  # "!": the line came on stderr
                f = QTextCharFormat()
                f.setForeground(service_color(name))
                f.setFontWeight(QFont.Weight.Bold)
                made = self._source_prefix[key] = (t, f)
            t, f = made
            parts.append(t)
            fmts.append((n, len(t), f))
        return "".join(parts), fmts

    def display_text(self, line: int, full: bool = False) -> tuple[str, int, int, list]:
        """(text, prefix length, tag, ansi spans) of a line as drawn.

        A line longer than DISPLAY_LIMIT characters is drawn cut there, with a note of how much
        more it holds: laying out 32 MiB would stall the UI for seconds. `full` gives all of it
        (for copying); `elided_at(line)` says where the note starts.
        """
        text, ts, tag, nbytes = self.buffer.line_head(line, None if full else DISPLAY_LIMIT * 4)
        rest = 0
        if not full and (len(text) > DISPLAY_LIMIT or nbytes > DISPLAY_LIMIT * 4):
            text = text[:DISPLAY_LIMIT]
            rest = max(1, nbytes - len(text.encode("utf-8", "replace")))
        elif text.endswith("\r"):
            text = text[:-1]
        prefix, pfmts = self._prefix(ts, tag)
        if self.raw:
            body, spans = show_raw(text), []
        else:
            body, spans = parse_ansi(text)
        if rest:
            self._cuts[line] = len(prefix) + len(body)
            body += ELIDED_NOTE.format(rest)
        elif not full:
            self._cuts.pop(line, None)
        return prefix + body, len(prefix), tag, (pfmts, spans)

    def elided_at(self, line: int) -> int | None:
        """Where the "more characters" note starts in a drawn line, or None when it is whole."""
        return self._cuts.get(line)

    def _plain(self, line: int, shown) -> bool:
        """Whether a line can be drawn as runs of text, without a QTextLayout: one line, no
        colours of its own, no match or selection on it, nothing a layout would expand. Laying
        out each line was most of a paint (a screenful of new lines ~30 times a second while
        following twenty busy containers)."""
        text, plen, _tag, (_pfmts, spans) = shown
        if self.wrap or spans or "\t" in text or self._selection_in(line, len(text)) is not None:
            return False
        return self.search is None or self.search.display_pattern.search(text, plen) is None

    def _plain_runs(self, runs: dict, x: float, y: float, shown) -> float:
        """Add a plain line's prefix runs and text to `runs` ((bold, colour) -> [(point, text)]),
        to be drawn with one font and pen change per kind of run, not per line; returns its width."""
        text, plen, _tag, (pfmts, _spans) = shown
        base = y + self._ascent
        x0 = x
        for start, length, f in pfmts:
            piece = text[start:start + length]
            bold = f.fontWeight() >= QFont.Weight.Bold
            runs.setdefault((bold, f.foreground().color().rgba()), []).append((QPointF(x, base), piece))
            key = (piece, bold)
            w = self._run_width.get(key)
            if w is None:
                if len(self._run_width) > 4096:
                    self._run_width.clear()
                w = self._run_width[key] = (self._bold_metrics if bold else self._metrics).horizontalAdvance(piece)
            x += w
        body = text[plen:]
        runs.setdefault((False, None), []).append((QPointF(x, base), body))
        # a fixed-width font: ASCII text is as wide as its characters (measuring costs a shaping)
        return x - x0 + (len(body) * self.char_width if body.isascii() else self._metrics.horizontalAdvance(body))

    def _draw_runs(self, p: QPainter, pen, runs: dict) -> None:
        for (bold, rgba), items in runs.items():
            p.setFont(self._bold_font if bold else self.font())
            p.setPen(pen if rgba is None else QColor.fromRgba(rgba))
            for point, text in items:
                p.drawText(point, text)
        p.setPen(pen)
        p.setFont(self.font())

    def _layout(self, line: int, width: float, shown=None) -> tuple[QTextLayout, int, int]:
        text, plen, tag, (pfmts, spans) = shown if shown is not None else self.display_text(line)
        layout = QTextLayout(text, self.font())
        opt = self._text_option.get(self.wrap)
        if opt is None:
            opt = self._text_option[self.wrap] = QTextOption()
            opt.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere if self.wrap else QTextOption.WrapMode.NoWrap)
        layout.setTextOption(opt)
        formats = []
        for start, length, f in pfmts:
            formats.append(_range(start, length, f))
        for a, b, st in spans:
            f = self._fmt_cache.get(st)
            if f is None:
                f = self._fmt_cache[st] = _fmt(st)
            formats.append(_range(plen + a, b - a, f))
        if self.search is not None:
            body = text[plen:]
            cur_line, cur_ord = self.search.match_at(self.current_match) if self.current_match >= 0 else (-1, -1)
            k = 0
            for m in self.search.display_pattern.finditer(body):
                if m.end() == m.start():
                    continue
                f = QTextCharFormat()
                f.setBackground(CURRENT_BG if (line == cur_line and k == cur_ord) else MATCH_BG)
                f.setForeground(QColor("#000000"))
                formats.append(_range(plen + m.start(), m.end() - m.start(), f))
                k += 1
        sel = self._selection_in(line, len(text))
        if sel is not None:
            f = QTextCharFormat()
            f.setBackground(SELECT_BG)
            formats.append(_range(sel[0], sel[1] - sel[0], f))
        layout.setFormats(formats)
        layout.beginLayout()
        while True:
            tl = layout.createLine()
            if not tl.isValid():
                break
            tl.setLineWidth(width if self.wrap else 1e7)
        layout.endLayout()
        return layout, plen, tag

    def paintEvent(self, event) -> None:
        with self.gate.busy():
            self._paint()

    def _paint(self) -> None:
        p = QPainter(self.viewport())
        p.fillRect(self.viewport().rect(), QColor("#ffffff"))
        self._painted = []
        rows = self.row_count()
        if not rows:
            p.setPen(QColor("#8a929e"))
            p.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, "No log lines yet" if self.filter_rows is None
                       else "No lines match")
            return
        vh = self.viewport().height()
        width = self.viewport().width() - 2 * GUTTER
        dx = -self.horizontalScrollBar().value()
        items = []

        def item(line: int):
            """(layout or None when drawn plain, its height, what display_text gave)."""
            shown = self.display_text(line)
            if self._plain(line, shown):
                return None, self.line_height, shown
            layout = self._layout(line, width, shown)[0]
            return layout, layout.boundingRect().height() or self.line_height, shown

        if self.following:
            y, row = vh, rows - 1
            while row >= 0 and y > 0:
                line = self.line_of_row(row)
                layout, h, shown = item(line)
                y -= h
                items.append((line, y, layout, h, shown))
                row -= 1
            items.reverse()
            if items and items[0][1] > 0:  # fewer lines than the view: start at the top
                shift = items[0][1]
                items = [(a, y - shift, c, h, d) for a, y, c, h, d in items]
            self._anchor = items[0][0] if items else 0
        else:
            y, row = 0.0, self.row_of_line(self._anchor)
            while row < rows and y < vh:
                line = self.line_of_row(row)
                layout, h, shown = item(line)
                items.append((line, y, layout, h, shown))
                y += h
                row += 1
        grew = False
        pen = p.pen()
        runs: dict = {}
        self._painted_h = []
        for line, y, layout, h, shown in items:
            plen, tag = shown[1], shown[2]
            if tag & STDERR:
                p.fillRect(QRectF(0, y, 3, h), STDERR_MARK)
            if layout is None:
                w = self._plain_runs(runs, GUTTER + dx, y, shown)
                layout = _LazyLayout(lambda line=line: self._layout(line, width)[0])  # for clicks
            else:
                layout.draw(p, QPointF(GUTTER + dx, y))
                w = layout.maximumWidth()
            if w > self._max_width and not self.wrap:
                self._max_width = w
                grew = True
            self._painted.append((line, y, layout, plen))
            self._painted_h.append(h)
        self._draw_runs(p, pen, runs)
        p.end()
        if grew:
            QTimer.singleShot(0, self._sync_scrollbar)

    # -- selection and copy ------------------------------------------------------------------------
    def _selection_in(self, line: int, length: int) -> tuple[int, int] | None:
        if self._sel is None:
            return None
        a, b = sorted(self._sel)
        if line < a[0] or line > b[0] or a == b:
            return None
        start = a[1] if line == a[0] else 0
        end = b[1] if line == b[0] else length
        return (start, end) if end > start else None

    def _hit(self, pos) -> tuple[int, int] | None:
        heights = self._painted_h if len(self._painted_h) == len(self._painted) else [None] * len(self._painted)
        for (line, y, layout, _), h in zip(self._painted, heights):
            if h is None:
                h = layout.boundingRect().height() or self.line_height
            if y <= pos.y() < y + h:
                x = pos.x() - GUTTER + self.horizontalScrollBar().value()
                for i in range(layout.lineCount()):
                    tl = layout.lineAt(i)
                    if tl.y() <= pos.y() - y < tl.y() + tl.height() or i == layout.lineCount() - 1:
                        return line, tl.xToCursor(x)
        if self._painted and pos.y() >= self._painted[-1][1]:
            line, _, layout, _ = self._painted[-1]
            return line, len(layout.text())
        return None

    def line_at(self, pos) -> int | None:
        """The line painted at viewport point `pos` (None: no line there, or not painted yet)."""
        hit = self._hit(QPointF(pos))
        return hit[0] if hit else None

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self._hit(event.position())
            self._sel = (hit, hit) if hit else None
            self.viewport().update()
            if hit:
                self.line_clicked.emit(hit[0])
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._sel is not None and event.buttons() & Qt.MouseButton.LeftButton:
            hit = self._hit(event.position())
            if hit:
                self._sel = (self._sel[0], hit)
                if event.position().y() < 0 or event.position().y() > self.viewport().height():
                    self.verticalScrollBar().setValue(self.verticalScrollBar().value() + (-1 if event.position().y() < 0 else 1))
                self.viewport().update()

    def mouseDoubleClickEvent(self, event) -> None:
        hit = self._hit(event.position())
        if hit:
            self._sel = ((hit[0], 0), (hit[0], len(self.display_text(hit[0])[0])))
            self.viewport().update()

    def select_lines(self, first: int, last: int) -> None:
        """Select whole lines first..last (inclusive)."""
        self._sel = ((first, 0), (last, len(self.display_text(last)[0])))
        self.viewport().update()

    def selected_text(self) -> str:
        if self._sel is None:
            return ""
        (l0, c0), (l1, c1) = sorted(self._sel)
        out = []
        rows = range(l0, l1 + 1) if self.filter_rows is None else \
            self.filter_rows[np.searchsorted(self.filter_rows, l0):np.searchsorted(self.filter_rows, l1, side="right")].tolist()
        for line in rows:
            text = self.display_text(line)[0]
            end = c1 if line == l1 else len(text)
            cut = self.elided_at(line)
            if cut is not None and end > cut:
                # The selection reaches into the note: copy the line itself, all of it.
                text = self.display_text(line, full=True)[0]
                end = len(text)
            out.append(text[c0 if line == l0 else 0:end])
        return "\n".join(out)

    def copy_selection(self) -> None:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            return
        if event.matches(QKeySequence.StandardKey.SelectAll):  # then Copy: the keyboard's way to take it all
            n = self.row_count()
            if n:
                self.select_lines(self.line_of_row(0), self.line_of_row(n - 1))
            return
        if event.key() == Qt.Key.Key_End and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.jump_to_end()
            return
        if event.key() == Qt.Key.Key_Home and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.verticalScrollBar().setValue(0)
            return
        super().keyPressEvent(event)


class _LazyLayout:
    """A painted line's QTextLayout, made only when something asks it (a click, a selection):
    plain lines are drawn without one."""

    __slots__ = ("_make", "_real")

    def __init__(self, make) -> None:
        self._make = make
        self._real = None

    def __getattr__(self, name):
        if self._real is None:
            self._real = self._make()
        return getattr(self._real, name)


def _range(start: int, length: int, fmt: QTextCharFormat):
    r = QTextLayout.FormatRange()
    r.start, r.length, r.format = start, length, fmt
    return r
