"""Palette keystroke cost and UI-thread stalls while Compose runs.

FIGURE palette.rank_5000_p95: ranking 5000 items per keystroke (fuzzy) vs a plain substring filter.
FIGURE compose.up_stall_max / p99: UI-thread lag while `compose up` of the sample project streams its
output into the page, vs the same window idle.
"""

from __future__ import annotations

import asyncio
import random
import string
import sys
import tempfile
import time
from pathlib import Path

from common import LagProbe, bench_engine, figure, percentile  # noqa: E402  (adds the repo to sys.path)


def palette_figure() -> None:
    from desktop.fuzzy_match import rank

    rnd = random.Random(7)
    words = ["web", "api", "db", "cache", "worker", "proxy", "queue", "auth", "backend", "frontend"]
    labels = [f"{rnd.choice(words)}-{rnd.choice(words)}-{''.join(rnd.choices(string.hexdigits.lower(), k=6))}-{i}"
              for i in range(5000)]
    queries = ["w", "we", "web", "webb", "webba", "apic", "dbq9", "front3", "prx", "auth-w"]
    fuzzy, plain = [], []
    for _ in range(3):
        for q in queries:
            t = time.perf_counter()
            rank(q, labels, key=str, limit=200)
            fuzzy.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            [s for s in labels if q in s][:200]
            plain.append((time.perf_counter() - t) * 1000)
    figure("palette.rank_5000_p95", percentile(fuzzy, 95), percentile(plain, 95), "<=16ms", "ms")


COMPOSE = """\
services:
  web:
    image: pilothouse-test/busybox:latest
    command: ["sh", "-c", "seq 1 2000; exec httpd -f -p 80"]
    ports: ["127.0.0.1::80"]
    stop_signal: SIGKILL
  worker:
    image: pilothouse-test/busybox:latest
    command: ["sleep", "3600"]
    volumes: ["data:/data"]
    stop_signal: SIGKILL
volumes:
  data: {}
"""


def compose_figures(host: str) -> None:
    import qasync
    from PySide6.QtWidgets import QApplication

    from desktop.app import Pilothouse
    from desktop.engine import compose
    from desktop.engine.endpoints import Endpoint
    from desktop.state.settings import SettingsStore

    qapp = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    tmp = Path(tempfile.mkdtemp(prefix="ph-bench-desk-"))
    proj = tmp / f"phbench{random.randrange(1 << 30):x}"
    proj.mkdir()
    (proj / "compose.yaml").write_text(COMPOSE)

    async def main() -> None:
        ph = Pilothouse([Endpoint(host, "--host")], settings=SettingsStore(tmp / "config"))
        ph.window.resize(1200, 720)
        ph.start()
        ph.window.show()
        await ph.first_load(timeout=120)
        page = ph.compose.page
        ph.window.show_page("compose")
        while not page.tool_known:
            await asyncio.sleep(0.05)
        if page.tool is None:
            print("compose: no Compose installed; skipping the Compose figures", flush=True)
            await ph.aclose()
            return
        p = page.open_project_file(str(proj / "compose.yaml"))
        probe = LagProbe()
        probe.start()
        await asyncio.sleep(3)
        idle = probe.stop()
        probe.start()
        t = time.perf_counter()
        code = await page.run_action("up")
        # then follow the logs for a moment: 2000 lines stream into the pane
        page.follow_logs_here = True
        page._on_logs_clicked()
        await asyncio.sleep(2)
        page.cancel_run()
        while page.current_run is not None and page.current_run.running:
            await asyncio.sleep(0.05)
        busy = probe.stop()
        took = time.perf_counter() - t
        print(f"compose: up exit {code} in {took:.1f}s, {page.output.blockCount()} output lines", flush=True)
        figure("compose.up_stall_p99", percentile(busy, 99), percentile(idle, 99), "<=16ms", "ms")
        figure("compose.up_stall_max", max(busy or [0]), max(idle or [0]), "<=50ms", "ms")
        await page._run(ph.compose.projects.get(p.name), "down", compose.verb_args("down", volumes=True))
        await ph.aclose()

    try:
        with loop:
            loop.run_until_complete(main())
    finally:
        asyncio.set_event_loop(None)


def main() -> None:
    palette_figure()
    with bench_engine() as host:
        compose_figures(host)


if __name__ == "__main__":
    main()
    sys.exit(0)
