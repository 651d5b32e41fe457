"""Stats history: a low-rate sampler for every running container (one one-shot stats call per
container every 10 s at most, none for containers already streamed), plus the 1-second samples
streamed for what the user looks at; both go to the history's tiers."""

from __future__ import annotations

import asyncio
import logging
import time

from desktop.engine.errors import EngineError
from desktop.engine.stats_formulas import cpu_percent, sample_from_api
from desktop.engine.stats_once import one_shot_stats
from desktop.engine.tasks import cancel_and_wait

log = logging.getLogger(__name__)

PERIOD_SECONDS = 10.0
# Calls in flight: each mostly waits for the engine's collector pass (see stats_once.py), which
# serves every waiting call at once; the engine's CPU is the same whether they wait together.
CONCURRENCY = 32


class StatsHistorySampler:
    """`start()` on the loop; `aclose()` to stop. `hubs` (StatsHubs) supplies the streamed samples."""

    def __init__(self, store, registry, hubs=None, period: float = PERIOD_SECONDS) -> None:
        self.store = store
        self.registry = registry
        self.hubs = hubs
        self.period = period
        self._prev_cpu: dict[str, dict] = {}
        self._task: asyncio.Task | None = None
        self._hooked: dict[str, tuple] = {}  # engine key -> (hub, listener)
        self.calls = 0  # one-shot calls made (bench)
        self.ticks = 0
        self.ticked = None  # optional callback after each tick (tests)
        self._executor = None  # threads of its own: user actions keep the clients' executors

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def aclose(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        for hub, listener in self._hooked.values():
            try:
                hub.samples.disconnect(listener)
            except ValueError:
                pass
        self._hooked.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - one bad tick must not end the history
                log.exception("stats history tick failed")
            await asyncio.sleep(max(0.5, self.period - (loop.time() - started)))

    def _hook_hubs(self) -> None:
        if self.hubs is None:
            return
        for s in self.registry.sessions:
            hub = self.hubs.existing(s.key)
            if hub is None or self._hooked.get(s.key, (None,))[0] is hub:
                continue

            def on_samples(samples, key=s.key, session=s) -> None:
                rows = []
                for smp in samples:
                    c = session.containers.get(smp.container_id)
                    rows.append(_row(smp, c.name if c else "", smp.cpu_percent))
                if rows:
                    self.store.add_samples(key, "stats_1s", rows)

            hub.samples.connect(on_samples)
            self._hooked[s.key] = (hub, on_samples)

    async def tick(self) -> None:
        """Sample every running container of every connected engine once."""
        self._hook_hubs()
        self.ticks += 1
        jobs = []
        for s in self.registry.sessions:
            if not s.status.is_connected or not s.client.connected:
                continue
            running = [c for c in s.containers.all() if c.state == "running"]
            streamed = set()
            hub = self.hubs.existing(s.key) if self.hubs is not None else None
            if hub is not None:
                streamed = {c.id for c in running if hub.streaming(c.id)} if hasattr(hub, "streaming") else set()
            # A streamed container's 10 s row is its stream's latest sample: the tier stays
            # complete (engine totals add it up) without asking the engine twice. A stream that
            # has no fresh sample yet (just opened, or slow) is no reason for a hole: ask once.
            fresh = time.time() - 2 * self.period
            latest = {c.id: hub.latest(c.id) for c in running if c.id in streamed}
            streamed = {cid for cid, smp in latest.items() if smp is not None and smp.time >= fresh}
            todo = [c for c in running if c.id not in streamed]
            if todo:
                jobs.append(self._sample_engine(s, todo))
            rows = [_row(latest[c.id], c.name, latest[c.id].cpu_percent) for c in running if c.id in streamed]
            if rows:
                self.store.add_samples(s.key, "stats_10s", rows)
        if jobs:
            await asyncio.gather(*jobs)
        live = {c.id for s in self.registry.sessions for c in s.containers.all() if c.state == "running"}
        for cid in [cid for cid in self._prev_cpu if cid not in live]:
            del self._prev_cpu[cid]
        if self.ticked is not None:
            self.ticked()

    async def _sample_engine(self, session, containers) -> None:
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="stats-history")
        sem = asyncio.Semaphore(CONCURRENCY)
        rows: list[tuple] = []

        async def one(c) -> None:
            async with sem:
                try:
                    raw = await one_shot_stats(session.client, c.id, self._executor)
                except EngineError as err:
                    log.debug("stats of %s: %s", c.name, err)
                    return
                self.calls += 1
            if not raw:
                return
            smp = sample_from_api(raw, c.id)
            if smp is None:
                return
            cpu_now = raw.get("cpu_stats") or {}
            prev = self._prev_cpu.get(c.id)
            self._prev_cpu[c.id] = cpu_now
            cpu = cpu_percent(cpu_now, prev) if prev else 0.0
            rows.append(_row(smp, c.name, cpu))

        await asyncio.gather(*(one(c) for c in containers))
        if rows:
            self.store.add_samples(session.key, "stats_10s", rows)


def _row(smp, name: str, cpu: float) -> tuple:
    return (smp.container_id, name, smp.time or time.time(), float(cpu), int(smp.mem_used), int(smp.mem_limit),
            int(smp.net_rx), int(smp.net_tx), int(smp.blk_read), int(smp.blk_write), int(smp.pids))
