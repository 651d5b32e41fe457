"""Live stats, crash notifications, Activity and the footer with two real engines: a container on
the second engine streams from that engine, its crash is named with its engine, the user's own
stop stays quiet."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.ui.history.timeline_model import COL_ENGINE, COL_TEXT
from desktop.presentation.container_columns import COL_CPU, COL_MEM
from desktop.ui.monitoring.container_stats_view import ContainerStatsView
from desktop.state.crash_watch import EXITED
from tests.harness.private_engine import TEST_IMAGE

BURN = ["sh", "-c", "while :; do :; done"]


def test_stats_of_a_container_on_the_second_engine_stream_from_it(two, qtbot, api_b, make_container, run_id,
                                                                     second_engine):
    ph = two
    on_a = make_container(f"pht-{run_id}-sa", start=True)
    on_b = api_b.create_container(TEST_IMAGE, command=BURN, name=f"pht-{run_id}-sb")["Id"]
    api_b.start(on_b)
    try:
        page, feeder = ph.containers.page, ph.monitoring.stats_columns
        page.search.setText(run_id)
        qtbot.waitUntil(lambda: all(page.proxy_index_of(c).isValid() and ph.all_containers.get(c).state == "running"
                                    for c in (on_a, on_b)), timeout=15000)

        # Both rows on screen stream, each from its own engine: B's hub made on first use.
        qtbot.waitUntil(lambda: {on_a, on_b} <= feeder.watched, timeout=20000)
        hub_b = ph.monitoring.stats_hubs.existing("second")
        assert hub_b is not None and hub_b is not ph.monitoring.stats_hub
        assert hub_b.client is ph.engines.get("second").client
        assert hub_b.client.endpoint.host == second_engine.host
        qtbot.waitUntil(lambda: hub_b.open_streams == 1 and hub_b.streaming(on_b), timeout=20000)
        assert not ph.monitoring.stats_hub.streaming(on_b) and ph.monitoring.stats_hub.streaming(on_a)
        assert ph.monitoring.stats_hubs.open_streams == ph.monitoring.stats_hub.open_streams + 1
        qtbot.waitUntil(lambda: (page.proxy_index_of(on_b, COL_CPU).data() or "").endswith("%"), timeout=15000)
        assert "iB" in page.proxy_index_of(on_b, COL_MEM).data()
        # the busy loop, measured by engine B (its first sample has no previous one to compare)
        qtbot.waitUntil(lambda: hub_b.latest(on_b) is not None and hub_b.latest(on_b).cpu_percent > 5, timeout=10000)
        qtbot.waitUntil(lambda: (page.proxy_index_of(on_a, COL_CPU).data() or "").endswith("%"), timeout=15000)

        # The Stats tab of B's container streams from B, and only while shown.
        detail = ph.details.open_container(ph.all_containers.get(on_b))
        stats = detail.tab("Stats")
        assert isinstance(stats, ContainerStatsView) and stats.hub is hub_b
        detail.tabs.setCurrentWidget(stats)
        qtbot.waitUntil(lambda: hub_b.history(on_b) is not None and len(hub_b.history(on_b)) >= 3, timeout=20000)
        qtbot.waitUntil(lambda: "CPU" in stats.status.text(), timeout=20000)
        assert hub_b.subscribers(on_b) == 1  # the tab (the table is hidden behind the detail page)
        detail.tabs.setCurrentIndex(0)
        qtbot.waitUntil(lambda: not hub_b.streaming(on_b), timeout=10000)
        ph.details.close()

        # Nobody looks: no stream on either engine.
        ph.window.hide()
        qtbot.waitUntil(lambda: ph.monitoring.stats_hubs.open_streams == 0, timeout=20000)
        page.search.clear()
    finally:
        api_b.remove_container(on_b, force=True)


def test_crash_on_the_second_engine_is_named_tagged_and_opens_there(two, qtbot, api_b, run_id):
    ph = two
    name = f"pht-{run_id}-crash"
    cid = api_b.create_container(TEST_IMAGE, command=["sleep", "3600"], name=name, stop_signal="SIGKILL")["Id"]
    api_b.start(cid)
    try:
        qtbot.waitUntil(lambda: ph.all_containers.get(cid) is not None
                        and ph.all_containers.get(cid).state == "running", timeout=10000)
        assert ph.all_containers.owner(cid) == "second"
        # Killed from outside Pilothouse, on B: a notification naming B, with the exit code.
        with qtbot.waitSignal(ph.monitoring.notifier.notified, timeout=15000,
                              check_params_cb=lambda a: a.container_id == cid) as sig:
            api_b.kill(cid)
        alert = sig.args[0]
        assert alert.kind == EXITED and alert.exit_code == 137 and alert.engine == "second"
        assert alert.title == f"{name} (second) exited with code 137"
        assert "engine second" in alert.message
        # The OOM check behind that verdict asked engine B (engine A does not know the container).
        assert ph.monitoring.crash_watch._oom_check is not None
        task_result = []

        async def ask():
            task_result.append(await ph.monitoring.crash_watch._oom_check(cid, "second"))

        import asyncio
        t = asyncio.ensure_future(ask())
        qtbot.waitUntil(t.done, timeout=10000)
        assert t.exception() is None and task_result == [False]

        # A click opens that container's page, on its own engine.
        with qtbot.waitSignal(ph.containers.page.container_activated, timeout=20000) as opened:
            ph.monitoring.notifier._on_tray_message_clicked()
        assert opened.args[0].id == cid and opened.args[0].engine_id == "second"
        assert ph.details.page.client is ph.engines.get("second").client  # its logs come from B
        ph.details.close()

        # Activity: the rows say engine "second"; the Engine column shows with two engines.
        page = ph.monitoring.activity_page
        assert not page.view.isColumnHidden(COL_ENGINE)
        page.search.setText(name)
        engines = lambda: {page.model.index(r, COL_ENGINE).data() for r in range(page.model.rowCount())}  # noqa: E731
        qtbot.waitUntil(lambda: engines() == {"second"} and any(
            page.model.index(r, COL_TEXT).data() == "exited with code 137" for r in range(page.model.rowCount())),
            timeout=20000)
        assert page.view.horizontalHeader().visualIndex(COL_ENGINE) == 1  # right after Time
        # It follows the engine switcher: the first engine alone has none of these events.
        ph.window.select_engine("host")
        qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=5000)
        ph.window.select_engine("second")
        qtbot.waitUntil(lambda: page.model.rowCount() >= 3, timeout=5000)

        # The footer describes the selected engine (the primary under All engines), named.
        footer = ph.monitoring.engine_footer
        assert "second: Engine running" in footer.text()
        ph.window.select_engine(None)
        assert "host: Engine running" in footer.text()
        assert "second: engine running" in footer._tooltip() and "host: engine running" in footer._tooltip()
        page.search.clear()

        # Restarted, then stopped through Pilothouse (the row's Stop, then the tray's): no alert.
        # (Each stop waits for the start event: the store may see "running" from a list first.)
        died, started = [], []
        events_b = ph.engines.get("second").sync.events
        events_b.connect(lambda ev: ev.id == cid and ev.action == "die" and died.append(ev))
        events_b.connect(lambda ev: ev.id == cid and ev.action == "start" and started.append(ev))
        api_b.start(cid)
        qtbot.waitUntil(lambda: bool(started) and ph.all_containers.get(cid).state == "running", timeout=10000)
        ph.containers.page.trigger("stop", [ph.all_containers.get(cid)])
        qtbot.waitUntil(lambda: bool(died), timeout=15000)
        assert died[0].attributes.get("exitCode") == "137"
        api_b.start(cid)
        qtbot.waitUntil(lambda: len(started) == 2 and ph.all_containers.get(cid).state == "running", timeout=10000)
        ph.desk.tray.rebuild()
        with qtbot.waitSignal(ph.desk.tray.container_action_done, timeout=30000):
            ph.desk.tray.action_in(ph.desk.tray.container_menu(f"{name} (second)"), "trayStop").trigger()
        qtbot.waitUntil(lambda: len(died) == 2, timeout=15000)
        # Any (wrong) alert for those exits has been sent once nothing about them is still decided.
        qtbot.waitUntil(lambda: ph.monitoring.crash_reports.settled(cid), timeout=20000)
        assert [a for a in ph.monitoring.notifier.shown if a.container_id == cid] == [alert]
    finally:
        api_b.remove_container(cid, force=True)


COMPOSE_FILE = f"""services:
  solo:
    image: {TEST_IMAGE}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
