"""Compose replicas from a real `compose up --scale`: in the Containers table a project's row
holds its services, each service's row its replicas, each read with its number (never the same
name twice), the same tree `docker ps` gives; and the Compose page lists the project's services,
each with its replicas."""

from __future__ import annotations

import os
import subprocess

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from desktop.engine.compose import find_compose
from desktop.presentation.container_columns import COL_ACTIONS, COL_IMAGE, COL_NAME, COL_STATE
from desktop.ui.containers.container_delegates import ActionsDelegate
from desktop.ui.containers.container_model import KindRole
from tests.harness.private_engine import TEST_IMAGE
from tests.ui.tree_rows import child_names

FILE = """\
services:
  web:
    image: {image}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  worker:
    image: {image}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
"""

TOOL = find_compose()
pytestmark = pytest.mark.skipif(TOOL is None, reason="no Compose installed")


@pytest.fixture
def scaled_project(tmp_path, run_id, engine_host, docker_api):
    name = f"phscale{run_id}"
    path = tmp_path / name / "compose.yaml"
    path.parent.mkdir()
    path.write_text(FILE.format(image=TEST_IMAGE))
    env = dict(os.environ, DOCKER_HOST=engine_host)

    def compose(*args: str) -> None:
        proc = subprocess.run([*TOOL.argv, "-p", name, "-f", str(path), *args], env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr

    yield name, compose
    compose("down", "--timeout", "0")


def tree_of(ph, name) -> dict[str, list[str]] | None:
    """The Containers table's rows of project `name`: service → its replicas' names, in order."""
    model = ph.containers.page.model
    parent = model.project_index(name)
    if not parent.isValid():
        return None
    out = {}
    for r in range(model.rowCount(parent)):
        service = model.index(r, 0, parent)
        assert service.data(KindRole) == "service"
        out[service.data()] = child_names(model, service)
    return out


def ps_tree(docker_cli, name) -> dict[str, list[str]]:
    """`docker ps` for the project, grouped the same way: service → "service #number" of each."""
    proc = docker_cli("ps", "-a", "--filter", f"label=com.docker.compose.project={name}", "--format",
                      '{{.Label "com.docker.compose.service"}} {{.Label "com.docker.compose.container-number"}}')
    assert proc.returncode == 0, proc.stderr
    out: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        service, number = line.split()
        out.setdefault(service, []).append(int(number))
    return {s: [f"{s} #{n}" for n in sorted(ns)] for s, ns in sorted(out.items())}


def test_scaled_service_replicas_read_with_their_numbers(ph, qtbot, scaled_project, docker_cli):
    name, compose = scaled_project
    compose("up", "-d", "--scale", "worker=3")
    want = {"web": ["web #1"], "worker": ["worker #1", "worker #2", "worker #3"]}
    qtbot.waitUntil(lambda: tree_of(ph, name) == want, timeout=30000)
    assert ps_tree(docker_cli, name) == want  # the engine's own list says the same
    page = ph.containers.page
    model = page.model
    worker = model.service_index(name, "worker")
    qtbot.waitUntil(lambda: worker.siblingAtColumn(COL_STATE).data() == "Running (3/3)", timeout=20000)
    assert worker.siblingAtColumn(COL_IMAGE).data() == TEST_IMAGE
    assert all(page.view.isExpanded(model.service_index(name, s)) for s in want)

    # The Compose page: the project's services, each with its replicas (named, numbered in the tooltip).
    ph.window.show_page("compose")
    cpage = ph.compose.page
    assert cpage.select_project(name)
    qtbot.waitUntil(lambda: len(cpage.service_rows().get("worker", [])) == 3, timeout=20000)
    rows = cpage.service_rows()
    assert len(rows["web"]) == 1 and len({r[0] for r in rows["worker"]}) == 3
    top = next(cpage.services.topLevelItem(i) for i in range(cpage.services.topLevelItemCount())
               if cpage.services.topLevelItem(i).text(0) == "worker")
    assert top.text(1) == "3/3 running" and top.isExpanded()
    tips = sorted(top.child(i).toolTip(0) for i in range(top.childCount()))
    assert [t.split(": ", 1)[1] for t in tips] == [f"replica {n} of worker" for n in (1, 2, 3)]

    # Back to one worker: its row stays under the same service row.
    compose("up", "-d", "--scale", "worker=1")
    qtbot.waitUntil(lambda: tree_of(ph, name) == {"web": ["web #1"], "worker": ["worker #1"]}, timeout=30000)
    assert ps_tree(docker_cli, name) == tree_of(ph, name)


def test_services_sort_filter_select_and_act(ph, qtbot, scaled_project, docker_api, docker_cli):
    """Project → service → replicas on the Containers page, from a real `compose up --scale`:
    sorting orders each level, a filter that matches one replica keeps its service and project,
    a service row's selection and its row buttons act on exactly its replicas."""
    name, compose = scaled_project
    compose("up", "-d", "--scale", "worker=3")
    page = ph.containers.page
    model, view = page.model, page.view

    want = {"web": ["web #1"], "worker": ["worker #1", "worker #2", "worker #3"]}
    qtbot.waitUntil(lambda: tree_of(ph, name) == want, timeout=30000)

    # Sorting: name descending turns every level round (services and replicas).
    view.header().setSortIndicator(COL_NAME, Qt.SortOrder.DescendingOrder)
    assert list(tree_of(ph, name)) == ["worker", "web"]
    assert tree_of(ph, name)["worker"] == ["worker #3", "worker #2", "worker #1"]
    view.header().setSortIndicator(COL_NAME, Qt.SortOrder.AscendingOrder)
    assert tree_of(ph, name) == want

    # Filtering by one replica's container name: it shows with its service and project, alone.
    replicas = {c.compose_number: c for c in ph.all_containers.all()
                if c.compose_project == name and c.compose_service == "worker"}
    page.search.setText(replicas[2].name)
    pidx = model.project_index(name)
    assert pidx.isValid() and model.rowCount(pidx) == 1
    sidx = model.index(0, 0, pidx)
    assert sidx.data() == "worker" and child_names(model, sidx) == ["worker #2"]
    assert view.isExpanded(pidx) and view.isExpanded(sidx)
    page.search.clear()
    assert child_names(model, model.service_index(name, "worker")) == want["worker"]

    # Selecting the service row means its replicas; its Stop button stops exactly those.
    worker = model.service_index(name, "worker")
    view.selectionModel().select(worker, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                 | QItemSelectionModel.SelectionFlag.Rows)
    assert {c.id for c in page.selected_containers()} == {c.id for c in replicas.values()}
    assert ph.menus.actions["container_stop"].isEnabled()
    view.scrollTo(worker)
    rect = view.visualRect(worker.siblingAtColumn(COL_ACTIONS))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=ActionsDelegate.button_rects(rect, 4)[0].center())
    qtbot.waitUntil(lambda: not any(docker_api.inspect_container(c.id)["State"]["Running"] for c in replicas.values()),
                    timeout=30000)
    web = [c for c in ph.all_containers.all() if c.compose_project == name and c.compose_service == "web"]
    assert docker_api.inspect_container(web[0].id)["State"]["Running"]
    # (stop_signal SIGKILL: they exit 137, so "with errors")
    qtbot.waitUntil(lambda: model.service_index(name, "worker", COL_STATE).data() == "Exited (with errors)",
                    timeout=20000)
    assert model.project_index(name, COL_STATE).data() == "Running (1/4)"
    # The count under the table still counts containers (not service or project rows), as `docker ps -a` does.
    total = len(docker_cli("ps", "-aq").stdout.split())
    qtbot.waitUntil(lambda: page.count_label.text().startswith(f"{total} containers"), timeout=20000)
