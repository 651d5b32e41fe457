"""Why is it unhealthy, on the real engine: failing and timing-out health checks explained, the
status change recorded in the timeline, the notification saying the pattern."""

from __future__ import annotations

import asyncio

import pytest

from desktop.engine.crash_evidence import inspect_raw
from desktop.state.history.health import health_report
from desktop.state.history.timeline import TimelineFilter, query_events
from tests.conftest import RUN_LABEL
from tests.history.test_crash_reports import watched  # noqa: F401 - the fixture


# The failing probe gets a timeout no loaded machine reaches; the hanging one a short one.
@pytest.mark.parametrize("test,timeout,verdict", [
    (["CMD-SHELL", "echo still not ready; exit 1"], 10.0,
     "The probe exits 1 with the same output every time: “still not ready”"),
    (["CMD", "sleep", "30"], 0.3, "The probe times out: the last"),
])
def test_a_failing_health_check_is_explained(run, watched, docker_api, test_image, run_id, test, timeout,  # noqa: F811
                                             verdict):
    hc = {"test": test, "interval": 500_000_000, "timeout": int(timeout * 1e9), "retries": 2}

    async def scenario():
        w = await watched()
        made = docker_api.create_container(test_image, command=["sleep", "3600"], name=f"pht-{run_id}-sick",
                                           labels={RUN_LABEL: run_id}, healthcheck=hc, stop_signal="SIGKILL")
        cid = made["Id"]
        unhealthy = w.f.expect(lambda ev: ev.id == cid and ev.action == "health_status: unhealthy")
        loop = asyncio.get_running_loop()
        alerted = loop.create_future()
        w.reporter.alerts.connect(lambda a: a.container_id == cid and not alerted.done() and alerted.set_result(a))
        docker_api.start(cid)
        await asyncio.wait_for(unhealthy, 30)
        alert = await asyncio.wait_for(alerted, 30)
        report = health_report(await inspect_raw(w.f.session.client, cid))
        await w.f.settle()
        return w, cid, alert, report

    try:
        w, cid, alert, report = run(scenario())
    finally:
        docker_api.remove_container(f"pht-{run_id}-sick", force=True)
    assert alert.kind == "unhealthy" and verdict in alert.message
    assert report.status == "unhealthy" and report.failing_streak >= 2 and report.probes
    assert report.check.interval == 0.5 and report.check.timeout == timeout and report.check.retries == 2
    assert verdict in report.verdict
    rows = w.f.store.read_blocking(query_events, TimelineFilter(container=cid, limit=0))
    assert "health_status: unhealthy" in [r.action for r in rows]
