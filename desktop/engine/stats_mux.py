"""All stats streams of a local engine on one thread: raw UNIX-socket HTTP, one selector.

Measured on the test engine, the SDK path (a thread per stream reading through requests,
urllib3 and http.client) costs ~350 µs of CPU per sample: 0.7 % of a core for 21 visible
rows. Here one thread waits on every stream's socket at once, parses the chunked HTTP body
itself and decodes each JSON document with the C decoder, so the engine's once-a-second tick
wakes one thread instead of one per container. Still one engine connection per container
(the API has no multi-container stream); closing a stream closes its socket.
"""

from __future__ import annotations

import json
import logging
import select
import selectors
import socket
import time
from collections.abc import Callable
from urllib.parse import quote

from desktop.engine.raw_http import ChunkedLines, open_stream
from desktop.engine.selector_thread import SelectorThread
from desktop.engine.stats_formulas import StatsSample, StreamEnded, sample_from_api

log = logging.getLogger(__name__)

# The engine ticks each stream once a second, but each at its own phase: 20 streams woke the
# thread 20 times a second. After a round with data the thread waits this long, so the next
# round finds several streams' samples already in their socket buffers (about 2 wakes a second).
# Opening and closing streams is not delayed by it: those commands wake the wait.
BATCH_SECONDS = 0.5
# A stream that wants every n-th sample only (a table cell, StatsStreams.set_every) is content
# with one each n seconds: when every open stream is such a glance, the wait is n seconds and
# each read finds about n documents in the socket, of which only the newest is decoded (CPU %
# needs no older one: each document carries the previous tick's CPU counters). One wake, read
# and decode per stream every n seconds instead of 2 wakes a second and a read per document.
# A stream's first two samples are read as they come (the first has no previous tick: its
# CPU % is 0), so a row scrolled into view shows its figures at once.
EAGER_SAMPLES = 2


class MuxStream:
    """One container's stream inside a StatsMux; `close()` from any thread."""

    def __init__(self, mux: "StatsMux", cid: str) -> None:
        self.container_id = cid
        self._mux = mux
        self.sock: socket.socket | None = None
        self.parser = ChunkedLines()
        self.prev: StatsSample | None = None
        self.closed = False
        self.every = 1  # decode every n-th document (StatsStreams.set_every); the rest are dropped
        self.posted = 0  # samples handed on so far
        self.decode_after = 0.0  # glance stream: monotonic time from which the next newest document is decoded

    def close(self) -> None:
        self.closed = True
        self._mux._command(("remove", self))


class StatsMux(SelectorThread):
    """The selector thread; `open(cid)` returns a MuxStream whose items go to `post(stream, item)`."""

    def __init__(self, socket_path: str, api_version: str, post: Callable[[object, object], None]) -> None:
        super().__init__("stats-mux")
        self.socket_path = socket_path
        self.api_version = api_version
        self._post = post
        self._streams: set[MuxStream] = set()  # connected
        self.batch_seconds = BATCH_SECONDS
        self._buf = bytearray(65536)
        self._view = memoryview(self._buf)
        self._start()

    def open(self, cid: str) -> MuxStream:
        s = MuxStream(self, cid)
        self._command(("add", s))
        return s

    # -- the thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopped:
            had_data = False
            for key, _ in self._sel.select():
                if key.data is None:
                    self._drain_wake()
                    self._run_commands()
                else:
                    had_data = True
                    self._on_readable(key.data)
            if had_data and self.batch_seconds:
                self._linger(time.monotonic() + self._wait_seconds())

    def _end_at_exit(self, data, sock) -> None:
        self._end(data, "")

    def _wait_seconds(self) -> float:
        every = min((s.every for s in self._streams), default=1)
        return self.batch_seconds if every <= 1 else max(self.batch_seconds, float(every))

    def _linger(self, until: float) -> None:
        """Let samples gather until `until`, still serving open/close commands and the first
        samples of new streams meanwhile."""
        while not self._stopped:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return
            eager = {s.sock: s for s in self._streams if s.posted < EAGER_SAMPLES and s.sock is not None}
            ready, _, _ = select.select([self._wake_r, *eager], [], [], remaining)
            for r in ready:
                if r is self._wake_r:
                    self._drain_wake()
                    self._run_commands()
                elif eager[r].sock is r:  # not closed by a command just run
                    self._on_readable(eager[r])

    def _run_commands(self) -> None:
        while self._commands:
            op, s = self._commands.popleft()
            if op == "add" and not s.closed:
                self._connect(s)
            elif op == "remove" and s.sock is not None:
                self._end(s, "", post=False)

    def _connect(self, s: MuxStream) -> None:
        try:
            sock = open_stream(self.socket_path, self.api_version,
                               f"/containers/{quote(s.container_id)}/stats?stream=1")
            sock.setblocking(False)
        except OSError as err:
            self._post(s, StreamEnded(s.container_id, f"Could not open the stats stream: {err.strerror or err}"))
            return
        s.sock = sock
        self._sel.register(sock, selectors.EVENT_READ, s)
        self._streams.add(s)

    def _on_readable(self, s: MuxStream) -> None:
        if s.sock is None:
            return  # closed earlier in this same batch of ready sockets
        try:
            # Into one reused buffer: recv(n) allocates n bytes per call and shrinks them, which
            # measured ~90 µs a read here (heap grown and trimmed each time) for a ~2 KB sample.
            n = s.sock.recv_into(self._buf)
            data = bytes(self._view[:n])
        except BlockingIOError:
            return
        except OSError as err:
            self._end(s, str(err))
            return
        if not data:
            p = s.parser
            reason = "" if p.status == 200 else (p.error_text() or f"The engine answered {p.status}.")
            self._end(s, reason)
            return
        try:
            docs = s.parser.feed(data)
            if s.every > 1 and s.posted >= EAGER_SAMPLES:
                now = time.monotonic()
                if not docs or now < s.decode_after:
                    docs = []
                else:
                    docs = docs[-1:]
                    # A little early is fine: the reads of one wait arrive a few ms apart.
                    s.decode_after = now + s.every - self.batch_seconds
            wanted = [json.loads(line) for line in docs]
        except ValueError as err:  # malformed framing or JSON: this stream cannot go on
            self._end(s, f"Unreadable stats from the engine: {err}")
            return
        for raw in wanted:
            sample = sample_from_api(raw, s.container_id, s.prev)
            if sample is None:  # zero sample: the container stopped
                self._end(s, "")
                return
            s.prev = sample
            s.posted += 1
            self._post(s, sample)
        if s.parser.finished:
            self._end(s, "")

    def _end(self, s: MuxStream, reason: str, post: bool = True) -> None:
        self._streams.discard(s)
        sock, s.sock = s.sock, None
        if sock is not None:
            try:
                self._sel.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()
        if post:
            self._post(s, StreamEnded(s.container_id, reason))
