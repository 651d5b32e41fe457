"""A VT screen (pyte) with scrollback and the alternate screen, safe to feed from another thread.

pyte handles cursor movement, colours and erasing; it has no alternate screen, which full-screen
programs (top, vi, less) switch to and back from, so this adds one (private modes 47/1047/1049).
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyte

ALT_MODES = {47, 1047, 1049}
FEED_PIECE = 1024  # characters fed per lock hold
FRAME_INTERVAL = 1 / 30
DECCKM = 1 << 5  # pyte stores private mode n as n << 5: application cursor keys
BRACKETED_PASTE = 2004 << 5


class _Screen(pyte.HistoryScreen):
    def __init__(self, cols: int, rows: int, history: int) -> None:
        super().__init__(cols, rows, history=history, ratio=0.5)
        self.alternate = False
        self._saved = None
        self.respond: Callable[[str], None] = lambda s: None

    def set_mode(self, *modes, **kwargs) -> None:
        if kwargs.get("private") and ALT_MODES & set(modes) and not self.alternate:
            self._saved = ({y: dict(line) for y, line in self.buffer.items()}, self.cursor.x, self.cursor.y)
            self.alternate = True
            self.erase_in_display(2)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes, **kwargs) -> None:
        if kwargs.get("private") and ALT_MODES & set(modes) and self.alternate:
            self.alternate = False
            self.erase_in_display(2)
            saved, x, y = self._saved or ({}, 0, 0)
            for row, line in saved.items():
                if row < self.lines:
                    self.buffer[row].update({c: ch for c, ch in line.items() if c < self.columns})
            self.cursor.x, self.cursor.y = min(x, self.columns - 1), min(y, self.lines - 1)
            self.dirty.update(range(self.lines))
        super().reset_mode(*modes, **kwargs)

    def index(self) -> None:
        if self.alternate:  # full-screen programs do not write into the scrollback
            pyte.Screen.index(self)
        else:
            super().index()

    def write_process_input(self, data: str) -> None:
        self.respond(data)  # answers to "where is the cursor?" and device attribute queries


Run = tuple  # (column, text, fg, bg, bold, italics, underscore, reverse, strikethrough)


def row_runs(line, columns: int) -> tuple[Run, ...]:
    """A screen row as runs of equally styled text (blank default-styled stretches left out)."""
    runs = []
    x = 0
    get = line.get
    while x < columns:
        ch = get(x)
        attrs = (ch.fg, ch.bg, ch.bold, ch.italics, ch.underscore, ch.reverse, ch.strikethrough) if ch else None
        start, text = x, [ch.data if ch else " "]
        x += 1
        while x < columns:
            nx = get(x)
            na = (nx.fg, nx.bg, nx.bold, nx.italics, nx.underscore, nx.reverse, nx.strikethrough) if nx else None
            if na != attrs:
                break
            text.append(nx.data if nx else " ")
            x += 1
        t = "".join(text)
        if attrs is None or (attrs == _PLAIN and not t.strip()):
            if t.strip():
                runs.append((start, t, "default", "default", False, False, False, False, False))
            continue
        runs.append((start, t) + attrs)
    return tuple(runs)


_PLAIN = ("default", "default", False, False, False, False, False)


def runs_text(runs: tuple[Run, ...], columns: int) -> str:
    cells = [" "] * columns
    for run in runs:
        for i, c in enumerate(run[1]):
            if run[0] + i < columns:
                cells[run[0] + i] = c
    return "".join(cells)


@dataclass(frozen=True)
class Frame:
    """A copy of what is on screen, as styled runs: drawn without touching the emulator."""

    rows: tuple[tuple[Run, ...], ...]
    cursor_x: int
    cursor_y: int
    cursor_hidden: bool
    columns: int
    app_cursor: bool
    bracketed_paste: bool
    history_size: int = 0


class TerminalScreen:
    """The emulator: screen + byte stream decoder behind a lock.

    It publishes a Frame at most every FRAME_INTERVAL seconds while fed, and on `flush()`;
    `on_frame` is called with each. (The app runs it in a child process, see terminal_process.)
    """

    def __init__(self, cols: int = 80, rows: int = 24, history: int = 5000) -> None:
        self.lock = threading.Lock()
        self.screen = _Screen(cols, rows, history)
        self.stream = pyte.Stream(self.screen)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.generation = 0  # bumped on every published frame
        self._published_at = 0.0
        self._pending = False
        self.on_frame: Callable[[Frame], None] = lambda f: None
        self.frame = self._snapshot()

    def set_responder(self, fn: Callable[[str], None]) -> None:
        self.screen.respond = fn

    def _snapshot(self) -> Frame:
        """Call under `lock` (or before other threads exist)."""
        scr = self.screen
        return Frame(tuple(row_runs(scr.buffer[y], scr.columns) for y in range(scr.lines)), scr.cursor.x, scr.cursor.y,
                     bool(scr.cursor.hidden), scr.columns, DECCKM in scr.mode, BRACKETED_PASTE in scr.mode,
                     len(scr.history.top))

    def _publish(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._published_at >= FRAME_INTERVAL:
            self.frame = self._snapshot()
            self._published_at = now
            self._pending = False
            self.generation += 1
            self.on_frame(self.frame)
        else:
            self._pending = True

    def feed(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        for i in range(0, len(text), FEED_PIECE):
            with self.lock:
                self.stream.feed(text[i:i + FEED_PIECE])
                self._publish()

    def flush(self) -> None:
        """Publish what changed since the last frame (output paused)."""
        if self._pending:
            with self.lock:
                self._publish(force=True)

    def resize(self, cols: int, rows: int) -> None:
        with self.lock:
            self.screen.resize(rows, cols)
            self._publish(force=True)

    @property
    def size(self) -> tuple[int, int]:
        return self.screen.columns, self.screen.lines

    def text(self) -> str:
        """The visible screen as plain text (for tests and copy)."""
        with self.lock:
            return "\n".join(line.rstrip() for line in self.screen.display)

    def history_rows(self, count: int, timeout: float = 0.005) -> list | None:
        """The last `count` scrollback rows as runs."""
        with self.lock:
            top = self.screen.history.top
            return [row_runs(line, self.screen.columns) for line in list(top)[max(0, len(top) - count):]]

    def scrollback(self, count: int) -> tuple[list, Frame]:
        """The last `count` scrollback rows and the screen they sit above, taken together."""
        with self.lock:
            top = self.screen.history.top
            rows = [row_runs(line, self.screen.columns) for line in list(top)[max(0, len(top) - count):]]
            return rows, self._snapshot()

    def history_size(self) -> int:
        return len(self.screen.history.top)
