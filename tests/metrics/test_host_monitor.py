"""The host monitor samples psutil only while watched: 1 s with history, or a light summary."""

import asyncio
import time

import psutil

from desktop.metrics.host import HostMonitor


def test_monitor_samples_while_watched_and_stops_after():
    async def go():
        m = HostMonitor(interval=0.2, summary_interval=0.5)
        got = []
        w = m.subscribe(got.append, detailed=True)
        deadline = time.monotonic() + 10
        while len(m.history) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(m.history) >= 3 and got
        s = got[-1]
        assert len(s.per_cpu) == psutil.cpu_count() and 0 <= s.cpu_percent <= 100
        assert 0 < s.mem_used < s.mem_total and s.disk_total > 0
        assert len(m.per_cpu_history.fields) == 1 + psutil.cpu_count()
        w.close()
        await asyncio.sleep(0.6)
        assert not m.running  # nobody watches: no sampling at all
        n = len(m.history)
        light = m.subscribe(detailed=False)  # status bar: summaries, no history
        await asyncio.sleep(0.3)
        assert m.latest is not None and len(m.history) == n
        light.close()
        await m.aclose()

    asyncio.run(go())
