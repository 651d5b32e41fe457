"""Every followed log stream of a UNIX-socket engine read by one thread, one selector.

Twenty containers followed at 1,000 lines/s each kept twenty reader threads waking hundreds of
times a second, each taking the GIL back from the UI thread in the middle of a paint (a paint of
9 ms took 40). Here one thread waits on all of their sockets, reads whatever has arrived on each
after a frame's pause (so one wake serves many streams' bursts), and hands every stream's bytes
to its own decoder; it yields to the UI's paints through the foreground gate. A stream is opened
(its request sent and its head read) in a short-lived thread of its own, then handed over here.
"""

from __future__ import annotations

import logging
import selectors
import socket
import time
from collections.abc import Callable

from desktop.engine.selector_thread import SelectorThread

log = logging.getLogger(__name__)

FRAME = 0.008  # after a round with data, wait this long so the next finds more in the sockets
READ_SIZE = 1 << 20


class FollowMux(SelectorThread):
    """`add(sock, on_data, on_end)`: `on_data(bytes)` in this thread for what arrives (False: stop
    reading it), then `on_end(error or None)` once, when the engine ends the stream, the socket
    is shut down (the stream closed) or `on_data` said stop. `stop()` stops reading (the streams'
    owners shut their sockets down themselves)."""

    def __init__(self, gate, name: str = "log-follow") -> None:
        super().__init__(name)
        self._gate = gate
        self._buf = bytearray(READ_SIZE)
        self._view = memoryview(self._buf)
        self.streams = 0
        self._start()

    def add(self, sock: socket.socket, on_data: Callable[[bytes], bool],
            on_end: Callable[[BaseException | None], None]) -> None:
        self._command(("add", sock, on_data, on_end))

    def _end(self, sock, on_end, err) -> None:
        try:
            self._sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        self.streams -= 1
        try:
            on_end(err)
        except Exception:  # noqa: BLE001 - one stream's owner must not stop the others' reading
            log.exception("a followed log stream's end handler failed")

    def _end_at_exit(self, data, sock) -> None:
        self._end(sock, data[1], None)

    def _run(self) -> None:
        while not self._stopped:
            events = self._sel.select()
            while self._commands:
                cmd = self._commands.popleft()
                if cmd[0] == "add":
                    _, sock, on_data, on_end = cmd
                    self._sel.register(sock, selectors.EVENT_READ, (on_data, on_end))
                    self.streams += 1
            if self._stopped:
                break
            got = False
            for key, _ in events:
                if key.data is None:
                    self._drain_wake()
                    continue
                on_data, on_end = key.data
                sock = key.fileobj
                self._gate.wait()
                try:
                    k = sock.recv_into(self._view)
                except OSError as exc:
                    self._end(sock, on_end, exc)
                    continue
                if not k:
                    self._end(sock, on_end, None)
                    continue
                got = True
                try:
                    go_on = on_data(bytes(self._view[:k]))
                except Exception as exc:  # noqa: BLE001 - reported to that stream's owner
                    self._end(sock, on_end, exc)
                    continue
                if not go_on:
                    self._end(sock, on_end, None)
            if got:
                time.sleep(FRAME)
