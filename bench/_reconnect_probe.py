"""Reconnect figures for bench/containers.py (run in its own process: it restarts its own engine).

A private dockerd with 10 containers is stopped (SIGTERM) or killed (SIGKILL) and started again
while the app runs. Measured in the same run, from the moment `dockerd` is launched:
- baseline: a raw `GET /_ping` loop (every 5 ms) gets its first answer;
- value: the Containers page is current (connected, resynced, rows equal to the engine's list).
The figure is the gap between the two: what Pilothouse adds once the engine answers.
The same through a loopback TCP forward, which the app treats as a remote engine.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from common import figure, median  # noqa: I001

import docker

CYCLES = int(os.environ.get("BENCH_RECONNECT_CYCLES", "6"))
LABEL = "pilothouse.bench.reconnect=1"


def main() -> None:
    import qasync
    from PySide6.QtWidgets import QApplication

    from desktop.app import Pilothouse
    from desktop.engine.endpoints import Endpoint
    from desktop.state.connection import CONNECTED
    from tests.harness.private_engine import TEST_IMAGE, PrivateEngine, ensure_test_image
    from tests.harness.tcp_forward import TCPForward
    from tests.ui.convergence import FirstAnswer, engine_rows, shown_rows

    qapp = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    eng = PrivateEngine()
    eng.start()
    ensure_test_image(eng.host)
    api = docker.APIClient(base_url=eng.host, version="auto", timeout=60)
    for i in range(10):
        c = api.create_container(TEST_IMAGE, ["sleep", "86400"], name=f"rc-{i}", labels={LABEL.split("=")[0]: "1"},
                                 stop_signal="SIGKILL")
        if i % 2 == 0:
            api.start(c)

    async def one_app(host: str, cycles: list[str]) -> list[tuple[float, float]]:
        ph = Pilothouse([Endpoint(host, "--host")])
        ph.window.resize(1200, 720)
        ph.window.show()
        ph.start()
        await ph.first_load(timeout=60)
        page = ph.containers.page
        out = []
        # When the page last changed (rows or connection state): once the rows are seen to
        # equal the engine's list, that is when they became current, not when the check ran.
        changed_at = [0.0]

        def touch(*_a) -> None:
            changed_at[0] = time.monotonic()

        for signal in (ph.all_containers.reset, ph.all_containers.upserted, ph.all_containers.removed,
                       ph.primary.status.changed):
            signal.connect(touch)
        for mode in cycles:
            await asyncio.to_thread(eng.stop if mode == "stop" else eng.kill)
            while ph.primary.status.current.state == CONNECTED:
                await asyncio.sleep(0.005)
            t0 = time.monotonic()
            first = FirstAnswer(str(eng.socket))
            await asyncio.to_thread(eng.start)
            while True:
                st = ph.primary.status.current
                if st.state == CONNECTED and st.loaded:
                    listed = await asyncio.to_thread(engine_rows, api, LABEL)
                    if listed == shown_rows(page, LABEL):
                        break
                await asyncio.sleep(0.005)
            current = changed_at[0]
            first.close()
            out.append((first.at - t0, current - t0))
            # dockerd stopped the running ones on its way down: start them again for the next round
            for c in api.containers(all=True, filters={"label": LABEL, "status": "exited"})[:5]:
                await asyncio.to_thread(api.start, c["Id"])
        await ph.aclose()
        ph.window.close()
        return out

    async def run() -> None:
        local = await one_app(eng.host, ["stop", "kill"] * (CYCLES // 2))
        fwd = TCPForward(str(eng.socket))
        try:
            remote = await one_app(fwd.host, ["stop", "kill"] * max(1, CYCLES // 4))
        finally:
            fwd.close()
        for name, runs, target in (("local", local, "<=250ms"), ("remote", remote, "<=1000ms")):
            gaps = [(cur - ans) * 1000 for ans, cur in runs]
            answers = [ans * 1000 for ans, _ in runs]
            print(f"# reconnect {name}: engine answered after {[round(a) for a in answers]} ms, "
                  f"page current {[round(g) for g in gaps]} ms later", flush=True)
            figure(f"containers.reconnect_{name}_answer_to_page_p50", median(gaps), median(answers), target, "ms")
            figure(f"containers.reconnect_{name}_answer_to_page_max", max(gaps), median(answers), target, "ms")

    try:
        with loop:
            loop.run_until_complete(run())
    finally:
        api.close()
        eng.destroy()


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # see bench/containers.py: skip the interpreter's final GC after a qasync loop
