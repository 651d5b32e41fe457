"""Crash notifications and the activity timeline on the real engine."""

from __future__ import annotations

import tests.ui._cpython_ast_guard  # noqa: F401
from tests.conftest import RUN_LABEL

from desktop.state.crash_watch import EXITED, OOM, UNHEALTHY
from desktop.ui.history.timeline_model import COL_OBJECT, COL_TEXT


def alerts_for(ph, cid):
    return [a for a in ph.monitoring.notifier.shown if a.container_id == cid]


def test_kill_from_outside_notifies_with_exit_code_and_opens_logs(ph, qtbot, make_container, docker_cli):
    cid = make_container(start=True)
    qtbot.waitUntil(lambda: ph.primary.containers.get(cid) is not None and ph.primary.containers.get(cid).state == "running",
                    timeout=10000)
    with qtbot.waitSignal(ph.monitoring.notifier.notified, timeout=15000, check_params_cb=lambda a: a.container_id == cid) as sig:
        assert docker_cli("kill", cid).returncode == 0
    alert = sig.args[0]
    assert alert.kind == EXITED and alert.exit_code == 137
    assert "exited with code 137" in alert.title

    # Clicking the notification opens the container (its page shows the logs).
    with qtbot.waitSignal(ph.containers.page.container_activated, timeout=20000) as opened:
        ph.monitoring.notifier._on_tray_message_clicked()
    assert opened.args[0].id == cid

    # The activity timeline has it (this session's events: the app keeps no history here), and
    # filters to it.
    page = ph.monitoring.activity_page
    ph.window.show_page("activity")
    name = ph.primary.containers.get(cid).name
    page.search.setText(name)
    texts = lambda: [page.model.index(r, COL_TEXT).data() for r in range(page.model.rowCount())]  # noqa: E731
    names = lambda: {page.model.index(r, COL_OBJECT).data() for r in range(page.model.rowCount())}  # noqa: E731
    qtbot.waitUntil(lambda: names() == {name} and "exited with code 137" in texts() and "killed with signal 9" in texts(),
                    timeout=20000)
    page.kind.setCurrentIndex(page.kind.findData("image"))
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=5000)
    page.kind.setCurrentIndex(0)
    qtbot.waitUntil(lambda: "exited with code 137" in texts(), timeout=5000)
    page.search.clear()


def test_stop_from_pilothouse_is_not_a_crash(ph, qtbot, make_container, docker_api):
    cid = make_container(start=True)  # SIGKILL stop signal: exits 137 when stopped
    qtbot.waitUntil(lambda: ph.primary.containers.get(cid) is not None and ph.primary.containers.get(cid).state == "running",
                    timeout=10000)
    died = []
    ph.primary.sync.events.connect(lambda ev: ev.id == cid and ev.action == "die" and died.append(ev))
    ph.containers.page.trigger("stop", [ph.primary.containers.get(cid)])
    qtbot.waitUntil(lambda: bool(died), timeout=15000)
    assert died[0].attributes.get("exitCode") == "137"
    # Any (wrong) alert for that exit has been sent once nothing about it is still being decided.
    qtbot.waitUntil(lambda: ph.monitoring.crash_reports.settled(cid), timeout=20000)
    assert alerts_for(ph, cid) == []


def test_oom_kill_is_reported_as_oom(ph, qtbot, make_container, docker_api):
    # dockerd 20.10 now and then misses the kernel's OOM notice (no "oom" event, OOMKilled false):
    # then the engine itself does not know, and a plain exit is the honest report. Try until the
    # engine knows, and check that our report always agrees with the engine's own verdict.
    for _attempt in range(4):
        cid = make_container(command=("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"),
                             mem_limit="16m", memswap_limit="16m")
        qtbot.waitUntil(lambda: ph.primary.containers.get(cid) is not None, timeout=10000)
        with qtbot.waitSignal(ph.monitoring.notifier.notified, timeout=20000,
                              check_params_cb=lambda a: a.container_id == cid) as sig:
            ph.containers.page.trigger("start", [ph.primary.containers.get(cid)])
        alert = sig.args[0]
        engine_says_oom = docker_api.inspect_container(cid)["State"]["OOMKilled"]
        assert alert.exit_code == 137 and (alert.kind == OOM) == engine_says_oom
        if engine_says_oom:
            assert "ran out of memory" in alert.title
            return
    raise AssertionError("the engine never reported the OOM kill it made")


def test_unhealthy_is_reported_and_notifications_can_be_switched_off(ph, qtbot, docker_api, test_image, run_id):
    hc = {"test": ["CMD", "false"], "interval": 500_000_000, "timeout": 1_000_000_000, "retries": 1}
    made = docker_api.create_container(test_image, command=["sleep", "3600"], name=f"pht-{run_id}-sick",
                                       labels={RUN_LABEL: run_id}, healthcheck=hc, stop_signal="SIGKILL")
    cid = made["Id"]
    try:
        with qtbot.waitSignal(ph.monitoring.notifier.notified, timeout=20000,
                              check_params_cb=lambda a: a.container_id == cid) as sig:
            docker_api.start(cid)
        assert sig.args[0].kind == UNHEALTHY
        # Switched off in the Activity page: a crash then stays quiet.
        ph.monitoring.activity_page.notify.setChecked(False)
        assert not ph.monitoring.notifier.enabled
        died = []
        ph.primary.sync.events.connect(lambda ev: ev.id == cid and ev.action == "die" and died.append(ev))
        docker_api.kill(cid)
        qtbot.waitUntil(lambda: bool(died), timeout=15000)
        assert [a.kind for a in alerts_for(ph, cid)] == [UNHEALTHY]
    finally:
        ph.monitoring.activity_page.notify.setChecked(True)
        docker_api.remove_container(cid, force=True)
