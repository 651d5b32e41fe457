"""Tray, Compose, Dashboard and Disk usage with two real engines: each follows the engine switcher
and "Make primary", rows are tagged with their engine, actions reach the engine the row belongs to."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

from tests.harness.private_engine import TEST_IMAGE

COMPOSE_FILE = f"""services:
  solo:
    image: {TEST_IMAGE}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
"""


def test_tray_lists_both_engines_and_stops_on_the_right_one(two, qtbot, docker_api, api_b, make_container, run_id):
    ph = two
    name = f"pht-{run_id}-tray"
    on_a = make_container(name, start=True)
    on_b = api_b.create_container(TEST_IMAGE, command=["sleep", "3600"], name=name)["Id"]  # same name, engine B
    api_b.start(on_b)
    try:
        qtbot.waitUntil(lambda: all(ph.all_containers.get(c) and ph.all_containers.get(c).state == "running"
                                    for c in (on_a, on_b)), timeout=10000)
        ph.desk.tray.rebuild()
        names = ph.desk.tray.container_names()
        assert f"{name} (host)" in names and f"{name} (second)" in names
        states = [a.text() for a in ph.desk.tray.menu.actions()]
        assert "Engine host (primary): connected" in states and "Engine second: connected" in states

        sub = ph.desk.tray.container_menu(f"{name} (second)")
        with qtbot.waitSignal(ph.desk.tray.container_action_done, timeout=30000):
            ph.desk.tray.action_in(sub, "trayStop").trigger()
        assert not api_b.inspect_container(on_b)["State"]["Running"]
        assert docker_api.inspect_container(on_a)["State"]["Running"]
        qtbot.waitUntil(lambda: ph.all_containers.get(on_b).state == "exited", timeout=10000)
        ph.desk.tray.rebuild()
        assert f"{name} (second)" not in ph.desk.tray.container_names()
        assert f"{name} (host)" in ph.desk.tray.container_names()
    finally:
        api_b.remove_container(on_b, force=True)


@pytest.mark.skipif(shutil.which("docker-compose") is None and shutil.which("docker") is None,
                    reason="no Compose installed")
def test_compose_project_opened_on_the_selected_engine_runs_there(two, qtbot, docker_api, api_b, run_id, tmp_path):
    ph = two
    page = ph.compose.page
    name = f"phmulti{run_id}"
    d = tmp_path / name
    d.mkdir()
    (d / "compose.yaml").write_text(COMPOSE_FILE)
    label = {"label": f"com.docker.compose.project={name}"}
    try:
        ph.window.show_page("compose")
        qtbot.waitUntil(lambda: page.tool_known, timeout=30000)
        assert page.tool is not None
        ph.window.select_engine("second")
        p = page.open_project_file(str(d / "compose.yaml"))
        assert p.engine == "second" and page.selected_project().key == f"second|{name}"
        with qtbot.waitSignal(page.run_finished, timeout=120000) as fin:
            qtbot.mouseClick(page.buttons["up"], Qt.MouseButton.LeftButton)
        assert fin.args[2] == 0, page.output.toPlainText()[-2000:]
        assert len(api_b.containers(filters=label)) == 1  # Compose ran against the second engine
        assert docker_api.containers(all=True, filters=label) == []

        # All engines: the project is listed once, tagged with its engine.
        ph.window.select_engine(None)
        qtbot.waitUntil(lambda: any(f"{name}  (second)" in page.project_list.item(i).text()
                                    for i in range(page.project_list.count())), timeout=10000)
        # The first engine alone: not its project.
        ph.window.select_engine("host")
        assert not page.select_project(f"second|{name}")
    finally:
        for c in api_b.containers(all=True, filters=label):
            api_b.remove_container(c["Id"], force=True)
        for n in api_b.networks(filters=label):
            api_b.remove_network(n["Id"])


def test_dashboard_and_disk_usage_follow_the_selected_engine(two, qtbot, docker_api, api_b, second_engine, run_id):
    ph = two
    vol = f"pht-{run_id}-df"
    api_b.create_volume(vol)
    try:
        ph.window.show_page("dashboard")
        page = ph.monitoring.dashboard_page
        assert "primary" in page.source_label.text() and "host" in page.source_label.text()
        ph.window.select_engine("second")
        assert page.source_label.text() == "Engine second"
        assert second_engine.host in page.engine_label.text()
        b_volumes = len(api_b.volumes()["Volumes"] or [])
        qtbot.waitUntil(lambda: f"Volumes</td><td>{b_volumes}</td>" in page.counts_label.text(), timeout=10000)
        assert ph.monitoring.overviews.get("second").watching and not ph.monitoring.overview.watching  # only the shown engine streams

        # Disk usage shows the selected engine; its Engine list offers both.
        ph.window.show_page("disk")
        disk = ph.objects.disk_page
        assert disk.engine == "second" and disk.engine_combo.isVisible()
        df_b = api_b.df()
        qtbot.waitUntil(lambda: disk.usage is not None and disk.table.item(2, 1) is not None
                        and disk.table.item(2, 1).text() == str(len(df_b["Volumes"])), timeout=20000)
        assert vol in [r.name for r in disk.usage.of("volume")]
        ph.window.select_engine("host")
        qtbot.waitUntil(lambda: disk.usage is not None and vol not in [r.name for r in disk.usage.of("volume")],
                        timeout=20000)
        ph.window.select_engine(None)
        assert not ph.monitoring.overviews.get("second").watching
    finally:
        api_b.remove_volume(vol)


def test_make_primary_moves_the_disk_order_and_the_tray_client_at_once(two, qtbot, await_, api_b, run_id):
    """Settings → Engines → Make primary: the Disk page lists and shows the new primary first, and
    the tray's client is the new primary's (its menu marks it), at once, not from the next start."""
    ph = two
    disk, tray, combo = ph.objects.disk_page, ph.desk.tray, ph.objects.disk_page.engine_combo
    vol = f"pht-{run_id}-primary"
    api_b.create_volume(vol)
    theirs = api_b.create_container(TEST_IMAGE, command=["sleep", "3600"])["Id"]
    try:
        assert [combo.itemText(i) for i in range(combo.count())] == ["host", "second"]
        assert theirs not in {c.id for c in await_(tray.client.list_containers())}
        ph.window.show_page("settings")
        table = ph.desk.settings_page.engines_table
        assert table.select("second")
        qtbot.mouseClick(table.buttons["primary"], Qt.MouseButton.LeftButton)
        assert ph.engines.primary.key == "second" and ph.window.engine_switcher.currentData() == "second"

        assert [combo.itemText(i) for i in range(combo.count())] == ["second", "host"]
        assert theirs in {c.id for c in await_(tray.client.list_containers())}  # the second engine answers
        tray.menu.aboutToShow.emit()
        lines = [a.text() for a in tray.menu.actions()]
        assert "Engine second (primary): connected" in lines and "Engine host: connected" in lines
        ph.window.show_page("disk")
        assert disk.engine == "second"
        qtbot.waitUntil(lambda: disk.usage is not None and vol in [r.name for r in disk.usage.of("volume")],
                        timeout=20000)
        ph.window.select_engine(None)  # all engines: the Disk page stays on the primary
        assert disk.engine == "second" and combo.itemText(0) == "second"
    finally:
        api_b.remove_container(theirs, force=True)
        api_b.remove_volume(vol)
