"""One 32 MiB log line: how long reassembly takes, and how long the UI thread stalls while the
line arrives and is painted in the Logs tab.

FIGURE logs.long_line_reassembly: LogDemuxer over the engine's 16 KiB messages of one 32 MiB
    line, against joining the same payloads once (the floor); target ratio <= 5 (it was
    quadratic: 16 s).
FIGURE logs.long_line_stall_max: the longest UI-thread stall (a 5 ms timer's lateness) from
    opening the tab until the line is painted and the view scrolled, against the same probe idle;
    target <= 50 ms.

Run: python bench/long_log_line.py (uses PILOTHOUSE_BENCH_DOCKER_HOST or a private engine).
Exits 0 whether or not targets are met.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.common import LagProbe, bench_engine, figure  # noqa: E402

SIZE = 32 << 20
TS = b"2026-11-28T03:54:32.806399883Z "


def reassembly() -> None:
    from desktop.engine.log_demux import LogDemuxer

    body = b"a" * SIZE + b"\n"
    pieces = [body[i:i + 16384] for i in range(0, len(body), 16384)]
    raw = b"".join(b"\x01\x00\x00\x00" + (len(TS) + len(p)).to_bytes(4, "big") + TS + p for p in pieces)
    t0 = time.perf_counter()
    floor = b"".join(pieces)
    baseline = time.perf_counter() - t0
    t0 = time.perf_counter()
    dm = LogDemuxer(chunked=False, multiplexed=True)
    out = [dm.feed(raw[i:i + (1 << 20)]) for i in range(0, len(raw), 1 << 20)] + [dm.finish()]
    value = time.perf_counter() - t0
    assert sum(len(b) for b in out) == 1 and len(floor) == SIZE + 1
    figure("logs.long_line_reassembly", value * 1000, max(baseline * 1000, 0.001), "<=5", "ms")


async def ui_stall(host: str) -> None:
    import docker
    from PySide6.QtWidgets import QApplication

    from desktop.engine.client import EngineClient
    from desktop.engine.endpoints import Endpoint
    from desktop.ui.containers.detail.logs_tab import LogsTab
    from tests.harness.private_engine import TEST_IMAGE

    api = docker.APIClient(base_url=host, version="auto", timeout=300)
    c = api.create_container(TEST_IMAGE, command=["sh", "-c", f"echo before; head -c {SIZE} /dev/zero | tr '\\0' a; "
                                                              "echo; echo after"])
    api.start(c["Id"])
    api.wait(c["Id"], timeout=300)
    client = EngineClient([Endpoint(host, "--host")])
    await client.connect()
    probe = LagProbe()
    probe.start()
    await asyncio.sleep(1.0)
    idle = max(probe.stop() or [0.0])
    probe.start()
    tab = LogsTab(client, [(c["Id"], "long")])
    tab.resize(1000, 600)
    tab.show()
    tab.start()
    t0 = time.perf_counter()
    while not (tab.is_loaded and len(tab.buffer) == 3 and tab.view._painted):
        if time.perf_counter() - t0 > 120:
            raise TimeoutError("the long line did not load")
        await asyncio.sleep(0.01)
    for _ in range(20):  # scroll over the line and back: each step repaints it
        tab.view.verticalScrollBar().setValue(0)
        await asyncio.sleep(0.01)
        tab.view.jump_to_end()
        await asyncio.sleep(0.01)
    stalls = probe.stop()
    QApplication.processEvents()
    figure("logs.long_line_stall_max", max(stalls or [0.0]), max(idle, 0.001), "<=50ms", "ms")
    await tab.aclose()
    tab.deleteLater()
    await client.aclose()
    api.remove_container(c["Id"], force=True)
    api.close()


def main() -> int:
    reassembly()
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    with bench_engine() as host:
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(ui_stall(host))
    return 0


if __name__ == "__main__":
    sys.exit(main())