"""


@pytest.mark.skipif(shutil.which("docker-compose") is None and shutil.which("docker") is None,
                    reason="no Compose installed")
def test_compose_down_on_the_second_engine_is_not_a_crash(two, qtbot, api_b, run_id, tmp_path):
    ph = two
    page = ph.compose.page
    name = f"phmon{run_id}"
    d = tmp_path / name
    d.mkdir()
    (d / "compose.yaml").write_text(COMPOSE_FILE)
    label = {"label": f"com.docker.compose.project={name}"}
    try:
        ph.window.show_page("compose")
        qtbot.waitUntil(lambda: page.tool_known, timeout=30000)
        assert page.tool is not None
        ph.window.select_engine("second")
        page.open_project_file(str(d / "compose.yaml"))
        with qtbot.waitSignal(page.run_finished, timeout=120000) as fin:
            qtbot.mouseClick(page.buttons["up"], Qt.MouseButton.LeftButton)
        assert fin.args[2] == 0, page.output.toPlainText()[-2000:]
        (cid,) = [c["Id"] for c in api_b.containers(filters=label)]
        qtbot.waitUntil(lambda: any(c.id == cid for c in page.selected_project().containers), timeout=10000)

        died = []
        ph.engines.get("second").sync.events.connect(lambda ev: ev.id == cid and ev.action == "die" and died.append(ev))
        qtbot.mouseClick(page.buttons["down"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.findChild(QMessageBox, "confirmDialog") is not None, timeout=20000)
        box = page.findChild(QMessageBox, "confirmDialog")
        with qtbot.waitSignal(page.run_finished, timeout=120000) as fin:
            box.findChild(type(box.defaultButton()), "confirmButton").click()
        assert fin.args[2] == 0, page.output.toPlainText()[-2000:]
        qtbot.waitUntil(lambda: bool(died), timeout=15000)
        assert died[0].attributes.get("exitCode") == "137"  # SIGKILL: would be a crash if unasked
        # Any (wrong) alert for those exits has been sent once nothing about them is still decided.
        qtbot.waitUntil(lambda: ph.monitoring.crash_reports.settled(cid), timeout=20000)
        assert [a for a in ph.monitoring.notifier.shown if a.container_id == cid] == []
    finally:
        for c in api_b.containers(all=True, filters=label):
            api_b.remove_container(c["Id"], force=True)
        for n in api_b.networks(filters=label):
            api_b.remove_network(n["Id"])
