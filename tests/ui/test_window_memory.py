"""Window memory: the app started twice against the real engine (same temp config dir); the second
opens as the first was closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint
from desktop.presentation.container_columns import COL_IMAGE, COL_NAME


def start(engine_host, await_) -> Pilothouse:
    ph = Pilothouse([Endpoint(engine_host, "--host")])
    ph.window.show()
    ph.start()
    await_(ph.first_load(timeout=30))
    return ph


def vertical_splitter(ph) -> QSplitter:
    # Heights, not widths: the session's 800-pixel-wide offscreen screen makes Qt narrow a restored
    # window that is wider (the size and place are checked on a bigger screen below).
    return next(s for s in ph.window.page("compose").findChildren(QSplitter)
                if s.orientation() == Qt.Orientation.Vertical)


def stop(ph, await_) -> None:
    await_(ph.aclose())
    ph.window.close()
    ph.window.deleteLater()


def test_second_start_restores_the_first_ones_window(engine_host, test_image, qtbot, await_, docker_api, run_id):
    volume = f"pht-{run_id}-remembered"
    docker_api.create_volume(volume)
    first = start(engine_host, await_)
    try:
        assert not first.memory.path.exists()  # a first start: Qt's defaults
        assert not first.window.windowIcon().isNull()  # set with the other wings, after the first paint
        first.menus.actions["sidebar"].trigger()  # hidden
        assert first.window.side_panel.isHidden()
        header = first.containers.page.view.header()
        header.resizeSection(COL_NAME, 333)
        header.setSortIndicator(COL_IMAGE, Qt.SortOrder.DescendingOrder)
        compose_split = vertical_splitter(first)
        first.window.show_page("compose")
        qtbot.waitUntil(lambda: sum(compose_split.sizes()) > 0)
        total = sum(compose_split.sizes())
        compose_split.setSizes([total - 150, 150])
        wanted_split = compose_split.sizes()
        volumes = first.objects.volumes_page.view
        volumes.horizontalHeader().resizeSection(1, 171)  # column 0 stretches: the view sizes it
        volumes.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        first.window.show_page("volumes")
    finally:
        stop(first, await_)
    saved = json.loads(first.memory.path.read_text())
    assert saved["page"] == "volumes" and saved["sidebar"] is False

    second = start(engine_host, await_)
    try:
        w = second.window
        assert w.current_page_key() == "volumes"
        # reopened on it, the page lists the engine's volumes (as when it is chosen by hand)
        page = second.objects.volumes_page
        qtbot.waitUntil(lambda: page.model.row_of(volume) >= 0 or any(
            page.model.index(r, 0).data() == volume for r in range(page.model.rowCount())), timeout=20000)
        assert w.side_panel.isHidden() and not second.menus.actions["sidebar"].isChecked()
        header = second.containers.page.view.header()
        assert header.sectionSize(COL_NAME) == 333
        assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (COL_IMAGE, Qt.SortOrder.DescendingOrder)
        model = second.containers.page.model  # the rows really are in that order
        assert (model.tree.sort_col, model.tree.descending) == (COL_IMAGE, True)
        volumes = second.objects.volumes_page.view.horizontalHeader()
        assert volumes.sectionSize(1) == 171
        assert (volumes.sortIndicatorSection(), volumes.sortIndicatorOrder()) == (1, Qt.SortOrder.DescendingOrder)
        split = vertical_splitter(second)
        second.window.show_page("compose")
        qtbot.waitUntil(lambda: split.isVisible() and sum(split.sizes()) > 0, timeout=5000)
        assert split.sizes() == wanted_split
    finally:
        stop(second, await_)
        docker_api.remove_volume(volume)


def test_size_and_place_survive_a_restart(engine_host, test_image, tmp_path):
    """Two processes, as a user would start it twice (each with a screen bigger than the window)."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "QT_QPA_PLATFORM": "offscreen"}

    def run(mode: str) -> dict:
        out = subprocess.run([sys.executable, "-m", "tests.ui.window_memory_child", engine_host, mode], env=env,
                             capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    first = run("set")
    assert (first["width"], first["height"]) == (1300, 800) and first["x"] >= 140 and first["y"] >= 90
    assert (tmp_path / "config" / "pilothouse" / "window.json").exists()
    assert run("report") == first


def test_an_unreadable_file_gives_the_defaults(engine_host, test_image, qtbot, await_, tmp_path):
    from desktop.state import window_state
    from desktop.state.settings import SettingsStore

    path = SettingsStore().path.parent / window_state.FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"version": 1, "geometry": 12, "page": "nowhere", "columns": {"containers/0": "x"},'
                    ' "splitters": {"compose/0": [1, "a"]}, "sidebar": "maybe"')  # truncated JSON
    ph = start(engine_host, await_)
    try:
        assert ph.window.current_page_key() == "containers" and not ph.window.side_panel.isHidden()
    finally:
        stop(ph, await_)
    path.write_text('{"version": 1, "geometry": 12, "page": "nowhere", "columns": {"containers/0": "x"},'
                    ' "splitters": {"compose/0": [1, "a"]}, "sidebar": "maybe"}')  # wrong types
    ph = start(engine_host, await_)
    try:
        assert ph.window.current_page_key() == "containers" and not ph.window.side_panel.isHidden()
    finally:
        stop(ph, await_)
    assert json.loads(path.read_text())["page"] == "containers"  # rewritten whole
