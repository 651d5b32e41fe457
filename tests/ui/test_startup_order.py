"""The start-up order: the prefetched table is painted before the engine sessions (and the docker
SDK they import) start; a prefetch with nothing to show starts them at once."""

from __future__ import annotations

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint
from desktop.engine.prefetch import Prefetch


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
        page = ph.containers_page
        assert page.proxy_index_of(before).isValid()  # from the prefetch alone
        assert ph.sync._task is None  # no engine session yet: nothing competes with the first paint
        ph.start_sessions()
        after = make_container()  # only the live session can know of this one
        qtbot.waitUntil(lambda: page.proxy_index_of(after).isValid(), timeout=15000)
        docker_api.stop(before, timeout=0)
        qtbot.waitUntil(lambda: ph.containers.get(before).state == "exited", timeout=15000)
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
        qtbot.waitUntil(lambda: ph.containers_page.proxy_index_of(cid).isValid(), timeout=15000)
        assert ph.sync._task is not None
    finally:
        await_(ph.aclose())
        ph.window.close()
        ph.window.deleteLater()
