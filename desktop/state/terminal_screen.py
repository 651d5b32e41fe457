"""A VT screen (pyte) with scrollback and the alternate screen, safe to feed from another thread.

pyte handles cursor movement, colours and erasing; it has no alternate screen, which full-screen
programs (top, vi, less) switch to and back from, so this adds one (private modes 47/1047/1049).
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable

import pyte

ALT_MODES = {47, 1047, 1049}
FEED_PIECE = 4096  # bytes fed per lock hold: the painter never waits long


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


class TerminalScreen:
    """Lock-protected screen + byte stream decoder. `feed` from any thread; read under `lock`."""

    def __init__(self, cols: int = 80, rows: int = 24, history: int = 5000) -> None:
        self.lock = threading.Lock()
        self.screen = _Screen(cols, rows, history)
        self.stream = pyte.Stream(self.screen)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.generation = 0  # bumped on every change; the painter compares

    def set_responder(self, fn: Callable[[str], None]) -> None:
        self.screen.respond = fn

    def feed(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        for i in range(0, len(text), FEED_PIECE):
            with self.lock:
                self.stream.feed(text[i:i + FEED_PIECE])
                self.generation += 1

    def resize(self, cols: int, rows: int) -> None:
        with self.lock:
            self.screen.resize(rows, cols)
            self.generation += 1

    @property
    def size(self) -> tuple[int, int]:
        return self.screen.columns, self.screen.lines

    def history_lines(self) -> list:
        """Scrollback rows (oldest first); call under `lock`."""
        return list(self.screen.history.top)

    def text(self) -> str:
        """The visible screen as plain text (for tests and copy)."""
        with self.lock:
            return "\n".join(line.rstrip() for line in self.screen.display)
