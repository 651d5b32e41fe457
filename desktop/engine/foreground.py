"""Let the UI thread paint without fighting stream workers for the GIL.

A worker thread that parses a flood of output in Python holds the GIL in 5 ms slices, and a
paint that makes hundreds of Qt calls (each releasing and re-taking the GIL) can wait one
slice per call. Workers therefore process in small pieces and call `wait()` between them;
the UI wraps its heavy paints in `busy()`, during which workers block (releasing the GIL).

Workers block on an event the paint sets when it ends, rather than polling: twenty followed
streams polling every 0.5 ms took the GIL thousands of times during one paint, and each of
those hand-overs made the paint wait for a context switch (a 9 ms paint took 41 ms).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

MAX_WAIT = 0.05  # a worker never waits longer than this per piece, whatever the UI does


class ForegroundGate:
    def __init__(self) -> None:
        self._busy = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    @contextmanager
    def busy(self):
        with self._lock:
            self._busy += 1
            self._idle.clear()
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
                if not self._busy:
                    self._idle.set()

    @property
    def is_busy(self) -> bool:
        return bool(self._busy)

    def wait(self) -> None:
        """Called by workers between pieces: block while the UI is painting (at most MAX_WAIT)."""
        if self._busy:
            self._idle.wait(MAX_WAIT)
