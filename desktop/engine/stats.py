"""Container stats streams (the formulas and the sample records are in stats_formulas).

The engine samples every streamed container once a second. Each stream is one engine
connection read by its own worker thread (opening it there too, so 100 streams never queue
behind the bounded call executor). Samples from all streams are handed to the loop in
batches: the daemon publishes every container's sample in the same tick, so a hundred
streams cost a handful of loop wake-ups a second rather than a hundred.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable

from docker.types.daemon import CancellableStream

from desktop.engine.stats_formulas import StatsSample, StreamEnded, sample_from_api
from desktop.engine.stats_mux import StatsMux
from desktop.engine.stream_clients import local_socket_path, stream_api

log = logging.getLogger(__name__)

COALESCE_SECONDS = 0.25  # latency added to 1 s figures in exchange for ~4 loop wake-ups a second


# -- streams ------------------------------------------------------------------------------------
class ContainerStatsStream:
    """One container's live stats: a worker thread on its own engine connection; `close()` stops it."""

    def __init__(self, client, cid: str, post: Callable[["ContainerStatsStream", object], None]) -> None:
        self.container_id = cid
        self._client = client
        self._post = post  # thread-safe hand-off of (stream, StatsSample | StreamEnded)
        self._lock = threading.Lock()
        self._stream: CancellableStream | None = None
        self._closed = False
        self.every = 1  # post every n-th sample (StatsStreams.set_every)
        self._thread = threading.Thread(target=self._pump, name=f"stats-{cid[:12]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        """Stop reading (from any thread); the worker posts StreamEnded and exits."""
        with self._lock:
            self._closed = True
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - a socket already gone is closed either way
                pass

    def _pump(self) -> None:
        reason = ""
        api = None
        try:
            api = stream_api(self._client)
            url = api._url("/containers/{0}/stats", self.container_id)
            response = api._get(url, params={"stream": True}, stream=True)
            api._raise_for_status(response)
            stream = CancellableStream(api._stream_helper(response, decode=True), response)
            with self._lock:
                if self._closed:
                    stream.close()
                    return
                self._stream = stream
            prev: StatsSample | None = None
            seen = 0
            for raw in stream:
                s = sample_from_api(raw, self.container_id, prev)
                if s is None:
                    break  # the engine sends zero samples for a stopped container: end here
                prev = s
                seen += 1
                if (seen - 1) % self.every == 0:
                    self._post(self, s)
        except Exception as exc:  # noqa: BLE001 - any failure ends this stream with a reason
            if not self._closed:
                reason = str(exc) or type(exc).__name__
        finally:
            if api is not None:
                api.close()
            self._post(self, StreamEnded(self.container_id, reason))


class StatsStreams:
    """Opens and closes container stats streams; delivers samples on the loop in batches.

    `on_samples(list[StatsSample])` and `on_ended(StreamEnded)` are called on the loop.
    """

    def __init__(self, client, on_samples: Callable[[list[StatsSample]], None],
                 on_ended: Callable[[StreamEnded], None], *, use_mux: bool = True) -> None:
        self._client = client
        self.use_mux = use_mux  # False: a thread per stream through the SDK (remote/TLS engines)
        self._on_samples = on_samples
        self._on_ended = on_ended
        self._streams: dict[str, object] = {}  # cid -> ContainerStatsStream or MuxStream
        self._mux = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: deque = deque()
        self._scheduled = False
        self._lock = threading.Lock()
        self.coalesce_seconds = COALESCE_SECONDS

    def __contains__(self, cid: str) -> bool:
        return cid in self._streams

    @property
    def count(self) -> int:
        """Streams open now (each is one engine connection)."""
        return len(self._streams)

    def ids(self) -> set[str]:
        return set(self._streams)

    def open(self, cid: str) -> None:
        if cid in self._streams:
            return
        self._loop = asyncio.get_running_loop()
        path = local_socket_path(self._client)
        if self.use_mux and path is not None:
            # A UNIX socket (local, or an SSH engine's forward): every stream on one selector
            # thread (desktop/engine/stats_mux.py).
            version = self._client.api.api_version
            if self._mux is not None and (self._mux.socket_path, self._mux.api_version) != (path, version):
                self._mux.stop()  # reconnected elsewhere: its streams have ended with the old engine
                self._mux = None
            if self._mux is None:
                self._mux = StatsMux(path, version, self._post)
            self._streams[cid] = self._mux.open(cid)
            return
        s = ContainerStatsStream(self._client, cid, self._post)
        self._streams[cid] = s
        s.start()

    def set_every(self, cid: str, every: int) -> None:
        """Decode only every `every`-th sample of this stream (the others are read and dropped)."""
        s = self._streams.get(cid)
        if s is not None:
            s.every = every

    def close(self, cid: str) -> None:
        s = self._streams.pop(cid, None)
        if s is not None:
            s.close()

    def close_all(self) -> None:
        for cid in list(self._streams):
            self.close(cid)
        if self._mux is not None:
            self._mux.stop()
            self._mux = None

    # Called from worker threads.
    def _post(self, stream: ContainerStatsStream, item: object) -> None:
        with self._lock:
            self._pending.append((stream, item))
            if self._scheduled:
                return
            self._scheduled = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._drain_soon)
            except RuntimeError:  # the loop closed meanwhile: nobody is listening any more
                pass

    def _drain_soon(self) -> None:
        # The engine's samples of different containers trickle in across the second; waiting a
        # moment gathers them, so the UI thread wakes a few times a second, not once per sample.
        self._loop.call_later(self.coalesce_seconds, self._drain)

    def _drain(self) -> None:
        with self._lock:
            items, self._pending = list(self._pending), deque()
            self._scheduled = False
        samples = []
        for stream, item in items:
            current = self._streams.get(item.container_id)
            if current is not stream:
                continue  # a straggler of a stream closed on purpose (maybe reopened since)
            if isinstance(item, StatsSample):
                samples.append(item)
            else:
                del self._streams[item.container_id]
                self._on_ended(item)
        if samples:
            self._on_samples(samples)
