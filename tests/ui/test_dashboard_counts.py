"""The dashboard's counts follow the rows: a change the CLI makes shows in them, not one event late."""

from __future__ import annotations

import re

from tests.ui.convergence import Driver


def shown_counts(page) -> tuple[int, ...]:
    text = page.counts_label.text()
    return tuple(int(re.search(f"{k}</td><td>(\\d+)", text).group(1)) for k in ("Running", "Paused", "Stopped"))


def engine_counts(api) -> tuple[int, ...]:
    states = [c["State"] for c in api.containers(all=True)]
    running = sum(s in ("running", "restarting") for s in states)
    paused = sum(s == "paused" for s in states)
    return running, paused, len(states) - running - paused


def test_counts_follow_pause_unpause_and_kill(ph, qtbot, make_container, docker_api):
    ph.window.show_page("dashboard")
    page = ph.monitoring.dashboard_page
    driver = Driver(qtbot)
    try:
        cid = make_container(start=True)
        for verb in ("pause", "unpause", "pause", "kill", "start", "stop"):
            driver.call(getattr(docker_api, verb), cid, **({"timeout": 0} if verb == "stop" else {}))
            driver.converge(lambda: engine_counts(docker_api), lambda: shown_counts(page), f"docker {verb}")
    finally:
        driver.close()
