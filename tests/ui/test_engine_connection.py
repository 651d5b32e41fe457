"""The engine goes away and comes back; or was never there."""

from __future__ import annotations

import asyncio

import pytest

from desktop.presentation.container_columns import COL_STATE
from tests.harness.private_engine import PrivateEngine


@pytest.mark.engine_restart
def test_engine_lost_banner_then_back_with_rows_resynced(restartable_engine, app_factory, await_, qtbot,
                                                          make_container, docker_api, test_image):
    cid = make_container(start=True)
    ph = app_factory(restartable_engine.host)
    await_(ph.first_load(timeout=30))
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(cid, COL_STATE).data() == "Running", timeout=5000)
    banner = ph.window.banner

    await_(asyncio.to_thread(restartable_engine.stop), timeout=60)
    qtbot.waitUntil(banner.isVisible, timeout=10000)
    assert "Lost the connection" in banner.label.text()
    assert not page.actions_delegate.enabled
    assert "reconnecting" in ph.window.engine_label.text()
    # Stale rows stay visible while the engine is away.
    assert page.proxy_index_of(cid).isValid()

    await_(asyncio.to_thread(restartable_engine.start), timeout=60)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=20000)
    assert page.actions_delegate.enabled
    # dockerd stopped the container on shutdown: the resync must show that, not the stale state.
    assert not docker_api.inspect_container(cid)["State"]["Running"]
    qtbot.waitUntil(lambda: (page.proxy_index_of(cid, COL_STATE).data() or "").startswith("Exited"), timeout=10000)
    assert "connected" in ph.window.engine_label.text()


def test_no_engine_page_then_engine_appears(app_factory, await_, qtbot):
    eng = PrivateEngine()  # a short /tmp path: containerd sockets must stay under 104 bytes
    ph = app_factory(eng.host)
    try:
        qtbot.waitUntil(lambda: ph.window.body.currentWidget() is ph.window.no_engine, timeout=10000)
        details = ph.window.no_engine.body.text()
        assert str(eng.socket) in details and "DOCKER_HOST" in details
        await_(asyncio.to_thread(eng.start), timeout=60)
        ph.primary.sync.retry_now()
        qtbot.waitUntil(lambda: ph.window.body.currentIndex() == 0, timeout=20000)
        qtbot.waitUntil(lambda: ph.primary.status.current.loaded, timeout=10000)
    finally:
        await_(asyncio.to_thread(eng.destroy), timeout=60)
