"""The Debug tab against the real engine: a shell beside an image that holds one static binary
and no shell, for a running and a stopped container; the helper goes with the tab."""

from __future__ import annotations

import docker
import pytest
from PySide6.QtCore import Qt

from desktop.engine.debug_helper import ROLE_LABEL
from tests.conftest import RUN_LABEL
from tests.harness.private_engine import TEST_IMAGE
from tests.harness.static_image import STATIC_IMAGE, ensure_static_image
from tests.ui.test_logs_tab import open_detail
from tests.ui.convergence import engine_rows, shown_rows
from tests.ui.test_terminal_tab import screen_lines, type_line


def helpers(api) -> list[str]:
    return [c["Id"] for c in api.containers(all=True, filters={"label": ROLE_LABEL})]


def screen_has(tab, text: str) -> bool:
    return any(text in line for line in screen_lines(tab))


def test_debug_a_container_without_a_shell(static_container, docker_api, ph, qtbot, run_id):
    cid = static_container()
    page = open_detail(ph, qtbot, cid)
    # The Terminal tab has nothing to run there; Debug does.
    tab = page.show_tab("Debug")
    qtbot.waitUntil(lambda: tab.toolbox.text() == TEST_IMAGE, timeout=10000)  # the engine's busybox
    with qtbot.waitSignal(tab.session_started, timeout=30000):
        qtbot.mouseClick(tab.connect_button, Qt.MouseButton.LeftButton)
    assert "processes and network are shared" in tab.status.text()
    helper = tab.helper.helper_id
    assert docker_api.inspect_container(helper)["HostConfig"]["PidMode"] == f"container:{cid}"
    # The helper is the app's, not the user's: the Containers list and its count leave it out.
    qtbot.waitUntil(lambda: ph.all_containers.get(helper) is not None, timeout=10000)
    containers = ph.containers.page
    qtbot.waitUntil(lambda: cid in shown_rows(containers, f"{RUN_LABEL}={run_id}"), timeout=10000)
    assert shown_rows(containers, f"{ROLE_LABEL}=helper") == {}
    assert engine_rows(docker_api, f"{ROLE_LABEL}=helper").keys() == {helper}
    assert containers.tally.total == len(ph.all_containers.all()) - 1
    assert helper not in {cid for cid, _ in ph.inside.logs_page.picker_model.rows()}
    type_line(qtbot, tab, "ps")
    qtbot.waitUntil(lambda: screen_has(tab, "/busybox sleep 3600"), timeout=10000)
    type_line(qtbot, tab, "ls -1 /proc/1/root/")
    qtbot.waitUntil(lambda: "busybox" in screen_lines(tab), timeout=10000)
    # Leaving the page closes the terminal and removes the helper.
    ph.details.close()
    qtbot.waitUntil(lambda: not ph.details.tasks.busy, timeout=20000)
    assert helpers(docker_api) == []


def test_debug_a_stopped_container_from_the_menu(static_container, docker_api, ph, qtbot):
    cid = static_container(start=False)
    qtbot.waitUntil(lambda: ph.primary.containers.get(cid) is not None, timeout=20000)
    page = ph.inside.debug(ph.primary.containers.get(cid))  # what "Debug…" in the context menu does
    tab = page.tab("Debug")
    qtbot.waitUntil(lambda: tab.session is not None and tab.session.running, timeout=30000)
    assert "snapshot of its filesystem" in tab.status.text()
    snapshot = tab.helper.snapshot_id
    type_line(qtbot, tab, "ls -1 /proc/1/root/")
    qtbot.waitUntil(lambda: "busybox" in screen_lines(tab), timeout=10000)
    # The shell's exit ends the debug session: helper, stand-in and snapshot go.
    with qtbot.waitSignal(tab.session_ended, timeout=10000):
        type_line(qtbot, tab, "exit")
    qtbot.waitUntil(lambda: tab.helper is None and not tab.tasks.busy, timeout=20000)
    assert helpers(docker_api) == []
    with pytest.raises(docker.errors.ImageNotFound):
        docker_api.inspect_image(snapshot)
    assert "Start debug shell" == tab.connect_button.text()


def test_bad_toolbox_is_explained_where_typed(static_container, docker_api, ph, qtbot):
    cid = static_container()
    page = open_detail(ph, qtbot, cid)
    tab = page.show_tab("Debug")
    qtbot.waitUntil(lambda: tab.toolbox.text() == TEST_IMAGE, timeout=10000)
    tab.toolbox.setText("Not An Image")
    tab.connect_shell()
    qtbot.waitUntil(lambda: "Toolbox image:" in tab.status.text(), timeout=10000)
    tab.toolbox.setText("nosuch/toolbox:1")
    tab.connect_shell()
    qtbot.waitUntil(lambda: "is not on this engine" in tab.status.text(), timeout=10000)
    assert helpers(docker_api) == [] and tab.connect_button.isEnabled()


def test_toolbox_setting_is_validated(ph):
    page = ph.desk.settings_page
    page.set_value("debug_toolbox", "UPPER/case")
    assert not page.save()
    assert "lowercase" in page.errors["debug_toolbox"].text()
    page.set_value("debug_toolbox", "busybox:1.36")
    assert page.save() and ph.settings.current.debug_toolbox == "busybox:1.36"
