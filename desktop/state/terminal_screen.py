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
FEED_PIECE = 256  # characters fed per lock hold (~1-2 ms of pyte)
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


@dataclass(frozen=True)
class Frame:
    """A copy of what is on screen: the painter draws it without taking the lock."""

    rows: tuple[dict, ...]
    cursor_x: int
    cursor_y: int
    cursor_hidden: bool
    columns: int
    app_cursor: bool
    bracketed_paste: bool


class TerminalScreen:
    """Lock-protected screen + byte stream decoder. `feed` from any thread.

    The feeding thread publishes a Frame at most every FRAME_INTERVAL seconds; the UI thread
    reads `frame` (an atomic reference swap) and so never waits for a busy emulator.
    """

    def __init__(self, cols: int = 80, rows: int = 24, history: int = 5000,
                 yield_to_ui: Callable[[], None] = lambda: None) -> None:
        self.yield_to_ui = yield_to_ui  # called between pieces (ForegroundGate.wait)
        self.lock = threading.Lock()
        self.screen = _Screen(cols, rows, history)
        self.stream = pyte.Stream(self.screen)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.generation = 0  # bumped on every published frame; the painter compares
        self._published_at = 0.0
        self.frame = self._snapshot()

    def set_responder(self, fn: Callable[[str], None]) -> None:
        self.screen.respond = fn

    def _snapshot(self) -> Frame:
        """Call under `lock` (or before other threads exist)."""
        scr = self.screen
        return Frame(tuple(dict(scr.buffer[y]) for y in range(scr.lines)), scr.cursor.x, scr.cursor.y,
                     bool(scr.cursor.hidden), scr.columns, DECCKM in scr.mode, BRACKETED_PASTE in scr.mode)

    def _publish(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._published_at >= FRAME_INTERVAL:
            self.frame = self._snapshot()
            self._published_at = now
            self.generation += 1

    def feed(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        for i in range(0, len(text), FEED_PIECE):
            self.yield_to_ui()
            t0 = time.perf_counter()
            with self.lock:
                self.stream.feed(text[i:i + FEED_PIECE])
                self._publish()
            if len(text) > FEED_PIECE:
                # A flood: pyte is pure Python, so rest as long as we worked and leave the GIL
                # free for the UI thread half of the time (the socket holds the rest back).
                time.sleep(min(0.005, time.perf_counter() - t0))
        self._pending = True

    def flush(self) -> None:
        """Publish the latest state if output stopped between two frames (called by the painter's timer)."""
        if getattr(self, "_pending", False) and time.monotonic() - self._published_at >= FRAME_INTERVAL:
            if self.lock.acquire(blocking=False):
                try:
                    self._pending = False
                    self._publish(force=True)
                finally:
                    self.lock.release()

    def resize(self, cols: int, rows: int) -> None:
        with self.lock:
            self.screen.resize(rows, cols)
            self._publish(force=True)

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

    def history_rows(self, count: int, timeout: float = 0.005) -> list[dict] | None:
        """The last `count` scrollback rows, or None if the emulator is busy right now."""
        if not self.lock.acquire(timeout=timeout):
            return None
        try:
            top = self.screen.history.top
            return [dict(line) for line in list(top)[max(0, len(top) - count):]]
        finally:
            self.lock.release()

    def history_size(self) -> int:
        return len(self.screen.history.top)
