"""The start-up order: the prefetched table is painted before the engine sessions (and the docker
SDK they import) start; a prefetch with nothing to show starts them at once."""

from __future__ import annotations

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint
from desktop.engine.prefetch import Prefetch
from desktop.presentation.container_columns import COL_MEM


def _app(host: str) -> Pilothouse:
    ph = Pilothouse([Endpoint(host, "--host")])
    ph.window.resize(1200, 700)
    ph.window.show()
    return ph


def test_prefetched_table_first_then_the_live_engine(qtbot, await_, engine_host, make_container, docker_api):
    before = make_container(start=True)
    ph = _app(engine_host)
    try:
        ph.start(Prefetch.start_for(engine_host), sessions_after_paint=True)
        await_(ph.first_load(timeout=30))
        page = ph.containers.page
        assert page.proxy_index_of(before).isValid()  # from the prefetch alone
        assert ph.primary.sync._task is None  # no engine session yet: nothing competes with the first paint
        ph.start_sessions()
        after = make_container()  # only the live session can know of this one
        qtbot.waitUntil(lambda: page.proxy_index_of(after).isValid(), timeout=15000)
        docker_api.stop(before, timeout=0)
        qtbot.waitUntil(lambda: ph.primary.containers.get(before).state == "exited", timeout=15000)
    finally:
        await_(ph.aclose())
        ph.window.close()
        ph.window.deleteLater()


def test_a_failed_prefetch_starts_the_sessions_at_once(qtbot, await_, engine_host, tmp_path, make_container):
    cid = make_container()
    ph = _app(engine_host)
    try:
        ph.start(Prefetch.start_for(f"unix://{tmp_path}/nope.sock"), sessions_after_paint=True)
        await_(ph.first_load(timeout=30))  # loaded by the session, never by the failed prefetch
        qtbot.waitUntil(lambda: ph.containers.page.proxy_index_of(cid).isValid(), timeout=15000)
        assert ph.primary.sync._task is not None
    finally:
        await_(ph.aclose())
        ph.window.close()
        ph.window.deleteLater()


def test_stats_columns_fill_when_the_pages_come_after_the_first_paint(qtbot, await_, engine_host, make_container):
    """The real start-up order: prefetched table, then sessions, then the other pages (and the
    CPU/Memory feeder) installed on a table already shown: no scroll or resize comes to trigger
    the feeder, and a stream asked for before the client connects must not fail for good."""
    cid = make_container(start=True)
    ph = Pilothouse([Endpoint(engine_host, "--host")], defer_secondary=True)
    ph.window.resize(1200, 700)
    ph.window.show()
    try:
        ph.start(Prefetch.start_for(engine_host), sessions_after_paint=True)
        await_(ph.first_load(timeout=30))
        ph.install_secondary()  # before the session connects: its streams must wait for it
        ph.start_sessions()
        qtbot.waitUntil(lambda: cid in ph.monitoring.stats_columns.watched, timeout=10000)
        qtbot.waitUntil(lambda: ph.monitoring.stats_hubs.latest(cid) is not None, timeout=15000)
        idx = ph.containers.page.model.index_of(cid, COL_MEM)
        assert idx.data() and idx.data()[0].isdigit()  # the Memory cell shows a figure
    finally:
        await_(ph.aclose())
        ph.window.close()
        ph.window.deleteLater()
