"""Chaos: the engine is SIGKILLed 20 times at random moments while the app runs and actions are
in flight (the app's own and the CLI's). No crash, no traceback, no Qt warning (pytest-qt fails
the test on one), and after each return the page equals the engine within the reconnect bound."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
import time

import docker
import pytest

from tests.conftest import RUN_LABEL
from tests.ui.convergence import CONVERGE_S, Driver, engine_rows, shown_rows

KILLS = int(os.environ.get("PILOTHOUSE_CHAOS_KILLS", "20"))
SEED = int(os.environ.get("PILOTHOUSE_CHAOS_SEED", "11"))


@pytest.mark.engine_restart
@pytest.mark.timeout(900)
def test_engine_sigkilled_twenty_times_under_the_running_app(restartable_engine, app_factory, await_, qtbot, aloop,
                                                             make_container, docker_api, run_id, caplog):
    rng = random.Random(SEED)
    label = f"{RUN_LABEL}={run_id}"
    ids = [make_container(start=True) for _ in range(3)] + [make_container()]
    ids += [make_container(start=True, labels={"com.docker.compose.project": f"chaos{run_id}",
                                               "com.docker.compose.service": s}) for s in ("web", "db")]
    loop_errors: list[dict] = []
    aloop.set_exception_handler(lambda _loop, ctx: loop_errors.append(ctx))
    thread_errors: list = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: thread_errors.append(args)
    caplog.set_level(logging.INFO)

    ph = app_factory(restartable_engine.host)
    await_(ph.first_load(timeout=30))
    page = ph.containers.page
    driver = Driver(qtbot, restartable_engine.host)
    cli_api = docker.APIClient(base_url=restartable_engine.host, version="auto", timeout=10)
    back_after: list[float] = []

    def cli_churn(cid: str, verbs: list[str]) -> None:
        for verb in verbs:
            try:
                if verb == "stop":
                    cli_api.stop(cid, timeout=0)
                else:
                    getattr(cli_api, verb)(cid)
            except Exception:  # noqa: BLE001 - the engine may be gone mid-call: that is the point
                pass

    try:
        driver.converge(lambda: engine_rows(docker_api, label), lambda: shown_rows(page, label), "start-up")
        for k in range(KILLS):
            # Actions in flight: the app's own (through the page) and the CLI's, then the kill.
            rows = [ph.all_containers.get(cid) for cid in ids]
            for c in rng.sample([c for c in rows if c is not None], 2):
                page.trigger(rng.choice(["toggle", "restart", "pause_toggle"]), [c])
            churn = driver.pool.submit(cli_churn, rng.choice(ids),
                                       rng.sample(["start", "stop", "pause", "unpause", "kill", "restart"], 3))
            qtbot.wait(int(rng.uniform(0, 400)))  # the random moment
            driver.call(restartable_engine.kill, within=30)
            qtbot.waitUntil(ph.window.banner.isVisible, timeout=10000)
            driver.call(restartable_engine.start, within=120)
            t0 = time.monotonic()
            qtbot.waitUntil(churn.done, timeout=30000)
            driver.converge(lambda: engine_rows(docker_api, label), lambda: shown_rows(page, label),
                            f"engine kill {k + 1} of {KILLS}", bound=CONVERGE_S)
            back_after.append(time.monotonic() - t0)
            qtbot.waitUntil(lambda: not ph.window.banner.isVisible(), timeout=10000)
            await_(page.tasks.wait_idle() if hasattr(page.tasks, "wait_idle") else asyncio.sleep(0))
    finally:
        threading.excepthook = old_hook
        aloop.set_exception_handler(None)
        cli_api.close()
        driver.close()

    assert not loop_errors, [c.get("message") for c in loop_errors][:5]
    assert not thread_errors, [str(a.exc_value) for a in thread_errors][:5]
    tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not tracebacks, [r.getMessage() for r in tracebacks][:5]
    assert len(back_after) == KILLS
