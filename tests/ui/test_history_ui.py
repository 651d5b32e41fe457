"""The history wing in the app, on the real engine: the timeline across an app restart (with its
"not watching" gap), a crash's notification opening its report after the container is gone, the
Health tab explaining a failing check, and the disk cap in Settings."""

from __future__ import annotations

import tests.ui._cpython_ast_guard  # noqa: F401
from tests.conftest import RUN_LABEL

import time

from desktop.state.history import stats_tiers
from desktop.state.history.timeline import Gap
from desktop.ui.history.report_view import CrashReportView


def _rows(page):
    return page.model.rows


def _texts(page):
    return [page.model.index(r, 4).data() for r in range(page.model.rowCount())]


def test_timeline_survives_an_app_restart_with_the_gap_filled(history_app, qtbot, make_container, docker_api):
    ph = history_app()
    cid = make_container(labels={"com.docker.compose.project": "shop"})
    docker_api.start(cid)
    name = docker_api.inspect_container(cid)["Name"].lstrip("/")
    page = ph.history.page
    ph.window.show_page("activity")
    page.container.setEditText(name)
    # (the filter's own answer: the rows shown before it applies are every container's)
    qtbot.waitUntil(lambda: {getattr(r, "name", None) for r in _rows(page)} == {name}
                    and any(r.action == "start" for r in _rows(page)), timeout=15000)
    assert {r.project for r in _rows(page)} == {"shop"}
    history_app.close(ph)

    docker_api.kill(cid)  # while Pilothouse is closed
    ph2 = history_app()
    page2 = ph2.history.page
    ph2.window.show_page("activity")
    qtbot.waitUntil(lambda: ph2.history.recorder.filled >= 2, timeout=15000)  # kill and die read back
    page2.refresh()
    qtbot.waitUntil(lambda: any(isinstance(r, Gap) and r.filled >= 2 for r in _rows(page2)), timeout=10000)
    assert any(t.startswith("Not watching for") for t in _texts(page2))
    page2.container.setEditText(name)
    qtbot.waitUntil(lambda: "exited with code 137 (read back from the engine)" in _texts(page2), timeout=10000)
    # The type filter and the search narrow it down.
    page2.container.setEditText("")
    page2.kind.setCurrentIndex(page2.kind.findData("image"))
    qtbot.waitUntil(lambda: all(getattr(r, "type", "image") == "image" for r in _rows(page2)), timeout=10000)
    page2.kind.setCurrentIndex(0)
    page2.search.setText(name)
    qtbot.waitUntil(lambda: bool(_rows(page2)) and all(getattr(r, "name", None) == name for r in _rows(page2)),
                    timeout=10000)
    assert {r.action for r in _rows(page2)} >= {"create", "start", "kill", "die"}


def test_a_crash_notification_opens_its_report_after_the_container_is_gone(history_app, qtbot, make_container,
                                                                            docker_api):
    ph = history_app()
    cid = make_container(command=("sh", "-c", "echo loading; sleep 1; echo 'panic: disk full' >&2; exit 4"),
                         auto_remove=True)
    with qtbot.waitSignal(ph.monitoring.notifier.notified, timeout=30000,
                          check_params_cb=lambda a: a.container_id == cid) as sig:
        docker_api.start(cid)
    alert = sig.args[0]
    assert alert.report_id is not None and "exited with code 4" in alert.title
    assert alert.message.endswith("its last output was “panic: disk full”.")
    qtbot.waitUntil(lambda: cid not in ph.all_containers, timeout=15000)  # --rm: gone from the engine
    ph.monitoring.notifier._on_tray_message_clicked()
    qtbot.waitUntil(lambda: bool(ph.history.open_reports), timeout=10000)
    view = ph.history.open_reports[-1]
    assert isinstance(view, CrashReportView) and view.report.container_id == cid
    assert "panic: disk full" in view.logs.toPlainText() and "loading" in view.logs.toPlainText()
    assert view.fact_labels["Removed on exit (--rm)"].text() == "yes"
    # The exit's moment in the timeline: its die event selected; the logs went with the container.
    page = ph.history.page
    with qtbot.waitSignal(page.moment.loaded, timeout=20000):
        view.show_moment.click()
    assert ph.monitoring.time_cursor.moment.t == view.report.last_time
    def chosen():
        index = page.view.selectionModel().currentIndex()
        return page.model.rows[index.row()] if index.isValid() else None

    qtbot.waitUntil(lambda: chosen() is not None, timeout=10000)
    assert (chosen().actor, chosen().action) == (cid, "die") or abs(chosen().time_nano / 1e9 - view.report.last_time) < 1
    assert "gone from the engine" in page.moment.logs_caption.text()
    view.close()
    # It stays in the history: the timeline's Crash reports tab lists it.
    page = ph.history.page
    ph.window.show_page("activity")
    page.refresh()
    qtbot.waitUntil(lambda: any(page.reports_model.report_at(i).container_id == cid
                                for i in range(page.reports_model.rowCount())), timeout=10000)


