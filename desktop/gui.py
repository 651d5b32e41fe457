"""The GUI process: logging, the Qt application on a qasync loop, the settings and the history
file, the composition root (desktop/app.py) started in the order that paints the table first,
and its shutdown when the window closes (or, with a screenshot, once the PNG is written).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint, discover
from desktop.engine.prefetch import Prefetch
from desktop.state import startup
from desktop.state.settings import SettingsStore

def _default_vm_manager():
    # Imported when the VM wing is made, after the first table paint: the VM panel and its
    # widgets are ~50 ms of imports the window does not need to open.
    from desktop.ui.features.vm import default_vm_manager

    return default_vm_manager()


def run_gui(host: str | None = None, screenshot: str | None = None, page: str = "containers",
            endpoints: Sequence[Endpoint] | None = None, prefetch: Prefetch | None = None,
            on_loaded=None, first_load_timeout: float = 5) -> int:
    """Run the app until the window closes (or, with `screenshot`, until the PNG is written).

    `first_load_timeout`: how long the other wings wait for the first table (benchmarks: longer).
    """
    import qasync

    from desktop.ui.qt_app import make_qapp, quicken_pyside_imports

    quicken_pyside_imports()  # before the modules of the window are imported
    from desktop.state.memory import settle_heap, tune_allocator

    from desktop.app_log import LogFile

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    log_file = LogFile().start()  # Help > Open the log folder
    # Big parse buffers (a long container list, container logs) go back to the OS when freed. Set
    # before the prefetched list's body is freed: set after the first paint instead, a 20,000-
    # container start kept 26 MiB more.
    tune_allocator()
    qapp = make_qapp()
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    endpoints = endpoints or discover(host)
    settings = SettingsStore()
    discovered = endpoints
    endpoints, extras = startup.choose_primary(discovered, settings.current.engines, settings.current.primary_engine,
                                               explicit_host=host is not None)
    if endpoints[0].host != discovered[0].host:
        prefetch = None  # it asked the discovered engine; the window opens on the chosen one
    ph = Pilothouse(endpoints, extras, settings=settings, vm_factory=_default_vm_manager, defer_secondary=True)
    history = None
    result = 0

    async def main() -> None:
        nonlocal result, history
        ph.start(prefetch, sessions_after_paint=True)
        minimised = not (screenshot or on_loaded is not None) and settings.current.start_minimised
        if not minimised:
            ph.window.show()
            try:  # the window opens on the table; the other wings follow right after
                await ph.first_load(timeout=first_load_timeout)
            except asyncio.TimeoutError:
                pass
            ph.window.repaint()
            if on_loaded is not None:  # benchmarks: the real start-up path, reported at first load
                reported = on_loaded(ph)
                if asyncio.iscoroutine(reported):  # it waits for more on the running loop
                    await reported
                return
        # The history is made after the first paint, which does not need it (its store and sqlite3
        # take ~12 ms to import), and before the wings that record into it. Its writer thread
        # opens the file on the running loop, where its notices are then delivered.
        from desktop.state.history.store import HistoryStore

        history = ph.history_store = HistoryStore(cap_bytes=settings.current.history_cap_mb * 1_000_000)
        history.start()
        ph.start_sessions()  # the prefetched table is on screen: now the SDK and the live engine
        await ph.install_secondary_gradually()
        settle_heap()
        if not ph.desk.tray.show() and minimised:  # a screenshot always shows the window
            ph.window.showMinimized()
        if screenshot:
            from desktop.ui.screenshot import save_screenshot

            result = await save_screenshot(ph, screenshot, page)
            return
        closed = asyncio.get_running_loop().create_future()
        qapp.lastWindowClosed.connect(lambda: closed.done() or closed.set_result(None))
        ph.desk.quitting.connect(lambda: closed.done() or closed.set_result(None))
        await closed

    async def lifetime() -> None:
        try:
            await main()
        finally:
            await ph.aclose()
            if history is not None:
                await history.aclose()
            await _end_other_tasks()

    # One run of the loop, ended with no task left: qasync processes Qt's events once more after
    # each run_until_complete with no running loop, and a task stepped there fails.
    try:
        with loop:
            loop.run_until_complete(lifetime())
    finally:
        asyncio.set_event_loop(None)
        log_file.stop()
    return result


async def _end_other_tasks(grace: float = 2.0) -> None:
    """Cancel what is still running (a panel's refresh, a timer's fetch) and give it `grace`
    seconds to unwind, as asyncio.run does before it closes its loop."""
    rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for t in rest:
        t.cancel()
    if rest:
        await asyncio.wait(rest, timeout=grace)
