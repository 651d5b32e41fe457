"""One daemon thread waiting on many sockets with one selector, told what to do by other threads.

The log followers and the stats streams each read dozens of sockets on one thread (so a burst
wakes one thread, not one per stream). What they share is here: the selector, the socket pair
whose write end wakes the wait when a command is queued, the queue, stopping, and closing
everything on the way out (every stream still registered is ended first).
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections import deque


class SelectorThread:
    """Subclasses write `_run()` (the loop: `self._sel.select()`, then their commands and sockets) and
    `_end_at_exit(data, sock)`, and call `_start()` at the end of their `__init__`."""

    def __init__(self, name: str) -> None:
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)  # data None: the wake socket
        self._commands: deque = deque()
        self._stopped = False
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def _start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped = True
        self._command(("stop", None))

    def _command(self, cmd: tuple) -> None:
        """Queue `cmd` for the thread and wake its wait (from any thread)."""
        self._commands.append(cmd)
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass  # stopped: the thread is gone

    def _drain_wake(self) -> None:
        try:
            self._wake_r.recv(4096)
        except OSError:  # (BlockingIOError: another round took the bytes)
            pass

    def _run(self) -> None:
        raise NotImplementedError

    def _end_at_exit(self, data, sock) -> None:
        raise NotImplementedError

    def _main(self) -> None:
        try:
            self._run()
        finally:
            for key in list(self._sel.get_map().values()):
                if key.data is not None:
                    self._end_at_exit(key.data, key.fileobj)
            self._sel.close()
            self._wake_r.close()
            self._wake_w.close()
