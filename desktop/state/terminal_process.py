"""The terminal emulator in a child process, so a flood of output never competes with the UI
thread for the GIL.

pyte is pure Python (~0.1-1 MB/s). Fed in a thread of the app, a `yes` held the GIL for seconds
at a time and the window stalled; in its own process it only costs a core. Bytes go to the
child through a pipe (which blocks the exec reader when the child falls behind: the socket then
holds the container back); frames (styled runs, at most 30 a second) come back through another.
User requests (resize, scrollback) use a third channel so they never queue behind output.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait

from desktop.state.terminal_screen import Frame, TerminalScreen


def _serve(data_conn: Connection, ctl_conn: Connection, out_conn: Connection, cols: int, rows: int, history: int) -> None:
    """Child process main loop."""
    screen = TerminalScreen(cols, rows, history)
    out_lock = threading.Lock()

    def send(msg) -> None:
        with out_lock:
            out_conn.send(msg)

    screen.on_frame = lambda f: send(("frame", f))
    screen.set_responder(lambda s: send(("respond", s)))
    conns = [ctl_conn, data_conn]
    while conns:
        for conn in wait(conns):
            try:
                if not conn.poll():
                    continue  # drained meanwhile (a "text" question reads all pending output)
                msg = conn.recv_bytes() if conn is data_conn else conn.recv()
            except (EOFError, OSError):
                conns.remove(conn)
                if conn is ctl_conn:
                    return
                continue
            if conn is data_conn:
                screen.feed(msg)
                continue
            kind = msg[0]
            if kind == "resize":
                screen.resize(msg[1], msg[2])
            elif kind == "history":
                # The rows together with the screen they sit above, taken at one moment: the UI
                # never shows scrollback of one moment over the screen of another.
                rows, frame = screen.scrollback(msg[1])
                send(("scrollback", msg[1], rows, frame))
            elif kind == "text":
                try:
                    while data_conn in conns and data_conn.poll():  # everything fed before the question
                        screen.feed(data_conn.recv_bytes())
                except (EOFError, OSError):
                    conns.remove(data_conn)
                screen.flush()
                send(("reply", msg[1], screen.text()))
            elif kind == "close":
                return
        try:
            idle = data_conn not in conns or not data_conn.poll()
        except (EOFError, OSError):
            idle = True
        if idle:
            screen.flush()  # output paused: show the latest state now


class TerminalEmulatorProcess:
    """Same surface as TerminalScreen for the UI: feed/resize/frame/generation/text/history."""

    def __init__(self, cols: int = 80, rows: int = 24, history: int = 5000) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork a process that runs Qt
        self._data, data_child = ctx.Pipe(duplex=False)[::-1]
        self._ctl, ctl_child = ctx.Pipe(duplex=False)[::-1]
        out_child, self._out = ctx.Pipe(duplex=False)[::-1]
        self._proc = ctx.Process(target=_serve, args=(data_child, ctl_child, out_child, cols, rows, history),
                                 name="pilothouse-terminal", daemon=True)
        self._proc.start()
        for c in (data_child, ctl_child, out_child):
            c.close()
        self._size = (cols, rows)
        self.frame = Frame(tuple(() for _ in range(rows)), 0, 0, False, cols, False, False, 0)
        self.generation = 0
        self._responder: Callable[[str], None] = lambda s: None
        self._replies: dict[int, list] = {}
        # (rows asked, generation it belongs to, history rows, frame): the last scrollback the
        # child sent, and whether a request is on its way (at most one, so a scrolled-back view
        # during a flood of output asks no faster than the child answers).
        self._scrollback: tuple[int, int, list, Frame] | None = None
        self._scrollback_asked = False
        self._ids = itertools.count(1)
        self._data_lock = threading.Lock()
        self._ctl_lock = threading.Lock()
        self.closed = False
        self.died = False  # the child ended without being asked to
        threading.Thread(target=self._read, name="terminal-frames", daemon=True).start()

    # -- to the child ---------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Output from the container (any thread; blocks while the emulator is behind)."""
        if self.closed:
            return
        try:
            with self._data_lock:
                self._data.send_bytes(data)
        except (OSError, EOFError, ValueError, TypeError):  # closed meanwhile
            pass

    def _control(self, msg) -> bool:
        if self.closed:
            return False
        try:
            with self._ctl_lock:
                self._ctl.send(msg)
            return True
        except (OSError, EOFError, ValueError, TypeError):
            return False

    def resize(self, cols: int, rows: int) -> None:
        self._size = (cols, rows)
        self._control(("resize", cols, rows))

    def _ask(self, msg_kind: str, *args, timeout: float):
        rid = next(self._ids)
        slot = [threading.Event(), None]
        self._replies[rid] = slot
        if not self._control((msg_kind, rid, *args)):
            return None
        slot[0].wait(timeout)
        self._replies.pop(rid, None)
        return slot[1]

    def scrollback(self, count: int) -> tuple[list, Frame] | None:
        """The last `count` scrollback rows and the frame they sit above, without waiting.

        Never blocks the caller (the UI thread paints with it): when the last answer is out of
        date (output arrived since, or fewer rows were asked) it asks the child again and returns
        the last answer meanwhile (None before the first); the answer bumps `generation`, so a
        view repaints when it comes. A fixed wait here lost every answer slower than the wait, so
        on a busy machine scrolling back showed nothing at all.
        """
        last = self._scrollback
        fresh = last is not None and last[1] == self.generation and last[0] >= count
        if not fresh and not self._scrollback_asked and not self.closed:
            self._scrollback_asked = True
            if not self._control(("history", count)):
                self._scrollback_asked = False
        return (last[2], last[3]) if last is not None else None

    def text(self, timeout: float = 5.0) -> str:
        """The visible screen as plain text (for tests): a round trip to the child."""
        return self._ask("text", timeout=timeout) or ""

    # -- from the child ---------------------------------------------------------------------------
    def set_responder(self, fn: Callable[[str], None]) -> None:
        self._responder = fn

    def _read(self) -> None:
        while True:
            try:
                msg = self._out.recv()
            except (EOFError, OSError):
                self.died = not self.closed
                return
            kind = msg[0]
            if kind == "frame":
                self.frame = msg[1]
                self.generation += 1
            elif kind == "scrollback":
                _, count, rows, frame = msg
                self.frame = frame
                self.generation += 1
                self._scrollback = (count, self.generation, rows, frame)
                self._scrollback_asked = False
            elif kind == "respond":
                self._responder(msg[1])
            elif kind == "reply":
                slot = self._replies.get(msg[1])
                if slot is not None:
                    slot[1] = msg[2]
                    slot[0].set()

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def history_size(self) -> int:
        return self.frame.history_size

    def flush(self) -> None:
        """Frames arrive by themselves; kept for the TerminalScreen surface."""

    def close(self) -> None:
        if self.closed:
            return
        self._control(("close",))
        self.closed = True
        for c in (self._data, self._ctl):
            c.close()
        self._proc.join(timeout=2)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=2)
        self._out.close()
