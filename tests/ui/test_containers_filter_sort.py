"""The Containers table filters and sorts in its own model, against the real engine: the selection
survives a filter and a sort, a project shows through its matching members while its row counts
all of them (project → service → replica), engine changes land in their sorted place while filtered, and the row buttons act on
the rows as shown."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt

from desktop.engine.records import COMPOSE_PROJECT, COMPOSE_SERVICE
from desktop.presentation.container_columns import COL_IMAGE, COL_NAME, COL_STATE
from desktop.ui.containers.container_model import ContainerRole, KindRole, containers_at


def _select(page, cid: str) -> None:
    sel = page.view.selectionModel()
    sel.select(page.row_index_of(cid), QItemSelectionModel.SelectionFlag.ClearAndSelect
               | QItemSelectionModel.SelectionFlag.Rows)


def _selected(page) -> set[str]:
    return {c.id for c in page.selected_containers()}


def _top_names(page) -> list[str]:
    m = page.model
    return [m.index(r, COL_NAME).data() for r in range(m.rowCount())]


def test_selection_survives_filter_and_sort(ph, qtbot, make_container, run_id):
    page = ph.containers.page
    a = make_container(f"pht-{run_id}-sel-a")
    b = make_container(f"pht-{run_id}-sel-b")
    other = make_container(f"pht-{run_id}-other")
    qtbot.waitUntil(lambda: all(page.row_index_of(c).isValid() for c in (a, b, other)), timeout=20000)
    _select(page, b)
    assert _selected(page) == {b}
    qtbot.keyClicks(page.search, f"{run_id}-sel")
    assert not page.row_index_of(other).isValid()
    assert _selected(page) == {b}  # the row stayed selected through the filter
    page.view.header().setSortIndicator(COL_NAME, Qt.SortOrder.DescendingOrder)
    assert [n for n in _top_names(page) if n.startswith(f"pht-{run_id}")] == [f"pht-{run_id}-sel-b",
                                                                             f"pht-{run_id}-sel-a"]
    assert page.view.header().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert _selected(page) == {b}  # and through the sort
    page.search.setText(f"{run_id}-sel-a")
    assert _selected(page) == set()  # filtered out: not acted on by the toolbar any more
    page.search.clear()
    assert page.row_index_of(other).isValid()
    page.view.header().setSortIndicator(COL_NAME, Qt.SortOrder.AscendingOrder)


def test_project_rows_match_through_members_and_count_all(ph, qtbot, make_container, docker_cli, run_id):
    page = ph.containers.page
    proj = f"fs{run_id}"
    web = make_container(f"{proj}-web-1", labels={COMPOSE_PROJECT: proj, COMPOSE_SERVICE: "web"})
    db = make_container(f"{proj}-db-1", labels={COMPOSE_PROJECT: proj, COMPOSE_SERVICE: "db"})
    qtbot.waitUntil(lambda: page.model.rowCount(page.model.project_index(proj)) == 2, timeout=20000)  # 2 services
    qtbot.keyClicks(page.search, f"{proj}-db")
    pidx = page.model.project_index(proj)
    assert pidx.isValid() and page.model.rowCount(pidx) == 1  # the project shows by its matching member
    sidx = page.model.index(0, COL_NAME, pidx)  # its service "db", holding the one replica
    assert sidx.data() == "db" and page.view.isExpanded(pidx) and page.view.isExpanded(sidx)
    assert page.model.index(0, COL_NAME, sidx).data(ContainerRole).id == db
    assert page.model.index(pidx.row(), COL_IMAGE).data() == "2 containers (Compose)"  # counts both
    # Started while filtered out, the hidden member still changes its project's state.
    assert docker_cli("start", web).returncode == 0
    qtbot.waitUntil(lambda: page.model.project_index(proj, COL_STATE).data() == "Running (1/2)", timeout=20000)
    assert not page.row_index_of(web).isValid()
    # A project row's action acts on all its containers, shown or not.
    pidx = page.model.project_index(proj)
    assert pidx.data(KindRole) == "project"
    assert {c.id for c in containers_at([pidx])} == {web, db}
    page.search.clear()
    assert page.model.rowCount(page.model.project_index(proj)) == 2


def test_changes_land_in_their_sorted_place_while_filtered(ph, qtbot, make_container, docker_cli, run_id):
    page = ph.containers.page
    first = make_container(f"pht-{run_id}-live-1")
    qtbot.waitUntil(lambda: page.row_index_of(first).isValid(), timeout=20000)
    qtbot.keyClicks(page.search, f"{run_id}-live")
    page.view.header().setSortIndicator(COL_NAME, Qt.SortOrder.DescendingOrder)
    second = make_container(f"pht-{run_id}-live-2")
    qtbot.waitUntil(lambda: page.row_index_of(second).isValid(), timeout=20000)
    assert page.row_index_of(second).row() < page.row_index_of(first).row()
    make_container(f"pht-{run_id}-elsewhere")  # does not match: never shown
    # Sorted by state, a container that starts moves to where running rows go.
    page.view.header().setSortIndicator(COL_STATE, Qt.SortOrder.DescendingOrder)
    _select(page, first)
    assert docker_cli("start", first).returncode == 0
    qtbot.waitUntil(lambda: page.row_index_of(first, COL_STATE).data() == "Running", timeout=20000)
    assert page.row_index_of(first).row() == 0  # "running" after "created", descending: first
    assert _selected(page) == {first}  # moved, still selected
    assert page.model.rowCount() == 2
    page.search.clear()
    page.view.header().setSortIndicator(COL_NAME, Qt.SortOrder.AscendingOrder)
