"""The engine goes away and comes back: the page is current again soon after the engine answers,
and nothing on screen claims more than it knows meanwhile."""

from __future__ import annotations

import asyncio
import time

import docker
import pytest

from tests.conftest import RUN_LABEL
from tests.harness.tcp_forward import TCPForward
from tests.ui.convergence import Driver, FirstAnswer, HonestyWatch, engine_rows, shown_rows

# The figure itself (local: 250 ms, remote: 1 s) is measured in bench/containers.py; this bound
# is loose enough for a loaded CI machine and still far below the 5 s the old backoff reached.
LOCAL_BOUND_S = 2.0
REMOTE_BOUND_S = 3.0
AWAY_S = 6.0  # long enough for a growing backoff to be at its slowest


def _away(qtbot, seconds: float) -> None:
    qtbot.wait(int(seconds * 1000))  # the scenario: the engine stays down this long


@pytest.mark.engine_restart
def test_local_engine_back_page_current_soon_after_first_answer(restartable_engine, app_factory, await_, qtbot,
                                                                 make_container, docker_api, run_id):
    make_container(start=True)
    make_container(start=True)
    make_container()
    label = f"{RUN_LABEL}={run_id}"
    ph = app_factory(restartable_engine.host)
    await_(ph.first_load(timeout=30))
    page = ph.containers.page
    driver = Driver(qtbot)
    watch = HonestyWatch(ph)
    try:
        driver.converge(lambda: engine_rows(docker_api, label), lambda: shown_rows(page, label), "start-up")
        await_(asyncio.to_thread(restartable_engine.stop), timeout=60)
        qtbot.waitUntil(ph.window.banner.isVisible, timeout=5000)
        _away(qtbot, AWAY_S)
        first = FirstAnswer(str(restartable_engine.socket))
        await_(asyncio.to_thread(restartable_engine.start), timeout=120)
        qtbot.waitUntil(lambda: first.at is not None, timeout=10000)
        # dockerd stopped the running containers on its way down: the rows must say so.
        driver.converge(lambda: engine_rows(docker_api, label), lambda: shown_rows(page, label), "the restart")
        current_at = time.monotonic()
        first.close()
        assert current_at - first.at <= LOCAL_BOUND_S, f"page current {current_at - first.at:.2f} s after the engine answered"
        qtbot.waitUntil(lambda: not ph.window.banner.isVisible(), timeout=5000)
        assert "last known" not in page.count_label.text()
    finally:
        problems = watch.close()
        driver.close()
    assert watch.samples > 20  # it did watch throughout
    assert not problems, problems[:5]


@pytest.mark.engine_restart
def test_remote_engine_back_within_bound_and_never_hammered(restartable_engine, app_factory, await_, qtbot,
                                                            make_container, docker_api, run_id):
    make_container(start=True)
    label = f"{RUN_LABEL}={run_id}"
    fwd = TCPForward(str(restartable_engine.socket))
    try:
        ph = app_factory(fwd.host)
        await_(ph.first_load(timeout=30))
        page = ph.containers.page
        driver = Driver(qtbot)
        driver.converge(lambda: engine_rows(docker_api, label), lambda: shown_rows(page, label), "start-up")
        await_(asyncio.to_thread(restartable_engine.stop), timeout=60)
        qtbot.waitUntil(ph.window.banner.isVisible, timeout=5000)
        knocks = fwd.connections
        t0 = time.monotonic()
        _away(qtbot, AWAY_S)
        rate = (fwd.connections - knocks) / (time.monotonic() - t0)
        assert rate <= 3.0, f"{rate:.1f} connections a second to an engine that is away"
        first = FirstAnswer(str(restartable_engine.socket))
        await_(asyncio.to_thread(restartable_engine.start), timeout=120)
        qtbot.waitUntil(lambda: first.at is not None, timeout=10000)
        driver.converge(lambda: engine_rows(docker_api, label), lambda: shown_rows(page, label), "the restart")
        current_at = time.monotonic()
        first.close()
        driver.close()
        assert current_at - first.at <= REMOTE_BOUND_S, f"page current {current_at - first.at:.2f} s after the engine answered"
    finally:
        fwd.close()



def test_a_page_opened_before_its_engine_answered_fills_when_it_does(app_factory, await_, qtbot):
    from tests.harness.private_engine import PrivateEngine, ensure_test_image

    eng = PrivateEngine()  # not started yet
    ph = app_factory(eng.host)
    try:
        qtbot.waitUntil(lambda: ph.window.body.currentWidget() is ph.window.no_engine, timeout=10000)
        ph.window.show_page("images")
        page = ph.objects.images_page
        await_(asyncio.to_thread(eng.start), timeout=120)
        await_(asyncio.to_thread(ensure_test_image, eng.host), timeout=120)
        api = docker.APIClient(base_url=eng.host, version="auto")
        try:
            want = {im["Id"] for im in api.images()}
            qtbot.waitUntil(lambda: {page.model.item(r).id for r in range(page.model.rowCount())} == want,
                            timeout=int(LOCAL_BOUND_S * 1000) + 5000)
        finally:
            api.close()
    finally:
        await_(asyncio.to_thread(eng.destroy), timeout=60)