def test_the_health_tab_says_why_it_is_unhealthy(history_app, qtbot, docker_api, test_image, run_id):
    ph = history_app()
    hc = {"test": ["CMD-SHELL", "echo 'db not reachable'; exit 1"], "interval": 500_000_000,
          "timeout": 10_000_000_000, "retries": 2}
    made = docker_api.create_container(test_image, command=["sleep", "3600"], name=f"pht-{run_id}-sick",
                                       labels={RUN_LABEL: run_id}, healthcheck=hc, stop_signal="SIGKILL")
    cid = made["Id"]
    try:
        with qtbot.waitSignal(ph.monitoring.notifier.notified, timeout=30000,
                              check_params_cb=lambda a: a.container_id == cid) as sig:
            docker_api.start(cid)
        assert sig.args[0].kind == "unhealthy"
        assert "The probe exits 1 with the same output every time: “db not reachable”" in sig.args[0].message
        qtbot.waitUntil(lambda: ph.primary.containers.get(cid) is not None and ph.primary.containers.get(cid).health == "unhealthy",
                        timeout=15000)
        page = ph.details.open_container(ph.primary.containers.get(cid))
        panel = page.show_tab("Health")
        assert panel is not None
        qtbot.waitUntil(lambda: panel.report is not None, timeout=10000)
        assert panel.verdict.text().startswith("The probe exits 1 with the same output")
        assert panel.fields["Retries"].text() == "2" and panel.fields["Interval"].text() == "0.5 s"
        assert panel.probes.rowCount() >= 2 and panel.probes.item(0, 2).text() == "1"
        # The health change is a timeline event.
        tl = ph.history.page
        ph.window.show_page("activity")
        tl.container.setEditText(f"pht-{run_id}-sick")
        qtbot.waitUntil(lambda: "health: unhealthy" in _texts(tl), timeout=10000)
    finally:
        docker_api.remove_container(cid, force=True)


def test_settings_show_the_history_size_and_apply_the_cap(history_app, qtbot):
    ph = history_app()
    label = ph.desk.settings_page.helps["history_cap_mb"]
    qtbot.waitUntil(lambda: ph.history.size_shown is not None, timeout=10000)
    assert label.text().startswith("Now ") and "on disk" in label.text()
    ph.history.size_shown = None
    ph.settings.update(history_cap_mb=10)
    assert ph.history_store.cap_bytes == 10_000_000
    qtbot.waitUntil(lambda: ph.history.size_shown is not None, timeout=10000)  # enforced, then shown
    assert ph.history.size_shown <= 10_000_000
    ph.settings.update(history_cap_mb=500)


def test_the_stats_tab_shows_recorded_ranges(history_app, qtbot, await_, make_container):
    ph = history_app()
    cid = make_container(command=("sh", "-c", "while :; do :; done"), start=True)
    qtbot.waitUntil(lambda: ph.primary.containers.get(cid) is not None and ph.primary.containers.get(cid).state == "running",
                    timeout=15000)
    for _ in range(2):  # two samples: the second has a CPU figure (counters' delta)
        await_(ph.history.sampler.tick())
    # Sampled, or streamed for the table's CPU column (then its 1 s samples are the record).
    recorded = lambda: bool(ph.history_store.read_blocking(  # noqa: E731
        stats_tiers.points, "host", cid, time.time() - 600, time.time() + 5))
    qtbot.waitUntil(lambda: ph.history_store.flush().result(10) is None and recorded(), timeout=15000)
    page = ph.details.open_container(ph.primary.containers.get(cid))
    tab = page.show_tab("Stats")
    view = tab.history
    assert tab.stack.currentWidget() is tab.live and ph.monitoring.stats_hubs.hub_for(cid).streaming(cid)
    with qtbot.waitSignal(view.loaded, timeout=10000, check_params_cb=lambda n: n >= 1):
        tab.range.setCurrentIndex(tab.range.findData(3600))
    assert "points, one per" in view.status.text() and tab.stack.currentWidget() is view
    qtbot.waitUntil(lambda: not ph.monitoring.stats_hubs.hub_for(cid).streaming(cid), timeout=20000)  # nobody looks live
    with qtbot.waitSignal(view.loaded, timeout=10000, check_params_cb=lambda n: n >= 1):
        tab.range.setCurrentIndex(tab.range.findData(7 * 86400))  # 1 min rows, and the last minutes at 10 s
    assert view.cpu.window_seconds == 7 * 86400
    # Back to Live: streamed again (the recorded view asks the history, not the engine).
    tab.range.setCurrentIndex(0)
    qtbot.waitUntil(lambda: ph.monitoring.stats_hubs.hub_for(cid).streaming(cid), timeout=10000)


def test_the_dashboard_shows_the_engine_history(history_app, qtbot, await_, make_container):
    ph = history_app()
    cid = make_container(start=True)
    qtbot.waitUntil(lambda: ph.primary.containers.get(cid) is not None and ph.primary.containers.get(cid).state == "running",
                    timeout=15000)
    ph.window.show_page("containers")  # nobody streams it: the sampler asks the engine itself
    await_(ph.history.sampler.tick())
    card = ph.history.engine_history
    with qtbot.waitSignal(card.loaded, timeout=10000, check_params_cb=lambda n: n >= 1):
        ph.window.show_page("dashboard")
    assert card.title.text() == "History of engine host"
    with qtbot.waitSignal(card.loaded, timeout=10000, check_params_cb=lambda n: n >= 1):
        card.range.setCurrentIndex(3)  # a month: 1 h rows, and the recent 10 s rows not rolled up yet
    assert card.memory.window_seconds == 30 * 86400
