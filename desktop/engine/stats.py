"""Container stats streams, with the docker CLI's formulas as pure functions.

The engine samples every streamed container once a second. Each stream is one engine
connection read by its own worker thread (opening it there too, so 100 streams never queue
behind the bounded call executor). Samples from all streams are handed to the loop in
batches: the daemon publishes every container's sample in the same tick, so a hundred
streams cost a handful of loop wake-ups a second rather than a hundred.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from docker.types.daemon import CancellableStream

from desktop.engine.stream_clients import local_socket_path, stream_api

log = logging.getLogger(__name__)

_ZERO_TIME = "0001-01-01T00:00:00Z"
COALESCE_SECONDS = 0.25  # latency added to 1 s figures in exchange for ~4 loop wake-ups a second


# -- the CLI's formulas (docker/cli cli/command/container/stats_helpers.go) --------------------
def cpu_percent(cpu: Mapping[str, Any], precpu: Mapping[str, Any]) -> float:
    """CPU %: container usage delta over system usage delta, times online CPUs (100 % = 1 core)."""
    usage = (cpu.get("cpu_usage") or {})
    pre_usage = (precpu.get("cpu_usage") or {})
    cpu_delta = float(usage.get("total_usage") or 0) - float(pre_usage.get("total_usage") or 0)
    system_delta = float(cpu.get("system_cpu_usage") or 0) - float(precpu.get("system_cpu_usage") or 0)
    online = float(cpu.get("online_cpus") or 0) or float(len(usage.get("percpu_usage") or ()))
    if system_delta > 0.0 and cpu_delta > 0.0:
        return cpu_delta / system_delta * online * 100.0
    return 0.0


def memory_used(memory_stats: Mapping[str, Any]) -> int:
    """Memory usage minus inactive page cache (cgroup v1 `total_inactive_file`, v2 `inactive_file`)."""
    usage = int(memory_stats.get("usage") or 0)
    stats = memory_stats.get("stats") or {}
    if "total_inactive_file" in stats and stats["total_inactive_file"] < usage:
        return usage - int(stats["total_inactive_file"])
    inactive = int(stats.get("inactive_file") or 0)
    if inactive < usage:
        return usage - inactive
    return usage


def memory_percent(used: float, limit: float) -> float:
    return used / limit * 100.0 if limit else 0.0


def block_io(blkio_stats: Mapping[str, Any]) -> tuple[int, int]:
    """Bytes read and written (cumulative), summed over devices as the CLI does."""
    read = write = 0
    for entry in blkio_stats.get("io_service_bytes_recursive") or ():
        op = (entry.get("op") or "")[:1]
        if op in ("r", "R"):
            read += int(entry.get("value") or 0)
        elif op in ("w", "W"):
            write += int(entry.get("value") or 0)
    return read, write


def network_io(networks: Mapping[str, Any] | None) -> tuple[int, int]:
    """Bytes received and sent (cumulative), summed over interfaces."""
    rx = tx = 0
    for iface in (networks or {}).values():
        rx += int(iface.get("rx_bytes") or 0)
        tx += int(iface.get("tx_bytes") or 0)
    return rx, tx


_TIME_RE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|z|[+-]\d\d:\d\d)?$")


def parse_time(text: str) -> float:
    """RFC 3339 with nanoseconds → epoch seconds (0.0 for Go's zero time)."""
    if not text or text.startswith("0001-"):
        return 0.0
    m = _TIME_RE.match(text)
    if m is None:
        return 0.0
    base, frac, tz = m.groups()
    offset = 0
    if tz and tz not in ("Z", "z"):
        offset = (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    return _base_epoch(base) - offset + (float(frac) if frac else 0.0)


@functools.lru_cache(maxsize=256)
def _base_epoch(base: str) -> float:
    # Every container's sample of one engine tick carries the same second: parse it once.
    return datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


@dataclass(frozen=True)
class StatsSample:
    """One second of one container, as `docker stats` shows it plus per-second I/O rates."""

    container_id: str
    time: float  # engine's read time, epoch seconds
    cpu_percent: float
    mem_used: int
    mem_limit: int
    mem_percent: float
    net_rx: int
    net_tx: int
    blk_read: int
    blk_write: int
    pids: int
    net_rx_rate: float = 0.0  # bytes/s since the previous sample (0 on the first)
    net_tx_rate: float = 0.0
    blk_read_rate: float = 0.0
    blk_write_rate: float = 0.0


def sample_from_api(raw: Mapping[str, Any], cid: str, prev: StatsSample | None = None) -> StatsSample | None:
    """A StatsSample from one engine stats document; None when the container is not running."""
    t = parse_time(raw.get("read") or _ZERO_TIME)
    if t == 0.0:
        return None
    mem = raw.get("memory_stats") or {}
    used = memory_used(mem)
    limit = int(mem.get("limit") or 0)
    rx, tx = network_io(raw.get("networks"))
    rd, wr = block_io(raw.get("blkio_stats") or {})
    rates = (0.0, 0.0, 0.0, 0.0)
    if prev is not None and t > prev.time:
        dt = t - prev.time
        rates = tuple(max(0.0, (now - before) / dt) for now, before in
                      ((rx, prev.net_rx), (tx, prev.net_tx), (rd, prev.blk_read), (wr, prev.blk_write)))
    return StatsSample(
        container_id=cid, time=t,
        cpu_percent=cpu_percent(raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}),
        mem_used=used, mem_limit=limit, mem_percent=memory_percent(used, limit),
        net_rx=rx, net_tx=tx, blk_read=rd, blk_write=wr,
        pids=int((raw.get("pids_stats") or {}).get("current") or 0),
        net_rx_rate=rates[0], net_tx_rate=rates[1], blk_read_rate=rates[2], blk_write_rate=rates[3],
    )


# -- streams ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StreamEnded:
    """A stream stopped: the container is no longer running, it was closed, or the engine failed."""

    container_id: str
    reason: str = ""  # "" when closed on purpose or the container stopped


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
                from desktop.engine.stats_mux import StatsMux

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
