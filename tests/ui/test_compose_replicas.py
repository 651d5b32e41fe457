"""Compose replicas from a real `compose up --scale`: each reads with its number (never the same
name twice) in the Containers table, the numbers go when the service is back to one container,
and the Compose page lists the project's services, each with its replicas."""

from __future__ import annotations

import os
import subprocess

import pytest
from PySide6.QtCore import Qt

from desktop.engine.compose import find_compose
from tests.harness.private_engine import TEST_IMAGE

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


def children_names(ph, name):
    model = ph.containers.page.model
    parent = model.project_index(name)
    if not parent.isValid():
        return None
    return [model.index(r, 0, parent).data(Qt.ItemDataRole.DisplayRole) for r in range(model.rowCount(parent))]


def test_scaled_service_replicas_read_with_their_numbers(ph, qtbot, scaled_project):
    name, compose = scaled_project
    compose("up", "-d", "--scale", "worker=3")
    qtbot.waitUntil(lambda: children_names(ph, name) == ["web", "worker #1", "worker #2", "worker #3"], timeout=30000)

    # The Compose page: the project's services, each with its replicas (named, numbered in the tooltip).
    ph.window.show_page("compose")
    page = ph.compose.page
    assert page.select_project(name)
    qtbot.waitUntil(lambda: len(page.service_rows().get("worker", [])) == 3, timeout=20000)
    rows = page.service_rows()
    assert len(rows["web"]) == 1 and len({r[0] for r in rows["worker"]}) == 3
    top = next(page.services.topLevelItem(i) for i in range(page.services.topLevelItemCount())
               if page.services.topLevelItem(i).text(0) == "worker")
    assert top.text(1) == "3/3 running" and top.isExpanded()
    tips = sorted(top.child(i).toolTip(0) for i in range(top.childCount()))
    assert [t.split(": ", 1)[1] for t in tips] == [f"replica {n} of worker" for n in (1, 2, 3)]

    # Back to one worker: the number goes, as nothing is left to tell apart.
    compose("up", "-d", "--scale", "worker=1")
    qtbot.waitUntil(lambda: children_names(ph, name) == ["web", "worker"], timeout=30000)
