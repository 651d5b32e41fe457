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
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

FRAME = 0.008  # after a round with data, wait this long so the next finds more in the sockets
READ_SIZE = 1 << 20


class FollowMux:
    """`add(sock, on_data, on_end)`: `on_data(bytes)` in this thread for what arrives (False: stop
    reading it), then `on_end(error or None)` once, when the engine ends the stream, the socket
    is shut down (the stream closed) or `on_data` said stop."""

    def __init__(self, gate, name: str = "log-follow") -> None:
        self._gate = gate
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._commands: deque = deque()
        self._stopped = False
        self._buf = bytearray(READ_SIZE)
        self._view = memoryview(self._buf)
        self.streams = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def add(self, sock: socket.socket, on_data: Callable[[bytes], bool],
            on_end: Callable[[BaseException | None], None]) -> None:
        self._command(("add", sock, on_data, on_end))

    def stop(self) -> None:
        """Stop reading (the streams' owners shut their sockets down themselves)."""
        self._stopped = True
        self._command(("stop",))

    def _command(self, cmd) -> None:
        self._commands.append(cmd)
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

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

    def _run(self) -> None:
        try:
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
                        try:
                            self._wake_r.recv(4096)
                        except OSError:
                            pass
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
        finally:
            for key in list(self._sel.get_map().values()):
                if key.data is not None:
                    self._end(key.fileobj, key.data[1], None)
            self._sel.close()
            self._wake_r.close()
            self._wake_w.close()
