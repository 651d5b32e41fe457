"""Let the UI thread paint without fighting stream workers for the GIL.

A worker thread that parses a flood of output in Python holds the GIL in 5 ms slices, and a
paint that makes hundreds of Qt calls (each releasing and re-taking the GIL) can wait one
slice per call. Workers therefore process in small pieces and call `wait()` between them;
the UI wraps its heavy paints in `busy()`, during which workers sleep (releasing the GIL).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

MAX_WAIT = 0.05  # a worker never waits longer than this per piece, whatever the UI does


class ForegroundGate:
    def __init__(self) -> None:
        self._busy = 0
        self._lock = threading.Lock()

    @contextmanager
    def busy(self):
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1

    def wait(self) -> None:
        """Called by workers between pieces: sleep while the UI is painting."""
        if not self._busy:
            return
        deadline = time.monotonic() + MAX_WAIT
        while self._busy and time.monotonic() < deadline:
            time.sleep(0.0005)
