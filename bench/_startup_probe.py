"""Child process for bench/containers.py: start the app (or a bare window) and report.

argv: MODE(app|bare) SPAWN_TIME [HOST]. Prints `elapsed_s rss_bytes` once the window is shown and
painted (bare), or (app) `elapsed_s rss_bytes rows containers all_rows_s all_rows rss_after` once
the first screen of the full list is painted, then once every row is in the table.
"""

import sys
import time

mode, spawned = sys.argv[1], float(sys.argv[2])

if mode == "bare":
    from PySide6.QtWidgets import QApplication, QMainWindow

    qapp = QApplication(sys.argv)
    w = QMainWindow()
    w.resize(1200, 720)
    w.show()
    qapp.processEvents()
    w.repaint()
    elapsed = time.time() - spawned
    import psutil

    print(elapsed, psutil.Process().memory_info().rss, flush=True)
    sys.exit(0)

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
# The same start-up path as `pilothouse` (desktop/cli.py): prefetch first, then Qt and the SDK.
from desktop.engine.endpoints import discover, engine_name  # noqa: E402
from desktop.engine.prefetch import Prefetch  # noqa: E402

endpoints = discover(sys.argv[3])
prefetch = Prefetch.start_for(endpoints[0].host, engine_name(endpoints))

from desktop.gui import run_gui  # noqa: E402


async def report(ph) -> None:
    """Awaited by run_gui at the first load: it waits on the running loop (spinning
    processEvents() inside the running task re-entered the app's other tasks, which qasync
    refuses, and could leave the probe hung)."""
    import asyncio

    viewport = ph.containers.page.view.viewport()
    if not viewport.updatesEnabled():  # the reset's one paint is still to come: the clock waits for it
        while not viewport.updatesEnabled():
            await asyncio.sleep(0)
        viewport.repaint()
    elapsed = time.time() - spawned
    import psutil  # after the clock stops, as for the bare window: the app itself does not need it yet

    model = ph.containers.page.model
    rows = model.rowCount()
    rss = psutil.Process().memory_info().rss
    # Then every row in the table: a big list shows its first screen and adds the rest in chunks.
    if model.loading:
        added = asyncio.get_running_loop().create_future()
        model.all_rows_added.connect(lambda: added.done() or added.set_result(None))
        if model.loading:
            await added
    all_rows = time.time() - spawned
    print(elapsed, rss, rows, len(ph.primary.containers), all_rows, model.rowCount(),
          psutil.Process().memory_info().rss, flush=True)


run_gui(endpoints=endpoints, prefetch=prefetch, on_loaded=report, first_load_timeout=600)
