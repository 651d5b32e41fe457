"""The Containers page against the real engine: clicks change the engine, the engine changes rows."""

from __future__ import annotations

import socket

from PySide6.QtCore import QPoint, Qt

from desktop.ui.containers.container_delegates import ActionsDelegate, row_actions
from desktop.presentation.container_columns import COL_ACTIONS, COL_NAME, COL_PORTS, COL_STATE
from tests.ui.objects_helpers import answer_confirm


def engine_state(docker_api, cid):
    return docker_api.inspect_container(cid)["State"]


def row_text(ph, cid, col):
    idx = ph.containers.page.proxy_index_of(cid, col)
    return idx.data() if idx.isValid() else None


def click_row_action(qtbot, ph, cid, action):
    """Click the painted button for `action` in the row of `cid`, as a user would."""
    page = ph.containers.page
    idx = page.proxy_index_of(cid, COL_ACTIONS)
    assert idx.isValid()
    page.view.scrollTo(idx)
    rect = page.view.visualRect(idx)
    names = [a[0] if a else None for a in row_actions(idx)]
    btn = ActionsDelegate.button_rects(rect, len(names))[names.index(action)]
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=btn.center())


def test_rows_show_engine_containers(ph, qtbot, make_container, run_id):
    cid = make_container(f"pht-{run_id}-web", start=True, ports={"80/tcp": None})
    qtbot.waitUntil(lambda: row_text(ph, cid, COL_STATE) == "Running", timeout=20000)
    assert row_text(ph, cid, COL_NAME) == f"pht-{run_id}-web"
    assert ":80" in row_text(ph, cid, COL_PORTS)


def test_click_start_makes_it_run(ph, qtbot, make_container, docker_api):
    cid = make_container()
    qtbot.waitUntil(lambda: row_text(ph, cid, COL_STATE) == "Created", timeout=20000)
    click_row_action(qtbot, ph, cid, "start")
    qtbot.waitUntil(lambda: engine_state(docker_api, cid)["Running"], timeout=10000)
    qtbot.waitUntil(lambda: row_text(ph, cid, COL_STATE) == "Running", timeout=20000)


def test_cli_stop_appears_in_the_row(ph, qtbot, make_container, docker_cli):
    cid = make_container(start=True)
    qtbot.waitUntil(lambda: row_text(ph, cid, COL_STATE) == "Running", timeout=20000)
    assert docker_cli("stop", "-t", "0", cid).returncode == 0
    qtbot.waitUntil(lambda: (row_text(ph, cid, COL_STATE) or "").startswith("Exited"), timeout=20000)


def test_remove_confirms_and_says_what_is_lost(ph, qtbot, make_container, docker_api):
    cid = make_container()
    qtbot.waitUntil(lambda: row_text(ph, cid, COL_STATE) == "Created", timeout=20000)
    click_row_action(qtbot, ph, cid, "delete")
    text = answer_confirm(qtbot, accept=False)
    assert "lost" in text
    assert docker_api.containers(all=True, filters={"id": cid})  # cancel kept it
    click_row_action(qtbot, ph, cid, "delete")
    answer_confirm(qtbot, accept=True)
    qtbot.waitUntil(lambda: not docker_api.containers(all=True, filters={"id": cid}), timeout=10000)
    qtbot.waitUntil(lambda: not ph.containers.page.proxy_index_of(cid).isValid(), timeout=20000)


def test_removing_a_running_container_explains_the_choice(ph, qtbot, make_container, docker_api):
    cid = make_container(start=True)
    qtbot.waitUntil(lambda: row_text(ph, cid, COL_STATE) == "Running", timeout=20000)
    page = ph.containers.page
    page.view.setCurrentIndex(page.proxy_index_of(cid))
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_Delete)
    text = answer_confirm(qtbot, accept=False)
    assert "running" in text and "killed" in text
    assert engine_state(docker_api, cid)["Running"]


def test_bulk_stop_of_a_compose_project(ph, qtbot, make_container, docker_api, run_id):
    proj = f"proj{run_id}"
    ids = [make_container(f"{proj}-{svc}-1", start=True,
                          labels={"com.docker.compose.project": proj, "com.docker.compose.service": svc})
           for svc in ("web", "db", "cache")]
    page = ph.containers.page
    model = page.model
    qtbot.waitUntil(lambda: model.project_index(proj).isValid()
                    and model.rowCount(model.project_index(proj)) == 3, timeout=20000)
    pidx = model.project_index(proj, COL_STATE)
    qtbot.waitUntil(lambda: pidx.data() == "Running (3/3)", timeout=20000)
    # The project row's own stop button acts on all its containers.
    rect = page.view.visualRect(model.project_index(proj, COL_ACTIONS))
    btn = ActionsDelegate.button_rects(rect, 4)[0]
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=btn.center())
    qtbot.waitUntil(lambda: not any(engine_state(docker_api, i)["Running"] for i in ids), timeout=20000)
    qtbot.waitUntil(lambda: model.project_index(proj, COL_STATE).data() == "Exited (with errors)"
                    or model.project_index(proj, COL_STATE).data() == "Exited", timeout=20000)


