"""Two real engines at once: rows tagged with their engine, one engine stopped → the other stays."""

from __future__ import annotations

import asyncio

import docker

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint
from desktop.state.connection import RECONNECTING
from desktop.presentation.container_columns import COL_ENGINE, COL_STATE
from tests.harness.private_engine import TEST_IMAGE


def test_two_engines_tagged_and_independent(engine_host, second_engine, make_container, qtbot, aloop, await_,
                                           run_id):
    mine = make_container(f"pht-{run_id}-first", start=True)
    api_b = docker.APIClient(base_url=second_engine.host, version="auto")
    theirs = api_b.create_container(TEST_IMAGE, command=["sleep", "3600"], name=f"pht-{run_id}-second")["Id"]
    api_b.start(theirs)
    api_b.close()

    ph = Pilothouse([Endpoint(engine_host, "--host")], [("second", [Endpoint(second_engine.host, "--host")])])
    ph.window.show()
    ph.start()
    try:
        await_(ph.first_load(timeout=30))
        page = ph.containers.page
        qtbot.waitUntil(lambda: page.proxy_index_of(mine).isValid() and page.proxy_index_of(theirs).isValid(),
                        timeout=10000)
        assert not page.view.isColumnHidden(COL_ENGINE)
        assert page.proxy_index_of(mine, COL_ENGINE).data() == "host"
        assert page.proxy_index_of(theirs, COL_ENGINE).data() == "second"
        switcher = ph.window.engine_switcher
        assert switcher.isVisibleTo(ph.window) and switcher.count() == 3
        assert "second" in switcher.itemText(2) and "connected" in switcher.itemText(2)

        # View one engine.
        ph.window.select_engine("second")
        assert page.proxy_index_of(theirs).isValid() and not page.proxy_index_of(mine).isValid()
        ph.window.select_engine(None)
        assert page.proxy_index_of(mine).isValid()

        # The second engine goes away: the first engine's rows stay, live and actionable.
        await_(asyncio.to_thread(second_engine.stop), timeout=60)
        qtbot.waitUntil(lambda: ph.engines.get("second").status.current.state == RECONNECTING, timeout=15000)
        qtbot.waitUntil(ph.window.banner.isVisible, timeout=5000)
        assert "second" in ph.window.banner.label.text()
        assert page.proxy_index_of(mine, COL_STATE).data() == "Running"
        assert page.actions_delegate.enabled
        assert "reconnecting" in switcher.itemText(2)

        # Back: rows resync (dockerd stopped its container on the way down).
        await_(asyncio.to_thread(second_engine.start), timeout=60)
        ph.engines.get("second").sync.retry_now()
        qtbot.waitUntil(lambda: (page.proxy_index_of(theirs, COL_STATE).data() or "").startswith("Exited"),
                        timeout=20000)
        qtbot.waitUntil(lambda: not ph.window.banner.isVisible(), timeout=5000)
    finally:
        await_(ph.aclose())
        ph.window.close()
        ph.window.deleteLater()
