"""The Compose page against the real engine with the installed Compose (Debian's docker-compose)."""

from __future__ import annotations

import shutil
import urllib.request

import docker
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.engine.compose import find_compose
from tests.harness.private_engine import TEST_IMAGE

COMPOSE_FILE = """\
services:
  web:
    image: {image}
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    working_dir: /
    entrypoint: ["sh", "-c", "mkdir -p /www && echo hello-compose > /www/index.html && exec \\"$$@\\"", "--"]
    ports:
      - "127.0.0.1::80"
    stop_signal: SIGKILL
  worker:
    image: {image}
    command: ["sleep", "3600"]
    volumes:
      - data:/data
    stop_signal: SIGKILL
volumes:
  data: {{}}
"""

needs_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None and shutil.which("docker") is None, reason="no Compose installed")


@pytest.fixture
def compose_project(tmp_path, run_id, docker_api, engine_host):
    """A two-service project in a directory named for this run; torn down with its volumes after."""
    d = tmp_path / f"phcompose{run_id}"
    d.mkdir()
    f = d / "compose.yaml"
    f.write_text(COMPOSE_FILE.format(image=TEST_IMAGE))
    name = f"phcompose{run_id}"
    yield name, f
    for c in docker_api.containers(all=True, filters={"label": f"com.docker.compose.project={name}"}):
        docker_api.remove_container(c["Id"], force=True)
    for v in (docker_api.volumes(filters={"label": f"com.docker.compose.project={name}"}).get("Volumes") or []):
        docker_api.remove_volume(v["Name"], force=True)
    for n in docker_api.networks(filters={"label": f"com.docker.compose.project={name}"}):
        docker_api.remove_network(n["Id"])


def project_containers(api, name):
    return api.containers(all=True, filters={"label": f"com.docker.compose.project={name}"})


def project_volumes(api, name):
    return api.volumes(filters={"label": f"com.docker.compose.project={name}"}).get("Volumes") or []


@needs_compose
def test_compose_up_and_down_through_the_page(ph, qtbot, docker_api, compose_project):
    name, path = compose_project
    page = ph.compose.page
    ph.window.show_page("compose")
    qtbot.waitUntil(lambda: page.tool_known, timeout=30000)
    assert page.tool is not None, "Compose should be installed for this test"

    page.open_project_file(str(path))
    assert page.selected_project().name == name
    # declared services are listed before the first up (the file is read off the UI thread)
    qtbot.waitUntil(lambda: set(page.service_rows()) == {"web", "worker"}, timeout=10000)
    assert page.buttons["up"].isEnabled()

    with qtbot.waitSignal(page.run_finished, timeout=120000) as fin:
        qtbot.mouseClick(page.buttons["up"], Qt.MouseButton.LeftButton)
    assert fin.args == [name, "up", 0], page.output.toPlainText()

    # the engine has both services running, the volume exists, the port answers
    running = {c["Labels"]["com.docker.compose.service"]: c for c in project_containers(docker_api, name)}
    assert set(running) == {"web", "worker"}
    assert all(c["State"] == "running" for c in running.values())
    assert len(project_volumes(docker_api, name)) == 1
    public = next(p["PublicPort"] for p in running["web"]["Ports"] if p.get("PublicPort"))
    assert urllib.request.urlopen(f"http://127.0.0.1:{public}/", timeout=10).read().strip() == b"hello-compose"

    # the page shows them from the events: containers, state, published port
    def shows_both_running():
        rows = page.service_rows()
        return (len(rows.get("web", [])) == 1 and len(rows.get("worker", [])) == 1
                and all(r[1].startswith("Up") for rs in rows.values() for r in rs))

    qtbot.waitUntil(shows_both_running, timeout=30000)
    assert f"{public}:80" in page.service_rows()["web"][0][2]
    assert "up" in page.output.toPlainText().lower()

    # Logs: nobody handles the signal yet, so the page follows `compose logs` and can cancel it
    requested = []
    page.project_logs_requested.connect(requested.append)
    qtbot.mouseClick(page.logs_button, Qt.MouseButton.LeftButton)
    assert requested == [name]
    qtbot.waitUntil(lambda: page.cancel_button.isEnabled(), timeout=10000)
    qtbot.waitUntil(lambda: "worker" in page.output.toPlainText().split("logs", 1)[-1]
                    or "web" in page.output.toPlainText().split("logs", 1)[-1], timeout=30000)
    with qtbot.waitSignal(page.run_finished, timeout=30000) as fin:
        qtbot.keyClick(page, Qt.Key.Key_Escape)
    assert fin.args[:2] == [name, "logs"]
    assert "cancelled" in page.message.text()

    # down with volumes: asks first, says the data is lost
    page.with_volumes.setChecked(True)
    qtbot.mouseClick(page.buttons["down"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "confirmDialog") is not None, timeout=5000)
    box = page.findChild(QMessageBox, "confirmDialog")
    assert "DATA" in box.informativeText()
    with qtbot.waitSignal(page.run_finished, timeout=120000) as fin:
        box.findChild(type(box.defaultButton()), "confirmButton").click()
    assert fin.args == [name, "down", 0], page.output.toPlainText()
    assert project_containers(docker_api, name) == []
    assert project_volumes(docker_api, name) == []
    # the opened project stays listed, with no containers
    qtbot.waitUntil(lambda: page.service_rows() == {"web": [], "worker": []}, timeout=30000)


@needs_compose
def test_label_projects_listed(ph, qtbot, make_container, run_id):
    """A project known only from container labels is listed with its service and container."""
    name = f"phlabels{run_id}"
    make_container(start=True, labels={"com.docker.compose.project": name,
                                       "com.docker.compose.service": "solo"})
    page = ph.compose.page
    ph.window.show_page("compose")
    qtbot.waitUntil(lambda: page.select_project(name), timeout=30000)
    page.project_list.setCurrentRow(-1)
    # reachable from the palette too
    ph.window.show_page("containers")
    ph.desk.palette.open_palette()
    qtbot.keyClicks(ph.desk.palette.query, f"compose {name}")
    qtbot.keyClick(ph.desk.palette.query, Qt.Key.Key_Return)
    assert ph.window.pages.currentWidget() is page
    assert page.selected_project().name == name
    qtbot.waitUntil(lambda: [r[1][:2] for r in page.service_rows().get("solo", [])] == ["Up"], timeout=30000)
    item = page.project_list.currentItem()
    assert "1 of 1 running" in item.text()
    # no compose file known for it: Up cannot run, and the button says why
    assert not page.buttons["up"].isEnabled() and "compose file" in page.buttons["up"].toolTip()
    # keyboard: into the services, down to the container, Enter opens it
    page.services.setFocus()
    page.services.setCurrentItem(page.services.topLevelItem(0))
    qtbot.keyClick(page.services, Qt.Key.Key_Down)
    with qtbot.waitSignal(page.container_activated, timeout=5000) as act:
        qtbot.keyClick(page.services, Qt.Key.Key_Return)
    assert act.args[0].labels["com.docker.compose.project"] == name


def test_missing_compose_says_how_to_get_it(app_factory, engine_host, test_image, qtbot, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker, no docker-compose
    ph = app_factory(engine_host)
    page = ph.compose.page
    qtbot.waitUntil(lambda: page.tool_known, timeout=30000)
    assert page.tool is None
    ph.window.show_page("compose")
    assert page.missing.isVisible()
    assert "docker-compose" in page.missing.text() and "install" in page.missing.text().lower()
    assert not page.buttons["up"].isEnabled()
