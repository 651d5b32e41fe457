"""Host figures (psutil): CPU total and per core, memory and swap, disk and network I/O.

psutil reads /proc and may touch a slow mount (disk usage), so samples are taken in a worker
thread. The monitor ticks only while someone watches: every second for the dashboard, every
few seconds for the status-bar summary, not at all otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psutil

from desktop.engine.tasks import cancel_and_wait
from desktop.metrics.ring_buffer import HISTORY_SECONDS, RingBuffer

log = logging.getLogger(__name__)

HOST_FIELDS = ("cpu_percent", "mem_used", "mem_total", "swap_used", "swap_total", "disk_read_rate",
               "disk_write_rate", "net_rx_rate", "net_tx_rate")


@dataclass(frozen=True)
class HostSample:
    time: float
    cpu_percent: float
    per_cpu: tuple[float, ...]
    mem_used: int
    mem_total: int
    swap_used: int = 0
    swap_total: int = 0
    disk_used: int = 0
    disk_total: int = 0
    disk_read_rate: float = 0.0
    disk_write_rate: float = 0.0
    net_rx_rate: float = 0.0
    net_tx_rate: float = 0.0


class HostSampler:
    """Blocking psutil reads; rates come from the previous call's counters."""

    def __init__(self, disk_path: str = "/") -> None:
        self.disk_path = disk_path
        self._prev: tuple[float, tuple[int, int, int, int]] | None = None
        psutil.cpu_percent(percpu=True)  # primes psutil's per-call CPU deltas
        self._cpu: tuple[float, tuple[float, ...]] = (time.monotonic(), ())

    def _per_cpu(self) -> tuple[float, ...]:
        # psutil measures since its previous call: a call right after another (a watcher just
        # subscribed) would read ~0 %, so repeat the last real figure instead.
        t, last = self._cpu
        if last and time.monotonic() - t < 0.5:
            return last
        if not last and time.monotonic() - t < 0.25:
            time.sleep(0.25)  # first figure: give psutil a real interval (this is the sampler thread)
        per = tuple(psutil.cpu_percent(percpu=True))
        if time.monotonic() - t >= 0.5 or not last:
            self._cpu = (time.monotonic(), per)
        return per

    def summary(self) -> HostSample:
        """CPU and memory only (cheap: for the status bar)."""
        vm = psutil.virtual_memory()
        per = self._per_cpu()
        return HostSample(time.time(), sum(per) / max(1, len(per)), per, vm.total - vm.available, vm.total)

    def sample(self) -> HostSample:
        now = time.time()
        per = self._per_cpu()
        vm = psutil.virtual_memory()
        sw = psutil.swap_memory()
        try:
            du = psutil.disk_usage(self.disk_path)
            disk_used, disk_total = du.used, du.total
        except OSError:
            disk_used = disk_total = 0
        dio = psutil.disk_io_counters()
        nio = psutil.net_io_counters()
        counters = (dio.read_bytes if dio else 0, dio.write_bytes if dio else 0,
                    nio.bytes_recv if nio else 0, nio.bytes_sent if nio else 0)
        rates = (0.0, 0.0, 0.0, 0.0)
        if self._prev is not None and now > self._prev[0]:
            dt = now - self._prev[0]
            rates = tuple(max(0.0, (c - p) / dt) for c, p in zip(counters, self._prev[1]))
        self._prev = (now, counters)
        return HostSample(now, sum(per) / max(1, len(per)), per, vm.total - vm.available, vm.total,
                          sw.used, sw.total, disk_used, disk_total, *rates)


class HostWatch:
    """A watcher's interest; `close()` gives it back."""

    def __init__(self, monitor: "HostMonitor", callback, detailed: bool) -> None:
        self._monitor, self.callback, self.detailed = monitor, callback, detailed
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._monitor._release(self)


class HostMonitor:
    """Samples the host while watched; keeps 15 minutes of history (total and per core)."""

    def __init__(self, sampler: HostSampler | None = None, *, interval: float = 1.0,
                 summary_interval: float = 5.0, history_seconds: int = HISTORY_SECONDS) -> None:
        # One thread for every psutil call: psutil keeps its CPU baseline per thread, so a pool
        # that rotates threads would read "since the beginning" or ~0 % on alternate ticks.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="host-sampler")
        self._sampler = sampler
        self.interval, self.summary_interval = interval, summary_interval
        self.history = RingBuffer(HOST_FIELDS, history_seconds)
        self.per_cpu_history: RingBuffer | None = None
        self.latest: HostSample | None = None
        self._watches: list[HostWatch] = []
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self.ticks = 0

    def subscribe(self, callback: Callable[[HostSample], None] | None = None, *, detailed: bool = True) -> HostWatch:
        """detailed: 1 s samples with history (dashboard); else a light sample every few seconds."""
        w = HostWatch(self, callback, detailed)
        self._watches.append(w)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())
        return w

    def _release(self, w: HostWatch) -> None:
        if w in self._watches:
            self._watches.remove(w)
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        if self._sampler is None:
            self._sampler = await loop.run_in_executor(self._executor, HostSampler)
        while self._watches:
            detailed = any(w.detailed for w in self._watches)
            try:
                s = await loop.run_in_executor(self._executor,
                                               self._sampler.sample if detailed else self._sampler.summary)
            except Exception as exc:  # noqa: BLE001 - a failed read skips one tick
                log.info("host sample failed: %s", exc)
                s = None
            if s is not None:
                self._record(s, detailed)
                for w in list(self._watches):
                    if w.callback is not None:
                        w.callback(s)
            deadline = time.monotonic() + (self.interval if detailed else self.summary_interval)
            while self._watches:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), remaining)
                except asyncio.TimeoutError:
                    break
                if not detailed and any(w.detailed for w in self._watches):
                    break  # the dashboard just opened: sample now, then every second

    def _record(self, s: HostSample, detailed: bool) -> None:
        self.latest = s
        self.ticks += 1
        if not detailed:
            return
        self.history.append(s.time, (s.cpu_percent, s.mem_used, s.mem_total, s.swap_used, s.swap_total,
                                     s.disk_read_rate, s.disk_write_rate, s.net_rx_rate, s.net_tx_rate))
        if self.per_cpu_history is None or len(self.per_cpu_history.fields) - 1 != len(s.per_cpu):
            self.per_cpu_history = RingBuffer(tuple(f"cpu{i}" for i in range(len(s.per_cpu))),
                                              self.history.capacity)
        self.per_cpu_history.append(s.time, s.per_cpu)

    async def aclose(self) -> None:
        self._watches.clear()
        self._wake.set()
        await cancel_and_wait(self._task)
        self._executor.shutdown(wait=False, cancel_futures=True)