def test_multi_selection_bulk_restart_from_keyboard(ph, qtbot, make_container, docker_api):
    a, b = make_container(start=True), make_container(start=True)
    page = ph.containers.page
    qtbot.waitUntil(lambda: row_text(ph, a, COL_STATE) == "Running" and row_text(ph, b, COL_STATE) == "Running", timeout=20000)
    before = {c: engine_state(docker_api, c)["StartedAt"] for c in (a, b)}
    sel = page.view.selectionModel()
    sel.clearSelection()
    for c in (a, b):
        sel.select(page.proxy_index_of(c), sel.SelectionFlag.Select | sel.SelectionFlag.Rows)
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: all(engine_state(docker_api, c)["StartedAt"] != before[c] for c in (a, b)), timeout=20000)


def test_space_toggles_start_stop(ph, qtbot, make_container, docker_api):
    cid = make_container()
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(cid).isValid(), timeout=20000)
    page.view.setCurrentIndex(page.proxy_index_of(cid))
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: engine_state(docker_api, cid)["Running"], timeout=10000)
    qtbot.waitUntil(lambda: row_text(ph, cid, COL_STATE) == "Running", timeout=20000)
    qtbot.keyClick(page.view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not engine_state(docker_api, cid)["Running"], timeout=15000)


def test_filter_and_running_only(ph, qtbot, make_container, run_id):
    web = make_container(f"pht-{run_id}-alpha", start=True, labels={"tier": f"front{run_id}"})
    db = make_container(f"pht-{run_id}-beta")
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(web).isValid() and page.proxy_index_of(db).isValid(), timeout=20000)
    qtbot.keyClicks(page.search, f"{run_id}-al")
    assert page.proxy_index_of(web).isValid() and not page.proxy_index_of(db).isValid()
    page.search.clear()
    qtbot.keyClicks(page.search, f"tier=front{run_id}")
    assert page.proxy_index_of(web).isValid() and not page.proxy_index_of(db).isValid()
    page.search.clear()
    qtbot.keyClicks(page.search, web[:10])
    assert page.proxy_index_of(web).isValid() and not page.proxy_index_of(db).isValid()
    page.search.clear()
    assert page.proxy_index_of(db).isValid()
    page.running_only.click()
    assert page.proxy_index_of(web).isValid() and not page.proxy_index_of(db).isValid()


def test_port_taken_shows_the_reason(ph, qtbot, make_container, docker_api):
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        cid = make_container(ports={"80/tcp": port})
        qtbot.waitUntil(lambda: row_text(ph, cid, COL_STATE) == "Created", timeout=20000)
        click_row_action(qtbot, ph, cid, "start")
        msg = ph.containers.page.message
        qtbot.waitUntil(lambda: msg.isVisible() and msg.is_error, timeout=10000)
    assert f"Port {port} is already in use" in msg.text()
    assert "Traceback" not in msg.text()
    assert not engine_state(docker_api, cid)["Running"]


def test_port_link_opens_localhost(ph, qtbot, make_container, monkeypatch):
    cid = make_container(start=True, ports={"80/tcp": None})
    page = ph.containers.page
    qtbot.waitUntil(lambda: bool(row_text(ph, cid, COL_PORTS)), timeout=20000)
    opened = []
    monkeypatch.setattr("desktop.ui.containers.containers_page.QDesktopServices.openUrl", lambda url: opened.append(url.toString()))
    idx = page.proxy_index_of(cid, COL_PORTS)
    page.view.scrollTo(idx)
    rect = page.view.visualRect(idx)
    with qtbot.waitSignal(page.port_link_activated, timeout=20000) as sig:
        qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + 8, rect.center().y()))
    public = row_text(ph, cid, COL_PORTS).split(":")[0]
    assert sig.args == [f"http://localhost:{public}"] and opened == [f"http://localhost:{public}"]


def test_projects_stay_expanded_through_filters(ph, qtbot, make_container, run_id):
    project = f"phx{run_id}"
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": "web"}
    member = make_container(f"pht-{run_id}-member", start=True, labels=labels)
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(member).isValid(), timeout=20000)

    def expanded() -> bool:
        idx = page.model.project_index(project)
        return idx.isValid() and page.view.isExpanded(idx)

    assert expanded()
    qtbot.keyClicks(page.search, "no-such-container-anywhere")
    assert not page.proxy_index_of(member).isValid()
    page.search.clear()
    assert expanded() and page.proxy_index_of(member).isValid()
    page.running_only.click()
    assert expanded()
    page.running_only.click()
    assert expanded()
